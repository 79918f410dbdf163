//! # medfund-kb
//!
//! The national knowledge base (医疗保障基金智能审核和监控知识库 知识点): the NHSA publishes the
//! knowledge points behind its smart-audit rules in numbered batches of xlsx files (`kb/nhsa/`).
//! This crate
//!
//! - imports them ([`import_files`], [`import_dir`]): every limit type is mapped to a rule
//!   template ([`Limit`]), and every row that cannot be mapped is reported with its reason
//!   ([`SourceInfo::unmapped`]);
//! - stores each import as a version under `<data>/kb/` ([`store`], [`load_current`]);
//! - merges the catalog-expressible limits into the contract's `catalog` table
//!   ([`KnowledgeBase::apply_to_catalog`]);
//! - evaluates the categories that only the national knowledge base defines
//!   ([`eval::eval_person`]: `insurance_type_limit`, `course_limit`, `cycle_frequency`,
//!   `secondary_surgery_discount`, and the timed duplicate pairs).
//!
//! ```no_run
//! use medfund_kb::{eval, import_dir, KbPolicy};
//! let policy = KbPolicy::load().unwrap();
//! let kb = import_dir(std::path::Path::new("kb/nhsa"), &policy).unwrap();
//! let male_only = kb.points_of("XL02BBA326A001010102180").next().unwrap();
//! assert_eq!(male_only.limit.describe(), "限男性");
//! let index = eval::KbIndex::new(&kb, &policy);
//! # let _ = index;
//! ```

#![warn(missing_docs)]

pub mod catalog;
pub mod cli;
pub mod eval;
pub mod import;
pub mod model;
pub mod policy;
pub mod store;

pub use catalog::MergeStats;
pub use eval::{eval_person, KbIndex, LineCtx, PersonLines};
pub use import::{import_dir, import_files, import_files_at};
pub use model::*;
pub use policy::KbPolicy;
pub use store::{load_current, try_load_current};
