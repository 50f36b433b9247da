/** G.711 decoders (ITU-T G.711), table-driven: recordings decode millions of samples. */
function ulawToLinear(u: number): number {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

function alawToLinear(a: number): number {
  a ^= 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = Math.min(magnitude, 32767);
  return sign ? magnitude : -magnitude;
}

export const ULAW = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
export const ALAW = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

/** RTP static payload types we can decode: 0 PCMU, 8 PCMA. */
export function decoderFor(payloadType: number): Int16Array | undefined {
  return payloadType === 0 ? ULAW : payloadType === 8 ? ALAW : undefined;
}
