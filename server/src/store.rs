//! The embedded SQLite store (`<home>/pinokiocloud.db`), migrated at start.

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::path::Path;

pub const DB_FILE: &str = "pinokiocloud.db";

/// Unix seconds, as every table stores its times.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (or creates) the database and applies pending migrations. An
    /// existing file that is not a PinokioCloud database is reported, never
    /// replaced: it may hold the user's only copy of their data.
    pub async fn open(home: &Path) -> anyhow::Result<Store> {
        let path = home.join(DB_FILE);
        let existed = path.exists();
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| unusable(&path, existed, &e.to_string()))?;
        sqlx::migrate!("../migrations")
            .run(&pool)
            .await
            .map_err(|e| unusable(&path, existed, &e.to_string()))?;
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Records when this home was first served; returns that time (RFC 3339).
    pub async fn first_started_at(&self) -> anyhow::Result<String> {
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES ('first_started_at', strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
            .execute(&self.pool)
            .await
            .context("recording first start")?;
        let value: (String,) =
            sqlx::query_as("SELECT value FROM settings WHERE key = 'first_started_at'")
                .fetch_one(&self.pool)
                .await
                .context("reading first start")?;
        Ok(value.0)
    }
}

fn unusable(path: &Path, existed: bool, cause: &str) -> anyhow::Error {
    if existed {
        anyhow::anyhow!(
            "the database {} cannot be used: {cause}. It was left untouched. \
             Restore it from a backup, or move it aside to start with an empty one, \
             or pass --home DIR to use another home",
            path.display()
        )
    } else {
        anyhow::anyhow!("cannot create the database {}: {cause}", path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrations_apply_on_a_fresh_database_and_are_idempotent() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).await.unwrap();
        let first = store.first_started_at().await.unwrap();
        drop(store);
        let again = Store::open(home.path()).await.unwrap();
        assert_eq!(again.first_started_at().await.unwrap(), first);
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'settings'",
        )
        .fetch_all(&again.pool)
        .await
        .unwrap();
        assert_eq!(tables.len(), 1);
    }

    #[tokio::test]
    async fn a_corrupt_database_is_reported_and_left_untouched() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(DB_FILE);
        let garbage = b"this is not sqlite, it is somebody's data".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let err = match Store::open(home.path()).await {
            Ok(_) => panic!("a corrupt file must not open"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("left untouched"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }
}
