import { CedarEvalError } from '../eval-error.js';
import type { ExtensionValue } from '../values.js';

/**
 * Cedar `ipaddr`: an IPv4 or IPv6 address with a prefix length (32/128 when none is written).
 * Equality is on address and prefix as written (`1.2.3.4/24` ≠ `1.2.3.0/24`); range tests use the
 * masked network. Accepted text follows Rust's std parsers, which Cedar uses: dotted quads without
 * leading zeros, IPv6 groups of 1–4 hex digits with at most one `::`, and — Cedar's own rule — no
 * IPv4 embedded in IPv6. A prefix is decimal digits without leading zeros, at most 3 characters,
 * and at most 32/128.
 */
export class IpAddr implements ExtensionValue {
  readonly kind = 'ipaddr' as const;
  constructor(
    readonly v6: boolean,
    readonly addr: bigint,
    readonly prefix: number,
  ) {}
  equals(other: ExtensionValue): boolean {
    return (
      other instanceof IpAddr &&
      other.v6 === this.v6 &&
      other.addr === this.addr &&
      other.prefix === this.prefix
    );
  }
  get bits(): number {
    return this.v6 ? 128 : 32;
  }
  private lo: bigint | undefined;
  private hi = 0n;
  /** First address of the network this value denotes (computed once). */
  get first(): bigint {
    if (this.lo === undefined) {
      const host = BigInt(this.bits - this.prefix);
      this.lo = (this.addr >> host) << host;
      this.hi = this.lo + (1n << host) - 1n;
    }
    return this.lo;
  }
  /** Last address of the network. */
  get last(): bigint {
    void this.first;
    return this.hi;
  }
  /** `isInRange`: this network lies wholly inside `other`'s (same address family only). */
  inRange(other: IpAddr): boolean {
    if (this.v6 !== other.v6) return false;
    return other.first <= this.first && this.last <= other.last;
  }
  toString(): string {
    return `ip(<${this.v6 ? 'v6' : 'v4'} ${this.addr.toString(16)}/${this.prefix}>)`;
  }
}

const V4_LOOPBACK = new IpAddr(false, 0x7f000000n, 8);
const V6_LOOPBACK = new IpAddr(true, 1n, 128);
const V4_MULTICAST = new IpAddr(false, 0xe0000000n, 4);
const V6_MULTICAST = new IpAddr(true, 0xffn << 120n, 8);

export function isLoopback(ip: IpAddr): boolean {
  return ip.inRange(ip.v6 ? V6_LOOPBACK : V4_LOOPBACK);
}
export function isMulticast(ip: IpAddr): boolean {
  return ip.inRange(ip.v6 ? V6_MULTICAST : V4_MULTICAST);
}

function ipError(msg: string): CedarEvalError {
  return new CedarEvalError(`error while evaluating \`ipaddr\` extension function: ${msg}`);
}

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!V4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseGroups(s: string): bigint[] | undefined {
  if (s === '') return [];
  const out: bigint[] = [];
  for (const g of s.split(':')) {
    if (!HEX_GROUP.test(g)) return undefined;
    out.push(BigInt(parseInt(g, 16)));
  }
  return out;
}

function parseV6(s: string): bigint | undefined {
  const dbl = s.indexOf('::');
  let groups: bigint[];
  if (dbl < 0) {
    const g = parseGroups(s);
    if (g === undefined || g.length !== 8) return undefined;
    groups = g;
  } else {
    if (s.indexOf('::', dbl + 1) >= 0) return undefined;
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (head === undefined || tail === undefined) return undefined;
    // `::` stands for at least one zero group.
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  return v;
}

export function parseIpAddr(s: string): IpAddr {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const v6 = addrText.includes(':');
  if (v6 && addrText.includes('.'))
    throw ipError(
      `error parsing IP address from string: We do not accept IPv4 embedded in IPv6 (e.g., ::ffff:127.0.0.1). Found: \`${s}\``,
    );
  const addr = v6 ? parseV6(addrText) : parseV4(addrText);
  if (addr === undefined) throw ipError(`invalid IP address: ${addrText}`);
  const max = v6 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (p === '')
      throw ipError('error parsing prefix from the string ``: cannot parse integer from empty string');
    if (p.length > 3) throw ipError(`error parsing prefix: string length ${p.length} is too large`);
    if (!/^[0-9]+$/.test(p)) throw ipError(`error parsing prefix \`${p}\`: encountered non-digit`);
    if (p.length > 1 && p[0] === '0') throw ipError(`error parsing prefix \`${p}\`: leading zero(s)`);
    prefix = Number(p);
    if (prefix > max) throw ipError(`error parsing prefix: ${prefix} is larger than the limit ${max}`);
  }
  return new IpAddr(v6, addr, prefix);
}
