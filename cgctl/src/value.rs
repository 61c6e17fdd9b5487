//! Parsing the values users give for limits: sizes, CPU counts, CPU lists, weights and
//! counts. Pure functions; nothing here touches the system.

use std::fmt;

use crate::error::{Error, Result};

/// A value, or no limit (`max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrMax<T> {
    Max,
    Value(T),
}

/// JSON: a number, or null for no limit.
impl<T: serde::Serialize> serde::Serialize for OrMax<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            OrMax::Max => s.serialize_none(),
            OrMax::Value(v) => v.serialize(s),
        }
    }
}

impl<T: fmt::Display> fmt::Display for OrMax<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrMax::Max => f.write_str("max"),
            OrMax::Value(v) => v.fmt(f),
        }
    }
}

/// Whether `s` is one of the words for "no limit".
pub fn is_unlimited(s: &str) -> bool {
    let s = s.trim();
    s.eq_ignore_ascii_case("max") || s.eq_ignore_ascii_case("infinity") || s == "-1"
}

/// The largest byte count the kernel takes (its counters are signed 64-bit).
pub const MAX_BYTES: u64 = i64::MAX as u64;

/// A decimal number as `digits / 10^scale`, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal {
    digits: u128,
    scale: u32,
}

impl Decimal {
    /// Parses `123`, `0.5`, `.5`, `12.`; no sign, no exponent.
    fn parse(s: &str) -> Option<Decimal> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 18 || int.len() > 30 {
            return None;
        }
        let mut digits: u128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            digits = digits.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        }
        Some(Decimal {
            digits,
            scale: frac.len() as u32,
        })
    }

    /// `self * factor`, if that is a whole number.
    fn times_exact(self, factor: u128) -> Option<Option<u128>> {
        let product = self.digits.checked_mul(factor)?;
        let div = 10u128.pow(self.scale);
        Some((product % div == 0).then_some(product / div))
    }

    /// `self * factor`, rounded to the nearest whole number.
    fn times_rounded(self, factor: u128) -> Option<u128> {
        let product = self.digits.checked_mul(factor)?;
        let div = 10u128.pow(self.scale);
        Some((product + div / 2) / div)
    }
}

/// Parses a size: bytes, or K/M/G/T/P/E (base 1024) with an optional `B` or `iB`, any
/// case; `N%` of `physical` bytes of memory; `max`, `infinity` or `-1` for no limit.
/// Zero is returned as such: whether it makes sense is the caller's to say.
pub fn parse_size(s: &str, physical: u64) -> Result<OrMax<u64>> {
    let what = "size";
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(OrMax::Max);
    }
    if t.is_empty() {
        return Err(Error::value(what, s, "empty"));
    }
    if t.starts_with('-') {
        return Err(Error::value(what, s, "a size cannot be negative"));
    }
    if let Some(pct) = t.strip_suffix('%') {
        let d = Decimal::parse(pct.trim())
            .ok_or_else(|| Error::value(what, s, "expected a percentage like 50%"))?;
        if d.digits == 0 {
            return Err(Error::value(what, s, "0% is no memory at all"));
        }
        if d.digits > 100 * 10u128.pow(d.scale) {
            return Err(Error::value(what, s, "more than 100% of physical memory"));
        }
        let bytes = d
            .times_rounded(u128::from(physical))
            .map(|b| b / 100)
            .ok_or_else(|| Error::value(what, s, "too large"))?;
        return Ok(OrMax::Value(bytes as u64));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(Error::value(
            what,
            s,
            "expected a number of bytes, like 512M or 2G",
        ));
    }
    let unit = unit.trim();
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        "p" | "pb" | "pib" => 50,
        "e" | "eb" | "eib" => 60,
        _ => {
            return Err(Error::value(
                what,
                s,
                format!("unknown unit '{unit}' (use K, M, G, T, P or E, all base 1024)"),
            ))
        }
    };
    let d = Decimal::parse(num)
        .ok_or_else(|| Error::value(what, s, "expected a number of bytes, like 512M or 2G"))?;
    let bytes = match d.times_exact(1u128 << shift) {
        None => return Err(Error::value(what, s, "too large")),
        Some(None) => return Err(Error::value(what, s, "that is not a whole number of bytes")),
        Some(Some(b)) => b,
    };
    if bytes > u128::from(MAX_BYTES) {
        return Err(Error::value(
            what,
            s,
            format!("too large (at most {MAX_BYTES} bytes)"),
        ));
    }
    Ok(OrMax::Value(bytes as u64))
}

/// Parses a count (pids): a whole number, or no limit.
pub fn parse_count(s: &str) -> Result<OrMax<u64>> {
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(OrMax::Max);
    }
    if t.starts_with('-') {
        return Err(Error::value("count", s, "cannot be negative"));
    }
    match t.parse::<u64>() {
        Ok(n) if n <= MAX_BYTES => Ok(OrMax::Value(n)),
        Ok(_) => Err(Error::value("count", s, "too large")),
        Err(_) => Err(Error::value("count", s, "expected a whole number or 'max'")),
    }
}

