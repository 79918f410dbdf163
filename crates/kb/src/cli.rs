//! `medfund kb …`: import the national knowledge-point batches, list and switch versions, look
//! up a code.

use crate::model::KnowledgeBase;
use crate::policy::KbPolicy;
use crate::{import, store};
use std::path::{Path, PathBuf};

/// 国家知识库 / the national knowledge base.
#[derive(Debug, clap::Args)]
pub struct KbArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub command: KbCommand,
}

/// Subcommands of `medfund kb`.
#[derive(Debug, clap::Subcommand)]
pub enum KbCommand {
    /// 导入国家知识点批次（xlsx），保存为新版本并设为当前 / import knowledge-point files as a new version
    Import(ImportArgs),
    /// 列出已导入的版本 / list imported versions
    List,
    /// 查看某编码的知识点（当前版本） / show the knowledge points of a code
    Show {
        /// 国家医保编码 / national list code, e.g. XL02BBA326A001010102180
        code: String,
    },
    /// 切换当前版本（回退） / make a stored version current
    Use {
        /// 版本号 / version, as `medfund kb list` prints it
        version: String,
    },
}

/// `medfund kb import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// xlsx 文件 / xlsx files to import
    pub files: Vec<PathBuf>,
    /// 导入目录中全部 xlsx / import every .xlsx of this directory (default kb/nhsa when no file is given)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// 只报告，不保存版本 / report only, do not store a version
    #[arg(long)]
    pub dry_run: bool,
    /// 以 JSON 输出报告 / print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `medfund kb …`.
pub fn run(data: &Path, args: &KbArgs) -> anyhow::Result<()> {
    match &args.command {
        KbCommand::Import(a) => run_import(data, a),
        KbCommand::List => run_list(data),
        KbCommand::Show { code } => run_show(data, code),
        KbCommand::Use { version } => {
            store::set_current(data, version)?;
            println!("当前知识库版本 / current version: {version}");
            Ok(())
        }
    }
}

fn run_import(data: &Path, a: &ImportArgs) -> anyhow::Result<()> {
    let policy = KbPolicy::load()?;
    let mut files = a.files.clone();
    let dir = match (&a.dir, files.is_empty()) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => {
            let d = PathBuf::from("kb/nhsa");
            if !d.is_dir() {
                anyhow::bail!("请给出要导入的 xlsx 文件或 --dir 目录 / give FILE.xlsx… or --dir DIR (kb/nhsa not found here)");
            }
            Some(d)
        }
        (None, false) => None,
    };
    if let Some(d) = dir {
        files.extend(import::xlsx_in(&d)?);
    }
    let kb = import::import_files(&files, &policy)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "version": kb.version, "sources": kb.sources })
            )?
        );
    } else {
        print!("{}", report(&kb));
    }
    if !a.dry_run {
        let path = store::save(data, &kb)?;
        eprintln!(
            "已保存为当前版本 / stored as the current version: {} ({})",
            kb.version,
            path.display()
        );
    }
    Ok(())
}

/// The per-file import report as a text table, followed by every unmapped row and note.
pub fn report(kb: &KnowledgeBase) -> String {
    let mut rows = vec![vec![
        "文件 file".to_string(),
        "批次".into(),
        "限定类型 / 规则".into(),
        "规则模板 template".into(),
        "数据行".into(),
        "编码".into(),
        "知识点".into(),
        "未映射".into(),
    ]];
    for s in &kb.sources {
        rows.push(vec![
            s.file.clone(),
            s.batch.clone(),
            s.title.clone(),
            s.templates.join(","),
            s.rows.to_string(),
            s.codes.to_string(),
            s.points.to_string(),
            s.unmapped.len().to_string(),
        ]);
    }
    let total =
        |f: fn(&crate::SourceInfo) -> usize| kb.sources.iter().map(f).sum::<usize>().to_string();
    rows.push(vec![
        "合计 total".into(),
        String::new(),
        String::new(),
        String::new(),
        total(|s| s.rows as usize),
        total(|s| s.codes as usize),
        total(|s| s.points as usize),
        total(|s| s.unmapped.len()),
    ]);
    let mut out = format!("知识库版本 / version {}\n", kb.version);
    out.push_str(&table(
        &rows,
        &[false, false, false, false, true, true, true, true],
    ));
    let unmapped: Vec<_> = kb
        .sources
        .iter()
        .flat_map(|s| s.unmapped.iter().map(move |u| (s.file.as_str(), u)))
        .collect();
    if !unmapped.is_empty() {
        out.push_str("\n未映射的行 / unmapped rows:\n");
        let mut t = vec![vec![
            "文件".to_string(),
            "工作表".into(),
            "行".into(),
            "原因 reason".into(),
        ]];
        for (f, u) in unmapped {
            t.push(vec![
                f.to_string(),
                u.sheet.clone(),
                u.row.to_string(),
                u.reason.clone(),
            ]);
        }
        out.push_str(&table(&t, &[false, false, true, false]));
    }
    let notes: Vec<_> = kb
        .sources
        .iter()
        .flat_map(|s| s.notes.iter().map(move |n| (s.file.as_str(), n)))
        .collect();
    if !notes.is_empty() {
        out.push_str("\n提示 / notes:\n");
        for (f, n) in notes {
            out.push_str(&format!("  {f}: {n}\n"));
        }
    }
    out
}

