-- Per-app origins (issue 12): each running app is served at its own origin,
-- signed in through a one-time handoff link; the dashboard's session cookie
-- never reaches it.

-- A share link limited to one app: its holder gets that app's origin and
-- nothing of the dashboard. NULL: an ordinary (dashboard-wide) link.
ALTER TABLE auth_tokens ADD COLUMN app TEXT;

-- One-time sign-in codes for an app's origin, minted by Open (or by an
-- app-only share link), valid for a minute, spent on first use.
CREATE TABLE app_handoffs (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    app        TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    label      TEXT NOT NULL DEFAULT '',
    token_id   INTEGER REFERENCES auth_tokens(id) ON DELETE CASCADE,
    -- When the session it opens must end at the latest (a share link's expiry).
    session_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- Sessions on an app's origin (the cookie `pc_app_<app>` holds the clear id).
CREATE TABLE app_sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    app          TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    label        TEXT NOT NULL DEFAULT '',
    token_id     INTEGER REFERENCES auth_tokens(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX app_sessions_by_token ON app_sessions(token_id);
