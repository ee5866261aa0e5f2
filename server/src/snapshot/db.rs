//! The SQLite database in a snapshot. Copying `pinokiocloud.db` as a file
//! while a dashboard writes to it (WAL mode: recent writes live in `-wal`)
//! can give a torn or stale copy, so the snapshot uses `VACUUM INTO`: one
//! consistent, compacted copy, taken through SQLite while others may write.
//! The snapshot's copy is a single file with no `-wal`, so restoring it is
//! a plain copy, done while the home lock is held (no dashboard runs).

use super::mirror::{copy_file, same_file};
use crate::store::DB_FILE;
use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

/// Where the database sits in a snapshot (beside `home/`, not in it, so the
/// mirror of the home never deletes it).
pub const SNAPSHOT_DB: &str = DB_FILE;

/// The database and its companions (`-wal`, `-shm`, copies moved aside):
/// never mirrored as files.
pub fn is_db_file(name: &str) -> bool {
    name.starts_with(DB_FILE)
}

/// Writes a consistent copy of `<home>/pinokiocloud.db` to `target`;
/// returns its size, or `None` when the home has no database yet.
pub async fn copy_out(home: &Path, target: &Path) -> anyhow::Result<Option<u64>> {
    let db = home.join(DB_FILE);
    if !db.exists() {
        return Ok(None);
    }
    let tmp = target.with_extension("db.partial");
    let _ = std::fs::remove_file(&tmp);
    let mut conn = SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(false)
        .connect()
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(tmp.display().to_string())
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} to {}", db.display(), tmp.display()))?;
    let _ = conn.close().await;
    std::fs::rename(&tmp, target)
        .with_context(|| format!("renaming {} to {}", tmp.display(), target.display()))?;
    let size = std::fs::metadata(target)
        .with_context(|| format!("reading {}", target.display()))?
        .len();
    Ok(Some(size))
}

/// Puts the snapshot's database into the home; returns what happened. A
/// different database already there is moved aside to
/// `pinokiocloud.db.before-restore-<time>` (with its `-wal`/`-shm`, which
/// would otherwise be replayed onto the restored file and corrupt it).
pub fn copy_in(snapshot_db: &Path, home: &Path) -> anyhow::Result<String> {
    let live = home.join(DB_FILE);
    let meta = std::fs::metadata(snapshot_db)
        .with_context(|| format!("reading {}", snapshot_db.display()))?;
    let mut what = "restored".to_string();
    if let Ok(existing) = live.symlink_metadata() {
        if same_file(&meta, &existing) {
            return Ok("unchanged".into());
        }
        let stamp = super::manifest::now_ms() / 1000;
        let aside = format!("{DB_FILE}.before-restore-{stamp}");
        for suffix in ["", "-wal", "-shm"] {
            let from = home.join(format!("{DB_FILE}{suffix}"));
            let to = home.join(format!("{aside}{suffix}"));
            if from.exists() {
                std::fs::rename(&from, &to).with_context(|| {
                    format!("moving {} aside to {}", from.display(), to.display())
                })?;
            }
        }
        what = format!("restored; the home's previous database was moved to {aside}");
    }
    copy_file(snapshot_db, &live, &meta)?;
    Ok(what)
}
