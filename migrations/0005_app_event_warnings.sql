-- Runs record warnings too: a shell command's non-zero exit that Pinokio
-- passes over (the run goes on; the app page lists it among its notices).
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE app_events_new (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    app     TEXT NOT NULL,
    run_id  INTEGER,
    kind    TEXT NOT NULL CHECK (kind IN ('error', 'notify', 'open', 'warning')),
    payload TEXT NOT NULL,
    at      INTEGER NOT NULL
);
INSERT INTO app_events_new (id, app, run_id, kind, payload, at)
    SELECT id, app, run_id, kind, payload, at FROM app_events;
DROP TABLE app_events;
ALTER TABLE app_events_new RENAME TO app_events;
CREATE INDEX app_events_by_app ON app_events(app, id);
