//! The apps' rows: installed apps, runs and people-facing events
//! (migration `0003_apps.sql`). Times are unix seconds.

use super::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Row, SqlitePool};

pub type RunId = i64;

/// Row timestamps: the one clock every table uses.
pub use crate::store::now;

/// An `apps` row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppRow {
    pub name: String,
    pub source_url: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub installed_at: i64,
    pub last_used_at: Option<i64>,
    pub autostart: bool,
}

/// A `runs` row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub id: RunId,
    pub app: String,
    /// Script path relative to the app folder.
    pub script: String,
    pub args: Value,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// `ok`, `error`, `stopped` or `interrupted` once ended.
    pub outcome: Option<String>,
    /// Why it ended: the error with its step and output tail, "stopped"...
    pub reason: Option<String>,
    pub log_path: String,
    pub pid: Option<i64>,
    pub pgid: Option<i64>,
}

/// An `app_events` row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppEventRecord {
    pub id: i64,
    pub app: String,
    pub run_id: Option<RunId>,
    /// `error`, `notify`, `open` or `warning`.
    pub kind: String,
    pub payload: Value,
    pub at: i64,
}

/// The process groups a run started, with each leader's start time (from
/// `/proc/<pid>/stat`) so a recycled pid is never mistaken for ours.
pub type Groups = Vec<(i32, u64)>;

#[derive(Clone)]
pub struct AppStore {
    pool: SqlitePool,
}

fn app_row(r: &sqlx::sqlite::SqliteRow) -> AppRow {
    AppRow {
        name: r.get("name"),
        source_url: r.get("source_url"),
        title: r.get("title"),
        description: r.get("description"),
        icon: r.get("icon"),
        installed_at: r.get("installed_at"),
        last_used_at: r.get("last_used_at"),
        autostart: r.get::<i64, _>("autostart") != 0,
    }
}

fn run_row(r: &sqlx::sqlite::SqliteRow) -> RunRecord {
    let args: String = r.get("args");
    RunRecord {
        id: r.get("id"),
        app: r.get("app"),
        script: r.get("script"),
        args: serde_json::from_str(&args).unwrap_or(Value::Null),
        started_at: r.get("started_at"),
        ended_at: r.get("ended_at"),
        outcome: r.get("outcome"),
        reason: r.get("reason"),
        log_path: r.get("log_path"),
        pid: r.get("pid"),
        pgid: r.get("pgid"),
    }
}

