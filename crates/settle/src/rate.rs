//! Exact decimal multipliers (percentages, factors, thresholds) as integers scaled by 10⁴.
//!
//! Policy parameters such as "30%" or "k = 3" are data. They are held as [`Rate`] (`0.3000` is
//! `Rate(3000)`), so every product with an amount is integer arithmetic with one explicit rounding.
//!
//! ```
//! use medfund_settle::rate::Rate;
//! let r: Rate = "0.3".parse().unwrap();
//! assert_eq!(r, Rate(3000));
//! assert_eq!(r.to_string(), "0.3");
//! ```

use medfund_contract::money::{div_round_half_up, parse_scaled, DecimalError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A non-money decimal with 4 decimals: `Rate(10_000)` is 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub i64);

impl Rate {
    /// Number of decimals.
    pub const SCALE: u32 = 4;
    /// The raw value of 1.
    pub const ONE_RAW: i64 = 10_000;
    /// 1 (100%).
    pub const ONE: Rate = Rate(10_000);
    /// 0.
    pub const ZERO: Rate = Rate(0);

    /// `n / 100` (a whole percentage).
    pub const fn percent(n: i64) -> Rate {
        Rate(n * 100)
    }
    /// A whole number.
    pub const fn units(n: i64) -> Rate {
        Rate(n * 10_000)
    }
    /// `value × self`, rounded half up to a whole unit of `value`'s scale.
    pub fn apply(self, value: i64) -> i64 {
        div_round_half_up(value as i128 * self.0 as i128, Self::ONE_RAW as i128) as i64
    }
}

impl FromStr for Rate {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        // Percent notation ("30%") is common in policy texts, so it is accepted too.
        if let Some(p) = t.strip_suffix('%') {
            // n% = n ÷ 100, so the percentage itself carries 2 decimals fewer.
            return parse_scaled(p, Self::SCALE - 2).map(Rate);
        }
        parse_scaled(t, Self::SCALE).map(Rate)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let a = self.0.unsigned_abs();
        let (int, mut frac) = (a / 10_000, a % 10_000);
        let mut digits = 4usize;
        while digits > 0 && frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        if neg {
            f.write_str("-")?;
        }
        if digits == 0 {
            write!(f, "{int}")
        } else {
            write!(f, "{int}.{frac:0digits$}")
        }
    }
}

// Written as decimal text so no reader turns it into a binary float.
impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal such as \"0.3\", \"30%\" or 3")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Rate, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Rate, E> {
                v.checked_mul(Rate::ONE_RAW)
                    .map(Rate)
                    .ok_or_else(|| E::custom("overflow"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Rate, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(Rate::ONE_RAW))
                    .map(Rate)
                    .ok_or_else(|| E::custom("overflow"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Rate, E> {
                // A TOML float (0.3) is read through its shortest decimal text, never by
                // multiplying the binary value, so 0.3 is exactly 3000.
                format!("{v}").parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_and_percent_text() {
        assert_eq!("0.3".parse::<Rate>().unwrap(), Rate(3000));
        assert_eq!("30%".parse::<Rate>().unwrap(), Rate(3000));
        assert_eq!("12.5%".parse::<Rate>().unwrap(), Rate(1250));
        assert_eq!("3".parse::<Rate>().unwrap(), Rate::units(3));
        assert!("0.00001".parse::<Rate>().is_err());
        assert!("0.001%".parse::<Rate>().is_err());
        assert!("abc".parse::<Rate>().is_err());
    }

    #[test]
    fn displays_shortest() {
        assert_eq!(Rate(3000).to_string(), "0.3");
        assert_eq!(Rate::units(3).to_string(), "3");
        assert_eq!(Rate(-125).to_string(), "-0.0125");
    }

    #[test]
    fn applies_with_half_up() {
        // 30% of 5 fen = 1.5 fen → 2; of 4 fen = 1.2 → 1.
        assert_eq!(Rate::percent(30).apply(5), 2);
        assert_eq!(Rate::percent(30).apply(4), 1);
        assert_eq!(Rate::percent(30).apply(-5), -2);
    }

    #[test]
    fn toml_float_is_read_through_text() {
        #[derive(serde::Deserialize)]
        struct T {
            a: Rate,
            b: Rate,
            c: Rate,
        }
        let t: T = toml::from_str("a = 0.3\nb = 3\nc = \"10%\"").unwrap();
        assert_eq!((t.a, t.b, t.c), (Rate(3000), Rate(30_000), Rate(1000)));
    }
}
