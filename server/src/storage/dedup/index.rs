//! The dedup index in SQLite: each large file's hash at the size, mtime and
//! inode it was hashed at, so the next pass reads only new or changed files.
//! Rows are written in batches while a pass hashes, so a pass killed midway
//! keeps what it hashed.

use super::{ChangedFile, Report, Trigger};
use crate::store::{now, Store};
use anyhow::Context;
use sqlx::Row as _;
use std::collections::HashMap;

/// One indexed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub dev: u64,
    pub inode: u64,
    pub hash: String,
    /// `hardlink` or `reflink` when dedup replaced this file by its twin.
    pub linked: Option<String>,
    pub twin: Option<String>,
}

/// The whole index, keyed by path. Read as one JSON value built by SQLite:
/// sqlx hands rows over one by one through a channel, which for a home of
/// 100,000 model files cost more than the rest of an unchanged pass.
pub async fn load(store: &Store) -> anyhow::Result<HashMap<String, Row>> {
    type Fields = (
        String,
        u64,
        i64,
        u64,
        u64,
        String,
        Option<String>,
        Option<String>,
    );
    let json: String = sqlx::query_scalar(
        "SELECT COALESCE(json_group_array(json_array( \
           path, size, mtime_ns, dev, inode, hash, linked, twin)), '[]') FROM dedup_files",
    )
    .fetch_one(store.pool())
    .await
    .context("reading the dedup index")?;
    let rows: Vec<Fields> = serde_json::from_str(&json).context("reading the dedup index")?;
    Ok(rows
        .into_iter()
        .map(|(path, size, mtime_ns, dev, inode, hash, linked, twin)| {
            let row = Row {
                path: path.clone(),
                size,
                mtime_ns,
                dev,
                inode,
                hash,
                linked,
                twin,
            };
            (path, row)
        })
        .collect())
}

/// Writes `rows` (insert or replace) and deletes `gone` in one transaction.
pub async fn write(store: &Store, rows: &[Row], gone: &[String]) -> anyhow::Result<()> {
    if rows.is_empty() && gone.is_empty() {
        return Ok(());
    }
    let mut tx = store
        .pool()
        .begin()
        .await
        .context("writing the dedup index")?;
    for row in rows {
        sqlx::query(
            "INSERT OR REPLACE INTO dedup_files \
             (path, size, mtime_ns, dev, inode, hash, seen_at, linked, twin) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.path)
        .bind(row.size as i64)
        .bind(row.mtime_ns)
        .bind(row.dev as i64)
        .bind(row.inode as i64)
        .bind(&row.hash)
        .bind(now())
        .bind(&row.linked)
        .bind(&row.twin)
        .execute(&mut *tx)
        .await
        .context("writing the dedup index")?;
    }
    for path in gone {
        sqlx::query("DELETE FROM dedup_files WHERE path = ?")
            .bind(path)
            .execute(&mut *tx)
            .await
            .context("writing the dedup index")?;
    }
    tx.commit().await.context("writing the dedup index")
}

/// Remembers files that changed in place after dedup linked them.
pub async fn record_changed(
    store: &Store,
    changed: &ChangedFile,
    expected: &str,
    found: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT OR REPLACE INTO dedup_changed (path, expected, found, twins, detected_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&changed.path)
    .bind(expected)
    .bind(found)
    .bind(serde_json::to_string(&changed.twins)?)
    .bind(changed.detected_at)
    .execute(store.pool())
    .await
    .context("recording a changed file")?;
    Ok(())
}

pub async fn changed(store: &Store) -> anyhow::Result<Vec<ChangedFile>> {
    let rows = sqlx::query(
        "SELECT path, twins, detected_at FROM dedup_changed ORDER BY detected_at DESC, path",
    )
    .fetch_all(store.pool())
    .await
    .context("reading changed files")?;
    Ok(rows
        .into_iter()
        .map(|r| ChangedFile {
            path: r.get(0),
            twins: serde_json::from_str(r.get::<&str, _>(1)).unwrap_or_default(),
            detected_at: r.get(2),
        })
        .collect())
}

/// Files and bytes dedup's links save now: a linked file whose twin still
/// holds the same content (and, for a hardlink, the same inode).
pub async fn saved(store: &Store) -> anyhow::Result<(u64, u64)> {
    let (files, bytes): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(d.size), 0) FROM dedup_files d \
         JOIN dedup_files k ON k.path = d.twin \
         WHERE d.linked IS NOT NULL AND k.hash = d.hash AND k.dev = d.dev \
           AND (d.linked = 'reflink' OR k.inode = d.inode)",
    )
    .fetch_one(store.pool())
    .await
    .context("reading the dedup index")?;
    Ok((files as u64, bytes as u64))
}

/// Identical files the index knows that still take space each.
pub async fn pending(store: &Store) -> anyhow::Result<(u64, u64)> {
    let (files, bytes): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(n - 1), 0), COALESCE(SUM((n - 1) * size), 0) FROM ( \
           SELECT COUNT(DISTINCT inode) AS n, MAX(size) AS size FROM dedup_files \
           WHERE linked IS NOT 'reflink' GROUP BY dev, hash)",
    )
    .fetch_one(store.pool())
    .await
    .context("reading the dedup index")?;
    Ok((files as u64, bytes as u64))
}

pub async fn pass_started(store: &Store, dry_run: bool, trigger: Trigger) -> anyhow::Result<i64> {
    let trigger = serde_json::to_value(trigger)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO dedup_passes (started_at, dry_run, trigger) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(now())
    .bind(dry_run)
    .bind(trigger.as_str().unwrap_or("cli"))
    .fetch_one(store.pool())
    .await
    .context("recording a dedup pass")?;
    Ok(id)
}

pub async fn pass_ended(
    store: &Store,
    id: i64,
    report: &Report,
    error: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE dedup_passes SET ended_at = ?, files_seen = ?, files_hashed = ?, \
         bytes_hashed = ?, files_linked = ?, bytes_saved = ?, outcome = ?, detail = ? \
         WHERE id = ?",
    )
    .bind(now())
    .bind(report.files_seen as i64)
    .bind(report.files_hashed as i64)
    .bind(report.bytes_hashed as i64)
    .bind(report.files_linked as i64)
    .bind(report.bytes_saved as i64)
    .bind(if error.is_some() { "failed" } else { "done" })
    .bind(error)
    .bind(id)
    .execute(store.pool())
    .await
    .context("recording a dedup pass")?;
    Ok(())
}

pub async fn last_pass_at(store: &Store) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(ended_at) FROM dedup_passes WHERE outcome = 'done'")
        .fetch_one(store.pool())
        .await
        .context("reading dedup passes")
}
