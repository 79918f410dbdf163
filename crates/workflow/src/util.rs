//! Small shared pieces: string-coded enums, state-machine checks, the clock, pagination, a WHERE
//! builder, exact ratios, and row decoding helpers.

use crate::error::{validation, Result, WfError};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use medfund_db::{Row, Value};
use serde::{Deserialize, Serialize};

/// Declares an enum stored and serialized as a stable lowercase code, with a Chinese label.
macro_rules! str_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($v:ident = $code:literal / $zh:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[doc = $zh] #[serde(rename = $code)] $v,)*
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// The stable code stored in the database and used in the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)* }
            }
            /// The Chinese label shown to users.
            pub fn zh(self) -> &'static str {
                match self { $($name::$v => $zh,)* }
            }
            /// Reads a code; `None` when unknown.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$v),)* _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::error::WfError;
            fn from_str(s: &str) -> Result<$name, $crate::error::WfError> {
                $name::parse(s.trim()).ok_or_else(|| {
                    let codes: Vec<&str> = $name::ALL.iter().map(|v| v.code()).collect();
                    $crate::error::WfError::Validation(format!(
                        "'{}' 不是有效的 {} / unknown value; 可选 / expected one of: {}",
                        s, stringify!($name), codes.join(", ")
                    ))
                })
            }
        }
    };
}
pub(crate) use str_enum;

/// A record state with an explicit table of allowed transitions.
pub trait StateMachine: Copy + Eq + std::fmt::Display + 'static {
    /// Every allowed `(from, to)` pair; anything else is refused.
    const TRANSITIONS: &'static [(Self, Self)];
    /// The Chinese label of the state.
    fn label(self) -> &'static str;
    /// Whether `self → to` is allowed.
    fn can_go(self, to: Self) -> bool {
        Self::TRANSITIONS.iter().any(|&(a, b)| a == self && b == to)
    }
    /// The states reachable from `self` in one step.
    fn next_states(self) -> Vec<Self> {
        Self::TRANSITIONS
            .iter()
            .filter(|(a, _)| *a == self)
            .map(|(_, b)| *b)
            .collect()
    }
    /// `Ok` when allowed, else [`WfError::InvalidTransition`].
    fn ensure(self, to: Self) -> Result<()> {
        if self.can_go(to) {
            Ok(())
        } else {
            Err(WfError::InvalidTransition {
                from: format!("{}({})", self.label(), self),
                to: format!("{}({})", to.label(), to),
            })
        }
    }
}

/// Where "now" comes from: the system's local time, or a fixed instant (tests, replays).
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// Local civil time of the machine.
    #[default]
    System,
    /// Always this instant.
    Fixed(NaiveDateTime),
}

impl Clock {
    /// The current local time, to the second.
    pub fn now(&self) -> NaiveDateTime {
        match self {
            Clock::System => chrono::Local::now()
                .naive_local()
                .with_nanosecond(0)
                .unwrap_or_default(),
            Clock::Fixed(t) => *t,
        }
    }
}

/// Offset/limit pagination of list calls.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Page {
    /// Rows to skip.
    pub offset: i64,
    /// Maximum rows to return (capped at 1000).
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            offset: 0,
            limit: 100,
        }
    }
}

impl Page {
    pub(crate) fn sql(&self) -> String {
        format!(
            " LIMIT {} OFFSET {}",
            self.limit.clamp(1, 1000),
            self.offset.max(0)
        )
    }
}

/// One page of a list and the total number of matching rows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Paged<T> {
    /// Rows matching the filter, all pages together.
    pub total: i64,
    /// This page.
    pub items: Vec<T>,
}

/// Builds `WHERE a = $1 AND b = $2 …` with placeholders numbered in order.
#[derive(Default)]
pub(crate) struct Where {
    parts: Vec<String>,
    pub(crate) params: Vec<Value>,
}

impl Where {
    pub(crate) fn next(&self) -> String {
        format!("${}", self.params.len() + 1)
    }
    /// Adds `expr` where `?` is replaced by the next placeholder.
    pub(crate) fn add(&mut self, expr: &str, v: impl Into<Value>) -> &mut Self {
        let p = self.next();
        self.parts.push(expr.replace('?', &p));
        self.params.push(v.into());
        self
    }
    /// Adds a condition without parameters.
    pub(crate) fn raw(&mut self, expr: &str) -> &mut Self {
        self.parts.push(expr.to_string());
        self
    }
    pub(crate) fn sql(&self) -> String {
        if self.parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.parts.join(" AND "))
        }
    }
}

/// An exact non-negative ratio (an administrative-penalty multiple, a rate), read from a decimal
/// text with up to 4 decimals ("1.5" = 15000/10000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    /// Numerator.
    pub num: i64,
    /// Denominator (> 0).
    pub den: i64,
}

