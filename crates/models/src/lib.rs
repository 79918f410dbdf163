//! # medfund-models
//!
//! Big-data risk models (大数据智能监管分析模型; seed 000 §四(三)二) written as SQL files in the rule
//! library (`rules/models/*.sql`) and run by Apache DataFusion over the store's Parquet claim
//! tables and its reference tables. An analyst adds a model by adding a file: a TOML header in
//! `-- ` comments (id, category, level, keys, evidence template, …) and one `SELECT`; every
//! result row becomes a finding in the contract's shape (DOMAIN.md §4). See [`model`] for the
//! header and `docs/monitoring.md` for the shipped models.
//!
//! Tables a model can query: the claim tables `mdtrt`, `setl`, `fee`, `diag`, `rx`, `inv_purc`,
//! `inv_stock`, `idv` (Parquet, columns and types as in `medfund_store::claims`: amounts
//! `DECIMAL(18,2)`, times `TIMESTAMP`, `;`-lists text), the reference tables `fixmedins`, `psn`,
//! `pract`, `catalog`, and every `*.csv` of the models directory (all columns text).
//!
//! ```no_run
//! let findings = medfund_models::run_models(
//!     std::path::Path::new("./medfund-data"),
//!     std::path::Path::new("rules/models"),
//! )?;
//! println!("{} findings", findings.len());
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod cli;
pub mod engine;
pub mod model;

pub use engine::{run_all, session, Sources};
pub use model::{load_models, Model};

use medfund_contract::finding::Finding;
use std::path::{Path, PathBuf};

/// Runs every model of `models_dir` over the store in `data` and returns their findings
/// (sealed, in model-file order, each model's rows in its `ORDER BY`).
pub fn run_models(data: &Path, models_dir: &Path) -> anyhow::Result<Vec<Finding>> {
    let models = load_models(models_dir)?;
    let src = Sources::from_store(data)?.with_csv_dir(models_dir)?;
    run_all(&src, &models)
}

/// The models directory: `MEDFUND_MODELS`, else `./rules/models`.
pub fn default_models_dir() -> PathBuf {
    std::env::var_os("MEDFUND_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("rules/models"))
}

/// The shipped models, embedded in the binary so it works outside the repository (as the
/// audit's rule library does).
const BUILTIN: &[(&str, &str)] = &[
    (
        "drug_resale.sql",
        include_str!("../../../rules/models/drug_resale.sql"),
    ),
    (
        "false_admission.sql",
        include_str!("../../../rules/models/false_admission.sql"),
    ),
    (
        "key_drug_spike.sql",
        include_str!("../../../rules/models/key_drug_spike.sql"),
    ),
    (
        "key_drugs.csv",
        include_str!("../../../rules/models/key_drugs.csv"),
    ),
];

/// The models directory to use: [`default_models_dir`] when it exists, else the shipped models
/// written to `<data>/models-builtin/` (rewritten each time, so they match the binary).
///
/// ```
/// let data = std::env::temp_dir().join(format!("medfund-models-doc-{}", std::process::id()));
/// let dir = medfund_models::models_dir_or_builtin(&data).unwrap();
/// assert!(dir.join("drug_resale.sql").is_file() || dir.ends_with("rules/models"));
/// ```
pub fn models_dir_or_builtin(data: &Path) -> anyhow::Result<PathBuf> {
    let dir = default_models_dir();
    if dir.is_dir() {
        return Ok(dir);
    }
    let out = data.join("models-builtin");
    std::fs::create_dir_all(&out)?;
    for (name, text) in BUILTIN {
        std::fs::write(out.join(name), text)?;
    }
    Ok(out)
}
