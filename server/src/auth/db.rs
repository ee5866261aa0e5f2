//! Auth tables: login tokens (admin + share links) and sessions.

use super::SESSION_DAYS;
use crate::store::now;
use anyhow::Context;
use app::auth::{Role, Viewer};
use sqlx::SqlitePool;

/// What a valid token grants a new session.
pub struct Grant {
    pub token_id: Option<i64>,
    pub role: Role,
    pub label: String,
    pub expires_at: Option<i64>,
}

/// A share link as Settings lists it (never the token itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareLinkRow {
    pub id: i64,
    pub role: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    role: String,
    label: String,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
}

#[derive(Clone)]
pub struct AuthDb {
    pool: SqlitePool,
}

impl AuthDb {
    pub fn new(pool: SqlitePool) -> AuthDb {
        AuthDb { pool }
    }

    /// Revokes earlier admin login tokens and stores the new one's hash.
    pub async fn replace_admin_token(&self, hash: &str) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await.context("opening a transaction")?;
        sqlx::query(
            "UPDATE auth_tokens SET revoked_at = ? WHERE kind = 'admin' AND revoked_at IS NULL",
        )
        .bind(now())
        .execute(&mut *tx)
        .await
        .context("revoking the old admin token")?;
        sqlx::query("INSERT INTO auth_tokens (kind, role, label, token_hash, created_at) VALUES ('admin', 'admin', 'admin', ?, ?) ON CONFLICT(token_hash) DO UPDATE SET revoked_at = NULL")
            .bind(hash)
            .bind(now())
            .execute(&mut *tx)
            .await
            .context("storing the admin token")?;
        tx.commit().await.context("saving the admin token")
    }

    pub async fn insert_share_token(
        &self,
        role: Role,
        label: &str,
        hash: &str,
        expires_at: Option<i64>,
    ) -> anyhow::Result<i64> {
        let row: (i64,) = sqlx::query_as(
            "INSERT INTO auth_tokens (kind, role, label, token_hash, created_at, expires_at) VALUES ('share', ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(role.as_str())
        .bind(label)
        .bind(hash)
        .bind(now())
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await
        .context("storing the share link")?;
        Ok(row.0)
    }

    /// Validates a token by hash and stamps its last use (at most once a
    /// minute: scripts sending a bearer token on every request must not turn
    /// each read into a database write).
    pub async fn use_token(&self, hash: &str) -> anyhow::Result<Option<Grant>> {
        let now = now();
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, role, label, expires_at, last_used_at FROM auth_tokens
             WHERE token_hash = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
               AND app IS NULL",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .context("checking a login token")?;
        let Some(TokenRow {
            id,
            role,
            label,
            expires_at,
            last_used_at,
        }) = row
        else {
            return Ok(None);
        };
        if last_used_at.is_none_or(|t| now - t > 60) {
            sqlx::query("UPDATE auth_tokens SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await
                .context("stamping a login token")?;
        }
        Ok(Role::parse(&role).map(|role| Grant {
            token_id: Some(id),
            role,
            label,
            expires_at,
        }))
    }

    pub async fn create_session(&self, id_hash: &str, grant: &Grant) -> anyhow::Result<()> {
        let now = now();
        let max = now + SESSION_DAYS * 86_400;
        let expires = grant.expires_at.map_or(max, |e| e.min(max));
        sqlx::query("INSERT INTO sessions (id_hash, role, label, token_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(id_hash)
            .bind(grant.role.as_str())
            .bind(&grant.label)
            .bind(grant.token_id)
            .bind(now)
            .bind(expires)
            .bind(now)
            .execute(&self.pool)
            .await
            .context("storing a session")?;
        Ok(())
    }

    /// The viewer of an unexpired session whose share link is still valid.
    pub async fn session(&self, id_hash: &str) -> anyhow::Result<Option<Viewer>> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT s.role, s.label, s.last_seen_at FROM sessions s
             LEFT JOIN auth_tokens t ON t.id = s.token_id
             WHERE s.id_hash = ?1 AND s.expires_at > ?2
               AND (s.token_id IS NULL OR t.kind = 'admin' OR t.revoked_at IS NULL)",
        )
        .bind(id_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .context("looking up a session")?;
        let Some((role, label, last_seen)) = row else {
            return Ok(None);
        };
        // Stamp activity at most once a minute: keeps reads cheap.
        if now() - last_seen > 60 {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
                .bind(now())
                .bind(id_hash)
                .execute(&self.pool)
                .await
                .context("updating a session")?;
        }
        Ok(Role::parse(&role).map(|role| Viewer { role, label }))
    }

    pub async fn delete_session(&self, id_hash: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .context("ending a session")?;
        Ok(())
    }

    pub async fn share_links(&self) -> anyhow::Result<Vec<ShareLinkRow>> {
        sqlx::query_as(
            "SELECT id, role, label, created_at, expires_at, revoked_at, last_used_at FROM auth_tokens WHERE kind = 'share' ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing share links")
    }

    /// Revokes a share link and ends every session opened with it.
    pub async fn revoke_share_link(&self, id: i64) -> anyhow::Result<bool> {
        let mut tx = self.pool.begin().await.context("opening a transaction")?;
        let done = sqlx::query("UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND kind = 'share' AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("revoking a share link")?
            .rows_affected()
            > 0;
        sqlx::query("DELETE FROM sessions WHERE token_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("ending the link's sessions")?;
        tx.commit().await.context("saving the revocation")?;
        Ok(done)
    }
}
