/**
 * The ROI report's parts (conversions, calls, spend and visits) are read at once on separate
 * connections; this adds their rows up per channel. Credit under the linear model is fractional
 * (1/3 of a call), so the sums are exact decimals, rounded once at the end, as Postgres's numeric
 * sum and round would give.
 */

/** One part's row as Postgres sent it: numbers as numeric text, absent ones null. */
export interface RoiPartRow {
  g_source: string | null;
  g_medium: string | null;
  g_campaign: string | null;
  g_keyword: string | null;
  is_static: boolean;
  visits: string | null;
  calls: string | null;
  forms: string | null;
  leads: string | null;
  qualified: string | null;
  won: string | null;
  revenue: string | null;
  cost: string | null;
  ltv: string | null;
}

export interface RoiMergedRow {
  g_source: string | null;
  g_medium: string | null;
  g_campaign: string | null;
  g_keyword: string | null;
  is_static: boolean;
  visits: number;
  calls: number;
  forms: number;
  leads: number;
  qualified: number;
  won: number;
  revenue: number;
  cost: number;
  ltv: number | null;
}

/** An exact decimal: `units` / 10^scale. */
interface Decimal {
  units: bigint;
  scale: number;
}

const NUMERIC = /^(-?)(\d+)(?:\.(\d+))?$/;

export function parseDecimal(text: string): Decimal {
  const m = NUMERIC.exec(text);
  if (!m) throw new Error(`not a decimal number: ${text}`);
  const fraction = m[3] ?? '';
  const units = BigInt(`${m[2]}${fraction}`);
  return { units: m[1] ? -units : units, scale: fraction.length };
}

function addDecimals(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: a.units * 10n ** BigInt(scale - a.scale) + b.units * 10n ** BigInt(scale - b.scale), scale };
}

/** Rounded half away from zero to `places` decimals (Postgres's round(numeric, places)). */
export function roundDecimal(d: Decimal, places: number): number {
  if (d.scale <= places) return Number(d.units) / 10 ** d.scale;
  const divisor = 10n ** BigInt(d.scale - places);
  const negative = d.units < 0n;
  const magnitude = negative ? -d.units : d.units;
  let whole = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) whole += 1n;
  return (negative ? -Number(whole) : Number(whole)) / 10 ** places;
}

const FIELDS = ['calls', 'forms', 'leads', 'qualified', 'won', 'visits', 'revenue', 'cost'] as const;
type Field = (typeof FIELDS)[number];

/** Whole numbers (nearly every value) add up as JS numbers, exact below 2^53; fractions as decimals. */
class Sum {
  whole = 0;
  fraction: Decimal | null = null;
  add(text: string): void {
    if (text.includes('.')) this.fraction = this.fraction ? addDecimals(this.fraction, parseDecimal(text)) : parseDecimal(text);
    else this.whole += Number(text);
  }
  total(places: number): number {
    if (!this.fraction) return this.whole;
    return roundDecimal(addDecimals(this.fraction, { units: BigInt(this.whole), scale: 0 }), places);
  }
}

interface Group {
  keys: [string | null, string | null, string | null, string | null];
  /** Some key holds a character outside the BMP: compare by code points, not UTF-16 units. */
  astral: boolean;
  isStatic: boolean;
  sums: Record<Field, Sum>;
  ltv: Decimal | null;
}

const ASTRAL = /[\uD800-\uDFFF]/;

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** `ORDER BY` the four keys `NULLS LAST` under the C.UTF-8 collation (code-point order). */
function compareGroups(a: Group, b: Group): number {
  for (let i = 0; i < 4; i++) {
    const x = a.keys[i]!;
    const y = b.keys[i]!;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (a.astral || b.astral) return compareCodePoints(x, y);
    return x < y ? -1 : 1;
  }
  return 0;
}

export function mergeRoiParts(parts: readonly RoiPartRow[]): RoiMergedRow[] {
  const groups = new Map<string, Group>();
  for (const part of parts) {
    const keys: Group['keys'] = [part.g_source, part.g_medium, part.g_campaign, part.g_keyword];
    const id = JSON.stringify(keys);
    let group = groups.get(id);
    if (!group) {
      group = {
        keys,
        astral: keys.some((k) => k !== null && ASTRAL.test(k)),
        isStatic: false,
        sums: {
          calls: new Sum(),
          forms: new Sum(),
          leads: new Sum(),
          qualified: new Sum(),
          won: new Sum(),
          visits: new Sum(),
          revenue: new Sum(),
          cost: new Sum(),
        },
        ltv: null,
      };
      groups.set(id, group);
    }
    if (part.is_static) group.isStatic = true;
    for (const field of FIELDS) {
      const value = part[field];
      if (value !== null) group.sums[field].add(value);
    }
    if (part.ltv !== null) {
      const ltv = parseDecimal(part.ltv);
      if (!group.ltv || compareDecimals(ltv, group.ltv) > 0) group.ltv = ltv;
    }
  }
  return [...groups.values()].sort(compareGroups).map(
    (g): RoiMergedRow => ({
      g_source: g.keys[0],
      g_medium: g.keys[1],
      g_campaign: g.keys[2],
      g_keyword: g.keys[3],
      is_static: g.isStatic,
      visits: g.sums.visits.total(0),
      calls: g.sums.calls.total(4),
      forms: g.sums.forms.total(4),
      leads: g.sums.leads.total(4),
      qualified: g.sums.qualified.total(4),
      won: g.sums.won.total(4),
      revenue: g.sums.revenue.total(0),
      cost: g.sums.cost.total(0),
      ltv: g.ltv ? roundDecimal(g.ltv, 0) : null,
    }),
  );
}

function compareDecimals(a: Decimal, b: Decimal): number {
  const d = addDecimals(a, { units: -b.units, scale: b.scale }).units;
  return d === 0n ? 0 : d > 0n ? 1 : -1;
}
