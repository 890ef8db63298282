/**
 * resource.Quantity (apimachinery pkg/api/resource): parsing, comparison, arithmetic and the
 * canonical string form the apiserver writes back (`0.5` → `500m`, `1024Mi` → `1Gi`).
 *
 * A quantity is held exactly as `m × 10^e` with a BigInt mantissa, so binary suffixes (`Ki` =
 * 1024) and decimal fractions both stay exact. As upstream, values are rounded away from zero to
 * nano precision when parsed.
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact quantity: `m × 10^e`, with the format its canonical string is written in. */
export interface Quantity {
  readonly m: bigint;
  readonly e: number;
  readonly format: QuantityFormat;
}

/** Upstream's ErrFormatWrong text. */
export const quantityFormatError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const suffixError = "unable to parse quantity's suffix";

export class QuantityParseError extends Error {}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByExponent = new Map(Object.entries(binarySuffixes).map(([s, e]) => [e, s]));

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const suffixChars = 'eEinumkKMGTP';

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Divides by 10^k, rounding away from zero. */
function divRoundAway(m: bigint, k: number): bigint {
  if (k <= 0) return m * pow10(-k);
  const d = pow10(k);
  const q = m / d;
  return m % d === 0n ? q : m < 0n ? q - 1n : q + 1n;
}

function normalize(m: bigint, e: number, format: QuantityFormat): Quantity {
  if (m === 0n) return { m: 0n, e: 0, format };
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  return { m, e, format };
}

/** Splits a quantity string the way upstream's parseQuantityString does. */
function split(str: string): { negative: boolean; num: string; denom: string; suffix: string } {
  let pos = 0;
  let negative = false;
  if (str[0] === '-') {
    negative = true;
    pos++;
  } else if (str[0] === '+') pos++;
  const numStart = pos;
  while (isDigit(str[pos])) pos++;
  const num = str.slice(numStart, pos);
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    const ds = pos;
    while (isDigit(str[pos])) pos++;
    denom = str.slice(ds, pos);
  }
  if (num === '' && denom === '' && numStart === pos) throw new QuantityParseError(quantityFormatError);
  const suffixStart = pos;
  while (pos < str.length && suffixChars.includes(str[pos]!)) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (isDigit(str[pos])) pos++;
  if (pos !== str.length) throw new QuantityParseError(quantityFormatError);
  return { negative, num, denom, suffix: str.slice(suffixStart) };
}

/** Parses a quantity as the apiserver decodes one; JSON numbers are accepted as their text. */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === 'number' ? String(input) : input.trim();
  if (str.length === 0) throw new QuantityParseError(quantityFormatError);
  const { negative, num, denom, suffix } = split(str);
  let format: QuantityFormat;
  let exp10 = 0;
  let exp2 = 0;
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    exp10 = decimalSuffixes[suffix]!;
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    exp2 = binarySuffixes[suffix]!;
  } else if (/^[eE][-+]?\d+$/.test(suffix)) {
    format = 'DecimalExponent';
    exp10 = Number(suffix.slice(1));
    if (!Number.isSafeInteger(exp10)) throw new QuantityParseError(suffixError);
  } else {
    throw new QuantityParseError(suffixError);
  }
  let m = BigInt((num || '0') + denom);
  let e = exp10 - denom.length;
  if (exp2) m *= 2n ** BigInt(exp2);
  if (negative) m = -m;
  // Upstream rounds anything finer than a nano away from zero, so asking for a little gets a little.
  if (e < -9) {
    m = divRoundAway(m, -9 - e);
    e = -9;
  }
  // A binary quantity below one has no binary form.
  if (format === 'BinarySI' && m !== 0n && compareQuantities({ m: m < 0n ? -m : m, e, format }, { m: 1n, e: 0, format }) < 0) format = 'DecimalSI';
  return normalize(m, e, format);
}

/** Parses, returning undefined for anything that is not a valid quantity. */
export function tryParseQuantity(v: unknown): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
  try {
    return parseQuantity(v);
  } catch {
    return undefined;
  }
}

export function isQuantity(v: unknown): boolean {
  return tryParseQuantity(v) !== undefined;
}

