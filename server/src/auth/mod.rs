//! Authentication and authorisation: the one gate every request passes.
//!
//! A person signs in with a login link (`/?token=…`: the admin token printed at
//! start, or a collaborator's share link) or the optional password; either gives
//! an HttpOnly session cookie. [`policy`] decides which role each route needs;
//! [`gate`] enforces it, plus the same-origin check on mutating requests.

mod db;
pub mod gate;
mod limiter;
mod password;
pub mod policy;
pub mod routes;
pub(crate) mod secret;

pub use db::AuthDb;
pub use limiter::LoginLimiter;

use app::auth::{Role, Viewer};
use std::sync::Arc;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "pc_session";

/// How long a session lives without a shorter share-link expiry.
pub const SESSION_DAYS: i64 = 30;

/// Everything the gate and the auth routes need, cheap to clone.
#[derive(Clone)]
pub struct Auth {
    pub db: AuthDb,
    pub limiter: Arc<LoginLimiter>,
    /// Argon2 hash of the optional password; `None` disables password login.
    pub password_hash: Option<Arc<str>>,
}

/// A resolved session: who, and the id to revoke it with.
#[derive(Clone, Debug)]
pub struct Session {
    pub viewer: Viewer,
    pub id_hash: String,
}

impl Auth {
    /// Prepares auth for a start of the server: sets or clears the password and
    /// mints the admin login token (a fixed one when given, else a fresh random
    /// one, which invalidates the previous login link but not open sessions).
    pub async fn start(
        db: AuthDb,
        fixed_token: Option<&str>,
        password: Option<&str>,
    ) -> anyhow::Result<(Auth, String)> {
        let token = match fixed_token {
            Some(token) => {
                anyhow::ensure!(
                    token.len() >= 16,
                    "--token (PINOKIOCLOUD_TOKEN) must be at least 16 characters; use a long random value"
                );
                token.to_string()
            }
            None => secret::new_secret(),
        };
        db.replace_admin_token(&secret::hash(&token)).await?;
        let password_hash = match password {
            Some(pw) => Some(Arc::from(password::hash(pw)?.as_str())),
            None => None,
        };
        let auth = Auth {
            db,
            limiter: Arc::new(LoginLimiter::default()),
            password_hash,
        };
        Ok((auth, token))
    }

    /// Exchanges a login token for a new session; returns the cookie value.
    pub async fn login_with_token(&self, token: &str) -> anyhow::Result<Option<(String, Viewer)>> {
        let Some(grant) = self.db.use_token(&secret::hash(token)).await? else {
            return Ok(None);
        };
        let id = secret::new_secret();
        self.db.create_session(&secret::hash(&id), &grant).await?;
        Ok(Some((
            id,
            Viewer {
                role: grant.role,
                label: grant.label,
            },
        )))
    }

    /// Checks the password and opens an admin session; `None` when wrong or disabled.
    pub async fn login_with_password(&self, given: &str) -> anyhow::Result<Option<String>> {
        let Some(hash) = &self.password_hash else {
            return Ok(None);
        };
        if !password::verify(given, hash) {
            return Ok(None);
        }
        let id = secret::new_secret();
        let grant = db::Grant {
            token_id: None,
            role: Role::Admin,
            label: "admin (password)".into(),
            expires_at: None,
        };
        self.db.create_session(&secret::hash(&id), &grant).await?;
        Ok(Some(id))
    }

    /// The session behind a cookie or bearer value, if valid and unexpired.
    pub async fn session(&self, id: &str) -> anyhow::Result<Option<Session>> {
        let id_hash = secret::hash(id);
        Ok(self
            .db
            .session(&id_hash)
            .await?
            .map(|viewer| Session { viewer, id_hash }))
    }

    /// A new share link token for `role`; returns the clear token (shown once).
    pub async fn create_share_link(
        &self,
        role: Role,
        label: &str,
        expires_at: Option<i64>,
    ) -> anyhow::Result<String> {
        let token = secret::new_secret();
        self.db
            .insert_share_token(role, label, &secret::hash(&token), expires_at)
            .await?;
        Ok(token)
    }

    /// Rotates the admin login token; returns the new clear token.
    pub async fn rotate_admin_token(&self) -> anyhow::Result<String> {
        let token = secret::new_secret();
        self.db.replace_admin_token(&secret::hash(&token)).await?;
        Ok(token)
    }
}
