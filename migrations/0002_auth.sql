-- Login tokens: the admin login token (rotated) and collaborators' share links.
-- Only SHA-256 hashes are stored; the clear token is shown once.
CREATE TABLE auth_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('admin', 'share')),
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    label        TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);

-- Browser sessions (the HttpOnly cookie holds the clear id; we keep its hash).
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    label        TEXT NOT NULL DEFAULT '',
    token_id     INTEGER REFERENCES auth_tokens(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_token ON sessions(token_id);
