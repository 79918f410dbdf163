//! Hand-written CSV formatting: integers, exact money and contract dates straight into a byte
//! buffer, so a fee line costs no allocation and no serde.

use chrono::{Datelike, NaiveDate};

/// Appends a non-negative integer.
pub fn uint(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Appends `n` zero-padded to `width` digits.
pub fn padded(b: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut v = n;
    let mut i = tmp.len();
    while v > 0 {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let digits = tmp.len() - i;
    let start = if digits >= width {
        i
    } else {
        tmp.len() - width
    };
    b.extend_from_slice(&tmp[start..]);
}

/// Appends a scaled decimal (`raw / 10^scale`), keeping at least `min_dec` decimals and dropping
/// further trailing zeros — the same text as `medfund_contract::money`'s `Display`.
pub fn scaled(b: &mut Vec<u8>, raw: i64, scale: u32, min_dec: u32) {
    if raw < 0 {
        b.push(b'-');
    }
    let a = raw.unsigned_abs();
    let p = 10u64.pow(scale);
    uint(b, a / p);
    let mut frac = a % p;
    let mut digits = scale;
    while digits > min_dec && frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    if digits > 0 {
        b.push(b'.');
        padded(b, frac, digits as usize);
    }
}

/// Yuan amount from fen: `12.30`.
pub fn fen(b: &mut Vec<u8>, v: i64) {
    scaled(b, v, 2, 2);
}
/// Unit price from micro-yuan: `12.30`, `0.1234`.
pub fn price(b: &mut Vec<u8>, v: i64) {
    scaled(b, v, 6, 2);
}
/// Quantity from 1e-4 units: `3`, `0.5`.
pub fn qty(b: &mut Vec<u8>, v: i64) {
    scaled(b, v, 4, 0);
}

/// Fen as a `String` (for the manifest).
pub fn fen_string(v: i64) -> String {
    let mut b = Vec::new();
    fen(&mut b, v);
    String::from_utf8(b).expect("ascii")
}

/// Pre-formatted `YYYY-MM-DD` for every day of a span, indexed by day offset from the span start.
pub struct Days {
    /// Day 0.
    pub start: NaiveDate,
    text: Vec<[u8; 10]>,
}

impl Days {
    /// Days from `start` for `n` days.
    pub fn new(start: NaiveDate, n: usize) -> Days {
        let text = (0..n)
            .map(|i| {
                let d = start + chrono::Duration::days(i as i64);
                let mut t = [0u8; 10];
                let mut v = Vec::with_capacity(10);
                date(&mut v, d);
                t.copy_from_slice(&v);
                t
            })
            .collect();
        Days { start, text }
    }
    /// Appends the date of day `d`.
    pub fn day(&self, b: &mut Vec<u8>, d: i32) {
        b.extend_from_slice(&self.text[d as usize]);
    }
    /// Appends `YYYY-MM-DD HH:MM:SS` for `t` seconds after the start of day 0.
    pub fn time(&self, b: &mut Vec<u8>, t: i64) {
        let d = t.div_euclid(86_400);
        let s = t.rem_euclid(86_400);
        self.day(b, d as i32);
        b.push(b' ');
        padded(b, (s / 3600) as u64, 2);
        b.push(b':');
        padded(b, (s / 60 % 60) as u64, 2);
        b.push(b':');
        padded(b, (s % 60) as u64, 2);
    }
    /// The calendar date of day `d`.
    pub fn date_of(&self, d: i32) -> NaiveDate {
        self.start + chrono::Duration::days(d as i64)
    }
}

/// Appends any date as `YYYY-MM-DD`.
pub fn date(b: &mut Vec<u8>, d: NaiveDate) {
    padded(b, d.year() as u64, 4);
    b.push(b'-');
    padded(b, d.month() as u64, 2);
    b.push(b'-');
    padded(b, d.day() as u64, 2);
}

/// Appends a CSV field, quoting it when it holds a comma, quote or line break (RFC 4180).
pub fn field(b: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        b.push(b'"');
        for c in s.bytes() {
            if c == b'"' {
                b.push(b'"');
            }
            b.push(c);
        }
        b.push(b'"');
    } else {
        b.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medfund_contract::money::{Fen, Price, Qty};

    fn s(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers_match_the_contract_display() {
        for v in [0i64, 1, 99, 100, 1230, -501, 12_345_678_999] {
            assert_eq!(s(|b| fen(b, v)), Fen(v).to_string());
        }
        for v in [0i64, 10_000, 12_345_600, 1, 3_000_000, 123_456_789] {
            assert_eq!(s(|b| price(b, v)), Price(v).to_string());
        }
        for v in [0i64, 10_000, 25_000, 1, -30_000] {
            assert_eq!(s(|b| qty(b, v)), Qty(v).to_string());
        }
        assert_eq!(s(|b| padded(b, 42, 5)), "00042");
        assert_eq!(s(|b| padded(b, 0, 3)), "000");
        assert_eq!(s(|b| uint(b, 0)), "0");
    }

    #[test]
    fn dates_and_times() {
        let d = Days::new(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(), 400);
        assert_eq!(s(|b| d.day(b, 0)), "2024-12-31");
        assert_eq!(s(|b| d.day(b, 60)), "2025-03-01");
        assert_eq!(s(|b| d.time(b, 86_400 + 3_723)), "2025-01-01 01:02:03");
        assert_eq!(s(|b| field(b, "a,\"b\"")), "\"a,\"\"b\"\"\"");
    }
}