impl Ratio {
    /// Parses "2", "1.5", "0.04".
    pub fn parse(s: &str) -> Result<Ratio> {
        let v = medfund_contract::money::parse_scaled(s, 4)
            .map_err(|e| validation(format!("倍数/比例 '{s}' 无效 / invalid ratio: {e}")))?;
        if v < 0 {
            return Err(validation(format!(
                "倍数/比例不能为负 / ratio must not be negative: {s}"
            )));
        }
        Ok(Ratio {
            num: v,
            den: 10_000,
        }
        .reduced())
    }
    /// A whole number.
    pub fn whole(n: i64) -> Ratio {
        Ratio { num: n, den: 1 }
    }
    fn reduced(self) -> Ratio {
        fn gcd(a: i64, b: i64) -> i64 {
            if b == 0 {
                a.abs().max(1)
            } else {
                gcd(b, a % b)
            }
        }
        let g = gcd(self.num, self.den);
        Ratio {
            num: self.num / g,
            den: self.den / g,
        }
    }
    /// `amount × self`, rounded half up to the fen.
    pub fn apply(self, amount: medfund_contract::Fen) -> medfund_contract::Fen {
        amount.mul_ratio(self.num, self.den)
    }
    /// Compares exactly (cross-multiplication in i128).
    pub fn cmp_exact(self, other: Ratio) -> std::cmp::Ordering {
        (self.num as i128 * other.den as i128).cmp(&(other.num as i128 * self.den as i128))
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Four decimals are exact for every ratio parsed from text; trim trailing zeros.
        let scaled = (self.num as i128 * 10_000) / self.den as i128;
        let int = scaled / 10_000;
        let mut frac = format!("{:04}", (scaled % 10_000).abs());
        while frac.ends_with('0') {
            frac.pop();
        }
        if frac.is_empty() {
            write!(f, "{int}")
        } else {
            write!(f, "{int}.{frac}")
        }
    }
}

impl<'de> Deserialize<'de> for RatioText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<RatioText, D::Error> {
        let v = toml_or_json_number(d)?;
        Ratio::parse(&v)
            .map(RatioText)
            .map_err(serde::de::Error::custom)
    }
}

/// A [`Ratio`] written in policy files as a decimal text or number ("1.5" or 1.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatioText(pub Ratio);

impl Serialize for RatioText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

fn toml_or_json_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        I(i64),
        F(f64),
    }
    Ok(match N::deserialize(d)? {
        N::S(s) => s,
        N::I(i) => i.to_string(),
        // A float written in a policy file is read through its shortest decimal text, which is
        // exactly what the author typed (e.g. 1.5), so no binary rounding reaches the ratio.
        N::F(f) => format!("{f}"),
    })
}

/// Date-time text as stored.
pub(crate) fn dt(t: NaiveDateTime) -> String {
    medfund_contract::time::format_datetime(t)
}

/// Date text as stored.
pub(crate) fn d(t: NaiveDate) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_dt(s: &str) -> NaiveDateTime {
    medfund_contract::time::parse_datetime(s).unwrap_or_default()
}

pub(crate) fn parse_d(s: &str) -> NaiveDate {
    medfund_contract::time::parse_date(&s[..s.len().min(10)]).unwrap_or_default()
}

pub(crate) fn opt_dt(r: &Row, c: &str) -> Option<NaiveDateTime> {
    r.opt_text_of(c)
        .filter(|s| !s.is_empty())
        .map(|s| parse_dt(&s))
}

pub(crate) fn opt_d(r: &Row, c: &str) -> Option<NaiveDate> {
    r.opt_text_of(c)
        .filter(|s| !s.is_empty())
        .map(|s| parse_d(&s))
}

pub(crate) fn opt_fen(r: &Row, c: &str) -> Option<medfund_contract::Fen> {
    r.opt_int_of(c).map(medfund_contract::Fen)
}

pub(crate) fn opt_enum<T: std::str::FromStr<Err = WfError>>(r: &Row, c: &str) -> Result<Option<T>> {
    match r.opt_text_of(c).filter(|s| !s.is_empty()) {
        Some(s) => s.parse().map(Some),
        None => Ok(None),
    }
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| WfError::Io(format!("系统随机数不可用 / OS random generator: {e}")))?;
    Ok(b)
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(b))
}

/// Non-empty trimmed text, or a validation error naming the field.
pub(crate) fn required(v: &str, field: &str) -> Result<String> {
    let t = v.trim();
    if t.is_empty() {
        Err(validation(format!("{field}不能为空 / {field} is required")))
    } else {
        Ok(t.to_string())
    }
}

/// Adds whole days to a date-time.
pub(crate) fn plus_days(t: NaiveDateTime, days: i64) -> NaiveDateTime {
    t + chrono::Duration::days(days)
}

/// `d + months − 1 day`: the last day of a period of `months` months starting on `d` (inclusive).
pub(crate) fn months_end(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(months))
        .and_then(|x| x.pred_opt())
        .unwrap_or(d)
}

/// A guarded `UPDATE … WHERE id = … AND state = …` must have changed exactly one row; otherwise
/// the record moved on since it was read (another person or process), and the whole change,
/// its event and its audit-log entry roll back.
pub(crate) fn changed_one(n: u64, from: &str, to: &str) -> crate::Result<()> {
    if n == 1 {
        Ok(())
    } else {
        Err(crate::WfError::InvalidTransition {
            from: format!("{from}（已被他人变更，请刷新） / changed meanwhile, reload"),
            to: to.to_string(),
        })
    }
}
