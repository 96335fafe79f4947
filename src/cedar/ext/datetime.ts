import { CedarEvalError } from '../eval-error.js';
import type { ExtensionValue } from '../values.js';
import { Duration, inI64 } from './duration.js';

/**
 * Cedar `datetime`: a signed i64 count of milliseconds since the Unix epoch (UTC). Text forms:
 * `YYYY-MM-DD`, or `YYYY-MM-DDThh:mm:ss` followed by an optional `.SSS` (exactly 3 digits) and a
 * required `Z` or `±hhmm` offset (hh < 24, mm < 60). Dates must exist (proleptic Gregorian, year
 * 0000–9999); seconds stop at 59.
 */
export class Datetime implements ExtensionValue {
  readonly kind = 'datetime' as const;
  constructor(readonly ms: bigint) {}
  equals(other: ExtensionValue): boolean {
    return other instanceof Datetime && other.ms === this.ms;
  }
  toString(): string {
    return `datetime(<${this.ms}ms since epoch>)`;
  }
}

const DAY_MS = 86_400_000n;
const DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/;
const TIME_RE = /^T([0-9]{2}):([0-9]{2}):([0-9]{2})/;
const TAIL_RE = /^(?:\.([0-9]{3}))?(?:Z|([+-])([0-9]{2})([0-9]{2}))$/;

/** Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm, proleptic Gregorian). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

export function parseDatetime(s: string): Datetime {
  const d = DATE_RE.exec(s);
  if (d === null) throw datetimeError('invalid date pattern');
  const y = Number(d[1]);
  const mo = Number(d[2]);
  const da = Number(d[3]);
  if (mo < 1 || mo > 12 || da < 1 || da > daysInMonth(y, mo)) throw datetimeError(`invalid date: ${d[0]}`);
  let ms = BigInt(daysFromCivil(y, mo, da)) * DAY_MS;
  const rest = s.slice(10);
  if (rest === '') return new Datetime(ms);
  const t = TIME_RE.exec(rest);
  if (t === null) throw datetimeError('invalid hour/minute/second pattern');
  const h = Number(t[1]);
  const mi = Number(t[2]);
  const se = Number(t[3]);
  if (h > 23 || mi > 59 || se > 59) throw datetimeError(`invalid hour/minute/second: ${t[0].slice(1)}`);
  const tail = TAIL_RE.exec(rest.slice(9));
  if (tail === null) throw datetimeError('invalid millisecond and/or offset pattern');
  ms += BigInt(((h * 60 + mi) * 60 + se) * 1000 + (tail[1] === undefined ? 0 : Number(tail[1])));
  if (tail[2] !== undefined) {
    const oh = Number(tail[3]);
    const om = Number(tail[4]);
    if (oh > 23 || om > 59) throw datetimeError(`invalid offset range: ${tail[3]}${tail[4]}`);
    const off = BigInt((oh * 60 + om) * 60_000);
    // Local time = UTC + offset, so UTC = local − offset.
    ms = tail[2] === '+' ? ms - off : ms + off;
  }
  return new Datetime(ms);
}

function datetimeError(msg: string): CedarEvalError {
  return new CedarEvalError(`error while evaluating \`datetime\` extension function: ${msg}`);
}

function overflow(fn: string, detail: string): CedarEvalError {
  return new CedarEvalError(`error while evaluating \`${fn}\` extension function: overflow ${detail}`);
}

export function offset(dt: Datetime, d: Duration): Datetime {
  const v = dt.ms + d.ms;
  if (!inI64(v)) throw overflow('offset', `when adding ${d.ms}ms to ${dt.ms}ms since epoch`);
  return new Datetime(v);
}

export function durationSince(a: Datetime, b: Datetime): Duration {
  const v = a.ms - b.ms;
  if (!inI64(v)) throw overflow('durationSince', `when subtracting ${b.ms}ms from ${a.ms}ms since epoch`);
  return new Duration(v);
}

/** Midnight (UTC) of the day holding `dt`: rounds toward −∞. */
export function toDate(dt: Datetime): Datetime {
  const r = dt.ms % DAY_MS;
  const v = r === 0n ? dt.ms : dt.ms >= 0n ? dt.ms - r : dt.ms - r - DAY_MS;
  if (!inI64(v)) throw overflow('toDate', `for ${dt.ms}ms since epoch`);
  return new Datetime(v);
}

/** Time since that midnight: always in [0, 1 day). */
export function toTime(dt: Datetime): Duration {
  const r = dt.ms % DAY_MS;
  return new Duration(r < 0n ? r + DAY_MS : r);
}
