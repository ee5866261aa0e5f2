//! The tables behind per-app sign-in: one-time handoff codes, sessions on
//! app origins, and share links limited to one app. Only SHA-256 hashes of
//! codes, session ids and tokens are stored.

use crate::auth::secret;
use crate::auth::SESSION_DAYS;
use crate::store::now;
use anyhow::Context;
use app::auth::Role;
use sqlx::SqlitePool;

/// How long a handoff link works: long enough for a browser to follow a
/// redirect or a person to paste it, short enough that a leaked one is dead.
pub const HANDOFF_SECS: i64 = 60;

/// Who a handoff (and the session it opens) is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGrant {
    pub app: String,
    pub role: Role,
    pub label: String,
    /// The share link behind it (revoking the link ends the sessions).
    pub token_id: Option<i64>,
    /// The latest end of the session (a share link's own expiry).
    pub session_expires_at: Option<i64>,
    /// The dashboard session (its id hash) Open was used from: the app
    /// session ends when it does (sign-out included).
    pub parent_session: Option<String>,
}

/// app, role, label, token_id, session_expires_at, parent_session.
type HandoffRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

#[derive(Clone)]
pub struct OriginDb {
    pool: SqlitePool,
}

impl OriginDb {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// A new one-time code for `grant`, valid [`HANDOFF_SECS`]; returns the
    /// clear code (it only ever travels in the handoff URL).
    pub async fn mint_handoff(&self, grant: &AppGrant) -> anyhow::Result<String> {
        self.mint_handoff_at(grant, now()).await
    }

    pub async fn mint_handoff_at(&self, grant: &AppGrant, at: i64) -> anyhow::Result<String> {
        let code = secret::new_secret();
        sqlx::query(
            "INSERT INTO app_handoffs (code_hash, app, role, label, token_id, session_expires_at, parent_session, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(secret::hash(&code))
        .bind(&grant.app)
        .bind(grant.role.as_str())
        .bind(&grant.label)
        .bind(grant.token_id)
        .bind(grant.session_expires_at)
        .bind(&grant.parent_session)
        .bind(at)
        .bind(at + HANDOFF_SECS)
        .execute(&self.pool)
        .await
        .with_context(|| format!("storing a handoff code for app {}", grant.app))?;
        Ok(code)
    }

    /// Spends `code` for `app`: the grant, once, before it expires. A code
    /// for another app, a used or an expired code give `None`. One UPDATE,
    /// so two requests racing with the same code cannot both win.
    pub async fn take_handoff(&self, app: &str, code: &str) -> anyhow::Result<Option<AppGrant>> {
        self.take_handoff_at(app, code, now()).await
    }

    pub async fn take_handoff_at(
        &self,
        app: &str,
        code: &str,
        at: i64,
    ) -> anyhow::Result<Option<AppGrant>> {
        let row: Option<HandoffRow> = sqlx::query_as(
            "UPDATE app_handoffs SET used_at = ?3
             WHERE code_hash = ?1 AND app = ?2 AND used_at IS NULL AND expires_at > ?3
             RETURNING app, role, label, token_id, session_expires_at, parent_session",
        )
        .bind(secret::hash(code))
        .bind(app)
        .bind(at)
        .fetch_optional(&self.pool)
        .await
        .with_context(|| format!("checking a handoff code for app {app}"))?;
        // Spent and expired codes are of no further use: drop them.
        sqlx::query("DELETE FROM app_handoffs WHERE expires_at <= ?")
            .bind(at - HANDOFF_SECS)
            .execute(&self.pool)
            .await
            .context("clearing old handoff codes")?;
        Ok(row.and_then(
            |(app, role, label, token_id, session_expires_at, parent_session)| {
                Some(AppGrant {
                    app,
                    role: Role::parse(&role)?,
                    label,
                    token_id,
                    session_expires_at,
                    parent_session,
                })
            },
        ))
    }

    /// A new session on the app's origin; returns the clear id (cookie value).
    pub async fn create_session(&self, grant: &AppGrant) -> anyhow::Result<(String, i64)> {
        let id = secret::new_secret();
        let now = now();
        let max = now + SESSION_DAYS * 86_400;
        let expires = grant.session_expires_at.map_or(max, |e| e.min(max));
        sqlx::query(
            "INSERT INTO app_sessions (id_hash, app, role, label, token_id, parent_session, created_at, expires_at, last_seen_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(secret::hash(&id))
        .bind(&grant.app)
        .bind(grant.role.as_str())
        .bind(&grant.label)
        .bind(grant.token_id)
        .bind(&grant.parent_session)
        .bind(now)
        .bind(expires)
        .bind(now)
        .execute(&self.pool)
        .await
        .with_context(|| format!("storing a session for app {}", grant.app))?;
        Ok((id, expires - now))
    }

    /// The role of a live session on `app`'s origin (its share link, if
    /// any, not revoked; the dashboard session it was opened from, if any,
    /// not signed out). A session of another app is no session here.
    pub async fn session_role(&self, app: &str, id: &str) -> anyhow::Result<Option<Role>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT s.role FROM app_sessions s
             LEFT JOIN auth_tokens t ON t.id = s.token_id
             WHERE s.id_hash = ?1 AND s.app = ?2 AND s.expires_at > ?3
               AND (s.token_id IS NULL OR t.kind = 'admin' OR t.revoked_at IS NULL)
               AND (s.parent_session IS NULL OR EXISTS (
                     SELECT 1 FROM sessions d WHERE d.id_hash = s.parent_session AND d.expires_at > ?3))",
        )
        .bind(secret::hash(id))
        .bind(app)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .with_context(|| format!("looking up a session for app {app}"))?;
        Ok(row.and_then(|(role,)| Role::parse(&role)))
    }

