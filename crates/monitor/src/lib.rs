//! # medfund-monitor
//!
//! Monthly monitoring of designated institutions and of the funds (seed 002 每月实时监控, seed 000
//! 基金运行分析研判, seed 004 可支付月数; DOMAIN.md §5, §9):
//!
//! - [`indicators`]: per institution and month, every indicator of DOMAIN.md §5 with the same
//!   month of the previous year (the baseline) and the peer-group median;
//! - [`warnings`]: growth too fast, zero-growth target missed, referral rate, total budget used
//!   ahead of the calendar or nearly used up;
//! - [`outlier`]: `provider_outlier` findings (DOMAIN.md §4.1) in the audit's findings shape;
//! - [`persons`]: the top 30 insured persons of the month and what makes them unusual;
//! - [`fund`]: balance, income and expense, months payable, quarters, a 12-month forecast with
//!   its error on the last year;
//! - [`report`]: the monthly report (terminal text, JSON for the web UI) and [`xlsx`] (Excel);
//! - [`yearly`]: a year's indicators from the store, month by month (the budget assessment).
//!
//! Everything but [`cli`], [`xlsx`] and [`yearly`] is pure: functions of borrowed contract records.
//!
//! ```
//! use medfund_monitor::{monthly_report, MonitorInput, Policy};
//! use medfund_contract::{records::Batch, YearMonth};
//! let batch = Batch::default();
//! let r = monthly_report(&MonitorInput::from_batch(&batch), YearMonth::parse("2024-03").unwrap(), &Policy::default());
//! assert_eq!(r.summary.visits, 0);
//! assert!(r.outliers.is_empty());
//! ```

pub mod cli;
pub mod fund;
pub mod indicators;
pub mod input;
pub mod outlier;
pub mod persons;
pub mod policy;
pub mod report;
pub mod warnings;
pub mod xlsx;
pub mod yearly;

pub use fund::{fund_analysis, FundAnalysis};
pub use indicators::{institution_indicators, Indicator, InstitutionIndicators};
pub use input::{MonitorInput, Period};
pub use outlier::provider_outliers;
pub use persons::top_persons;
pub use policy::Policy;
pub use report::{monthly_report, render_text, MonthlyReport};
pub use warnings::{budget_status, warnings, Warning};