/// Parses a weight, 1 to 10000 (v2's range; cgctl converts for v1).
pub fn parse_weight(s: &str) -> Result<u64> {
    match s.trim().parse::<u64>() {
        Ok(n) if (1..=10000).contains(&n) => Ok(n),
        Ok(_) => Err(Error::value("weight", s, "must be between 1 and 10000")),
        Err(_) => Err(Error::value(
            "weight",
            s,
            "expected a whole number between 1 and 10000",
        )),
    }
}

/// A CPU quota: `cpus` CPUs' worth of time every `period_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CpuQuota {
    /// Microseconds of CPU time per period, or none.
    pub quota_us: OrMax<u64>,
    pub period_us: u64,
}

/// The kernel's bounds for cpu.cfs_period_us / cpu.max's period, in microseconds.
pub const PERIOD_RANGE: std::ops::RangeInclusive<u64> = 1_000..=1_000_000;
pub const DEFAULT_PERIOD_US: u64 = 100_000;
/// The kernel's smallest quota, in microseconds.
pub const MIN_QUOTA_US: u64 = 1_000;

/// Parses a CPU count as a decimal (`0.5` = half a CPU) for the given period.
pub fn parse_cpus(s: &str, period_us: u64) -> Result<CpuQuota> {
    if !PERIOD_RANGE.contains(&period_us) {
        return Err(Error::value(
            "period",
            period_us.to_string(),
            "must be between 1000 and 1000000 microseconds",
        ));
    }
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(CpuQuota {
            quota_us: OrMax::Max,
            period_us,
        });
    }
    if t.starts_with('-') {
        return Err(Error::value("CPU count", s, "cannot be negative"));
    }
    let d = Decimal::parse(t).ok_or_else(|| {
        Error::value(
            "CPU count",
            s,
            "expected a decimal number of CPUs, like 0.5 or 2",
        )
    })?;
    if d.digits == 0 {
        return Err(Error::value("CPU count", s, "zero CPUs would never run"));
    }
    let quota = d
        .times_rounded(u128::from(period_us))
        .filter(|q| *q <= u128::from(MAX_BYTES / 1000))
        .ok_or_else(|| Error::value("CPU count", s, "too large"))? as u64;
    if quota < MIN_QUOTA_US {
        return Err(Error::value(
            "CPU count",
            s,
            format!("gives a quota of {quota} µs per {period_us} µs; the kernel's minimum is {MIN_QUOTA_US} µs (raise --period)"),
        ));
    }
    Ok(CpuQuota {
        quota_us: OrMax::Value(quota),
        period_us,
    })
}

/// Parses a list like `0-1,3` (CPUs or memory nodes) into sorted, merged ranges.
pub fn parse_list(s: &str, what: &'static str) -> Result<Vec<(u32, u32)>> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::value(
            what,
            s,
            "empty: a cgroup with none cannot run anything",
        ));
    }
    let mut ranges = Vec::new();
    for part in t.split(',') {
        let part = part.trim();
        let bad = || Error::value(what, s, format!("'{part}' is not N or N-M (as in 0-1,3)"));
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
        if !digits(a) || !digits(b) {
            return Err(bad());
        }
        let a: u32 = a.parse().map_err(|_| bad())?;
        let b: u32 = b.parse().map_err(|_| bad())?;
        if a > b {
            return Err(Error::value(
                what,
                s,
                format!("range '{part}' runs backwards"),
            ));
        }
        ranges.push((a, b));
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    Ok(merged)
}

/// Formats ranges as the kernel does (`0-1,3`).
pub fn format_list(ranges: &[(u32, u32)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether every member of `inner` is in `outer`.
pub fn list_within(inner: &[(u32, u32)], outer: &[(u32, u32)]) -> bool {
    inner
        .iter()
        .all(|&(a, b)| outer.iter().any(|&(c, d)| c <= a && b <= d))
}

/// Reads a kernel number that may be "max" (v2) or a huge v1 "unlimited" value.
pub fn parse_kernel_limit(s: &str) -> Option<OrMax<u64>> {
    let t = s.trim();
    if t == "max" || t == "-1" {
        return Some(OrMax::Max);
    }
    let n: u64 = t.parse().ok()?;
    // v1 reports "no limit" as LONG_MAX rounded down to a page (9223372036854771712).
    if n >= MAX_BYTES - 0xFFFF {
        return Some(OrMax::Max);
    }
    Some(OrMax::Value(n))
}

/// Human-readable bytes, binary units (`100 MiB`).
pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::BINARY)
}

