/**
 * Money as integer minor units (kopecks, cents) in its own currency: amounts are parsed from
 * decimal text without ever passing through a float, so sums and reports never drift.
 */

/** ISO 4217 digits after the point (RUB 2, JPY 0, KWD 3), from the runtime's ICU data. */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** A currency code ICU knows (ISO 4217, upper case). */
export function isCurrency(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  return Intl.supportedValuesOf('currency').includes(code);
}

const DECIMAL = /^(\d{1,15})(?:[.,](\d+))?$/;

/**
 * "1234.5" in RUB → 123450n. Undefined for anything that is not a plain non-negative decimal
 * with at most the currency's digits after the point (no sign, exponent, thousands separators).
 */
export function parseMinor(text: string, digits: number): bigint | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  // Trailing zeros past the currency's digits are harmless ("10.500" RUB); other digits would be lost.
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > digits) return undefined;
  return BigInt(match[1]!) * 10n ** BigInt(digits) + BigInt(fraction.slice(0, digits).padEnd(digits, '0') || '0');
}

/** Minor units as a JSON-safe number; amounts beyond 2^53 minor units are refused upstream. */
export function minorToNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('amount too large');
  return Number(value);
}

/** A number of major units given by an API caller (revenue: 1500.5) → minor units, exactly as written in decimal. */
export function majorToMinor(value: number | string, digits: number): bigint | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? value.toFixed(Math.min(digits + 6, 20)) : '') : value;
  return parseMinor(text, digits);
}
