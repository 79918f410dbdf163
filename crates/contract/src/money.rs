//! Exact money and quantities as scaled integers.
//!
//! The contract says money is exact decimal, never binary floating point. Every amount is held as
//! an `i64` count of its smallest unit: [`Fen`] (0.01 yuan) for amounts, [`Price`] (0.000001 yuan)
//! for unit prices, [`Qty`] (0.0001 unit) for quantities. Products are computed in `i128` and
//! rounded half away from zero (the usual 四舍五入 for negative refund lines too).
//!
//! ```
//! use medfund_contract::money::{Fen, Price, Qty};
//! let p: Price = "12.345678".parse().unwrap();
//! let q: Qty = "3".parse().unwrap();
//! assert_eq!(q.times(p), "37.04".parse::<Fen>().unwrap());
//! assert_eq!(Fen::from_yuan_str("-0.5").unwrap().to_string(), "-0.50");
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why a decimal text could not be read exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("empty number / 数值为空")]
    Empty,
    #[error("'{0}' is not a decimal number / 不是合法数字")]
    Syntax(String),
    #[error("'{0}' has more than {1} decimals / 小数位数超过 {1} 位")]
    TooPrecise(String, u32),
    #[error("'{0}' is out of range / 数值超出范围")]
    Overflow(String),
}

/// Parses a plain decimal (`-12.30`, `+4`, `.5`) into an integer scaled by `10^scale`.
/// Extra decimals are accepted only when they are zeros, so nothing is silently rounded.
pub fn parse_scaled(text: &str, scale: u32) -> Result<i64, DecimalError> {
    let s = crate::codes::trim(text);
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    let bytes = s.as_bytes();
    let (neg, body) = match bytes[0] {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if body.is_empty() {
        return Err(DecimalError::Syntax(s.to_string()));
    }
    // u64 digits with checked steps: i128 arithmetic per digit showed up in profiles of the
    // fee table, where three amounts per line are parsed.
    let overflow = || DecimalError::Overflow(s.to_string());
    let mut int: u64 = 0;
    let mut frac: u64 = 0;
    let mut frac_digits = 0u32;
    let mut seen_dot = false;
    let mut seen_digit = false;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                let d = u64::from(b - b'0');
                if seen_dot {
                    if frac_digits < scale {
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    } else if d != 0 {
                        return Err(DecimalError::TooPrecise(s.to_string(), scale));
                    }
                } else {
                    int = int
                        .checked_mul(10)
                        .and_then(|i| i.checked_add(d))
                        .filter(|&i| i <= i64::MAX as u64)
                        .ok_or_else(overflow)?;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return Err(DecimalError::Syntax(s.to_string())),
        }
    }
    if !seen_digit {
        return Err(DecimalError::Syntax(s.to_string()));
    }
    while frac_digits < scale {
        frac *= 10;
        frac_digits += 1;
    }
    let v = i128::from(int) * 10i128.pow(scale) + i128::from(frac);
    let v = if neg { -v } else { v };
    i64::try_from(v).map_err(|_| DecimalError::Overflow(s.to_string()))
}

/// Divides `value` by `divisor` (> 0) rounding half away from zero.
pub fn div_round_half_up(value: i128, divisor: i128) -> i128 {
    debug_assert!(divisor > 0);
    let half = divisor / 2;
    if value >= 0 {
        (value + half) / divisor
    } else {
        -((-value + half) / divisor)
    }
}

fn fmt_scaled(f: &mut fmt::Formatter<'_>, v: i64, scale: u32, min_decimals: u32) -> fmt::Result {
    let neg = v < 0;
    let a = (v as i128).unsigned_abs();
    let p = 10u128.pow(scale);
    let int = a / p;
    let mut frac = a % p;
    let mut digits = scale;
    while digits > min_decimals && frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    if neg {
        f.write_str("-")?;
    }
    if digits == 0 {
        write!(f, "{int}")
    } else {
        write!(f, "{int}.{frac:0width$}", width = digits as usize)
    }
}