/** -1, 0 or 1, as Quantity.Cmp. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const e = Math.min(a.e, b.e);
  const x = a.m * pow10(a.e - e);
  const y = b.m * pow10(b.e - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZeroQuantity(q: Quantity): boolean {
  return q.m === 0n;
}

/** a + b, in a's format (b's when a is zero without a format of its own). */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  const e = Math.min(a.e, b.e);
  return normalize(a.m * pow10(a.e - e) + b.m * pow10(b.e - e), e, a.format);
}

export function subtractQuantities(a: Quantity, b: Quantity): Quantity {
  return addQuantities(a, { ...b, m: -b.m });
}

/** Quantity.RoundUp(scale): at most 10^scale precision, rounding away from zero. */
export function roundUpQuantity(q: Quantity, scale: number): Quantity {
  if (q.e >= scale) return q;
  return normalize(divRoundAway(q.m, scale - q.e), scale, q.format);
}

/** The value scaled to 10^scale units, rounded away from zero (Quantity.ScaledValue). */
export function scaledValue(q: Quantity, scale: number): bigint {
  return divRoundAway(q.m, scale - q.e);
}

/** Quantity.Value(): whole units, rounded up. */
export function quantityValue(q: Quantity): bigint {
  return scaledValue(q, 0);
}

/** Quantity.MilliValue(). */
export function quantityMilliValue(q: Quantity): bigint {
  return scaledValue(q, -3);
}

/** An approximation as a JS number, for ratios and display only. */
export function quantityToNumber(q: Quantity): number {
  return Number(q.m) * 10 ** q.e;
}

/** The canonical string, as the apiserver serializes a Quantity. */
export function formatQuantity(q: Quantity): string {
  if (q.m === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const small = compareQuantities(q, { m: -1024n, e: 0, format }) > 0 && compareQuantities(q, { m: 1024n, e: 0, format }) < 0;
    // A fractional value cannot be written with a binary suffix without losing precision.
    if (small || q.e < 0) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let v = q.m * pow10(q.e);
    let exp = 0;
    while (exp < 60 && v % 1024n === 0n) {
      v /= 1024n;
      exp += 10;
    }
    return `${v}${binarySuffixByExponent.get(exp) ?? ''}`;
  }
  let { m, e } = q;
  const r = ((e % 3) + 3) % 3;
  m *= pow10(r);
  e -= r;
  if (format === 'DecimalSI') {
    const s = decimalSuffixByExponent.get(e);
    if (s !== undefined) return `${m}${s}`;
  }
  return e === 0 ? `${m}` : `${m}e${e}`;
}

/** Canonical forms of the quantity strings seen lately (the same few values in every pod). */
const canonicalMemo = new Map<string, unknown>();
const canonicalMemoMax = 512;

/** Parses and writes back in canonical form; an unparsable value is returned as it was. */
export function canonicalQuantity(v: unknown, roundToMilli = false): unknown {
  if (typeof v !== 'string') return canonicalQuantityOf(v, roundToMilli);
  const key = (roundToMilli ? 'm' : '-') + v;
  const hit = canonicalMemo.get(key);
  if (hit !== undefined) return hit;
  const out = canonicalQuantityOf(v, roundToMilli);
  if (canonicalMemo.size >= canonicalMemoMax) canonicalMemo.clear();
  canonicalMemo.set(key, out);
  return out;
}

function canonicalQuantityOf(v: unknown, roundToMilli: boolean): unknown {
  const q = tryParseQuantity(v);
  if (!q) return v;
  return formatQuantity(roundToMilli ? roundUpQuantity(q, -3) : q);
}

/**
 * SetDefaults_ResourceList: every value rounded up to milli precision and written canonically.
 * Unparsable values are left for validation to report.
 */
export function defaultResourceList(list: unknown): void {
  if (!list || typeof list !== 'object' || Array.isArray(list)) return;
  const l = list as Record<string, unknown>;
  for (const k of Object.keys(l)) l[k] = canonicalQuantity(l[k], true);
}

export function quantityOf(v: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return normalize(BigInt(v), 0, format);
}
