//! # medfund-settle
//!
//! Payment settlement of the medical insurance fund (支付方式改革; DOMAIN.md §6 and §9):
//!
//! - [`assess`]: the year's indicator assessment (考评结果) from the monitoring indicators;
//! - [`budget`]: total budget control (总额控制、节约共享、超支分担) — monthly prepayment,
//!   year-end settlement with reward and overage sharing, in-year early warning;
//! - [`points`]: the point method (点数法) shared by [`drg`] (DRG 点数法, by `drg_codg`) and
//!   [`dip`] (按病种分值, by disease group);
//! - [`source`]: building those inputs from the contract's records (the store's tables);
//! - [`policy`]: the parameters (`policy/settle.toml`), every percentage and multiplier is data;
//! - [`files`]: CSV input/output and the Excel settlement sheets;
//! - [`runs`]: stored settlement runs with their approval status in the operational database;
//! - [`approval`]: moving a run through its approval chain as a logged-in user, with the
//!   hash-chained audit log;
//! - [`cli`]: `medfund settle budget|drg|dip|warn|runs|status`.
//!
//! Money is [`medfund_contract::Fen`]; points, factors and point values are scaled integers
//! ([`points::Points`] ×10⁴, [`rate::Rate`] ×10⁴, [`points::PointValue`] ×10⁶). No binary floating
//! point touches an amount or a point (the Excel writer converts to the sheet's number cells only
//! at the very edge).

pub mod approval;
pub mod assess;
pub mod budget;
pub mod cli;
pub mod dip;
pub mod drg;
pub mod files;
pub mod points;
pub mod policy;
pub mod rate;
pub mod runs;
pub mod service;
pub mod source;
