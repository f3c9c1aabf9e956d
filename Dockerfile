# Switchboard: the PBX app and its embedded SIP engine in one image, run from the compiled dist/.
#   docker build -t switchboard .
#   docker run --rm -p 5060:5060/udp -p 5060:5060/tcp -p 8080:8080 -v switchboard-data:/app/data switchboard
# Not built in CI (no Docker engine there); see README.md.

# --- build: compile TypeScript to dist/ --------------------------------------------------------
FROM node:20-bookworm-slim AS build
# A toolchain for dependencies with native parts (node-gyp), so npm ci works as packages are added.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only, built with the same toolchain -------------------------
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: node + dist/ + production node_modules, no compiler, not root --------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SWITCHBOARD_DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The default dialplan is read at start (src/pbx/dialplan/load-dialplan.ts resolves it beside dist/).
COPY dialplan ./dialplan
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 5060/udp 5060/tcp 8080/tcp
# The database, secret.key and instance id: keep them across container replacements.
VOLUME ["/app/data"]
# The whole chain (SIP transport → engine → drachtio protocol → app) answers an OPTIONS on loopback.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD node -e "const s=require('dgram').createSocket('udp4'),p=+(process.env.SWITCHBOARD_SIP_PORT||5060),i='hc'+Date.now();s.on('message',(m)=>process.exit(/^SIP\/2\.0 200 /.test(String(m))?0:1));s.bind(0,'127.0.0.1',()=>s.send(['OPTIONS sip:127.0.0.1:'+p+' SIP/2.0','Via: SIP/2.0/UDP 127.0.0.1:'+s.address().port+';branch=z9hG4bK'+i+';rport','Max-Forwards: 70','From: <sip:healthcheck@127.0.0.1>;tag='+i,'To: <sip:127.0.0.1:'+p+'>','Call-ID: '+i,'CSeq: 1 OPTIONS','Content-Length: 0','',''].join('\r\n'),p,'127.0.0.1'));setTimeout(()=>process.exit(1),4000)"
# node runs main.js directly (PID 1): it handles SIGTERM itself, stops the app, then the engine.
CMD ["node", "dist/main.js"]