/// Display width: CJK and full-width characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
                || (0x201C..=0x201D).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(width(c)));
            let last = i + 1 == r.len();
            if right.get(i).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(c);
            } else {
                line.push_str(c);
                if !last {
                    line.push_str(&pad);
                }
            }
            if !last {
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn run_list(data: &Path) -> anyhow::Result<()> {
    let versions = store::list(data)?;
    if versions.is_empty() {
        println!("尚未导入知识库 / no knowledge base imported yet: run `medfund kb import --dir kb/nhsa`");
        return Ok(());
    }
    let mut t = vec![vec![
        "".to_string(),
        "版本 version".into(),
        "导入时间".into(),
        "文件数".into(),
        "知识点".into(),
        "批次".into(),
    ]];
    for v in versions {
        let batches: Vec<&str> = v.sources.iter().map(|s| s.batch.as_str()).collect();
        let mut b = batches.clone();
        b.dedup();
        t.push(vec![
            if v.current { "*".into() } else { String::new() },
            v.version,
            v.imported_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            v.sources.len().to_string(),
            v.points.to_string(),
            b.join(","),
        ]);
    }
    print!("{}", table(&t, &[false, false, false, true, true, false]));
    println!("（* 为当前版本 / current）");
    Ok(())
}

fn run_show(data: &Path, code: &str) -> anyhow::Result<()> {
    let Some(kb) = store::try_load_current(data)? else {
        anyhow::bail!(
            "尚未导入知识库 / no knowledge base imported: run `medfund kb import --dir kb/nhsa`"
        );
    };
    let pts: Vec<_> = kb.points_of(code).collect();
    if pts.is_empty() {
        println!(
            "{code}: 当前知识库（{}）中没有该编码的知识点 / no knowledge points",
            kb.version
        );
        return Ok(());
    }
    for p in pts {
        println!(
            "{}  {}  {}  [{}]",
            p.med_list_codg,
            p.name,
            p.limit.describe(),
            p.id
        );
        if !p.note.is_empty() {
            println!("    {}", p.note);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_table_columns_line_up() {
        let src = |file: &str, unmapped: usize| crate::SourceInfo {
            file: file.into(),
            batch: "b8-1".into(),
            title: "医疗服务项目限定频次".into(),
            templates: vec!["frequency_per_day".into()],
            rows: 69,
            codes: 67,
            points: 67,
            unmapped: (0..unmapped)
                .map(|i| crate::Unmapped {
                    sheet: "S".into(),
                    row: 69 + i as u32,
                    reason: "合计行".into(),
                })
                .collect(),
            ..Default::default()
        };
        let kb = KnowledgeBase {
            version: "kb-x".into(),
            sources: vec![src("a.xlsx", 2), src("bbbbbbbb.xlsx", 0)],
            ..Default::default()
        };
        let text = report(&kb);
        let lines: Vec<&str> = text.lines().skip(1).take(4).collect();
        // The last column is right-aligned: every line of the table ends at the same column.
        let w: Vec<usize> = lines.iter().map(|l| width(l)).collect();
        assert!(w.iter().all(|x| *x == w[0]), "{text}");
        assert!(
            lines[1].ends_with(" 2") && lines[3].ends_with(" 2"),
            "{text}"
        );
        assert!(text.contains("a.xlsx  S") && text.contains("合计行"));
    }

    #[test]
    fn widths_and_tables_align_cjk() {
        assert_eq!(width("ab"), 2);
        assert_eq!(width("限定"), 4);
        let t = table(
            &[
                vec!["文件".into(), "1".into()],
                vec!["abcd".into(), "10".into()],
            ],
            &[false, true],
        );
        assert_eq!(t, "文件   1\nabcd  10\n");
    }
}
