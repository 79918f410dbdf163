//! The audit log: append-only and hash-chained. Each entry carries the hash of the previous one;
//! its own hash is SHA-256 over the previous hash and its canonical fields. A separate head row
//! remembers the last sequence number and hash, so deleting entries at the end is detected too.
//!
//! Every mutating workflow call appends exactly one entry inside its own transaction
//! ([`crate::Workflow`] does it for each operation), so the log and the data cannot disagree.

use crate::auth::{Actor, Perm};
use crate::error::{Result, WfError};
use crate::util::{dt, parse_dt, Page, Paged, Where};
use crate::Workflow;
use chrono::NaiveDateTime;
use medfund_db::{Backend, Db, Row};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit-log entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When (local time).
    pub at: NaiveDateTime,
    /// Who (username; `public` for anonymous complaint intake).
    pub actor: String,
    /// From where (client address or `cli`).
    pub ip: String,
    /// What, e.g. `review.second`, `sanction.approve`.
    pub action: String,
    /// Which kind of record.
    pub entity: String,
    /// Which record.
    pub entity_id: String,
    /// The change's facts (canonical JSON text: keys sorted).
    pub detail_json: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// SHA-256 of this entry (hex).
    pub hash: String,
}

/// The hash of an entry from its fields.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    ip: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail_json: &str,
) -> String {
    let mut h = Sha256::new();
    for (i, part) in [
        prev_hash,
        &seq.to_string(),
        at,
        actor,
        ip,
        action,
        entity,
        entity_id,
        detail_json,
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            h.update([0x1f]);
        }
        h.update(part.as_bytes());
    }
    crate::util::hex(&h.finalize())
}

/// Appends one entry (inside the caller's transaction). Returns its sequence number.
pub(crate) fn append(
    db: &mut Db,
    at: NaiveDateTime,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<i64> {
    if db.backend() == Backend::Postgres {
        // Concurrent writers must not both read the same head: serialize appends.
        db.batch("LOCK TABLE audit_head IN EXCLUSIVE MODE")?;
    }
    let head = db.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    let (prev_seq, prev_hash) = match head {
        Some(r) => (r.int(0), r.text(1)),
        None => (0, GENESIS.to_string()),
    };
    let seq = prev_seq + 1;
    let at = dt(at);
    // serde_json's map is ordered by key, so this text is canonical for a given value.
    let detail_json = serde_json::to_string(detail).unwrap_or_else(|_| "{}".into());
    let hash = entry_hash(
        &prev_hash,
        seq,
        &at,
        &actor.username,
        &actor.ip,
        action,
        entity,
        entity_id,
        &detail_json,
    );
    db.execute(
        "INSERT INTO audit_log (seq, at, actor, ip, action, entity, entity_id, detail_json, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            seq.into(),
            at.into(),
            actor.username.as_str().into(),
            actor.ip.as_str().into(),
            action.into(),
            entity.into(),
            entity_id.into(),
            detail_json.into(),
            prev_hash.into(),
            hash.as_str().into(),
        ],
    )?;
    let n = db.execute(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[seq.into(), hash.as_str().into()],
    )?;
    if n == 0 {
        db.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)",
            &[seq.into(), hash.into()],
        )?;
    }
    Ok(seq)
}

fn entry_of(r: &Row) -> AuditEntry {
    AuditEntry {
        seq: r.int_of("seq"),
        at: parse_dt(&r.text_of("at")),
        actor: r.text_of("actor"),
        ip: r.text_of("ip"),
        action: r.text_of("action"),
        entity: r.text_of("entity"),
        entity_id: r.text_of("entity_id"),
        detail_json: r.text_of("detail_json"),
        prev_hash: r.text_of("prev_hash"),
        hash: r.text_of("hash"),
    }
}

/// What a successful verification saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    /// Entries checked.
    pub entries: i64,
    /// Hash of the last entry (the chain's fingerprint; keep it elsewhere to detect a rewrite of
    /// the whole log).
    pub head_hash: String,
}

