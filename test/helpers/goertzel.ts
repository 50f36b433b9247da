type Samples = Int16Array | Float32Array;

/**
 * Power of one frequency in a block of samples (Goertzel algorithm), normalised by the block
 * length. The frequency is rounded to the nearest DFT bin (10 Hz for 100 ms at 8 kHz).
 */
export function goertzelPower(samples: Samples | ArrayLike<number>, sampleRate: number, freq: number): number {
  const k = Math.round((samples.length * freq) / sampleRate);
  const w = (2 * Math.PI * k) / samples.length;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / samples.length;
}

/**
 * For each window (100 ms by default): the frequency among `freqs` that clearly dominates it, or
 * null for silence/noise. "Clearly" = its power is above `minPower` and 10× the others'.
 */
export function dominantToneWindows(samples: Samples, sampleRate: number, freqs: number[], windowMs = 100, minPower = 1e5): Array<number | null> {
  const size = Math.floor((sampleRate * windowMs) / 1000);
  const out: Array<number | null> = [];
  for (let start = 0; start + size <= samples.length; start += size) {
    const block = samples.subarray(start, start + size);
    const powers = freqs.map((f) => goertzelPower(block, sampleRate, f));
    const best = powers.indexOf(Math.max(...powers));
    const others = powers.filter((_, i) => i !== best);
    const clear = powers[best]! > minPower && others.every((p) => powers[best]! > 10 * p);
    out.push(clear ? freqs[best]! : null);
  }
  return out;
}

/** Seconds of windows dominated by `freq`. */
export function toneSeconds(samples: Samples, sampleRate: number, freq: number, freqs: number[]): number {
  return dominantToneWindows(samples, sampleRate, freqs).filter((f) => f === freq).length / 10;
}