/// Human-readable limit.
pub fn human_limit(l: OrMax<u64>) -> String {
    match l {
        OrMax::Max => "max".to_string(),
        OrMax::Value(b) => human(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHYS: u64 = 8 << 30;

    fn size(s: &str) -> OrMax<u64> {
        parse_size(s, PHYS).unwrap()
    }

    #[test]
    fn sizes() {
        assert_eq!(size("100M"), OrMax::Value(104_857_600));
        assert_eq!(size("100m"), OrMax::Value(104_857_600));
        assert_eq!(size("100MiB"), OrMax::Value(104_857_600));
        assert_eq!(size("100mb"), OrMax::Value(104_857_600));
        assert_eq!(size("4096"), OrMax::Value(4096));
        assert_eq!(size("4096B"), OrMax::Value(4096));
        assert_eq!(size("1.5G"), OrMax::Value(3 << 29));
        assert_eq!(size("0.5k"), OrMax::Value(512));
        assert_eq!(size("2 GiB"), OrMax::Value(2 << 30));
        assert_eq!(size("1E"), OrMax::Value(1 << 60));
        assert_eq!(size("0"), OrMax::Value(0));
        assert_eq!(size("50%"), OrMax::Value(4 << 30));
        assert_eq!(size("12.5%"), OrMax::Value(1 << 30));
        for m in ["max", "MAX", "infinity", "-1"] {
            assert_eq!(size(m), OrMax::Max);
        }
    }

    #[test]
    fn no_limit_is_null_in_json() {
        assert_eq!(serde_json::to_string(&OrMax::<u64>::Max).unwrap(), "null");
        assert_eq!(serde_json::to_string(&OrMax::Value(7u64)).unwrap(), "7");
    }

    #[test]
    fn bad_sizes() {
        for bad in [
            "",
            "-5",
            "-1M",
            "1.3K",
            "1.5",
            "abc",
            "10X",
            "10 MX",
            "8E",
            "99999999999999999999",
            "1e6",
            "0%",
            "101%",
            "%",
            "1..2M",
            ".",
            "+5",
        ] {
            assert!(parse_size(bad, PHYS).is_err(), "{bad} should be refused");
        }
        let msg = parse_size("1.3K", PHYS).unwrap_err().to_string();
        assert!(msg.contains("whole number of bytes"), "{msg}");
    }

    #[test]
    fn cpus() {
        let q = parse_cpus("0.5", 100_000).unwrap();
        assert_eq!(q.quota_us, OrMax::Value(50_000));
        assert_eq!(q.period_us, 100_000);
        assert_eq!(
            parse_cpus("2", 100_000).unwrap().quota_us,
            OrMax::Value(200_000)
        );
        assert_eq!(
            parse_cpus("1.25", 10_000).unwrap().quota_us,
            OrMax::Value(12_500)
        );
        assert_eq!(parse_cpus("max", 100_000).unwrap().quota_us, OrMax::Max);
        for bad in ["0", "-1.5", "x", "0.001", ""] {
            assert!(parse_cpus(bad, 100_000).is_err(), "{bad}");
        }
        assert!(parse_cpus("1", 999).is_err());
        assert!(parse_cpus("1", 2_000_000).is_err());
    }

    #[test]
    fn lists() {
        assert_eq!(parse_list("0-1,3", "CPU list").unwrap(), [(0, 1), (3, 3)]);
        assert_eq!(parse_list("3,0,1,2", "CPU list").unwrap(), [(0, 3)]);
        assert_eq!(format_list(&parse_list("5,0-1", "x").unwrap()), "0-1,5");
        for bad in ["", "a", "1-", "-1", "3-1", "1,,2", "1 2"] {
            assert!(parse_list(bad, "CPU list").is_err(), "{bad}");
        }
        assert!(list_within(&[(0, 1)], &[(0, 3)]));
        assert!(!list_within(&[(0, 4)], &[(0, 3)]));
    }

    #[test]
    fn weights_and_counts() {
        assert_eq!(parse_weight("1").unwrap(), 1);
        assert_eq!(parse_weight("10000").unwrap(), 10000);
        assert!(parse_weight("0").is_err());
        assert!(parse_weight("10001").is_err());
        assert!(parse_weight("1.5").is_err());
        assert_eq!(parse_count("64").unwrap(), OrMax::Value(64));
        assert_eq!(parse_count("max").unwrap(), OrMax::Max);
        assert!(parse_count("-3").is_err());
        assert!(parse_count("ten").is_err());
    }

    #[test]
    fn kernel_limits() {
        assert_eq!(parse_kernel_limit("max\n"), Some(OrMax::Max));
        assert_eq!(parse_kernel_limit("9223372036854771712"), Some(OrMax::Max));
        assert_eq!(
            parse_kernel_limit("104857600"),
            Some(OrMax::Value(104_857_600))
        );
        assert_eq!(parse_kernel_limit("junk"), None);
        assert_eq!(human(104_857_600), "100 MiB");
    }
}

#[cfg(test)]
mod properties;
