-- Installed apps (one row per folder under <home>/api), their runs and the
-- events people should see (errors, notifications, URLs to open).
CREATE TABLE apps (
    name         TEXT PRIMARY KEY NOT NULL,
    source_url   TEXT,
    title        TEXT,
    description  TEXT,
    icon         TEXT,
    installed_at INTEGER NOT NULL,
    last_used_at INTEGER,
    autostart    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app         TEXT NOT NULL,
    script      TEXT NOT NULL,
    args        TEXT NOT NULL DEFAULT '{}',
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,
    reason      TEXT,
    log_path    TEXT NOT NULL,
    pid         INTEGER,
    pgid        INTEGER,
    -- JSON array of [pgid, start_time] for every process group the run
    -- started: what a restarted dashboard checks and cleans up.
    groups      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX runs_by_app ON runs(app, id);
CREATE INDEX runs_open ON runs(ended_at);

CREATE TABLE app_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    app     TEXT NOT NULL,
    run_id  INTEGER,
    kind    TEXT NOT NULL CHECK (kind IN ('error', 'notify', 'open')),
    payload TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX app_events_by_app ON app_events(app, id);