impl AppStore {
    pub fn new(pool: SqlitePool) -> Self {
        AppStore { pool }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn upsert_app(&self, a: &AppRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO apps (name, source_url, title, description, icon, installed_at, last_used_at, autostart)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET source_url = excluded.source_url, title = excluded.title,
               description = excluded.description, icon = excluded.icon",
        )
        .bind(&a.name)
        .bind(&a.source_url)
        .bind(&a.title)
        .bind(&a.description)
        .bind(&a.icon)
        .bind(a.installed_at)
        .bind(a.last_used_at)
        .bind(a.autostart as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn apps(&self) -> Result<Vec<AppRow>> {
        let rows = sqlx::query("SELECT * FROM apps ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(app_row).collect())
    }

    pub async fn app(&self, name: &str) -> Result<Option<AppRow>> {
        let row = sqlx::query("SELECT * FROM apps WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(app_row))
    }

    /// Creates a row for a folder that was put in place by hand.
    pub async fn ensure_app(&self, name: &str) -> Result<()> {
        sqlx::query("INSERT OR IGNORE INTO apps (name, installed_at) VALUES (?, ?)")
            .bind(name)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_autostart(&self, name: &str, on: bool) -> Result<()> {
        self.ensure_app(name).await?;
        sqlx::query("UPDATE apps SET autostart = ? WHERE name = ?")
            .bind(on as i64)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn touch_app(&self, name: &str) -> Result<()> {
        self.ensure_app(name).await?;
        sqlx::query("UPDATE apps SET last_used_at = ? WHERE name = ?")
            .bind(now())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes the app's rows (app, runs, events).
    pub async fn delete_app(&self, name: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["apps WHERE name", "runs WHERE app", "app_events WHERE app"] {
            sqlx::query(&format!("DELETE FROM {table} = ?"))
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn rename_app(&self, from: &str, to: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (table, col) in [("apps", "name"), ("runs", "app"), ("app_events", "app")] {
            sqlx::query(&format!("UPDATE {table} SET {col} = ? WHERE {col} = ?"))
                .bind(to)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        // Log paths move with the folder of logs.
        sqlx::query("UPDATE runs SET log_path = replace(log_path, ?, ?) WHERE app = ?")
            .bind(format!("/logs/{from}/"))
            .bind(format!("/logs/{to}/"))
            .bind(to)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts a run and sets its log path (`<logs>/<id>.log`); returns the id.
    pub async fn insert_run(
        &self,
        app: &str,
        script: &str,
        args: &Value,
        logs_dir: &std::path::Path,
    ) -> Result<(RunId, String)> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO runs (app, script, args, started_at, log_path) VALUES (?, ?, ?, ?, '') RETURNING id",
        )
        .bind(app)
        .bind(script)
        .bind(args.to_string())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let log_path = logs_dir.join(format!("{id}.log")).display().to_string();
        sqlx::query("UPDATE runs SET log_path = ? WHERE id = ?")
            .bind(&log_path)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((id, log_path))
    }

    pub async fn delete_run(&self, id: RunId) -> Result<()> {
        sqlx::query("DELETE FROM runs WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the run's process groups (first one as pid/pgid).
    pub async fn set_groups(&self, id: RunId, groups: &Groups) -> Result<()> {
        let first = groups.first().map(|g| g.0 as i64);
        sqlx::query("UPDATE runs SET pid = ?, pgid = ?, groups = ? WHERE id = ?")
            .bind(first)
            .bind(first)
            .bind(serde_json::to_string(groups).unwrap_or_else(|_| "[]".into()))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn groups(&self, id: RunId) -> Result<Groups> {
        let text: String = sqlx::query("SELECT groups FROM runs WHERE id = ?")
            .bind(id)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }

    /// Marks a run ended, unless something already did (first reason wins).
    pub async fn end_run(&self, id: RunId, outcome: &str, reason: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE runs SET ended_at = ?, outcome = ?, reason = ? WHERE id = ? AND ended_at IS NULL",
        )
        .bind(now())
        .bind(outcome)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn run(&self, id: RunId) -> Result<Option<RunRecord>> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(run_row))
    }

    /// Newest first.
    pub async fn runs_of(&self, app: &str) -> Result<Vec<RunRecord>> {
        let rows = sqlx::query("SELECT * FROM runs WHERE app = ? ORDER BY id DESC")
            .bind(app)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(run_row).collect())
    }

    /// Runs without an end (running now, or left over by a crash).
    pub async fn open_runs(&self) -> Result<Vec<RunRecord>> {
        let rows = sqlx::query("SELECT * FROM runs WHERE ended_at IS NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(run_row).collect())
    }

    pub async fn add_event(
        &self,
        app: &str,
        run_id: Option<RunId>,
        kind: &str,
        payload: &Value,
    ) -> Result<i64> {
        let id: i64 = sqlx::query(
            "INSERT INTO app_events (app, run_id, kind, payload, at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(app)
        .bind(run_id)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now())
        .fetch_one(&self.pool)
        .await?
        .get(0);
        Ok(id)
    }

    /// Newest first, at most `limit`.
    pub async fn events_of(&self, app: &str, limit: i64) -> Result<Vec<AppEventRecord>> {
        let rows = sqlx::query("SELECT * FROM app_events WHERE app = ? ORDER BY id DESC LIMIT ?")
            .bind(app)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let payload: String = r.get("payload");
                AppEventRecord {
                    id: r.get("id"),
                    app: r.get("app"),
                    run_id: r.get("run_id"),
                    kind: r.get("kind"),
                    payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                    at: r.get("at"),
                }
            })
            .collect())
    }
}
