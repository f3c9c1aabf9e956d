/**
 * Is a tone in a recording? A mono 16-bit PCM WAV read into samples, cut into 100 ms blocks, and
 * for each block the share of its energy at one frequency (Goertzel). Silence, noise or the wrong
 * tone give a share near 0; a clean sine at that frequency gives near 1.
 */
import { readFileSync } from 'node:fs';

export interface Wav {
  rate: number;
  samples: Float64Array;
}

/** The first `fmt ` and `data` chunks; the data length is capped at the file (a header not yet rewritten). */
export function readWav(file: string): Wav {
  const b = readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV file`);
  let rate = 0;
  for (let off = 12; off + 8 <= b.length; ) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      const format = b.readUInt16LE(off + 8);
      const channels = b.readUInt16LE(off + 10);
      const bits = b.readUInt16LE(off + 22);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`${file}: want mono 16-bit PCM, got format ${format}, ${channels} channels, ${bits} bits`);
      rate = b.readUInt32LE(off + 12);
    } else if (id === 'data') {
      if (rate === 0) throw new Error(`${file}: data before fmt`);
      const end = Math.min(b.length, off + 8 + size);
      const samples = new Float64Array(Math.floor((end - off - 8) / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(off + 8 + 2 * i) / 32768;
      return { rate, samples };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Share (0…1) of the energy of `x` at `freq` Hz: 2·|X(f)|² / (N·Σx²), 1 for a pure sine on the bin. */
export function toneShare(x: Float64Array, rate: number, freq: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const v of x) {
    const s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += v * v;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * power) / (x.length * energy);
}

export interface ToneReport {
  /** Seconds of 100 ms blocks where `freq` holds more than half the energy, and the block is not near-silent. */
  seconds: number;
  /** The mean share over the non-silent blocks (0 when all are silent). */
  meanShare: number;
  /** Seconds of blocks louder than silence (RMS above -40 dBFS). */
  audibleSeconds: number;
}

/** How much of the recording is the tone at `freq`. */
export function findTone(wav: Wav, freq: number): ToneReport {
  const block = Math.round(wav.rate / 10);
  let hits = 0;
  let audible = 0;
  let shares = 0;
  for (let i = 0; i + block <= wav.samples.length; i += block) {
    const x = wav.samples.subarray(i, i + block);
    let energy = 0;
    for (const v of x) energy += v * v;
    if (Math.sqrt(energy / block) < 0.01) continue;
    audible++;
    const share = toneShare(x, wav.rate, freq);
    shares += share;
    if (share > 0.5) hits++;
  }
  return { seconds: hits / 10, meanShare: audible === 0 ? 0 : shares / audible, audibleSeconds: audible / 10 };
}
