/**
 * Extension functions and their accepted textual forms, edge by edge, against cedar-wasm: each
 * expression is a `when` condition decided by both evaluators.
 */
import { describe, expect, it } from 'vitest';
import { both, whenPolicy } from '../test-oracle.js';

const CASES: Record<string, string[]> = {
  decimal: [
    'decimal("1.23456") == decimal("1.0")', 'decimal("1") == decimal("1.0")', 'decimal("-0.0") == decimal("0.0")',
    'decimal("+1.0") == decimal("1.0")', 'decimal("1.") == decimal("1.0")', 'decimal(".5") == decimal("0.5")',
    'decimal("922337203685477.5807") == decimal("1.0")', 'decimal("922337203685477.5808") == decimal("1.0")',
    'decimal("-922337203685477.5808").lessThan(decimal("0.0"))', 'decimal("-922337203685477.5809") == decimal("1.0")',
    'decimal("01.10") == decimal("1.1")', 'decimal("1.1000") == decimal("1.1")', 'decimal("1.10000") == decimal("1.1")',
    'decimal(" 1.1") == decimal("1.1")', 'decimal("1_0.1") == decimal("1.1")', 'decimal("1e3") == decimal("1.1")',
    'decimal("-1.5").lessThan(decimal("-1.4"))', 'decimal("1.5").lessThanOrEqual(decimal("1.5"))',
    'decimal("1.5").greaterThan(decimal("1.5"))', 'decimal("1.5").greaterThanOrEqual(decimal("1.5"))',
    'decimal("١.٠") == decimal("1.0")',
  ],
  ip: [
    'ip("01.2.3.4").isIpv4()', 'ip("1.2.3.4/08").isIpv4()', 'ip("1.2.3.4/33").isIpv4()', 'ip("1.2.3.4/32").isIpv4()',
    'ip("::ffff:1.2.3.4").isIpv4()', 'ip("::").isIpv6()', 'ip("::/129").isIpv6()', 'ip("::1/128").isLoopback()',
    'ip("127.0.0.1/8").isLoopback()', 'ip("127.1.2.3").isLoopback()', 'ip("127.0.0.1/7").isLoopback()',
    'ip("::1/127").isLoopback()', 'ip("::").isLoopback()', 'ip("224.0.0.1").isMulticast()', 'ip("224.0.0.0/3").isMulticast()',
    'ip("ff00::1").isMulticast()', 'ip("fe00::1").isMulticast()', 'ip("1.2.3.4").isInRange(ip("1.2.3.0/24"))',
    'ip("1.2.3.0/24").isInRange(ip("1.2.3.0/25"))', 'ip("1.2.3.0/25").isInRange(ip("1.2.3.0/24"))',
    'ip("1.2.3.4").isInRange(ip("::/0"))', 'ip("::1").isInRange(ip("0.0.0.0/0"))', 'ip("1.2.3.4/0").isInRange(ip("9.9.9.9/0"))',
    'ip("1:2:3:4:5:6:7:8").isIpv6()', 'ip("1::2::3").isIpv6()', 'ip("0001:2:3:4:5:6:7:8").isIpv6()',
    'ip("00001:2:3:4:5:6:7:8").isIpv6()', 'ip("[::1]").isIpv6()', 'ip("fe80::1%eth0").isIpv6()', 'ip("1.2.3").isIpv4()',
    'ip("1.2.3.256").isIpv4()', 'ip("::1.2.3.4").isIpv6()', 'ip("1.2.3.4/+8").isIpv4()', 'ip("ABCD::").isIpv6()',
    'ip("0.0.0.0").isIpv4()', 'ip("1.2.3.4/ 8").isIpv4()', 'ip("1.2.3.04").isIpv4()', 'ip("1.2.3.4/00").isIpv4()',
    'ip("1.2.3.4/256").isIpv4()', 'ip("1.2.3.4/").isIpv4()', 'ip("1:2:3:4:5:6:7::").isIpv6()', 'ip("::1:2:3:4:5:6:7").isIpv6()',
    'ip("1:2:3:4:5:6:7:8:9").isIpv6()', 'ip("1:2:3:4::5:6:7:8").isIpv6()', 'ip(":::").isIpv6()', 'ip("1:").isIpv6()',
    'ip(":1::").isIpv6()', 'ip("").isIpv4()', 'ip("::/0") == ip("::")', 'ip("10.0.0.1/0").isInRange(ip("10.0.0.1/0"))',
    'ip("::ffff:0:0/96").isIpv6()', 'ip("2001:db8::/32").isInRange(ip("2001:db8::/31"))',
  ],
  datetime: [
    'datetime("2024-10-15") == datetime("2024-10-15T00:00:00Z")',
    'datetime("2024-10-15T11:38:02Z").toTime() == duration("11h38m2s")',
    'datetime("2024-10-15T11:38:02.123Z").toTime() == duration("11h38m2s123ms")',
    'datetime("2024-10-15T11:38:02+0100") < datetime("2024-10-15T11:38:02Z")',
    'datetime("2024-10-15T11:38:02.1Z") == datetime("2024-10-15")', 'datetime("2024-10-15T11:38") == datetime("2024-10-15")',
    'datetime("2024-02-30") == datetime("2024-03-01")', 'datetime("2023-02-29") == datetime("2023-03-01")',
    'datetime("2000-02-29") == datetime("2000-02-29")', 'datetime("1900-02-29") == datetime("1900-03-01")',
    'datetime("2024-10-15T24:00:00Z") == datetime("2024-10-16")', 'datetime("2024-10-15T23:59:60Z") == datetime("2024-10-16")',
    'datetime("2024-10-15T11:38:02+01:00") == datetime("2024-10-15")',
    'datetime("2024-10-15T11:38:02-2359") > datetime("2024-10-15T11:38:02Z")',
    'datetime("2024-10-15T11:38:02+2400") < datetime("2024-10-15T11:38:02Z")',
    'datetime("2024-10-15T11:38:02+0060") < datetime("2024-10-15T11:38:02Z")',
    'datetime("1969-12-31T23:00:00Z").toDate() == datetime("1969-12-31")',
    'datetime("1969-12-31T23:00:00Z").toTime() == duration("23h")', 'datetime("0000-01-01").toDate() == datetime("0000-01-01")',
    'datetime("0000-01-01T00:00:00+2359").toDate() == datetime("0000-01-01")',
    'datetime("9999-12-31T23:59:59.999-2359") > datetime("9999-12-31")', 'datetime("2024-10-15t11:38:02Z") == datetime("2024-10-15")',
    'datetime("2024-10-15T11:38:02z") == datetime("2024-10-15")', 'datetime("2024-10-15 11:38:02Z") == datetime("2024-10-15")',
    'datetime("24-10-15") == datetime("2024-10-15")', 'datetime("2024-1-15") == datetime("2024-10-15")',
    'datetime("2024-10-15T11:38:02.1234Z") == datetime("2024-10-15")', 'datetime("2024-10-15T11:38:02") == datetime("2024-10-15")',
    'datetime("2024-10-15x") == datetime("2024-10-15")', 'datetime("2024-13-01") == datetime("2024-10-15")',
    'datetime("2024-00-10") == datetime("2024-10-15")', 'datetime("2024-10-00") == datetime("2024-10-15")',
    'datetime("2024-10-15").durationSince(datetime("2024-10-14")) == duration("1d")',
    'datetime("2024-10-15").offset(duration("-1d")) == datetime("2024-10-14")',
    'datetime("2024-10-15").offset(duration("9223372036854775807ms")) == datetime("2024-10-15")',
    'datetime("1970-01-01").offset(duration("-9223372036854775808ms")).toDate() == datetime("1970-01-01")',
    'datetime("1970-01-01").offset(duration("-9223372036854775808ms")).toTime() == duration("0ms")',
    'datetime("1970-01-01").offset(duration("-9223372036854775808ms")).durationSince(datetime("1970-01-02")) == duration("0ms")',
    'datetime("1970-01-01").durationSince(datetime("2024-10-15")) < duration("0ms")', 'datetime("2024-10-15").toTime() == duration("0ms")',
    'datetime("2024-10-15") <= datetime("2024-10-15")', 'datetime("2024-10-15") >= duration("1d")',
  ],
  duration: [
    'duration("1h1h").toHours() == 2', 'duration("0").toHours() == 0', 'duration("").toHours() == 0', 'duration("-").toHours() == 0',
    'duration("1d-2h").toHours() == 0', 'duration("-1d2h").toHours() == -26', 'duration("2h1d").toHours() == 0',
    'duration("1ms1s").toHours() == 0', 'duration("90m").toHours() == 1', 'duration("-90m").toHours() == -1',
    'duration("1d2h3m4s5ms").toMilliseconds() == 93784005', 'duration("9223372036854775807ms").toMilliseconds() == 9223372036854775807',
    'duration("9223372036854775808ms").toMilliseconds() == 0', 'duration("-9223372036854775808ms").toMilliseconds() < 0',
    'duration("106751991167d").toDays() == 106751991167', 'duration("106751991168d").toDays() == 0', 'duration("+1d").toDays() == 1',
    'duration("01d").toDays() == 1', 'duration("1D").toDays() == 1', 'duration("-0ms").toDays() == 0', 'duration("1d 2h").toDays() == 1',
    'duration("-1s").toSeconds() == -1', 'duration("-1999ms").toSeconds() == -1', 'duration("59s").toMinutes() == 0',
    'duration("1m").toMilliseconds() == 60000', 'duration("1ms") < duration("1s")', 'duration("1h") > 1',
    'duration("106751991167d23h").toDays() == 0', 'duration("1mss").toDays() == 0', 'duration("1m1ms").toMilliseconds() == 60001',
  ],
};

describe('extension functions agree with cedar-wasm', () => {
  for (const [group, exprs] of Object.entries(CASES))
    describe(group, () => {
      for (const e of exprs)
        it(e, () => {
          const r = both({ policies: whenPolicy(e) });
          expect(r.ours).toEqual(r.cedar);
        });
    });
});
