//! # medfund-contract
//!
//! The data contract of medfund (DOMAIN.md §3–§4) as plain Rust values, with no I/O:
//!
//! - [`money`]: exact amounts ([`money::Fen`]), unit prices ([`money::Price`]) and quantities
//!   ([`money::Qty`]) as scaled integers;
//! - [`time`]: local civil dates and times, ages, months;
//! - [`codes`]: the national code formats;
//! - [`records`]: one struct per input table, with the national field names;
//! - [`schema`]: each table's file name, natural key and column kinds;
//! - [`finding`]: the findings shape and the category codes.
//!
//! Every other crate speaks these types; nothing here depends on another medfund crate.

pub mod codes;
pub mod finding;
pub mod money;
pub mod records;
pub mod schema;
pub mod time;

pub use codes::Code;
pub use finding::{Category, Evidence, Finding, Level, Outcome};
pub use money::{Fen, Price, Qty};
pub use records::*;
pub use schema::{Table, TableSpec};
pub use time::YearMonth;
