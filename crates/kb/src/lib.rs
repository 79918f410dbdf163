//! # medfund-kb
//!
//! The national knowledge base (两库 知识点). Placeholder during development.
pub mod cli;
pub mod import;
pub mod model;
pub mod policy;

pub use import::{import_dir, import_files, import_files_at};
pub use model::*;
pub use policy::KbPolicy;
