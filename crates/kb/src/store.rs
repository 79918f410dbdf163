//! Versioned storage of imported knowledge bases under `<data>/kb/`:
//! one `kb-<YYYYMMDDTHHMMSS>-<sha8>.json` per import and `current.json` naming the version in
//! force. Files are written to a temporary name and renamed, so a crash never leaves a
//! half-written version in force.

use crate::model::{KnowledgeBase, SourceInfo};
use anyhow::Context;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The directory holding the versions.
pub fn kb_dir(data: &Path) -> PathBuf {
    data.join("kb")
}

/// `current.json`: the version in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentPointer {
    /// Version name.
    pub version: String,
    /// File name under `<data>/kb/`.
    pub file: String,
}

/// A stored version, without its points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Version name.
    pub version: String,
    /// When it was imported.
    pub imported_at: Option<NaiveDateTime>,
    /// File name under `<data>/kb/`.
    pub file: String,
    /// Knowledge points it holds.
    pub points: usize,
    /// Per-file reports of the import.
    pub sources: Vec<SourceInfo>,
    /// Whether `current.json` names this version.
    #[serde(default)]
    pub current: bool,
}

#[derive(Deserialize)]
struct Header {
    version: String,
    imported_at: Option<NaiveDateTime>,
    #[serde(default)]
    points: serde::de::IgnoredAny,
    sources: Vec<SourceInfo>,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)
        .with_context(|| format!("无法写入 / cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("无法写入 / cannot rename to {}", path.display()))?;
    Ok(())
}

/// Stores `kb` as a new version and makes it current. Returns the version file's path.
pub fn save(data: &Path, kb: &KnowledgeBase) -> anyhow::Result<PathBuf> {
    if kb.version.is_empty() {
        anyhow::bail!("知识库没有版本号 / the knowledge base has no version (import it first)");
    }
    let dir = kb_dir(data);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("无法创建目录 / cannot create {}", dir.display()))?;
    let file = format!("{}.json", kb.version);
    let path = dir.join(&file);
    write_atomic(&path, &serde_json::to_vec(kb)?)?;
    set_current(data, &kb.version)?;
    Ok(path)
}

/// Makes a stored version current (roll back or forward).
pub fn set_current(data: &Path, version: &str) -> anyhow::Result<()> {
    let dir = kb_dir(data);
    let file = format!("{version}.json");
    if !dir.join(&file).is_file() {
        anyhow::bail!("知识库版本 {version} 不存在 / no such version; see `medfund kb list`");
    }
    let ptr = CurrentPointer {
        version: version.to_string(),
        file,
    };
    write_atomic(&dir.join("current.json"), &serde_json::to_vec_pretty(&ptr)?)
}

/// The version `current.json` names, if any.
pub fn current_version(data: &Path) -> anyhow::Result<Option<CurrentPointer>> {
    let p = kb_dir(data).join("current.json");
    if !p.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    let ptr: CurrentPointer = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} 已损坏，请重新导入 / is damaged: re-run `medfund kb import`",
            p.display()
        )
    })?;
    Ok(Some(ptr))
}

/// Loads one stored version.
pub fn load_version(data: &Path, version: &str) -> anyhow::Result<KnowledgeBase> {
    let p = kb_dir(data).join(format!("{version}.json"));
    let bytes = std::fs::read(&p).with_context(|| {
        format!(
            "无法读取知识库版本 / cannot read {}: see `medfund kb list`",
            p.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} 已损坏，请重新导入 / is damaged: re-run `medfund kb import`",
            p.display()
        )
    })
}

/// The knowledge base in force, with errors (damaged files) reported.
pub fn try_load_current(data: &Path) -> anyhow::Result<Option<KnowledgeBase>> {
    match current_version(data)? {
        Some(ptr) => load_version(data, &ptr.version).map(Some),
        None => Ok(None),
    }
}

/// The knowledge base in force, or `None` when none was imported (or it cannot be read — use
/// [`try_load_current`] to see why).
pub fn load_current(data: &Path) -> Option<KnowledgeBase> {
    try_load_current(data).ok().flatten()
}

/// Every stored version, oldest first.
pub fn list(data: &Path) -> anyhow::Result<Vec<VersionInfo>> {
    let dir = kb_dir(data);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let current = current_version(data)?.map(|p| p.version);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir)? {
        let path = e?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.starts_with("kb-") && name.ends_with(".json")) {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let h: Header = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} 已损坏 / is damaged", path.display()))?;
        let _ = h.points;
        let points = h.sources.iter().map(|s| s.points as usize).sum();
        out.push(VersionInfo {
            current: current.as_deref() == Some(h.version.as_str()),
            version: h.version,
            imported_at: h.imported_at,
            file: name,
            points,
            sources: h.sources,
        });
    }
    out.sort_by(|a, b| (a.imported_at, &a.version).cmp(&(b.imported_at, &b.version)));
    Ok(out)
}