macro_rules! scaled_type {
    ($(#[$m:meta])* $name:ident, $scale:expr, $min:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// Number of decimals the integer is scaled by.
            pub const SCALE: u32 = $scale;
            /// `10^SCALE`.
            pub const ONE: i64 = 10i64.pow($scale);
            pub const ZERO: $name = $name(0);

            /// The raw scaled integer.
            pub fn raw(self) -> i64 {
                self.0
            }
            pub fn is_negative(self) -> bool {
                self.0 < 0
            }
            pub fn abs(self) -> Self {
                $name(self.0.abs())
            }
        }

        impl FromStr for $name {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_scaled(s, $scale).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_scaled(f, self.0, $scale, $min)
            }
        }

        impl std::ops::Add for $name {
            type Output = $name;
            fn add(self, o: $name) -> $name {
                $name(self.0 + o.0)
            }
        }
        impl std::ops::Sub for $name {
            type Output = $name;
            fn sub(self, o: $name) -> $name {
                $name(self.0 - o.0)
            }
        }
        impl std::ops::AddAssign for $name {
            fn add_assign(&mut self, o: $name) {
                self.0 += o.0;
            }
        }
        impl std::ops::SubAssign for $name {
            fn sub_assign(&mut self, o: $name) {
                self.0 -= o.0;
            }
        }
        impl std::ops::Neg for $name {
            type Output = $name;
            fn neg(self) -> $name {
                $name(-self.0)
            }
        }
        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(iter: I) -> $name {
                $name(iter.map(|x| x.0).sum())
            }
        }

        // Serialised as a decimal string so no JSON reader turns it into a float.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a decimal number as a string or an integer")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        v.checked_mul($name::ONE).map($name).ok_or_else(|| E::custom("overflow"))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        i64::try_from(v)
                            .ok()
                            .and_then(|v| v.checked_mul($name::ONE))
                            .map($name)
                            .ok_or_else(|| E::custom("overflow"))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$name, E> {
                        // JSON numbers are read through their shortest decimal text, never by
                        // multiplying the binary float.
                        format!("{v}").parse().map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

scaled_type!(
    /// An amount of money in fen (0.01 yuan): settlement totals, line amounts, findings.
    Fen, 2, 2
);
scaled_type!(
    /// A unit price in millionths of a yuan (the contract allows 6 decimals for prices).
    Price, 6, 2
);
scaled_type!(
    /// A quantity in ten-thousandths of a unit (national interface: 4 decimals); negative for refunds.
    Qty, 4, 0
);

impl Fen {
    /// Parses a yuan amount text ("12.30").
    pub fn from_yuan_str(s: &str) -> Result<Fen, DecimalError> {
        s.parse()
    }
    /// Whole yuan.
    pub fn from_yuan(y: i64) -> Fen {
        Fen(y * 100)
    }
    /// Multiplies by a rational `num/den` (e.g. 30% = 30/100), rounding half up to the fen.
    pub fn mul_ratio(self, num: i64, den: i64) -> Fen {
        Fen(div_round_half_up(self.0 as i128 * num as i128, den as i128) as i64)
    }
}

impl Qty {
    /// Whole units.
    pub fn from_units(n: i64) -> Qty {
        Qty(n * Qty::ONE)
    }
    /// Quantity × unit price, rounded half up to the fen.
    pub fn times(self, p: Price) -> Fen {
        // 10^-4 × 10^-6 = 10^-10 yuan; a fen is 10^-2 yuan.
        Fen(div_round_half_up(self.0 as i128 * p.0 as i128, 100_000_000) as i64)
    }
    /// Whether the quantity is a whole number of units.
    pub fn is_whole(self) -> bool {
        self.0 % Qty::ONE == 0
    }
}

impl Price {
    /// Converts an amount in fen to a price (exact).
    pub fn from_fen(f: Fen) -> Price {
        Price(f.0 * 10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!("12.30".parse::<Fen>().unwrap(), Fen(1230));
        assert_eq!("-0.01".parse::<Fen>().unwrap(), Fen(-1));
        assert_eq!(".5".parse::<Fen>().unwrap(), Fen(50));
        assert_eq!("7".parse::<Fen>().unwrap(), Fen(700));
        assert_eq!("1.2000".parse::<Fen>().unwrap(), Fen(120));
        assert_eq!("0.000001".parse::<Price>().unwrap(), Price(1));
        assert_eq!("2.5".parse::<Qty>().unwrap(), Qty(25_000));
    }

    #[test]
    fn refuses_what_it_cannot_hold() {
        assert!(matches!(
            "1.234".parse::<Fen>(),
            Err(DecimalError::TooPrecise(_, 2))
        ));
        assert!(matches!("".parse::<Fen>(), Err(DecimalError::Empty)));
        assert!(matches!("1e5".parse::<Fen>(), Err(DecimalError::Syntax(_))));
        assert!(matches!(
            "1.2.3".parse::<Fen>(),
            Err(DecimalError::Syntax(_))
        ));
        assert!(matches!("-".parse::<Fen>(), Err(DecimalError::Syntax(_))));
        assert!(matches!(
            "99999999999999999999".parse::<Fen>(),
            Err(DecimalError::Overflow(_))
        ));
    }

    #[test]
    fn displays_round_trip() {
        for s in ["0.00", "12.30", "-5.01", "123456789.99"] {
            assert_eq!(s.parse::<Fen>().unwrap().to_string(), s);
        }
        assert_eq!("12.345600".parse::<Price>().unwrap().to_string(), "12.3456");
        assert_eq!("3".parse::<Price>().unwrap().to_string(), "3.00");
        assert_eq!("2.5000".parse::<Qty>().unwrap().to_string(), "2.5");
        assert_eq!("-3".parse::<Qty>().unwrap().to_string(), "-3");
    }

    #[test]
    fn products_round_half_away_from_zero() {
        let p: Price = "0.125".parse().unwrap();
        assert_eq!(Qty::from_units(1).times(p), Fen(13));
        assert_eq!(Qty::from_units(-1).times(p), Fen(-13));
        let p: Price = "0.124999".parse().unwrap();
        assert_eq!(Qty::from_units(1).times(p), Fen(12));
        assert_eq!(Fen(5).mul_ratio(30, 100), Fen(2)); // 1.5 fen → 2
        assert_eq!(Fen(-5).mul_ratio(30, 100), Fen(-2));
    }

    #[test]
    fn serde_is_textual() {
        let j = serde_json::to_string(&Fen(1230)).unwrap();
        assert_eq!(j, "\"12.30\"");
        let f: Fen = serde_json::from_str("\"12.3\"").unwrap();
        assert_eq!(f, Fen(1230));
        let f: Fen = serde_json::from_str("12.3").unwrap();
        assert_eq!(f, Fen(1230));
    }
}