    /// The share link behind a dashboard session and when it ends, so that
    /// an app session opened from it ends no later.
    pub async fn session_limits(
        &self,
        dashboard_id_hash: &str,
    ) -> anyhow::Result<(Option<i64>, Option<i64>)> {
        let row: Option<(Option<i64>, i64)> =
            sqlx::query_as("SELECT token_id, expires_at FROM sessions WHERE id_hash = ?")
                .bind(dashboard_id_hash)
                .fetch_optional(&self.pool)
                .await
                .context("reading a dashboard session")?;
        Ok(row.map_or((None, None), |(token, expires)| (token, Some(expires))))
    }

    /// A share link that opens `app` only, with the operator role (using an
    /// app needs it); returns the clear token.
    pub async fn create_app_share(
        &self,
        app: &str,
        label: &str,
        expires_at: Option<i64>,
    ) -> anyhow::Result<String> {
        let token = secret::new_secret();
        sqlx::query(
            "INSERT INTO auth_tokens (kind, role, label, token_hash, created_at, expires_at, app)
             VALUES ('share', 'operator', ?, ?, ?, ?, ?)",
        )
        .bind(label)
        .bind(secret::hash(&token))
        .bind(now())
        .bind(expires_at)
        .bind(app)
        .execute(&self.pool)
        .await
        .with_context(|| format!("storing a share link for app {app}"))?;
        Ok(token)
    }

    /// The grant of an app-only share token, if `token` is one and valid.
    pub async fn app_share(&self, token: &str) -> anyhow::Result<Option<AppGrant>> {
        let row: Option<(i64, String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, app, role, label, expires_at FROM auth_tokens
             WHERE token_hash = ?1 AND app IS NOT NULL AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > ?2)",
        )
        .bind(secret::hash(token))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .context("checking a share link")?;
        Ok(row.and_then(|(id, app, role, label, expires_at)| {
            Some(AppGrant {
                app,
                role: Role::parse(&role)?,
                label,
                token_id: Some(id),
                session_expires_at: expires_at,
                parent_session: None,
            })
        }))
    }
}
