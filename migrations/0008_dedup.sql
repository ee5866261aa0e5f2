-- Content dedup of large model files (`pinokiocloud dedup`).
--
-- One row per large file seen under the home (path relative to the home):
-- the next pass hashes only files whose size, mtime or inode changed.
-- `linked` is how dedup replaced the file by its twin ('hardlink' or
-- 'reflink'; NULL when untouched); `twin` is the path it now shares with.
CREATE TABLE dedup_files (
    path     TEXT PRIMARY KEY NOT NULL,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    dev      INTEGER NOT NULL,
    inode    INTEGER NOT NULL,
    hash     TEXT NOT NULL,
    seen_at  INTEGER NOT NULL,
    linked   TEXT CHECK (linked IN ('hardlink', 'reflink')),
    twin     TEXT
);
CREATE INDEX dedup_files_by_hash ON dedup_files(hash);

-- Files dedup linked that were later rewritten in place: a hardlinked twin
-- changed with them. Kept until someone looks (the Storage page lists them).
CREATE TABLE dedup_changed (
    path        TEXT PRIMARY KEY NOT NULL,
    expected    TEXT NOT NULL,
    found       TEXT NOT NULL,
    twins       TEXT NOT NULL DEFAULT '[]',
    detected_at INTEGER NOT NULL
);

-- One row per pass, for the Storage page and `dedup --json`.
CREATE TABLE dedup_passes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    dry_run      INTEGER NOT NULL,
    trigger      TEXT NOT NULL,
    files_seen   INTEGER NOT NULL DEFAULT 0,
    files_hashed INTEGER NOT NULL DEFAULT 0,
    bytes_hashed INTEGER NOT NULL DEFAULT 0,
    files_linked INTEGER NOT NULL DEFAULT 0,
    bytes_saved  INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT,
    detail       TEXT
);
