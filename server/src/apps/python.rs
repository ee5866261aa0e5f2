//! The Python settings of a home: acceleration (uv underneath venv and pip)
//! globally and per app, and reuse of the platform's torch. They live in
//! SQLite and are pushed into the engine at start and on every change, so
//! runs started afterwards (autostarted ones included) follow them.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::error::Result;
use super::{check_name, Apps, Shared};
use crate::cloud::env::SystemEnv;
use crate::cloud::platform::{self, PlatformId};

const ACCELERATION: &str = "python.acceleration";
const REUSE_TORCH: &str = "python.reuse_platform_torch";

/// Home-wide Python settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonSettings {
    /// venvs made by `uv venv`, `pip install` forwarded to `uv pip`.
    pub acceleration: bool,
    /// New venvs get the platform Python's torch hardlinked in.
    pub reuse_platform_torch: bool,
}

impl PythonSettings {
    /// Acceleration on; torch reuse on where the image ships torch (Colab).
    fn defaults() -> Self {
        let colab = platform::detect(&SystemEnv).id() == PlatformId::Colab;
        PythonSettings {
            acceleration: true,
            reuse_platform_torch: colab,
        }
    }
}

impl Apps {
    pub async fn python_settings(&self) -> Result<PythonSettings> {
        load(self.shared()).await
    }

    pub async fn set_python_settings(&self, settings: PythonSettings) -> Result<()> {
        let pool = self.shared().store.pool();
        for (key, on) in [
            (ACCELERATION, settings.acceleration),
            (REUSE_TORCH, settings.reuse_platform_torch),
        ] {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(if on { "on" } else { "off" })
                .execute(pool)
                .await?;
        }
        apply_global(self.shared(), settings);
        Ok(())
    }

    /// `None`: the app follows the global setting.
    pub async fn set_app_acceleration(&self, app: &str, on: Option<bool>) -> Result<()> {
        self.shared().existing_app(app)?;
        let store = &self.shared().store;
        store.ensure_app(app).await?;
        sqlx::query("UPDATE apps SET python_acceleration = ? WHERE name = ?")
            .bind(on.map(i64::from))
            .bind(app)
            .execute(store.pool())
            .await?;
        self.shared().engine.set_app_acceleration(app, on);
        Ok(())
    }

    /// The app's own acceleration choice (`None`: follows the global one).
    pub async fn app_acceleration(&self, app: &str) -> Result<Option<bool>> {
        check_name(app)?;
        let row = sqlx::query("SELECT python_acceleration FROM apps WHERE name = ?")
            .bind(app)
            .fetch_optional(self.shared().store.pool())
            .await?;
        Ok(row.and_then(|r| r.get::<Option<i64>, _>(0)).map(|v| v != 0))
    }
}

/// Pushes everything saved into the engine (at start, before autostart).
pub(crate) async fn apply_saved(s: &Shared) -> Result<()> {
    apply_global(s, load(s).await?);
    let rows = sqlx::query(
        "SELECT name, python_acceleration FROM apps WHERE python_acceleration IS NOT NULL",
    )
    .fetch_all(s.store.pool())
    .await?;
    for r in rows {
        let name: String = r.get(0);
        s.engine
            .set_app_acceleration(&name, Some(r.get::<i64, _>(1) != 0));
    }
    Ok(())
}

/// Moves an app's override to its new name (after a rename).
pub(crate) fn rename(s: &Shared, from: &str, to: &str) {
    let moved = s.engine.app_acceleration_override(from);
    s.engine.set_app_acceleration(from, None);
    s.engine.set_app_acceleration(to, moved);
}

fn apply_global(s: &Shared, settings: PythonSettings) {
    s.engine.set_acceleration(settings.acceleration);
    s.engine
        .set_reuse_platform_torch(settings.reuse_platform_torch);
}

async fn load(s: &Shared) -> Result<PythonSettings> {
    let defaults = PythonSettings::defaults();
    let rows = sqlx::query("SELECT key, value FROM settings WHERE key IN (?, ?)")
        .bind(ACCELERATION)
        .bind(REUSE_TORCH)
        .fetch_all(s.store.pool())
        .await?;
    let get = |key: &str, default: bool| {
        rows.iter()
            .find(|r| r.get::<String, _>(0) == key)
            .map_or(default, |r| r.get::<String, _>(1) == "on")
    };
    Ok(PythonSettings {
        acceleration: get(ACCELERATION, defaults.acceleration),
        reuse_platform_torch: get(REUSE_TORCH, defaults.reuse_platform_torch),
    })
}
