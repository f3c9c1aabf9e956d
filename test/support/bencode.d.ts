// bencode 2 (a dependency of rtpengine-client) ships no types; the fake rtpengine needs these two.
declare module 'bencode' {
  const bencode: {
    encode(data: unknown): Buffer;
    decode(data: Buffer, encoding?: 'utf8'): unknown;
  };
  export default bencode;
}