/// Checks the whole chain: sequence without gaps, each `prev_hash` equal to the previous entry's
/// hash, each hash recomputed from the fields, and the head row matching the last entry.
/// Returns [`WfError::Tampered`] naming the first entry that fails.
pub fn verify(db: &mut Db) -> Result<Verified> {
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_string();
    let mut last = 0i64;
    // Read in chunks so a long log does not have to fit in memory at once.
    loop {
        let rows = db.query(
            "SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000",
            &[expected_seq.into()],
        )?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let e = entry_of(r);
            if e.seq != expected_seq {
                return Err(WfError::Tampered {
                    seq: expected_seq,
                    reason: format!(
                        "第 {expected_seq} 条缺失（被删除），下一条为第 {} 条 / entry {expected_seq} is missing (deleted); the next entry is {}",
                        e.seq, e.seq
                    ),
                });
            }
            if e.prev_hash != prev_hash {
                return Err(WfError::Tampered {
                    seq: e.seq,
                    reason: format!(
                        "第 {} 条记录的前序哈希与第 {} 条不符（前一条被改动、删除或调换） / prev_hash does not match entry {}",
                        e.seq,
                        e.seq - 1,
                        e.seq - 1
                    ),
                });
            }
            let h = entry_hash(
                &e.prev_hash,
                e.seq,
                &dt(e.at),
                &e.actor,
                &e.ip,
                &e.action,
                &e.entity,
                &e.entity_id,
                &e.detail_json,
            );
            // Compare with the stored text of `at` too: a reformatted timestamp is a change.
            let stored_at = r.text_of("at");
            let h_stored = entry_hash(
                &e.prev_hash,
                e.seq,
                &stored_at,
                &e.actor,
                &e.ip,
                &e.action,
                &e.entity,
                &e.entity_id,
                &e.detail_json,
            );
            if h != e.hash || h_stored != e.hash {
                return Err(WfError::Tampered {
                    seq: e.seq,
                    reason: format!(
                        "第 {} 条（{} {} {}#{}）内容与哈希不符：记录被修改 / entry {} was modified (hash mismatch)",
                        e.seq, e.actor, e.action, e.entity, e.entity_id, e.seq
                    ),
                });
            }
            prev_hash = e.hash;
            last = e.seq;
            expected_seq += 1;
        }
    }
    let head = db.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    match head {
        None if last == 0 => {}
        None => {
            return Err(WfError::Tampered {
                seq: last,
                reason: "日志头记录缺失 / the head record is missing".into(),
            });
        }
        Some(h) => {
            let (hs, hh) = (h.int(0), h.text(1));
            if hs > last {
                return Err(WfError::Tampered {
                    seq: last + 1,
                    reason: format!("第 {} 至 {hs} 条被删除（日志头记录到第 {hs} 条） / entries {}..{hs} were deleted from the end", last + 1, last + 1),
                });
            }
            if hs != last || hh != prev_hash {
                return Err(WfError::Tampered {
                    seq: last,
                    reason: "日志头与最后一条不符 / the head record does not match the last entry"
                        .into(),
                });
            }
        }
    }
    Ok(Verified {
        entries: last,
        head_hash: prev_hash,
    })
}

/// Filter of [`Workflow::audit_entries`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this entity kind (`review`, `case`, `sanction`, …).
    pub entity: Option<String>,
    /// Only this record.
    pub entity_id: Option<String>,
    /// Actions starting with this prefix.
    pub action_prefix: Option<String>,
}

impl Workflow<'_> {
    /// Reads the audit log, newest first (leaders, director, administrator).
    pub fn audit_entries(
        &mut self,
        actor: &Actor,
        f: &AuditFilter,
        page: Page,
    ) -> Result<Paged<AuditEntry>> {
        actor.require(Perm::AuditLogRead)?;
        let mut w = Where::default();
        if let Some(a) = &f.actor {
            w.add("actor = ?", a.as_str());
        }
        if let Some(e) = &f.entity {
            w.add("entity = ?", e.as_str());
        }
        if let Some(e) = &f.entity_id {
            w.add("entity_id = ?", e.as_str());
        }
        if let Some(p) = &f.action_prefix {
            w.add("action LIKE ?", format!("{p}%"));
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM audit_log{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let rows = self.db.query(
            &format!(
                "SELECT * FROM audit_log{} ORDER BY seq DESC{}",
                w.sql(),
                page.sql()
            ),
            &w.params,
        )?;
        Ok(Paged {
            total,
            items: rows.iter().map(entry_of).collect(),
        })
    }

    /// The history of one record from the audit log, oldest first (anyone who can see the record
    /// sees its history through the record's own API; this raw view is for log readers).
    pub fn audit_trail(
        &mut self,
        actor: &Actor,
        entity: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditEntry>> {
        actor.require(Perm::AuditLogRead)?;
        let rows = self.db.query(
            "SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq",
            &[entity.into(), entity_id.into()],
        )?;
        Ok(rows.iter().map(entry_of).collect())
    }
}
