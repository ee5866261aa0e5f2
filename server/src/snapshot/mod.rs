//! `pinokiocloud snapshot` and `pinokiocloud restore`: persistence across
//! ephemeral cloud sessions. Apps run from a fast local home (Colab's
//! `/content`, a pod's container disk) and are mirrored to a persistent
//! folder (Google Drive, a volume); a fresh machine restores them.
//!
//! A snapshot folder holds:
//! - `home/`: an incremental mirror of the home (only files whose size or
//!   mtime changed are copied, files gone from the home are deleted);
//! - `pinokiocloud.db`: a consistent copy of the database (`VACUUM INTO`);
//! - `manifest.json`, written last (see [`manifest`]).
//!
//! Left out of the mirror: `logs/`, `cache/` (uv's and pip's download
//! caches: gigabytes of wheels the venvs already hold; a rebuild fetches
//! what it needs), `tools/` (uv's install staging), `apps.lock`, `cli-token`, `cli-url`, the
//! live database files (copied through SQLite instead), the sync record,
//! every `__pycache__` folder (Python rebuilds them) and partial files of
//! an interrupted copy. Everything else (`api/**` with the apps' venvs,
//! models and `ENVIRONMENT` files, `bin/`) is kept.
//!
//! Restoring never deletes: apps and files the home has beyond the snapshot
//! are kept and counted, and a database it replaces is moved aside.
//!
//! Persistent mounts are often poor file systems: Google Drive's refuses
//! symlinks (venvs are full of them) and drops execute bits. Links then
//! travel as `*.pinokiocloud-link` stub files and the manifest lists the
//! executable files, so a restore puts both back (see [`mirror`]). Venvs
//! are checked, relocated or rebuilt after the copy (see `venv_restore`).

mod db;
pub mod manifest;
pub mod mirror;
mod venv_lock;
mod venv_restore;

use crate::cloud::env::SystemEnv;
use crate::cloud::platform::{self, PlatformId};
use anyhow::{bail, Context};
use manifest::{Manifest, SyncRecord};
use mirror::{Extras, MirrorStats, Options};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use venv_restore::Outcome;

/// `1` stores symlinks as stub files from the start (for a snapshot folder
/// on a file system without symlinks; the first refused link also does it).
pub const LINK_STUBS_ENV: &str = "PINOKIOCLOUD_SNAPSHOT_LINK_STUBS";

/// The folder name used next to a platform's persistent home.
pub const DEFAULT_DIR_NAME: &str = "pinokiocloud-snapshot";

#[derive(clap::Args, Debug)]
pub struct SnapshotArgs {
    /// The home to snapshot [default: the platform's, as for `serve`].
    #[arg(long, env = "PINOKIOCLOUD_HOME")]
    pub home: Option<PathBuf>,
    /// Snapshot folder, on persistent storage [default: the platform's persistent place, e.g. /content/drive/MyDrive/pinokiocloud-snapshot on Colab with Drive mounted].
    #[arg(long, env = "PINOKIOCLOUD_SNAPSHOT_DIR")]
    pub to: Option<PathBuf>,
    /// Platform to assume instead of detecting it.
    #[arg(long, env = "PINOKIOCLOUD_PLATFORM")]
    pub platform: Option<PlatformId>,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The home to restore into [default: the platform's, as for `serve`].
    #[arg(long, env = "PINOKIOCLOUD_HOME")]
    pub home: Option<PathBuf>,
    /// Snapshot folder to restore from [default: as for `snapshot --to`].
    #[arg(long, env = "PINOKIOCLOUD_SNAPSHOT_DIR")]
    pub from: Option<PathBuf>,
    /// Platform to assume instead of detecting it.
    #[arg(long, env = "PINOKIOCLOUD_PLATFORM")]
    pub platform: Option<PlatformId>,
}

/// `pinokiocloud snapshot`.
pub fn snapshot_cmd(args: SnapshotArgs) -> anyhow::Result<ExitCode> {
    let (home, to) = locations(args.home, args.to, args.platform, "--to")?;
    let home = home
        .canonicalize()
        .with_context(|| format!("there is no home at {}; pass --home DIR", home.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(snapshot(&home, &to, &mut std::io::stdout()))?;
    Ok(ExitCode::SUCCESS)
}

/// `pinokiocloud restore`.
pub fn restore_cmd(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let (home, from) = locations(args.home, args.from, args.platform, "--from")?;
    let report = restore(&home, &from, &mut std::io::stdout())?;
    if report.failed_venvs > 0 {
        eprintln!(
            "error: {} venv(s) could not be restored (see above); reinstall those apps, or \
             rerun `pinokiocloud restore` once their Python is available",
            report.failed_venvs
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The home and snapshot folders: explicit, else the platform's.
fn locations(
    home: Option<PathBuf>,
    snapshot: Option<PathBuf>,
    platform: Option<PlatformId>,
    flag: &str,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let platform = match platform {
        Some(id) => platform::by_id(id, &SystemEnv),
        None => platform::detect(&SystemEnv),
    };
    let choice = platform.home();
    let default_home_persists = home.is_none() && choice.persistent;
    let home = home.unwrap_or_else(|| choice.path.clone());
    let snapshot = match snapshot {
        Some(dir) => dir,
        None => match default_dir(choice.persistent_alternative.as_deref()) {
            Some(dir) => dir,
            None => bail!(
                "{} offers no persistent place to keep a snapshot{}; pass {flag} PATH with a \
                 folder on storage that outlives this machine (a mounted volume or network disk)",
                platform.name(),
                if default_home_persists {
                    format!(" (its home {} already persists)", choice.path.display())
                } else {
                    String::new()
                }
            ),
        },
    };
    Ok((home, snapshot))
}

/// `pinokiocloud-snapshot` beside the platform's persistent home (e.g.
/// `/content/drive/MyDrive/pinokiocloud-snapshot` beside `.../MyDrive/pinokio`).
pub fn default_dir(persistent_alternative: Option<&Path>) -> Option<PathBuf> {
    persistent_alternative.map(|p| p.with_file_name(DEFAULT_DIR_NAME))
}

/// What the home's mirror leaves out (see the module docs).
fn home_filter(rel: &Path, is_dir: bool) -> bool {
    let name = rel.file_name().unwrap_or_default().to_string_lossy();
    if name.ends_with(".pinokiocloud-partial") || (is_dir && name == "__pycache__") {
        return false;
    }
    if rel.components().count() > 1 {
        return true;
    }
    !matches!(
        name.as_ref(),
        "logs"
            | "cache"
            | "tools"
            | "apps.lock"
            | "cli-token"
            | "cli-url"
            | ".pinokiocloud-write-test"
    ) && name != manifest::SYNC_FILE
        && !db::is_db_file(&name)
}

/// Takes (or updates) the snapshot of `home` in `to`.
pub async fn snapshot(home: &Path, to: &Path, out: &mut dyn Write) -> anyhow::Result<Manifest> {
    let started = Instant::now();
    overlap_check(
        home,
        &std::path::absolute(to).unwrap_or_else(|_| to.to_path_buf()),
    )?;
    std::fs::create_dir_all(to)
        .with_context(|| format!("creating the snapshot folder {}", to.display()))?;
    let to = to
        .canonicalize()
        .with_context(|| format!("resolving {}", to.display()))?;
    overlap_check(home, &to)?;
    let _ = writeln!(out, "snapshot: {} -> {}", home.display(), to.display());
    manifest::start_writing(&to)?;
    let options = Options {
        include: &home_filter,
        extras: Extras::Delete,
        relink: None,
        link_stubs: std::env::var_os(LINK_STUBS_ENV).is_some_and(|v| v == "1"),
    };
    let stats = mirror::mirror(home, &to.join("home"), &options, &mut |s| progress(out, s))?;
    let _ = writeln!(out, "{}", files_line(&stats));
    if stats.link_stubs > 0 {
        let _ = writeln!(
            out,
            "links: {} stored as {} files (this file system refuses symlinks; restore recreates them)",
            stats.link_stubs,
            mirror::LINK_STUB_SUFFIX
        );
    }
    if let Some(size) = db::copy_out(home, &to.join(db::SNAPSHOT_DB)).await? {
        let _ = writeln!(out, "database: {}", human_bytes(size));
    }
    let venvs = lock_venvs(home, &stats.venvs, out);
    let manifest = Manifest {
        version: manifest::VERSION,
        created_at_ms: manifest::now_ms(),
        source_home: home.to_path_buf(),
        pinokiocloud_version: env!("CARGO_PKG_VERSION").to_string(),
        apps: list_apps(home),
        venvs,
        files: stats.checked,
        bytes: stats.bytes_copied,
        executables: stats.executables.clone(),
        link_stubs: stats.link_stubs,
    };
    manifest.write(&to)?;
    record_sync(home, &to, &manifest, "snapshot")?;
    let _ = writeln!(
        out,
        "snapshot complete: {} app(s), {} venv(s) in {:.1}s",
        manifest.apps.len(),
        manifest.venvs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(manifest)
}

/// A snapshot inside the home would copy itself (and vice versa).
fn overlap_check(home: &Path, to: &Path) -> anyhow::Result<()> {
    if to.starts_with(home) || home.starts_with(to) {
        bail!(
            "the snapshot folder {} and the home {} overlap; pick a snapshot folder outside the home",
            to.display(),
            home.display()
        );
    }
    Ok(())
}

fn lock_venvs(home: &Path, venvs: &[PathBuf], out: &mut dyn Write) -> Vec<manifest::VenvLock> {
    let uv = engine::python::locate_uv(home);
    venvs
        .iter()
        .map(|rel| {
            let (lock, warning) = venv_lock::lock(home, rel, uv.as_deref());
            match (&warning, &lock.requirements) {
                (Some(w), _) => {
                    let _ = writeln!(out, "warning: venv {w}");
                }
                (None, Some(reqs)) => {
                    let _ = writeln!(
                        out,
                        "venv {}: locked with {} ({} packages)",
                        rel.display(),
                        lock.locked_with.as_deref().unwrap_or("?"),
                        reqs.len()
                    );
                }
                (None, None) => {}
            }
            lock
        })
        .collect()
}

/// What a restore did.
#[derive(Debug, Default)]
pub struct RestoreReport {
    pub files: MirrorStats,
    pub kept_apps: Vec<String>,
    pub failed_venvs: usize,
}

/// Restores the snapshot in `from` into `home`, which no dashboard may be
/// serving.
pub fn restore(home: &Path, from: &Path, out: &mut dyn Write) -> anyhow::Result<RestoreReport> {
    let started = Instant::now();
    let manifest = Manifest::read(from)?;
    let from = &from
        .canonicalize()
        .with_context(|| format!("resolving {}", from.display()))?;
    let home = crate::home::prepare(home)?;
    let _lock = crate::apps::lock_home(&home).map_err(|e| match e {
        crate::apps::AppsError::HomeLocked { holder, .. } => anyhow::anyhow!(
            "a PinokioCloud dashboard is running on {} ({holder}); stop it before restoring \
             into this home (its apps use the files a restore replaces)",
            home.display()
        ),
        other => anyhow::Error::new(other),
    })?;
    let _ = writeln!(
        out,
        "restore: {} (taken {} ago from {}) -> {}",
        from.display(),
        age(manifest.created_at_ms),
        manifest.source_home.display(),
        home.display()
    );
    let options = Options {
        include: &home_filter,
        extras: Extras::Keep,
        relink: Some((&manifest.source_home, &home)),
        link_stubs: false,
    };
    let stats = mirror::mirror(&from.join("home"), &home, &options, &mut |s| {
        progress(out, s)
    })?;
    let _ = writeln!(out, "{}", files_line(&stats));
    let fixed = mirror::restore_executables(&home, &manifest.executables);
    if fixed > 0 {
        let _ = writeln!(out, "modes: execute bit put back on {fixed} file(s)");
    }
    let snapshot_db = from.join(db::SNAPSHOT_DB);
    if snapshot_db.exists() {
        let what = db::copy_in(&snapshot_db, &home)?;
        let _ = writeln!(out, "database: {what}");
    }
    let failed_venvs = restore_venvs(&home, &manifest, out);
    let kept_apps: Vec<String> = list_apps(&home)
        .into_iter()
        .filter(|a| !manifest.apps.contains(a))
        .collect();
    if !kept_apps.is_empty() {
        let _ = writeln!(
            out,
            "kept {} app(s) that are not in the snapshot: {}",
            kept_apps.len(),
            kept_apps.join(", ")
        );
    }
    record_sync(&home, from, &manifest, "restore")?;
    let _ = writeln!(
        out,
        "restore complete: {} app(s) in {:.1}s",
        manifest.apps.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(RestoreReport {
        files: stats,
        kept_apps,
        failed_venvs,
    })
}

/// Checks every snapshotted venv; returns how many could not be restored.
fn restore_venvs(home: &Path, manifest: &Manifest, out: &mut dyn Write) -> usize {
    let uv = engine::python::locate_uv(home);
    let mut failed = 0;
    for lock in &manifest.venvs {
        let outcome = venv_restore::restore(home, lock, &manifest.source_home, uv.as_deref());
        let what = match outcome {
            Outcome::Kept => "works as is, kept".to_string(),
            Outcome::Relocated(n) => format!("kept, {n} file(s) rewritten to the new home"),
            Outcome::Rebuilt(how) => format!("did not run here ({how})"),
            Outcome::Failed(why) => {
                failed += 1;
                format!("FAILED: {why}")
            }
        };
        let _ = writeln!(out, "venv {}: {what}", lock.path.display());
    }
    failed
}

fn record_sync(home: &Path, dir: &Path, manifest: &Manifest, action: &str) -> anyhow::Result<()> {
    SyncRecord {
        snapshot_created_at_ms: manifest.created_at_ms,
        snapshot: dir.to_path_buf(),
        action: action.into(),
    }
    .write(home)
}

/// For `serve --snapshot-dir`: restores the snapshot when it is newer than
/// the home's last sync. Never fails the start: returns the line to print.
pub fn auto_restore(home: &Path, dir: &Path) -> String {
    let manifest = match Manifest::read(dir) {
        Ok(m) => m,
        Err(_) if !dir.join("home").exists() => {
            return format!(
                "none at {} yet (take one with `pinokiocloud snapshot --to {}`)",
                dir.display(),
                dir.display()
            )
        }
        Err(e) => return format!("not restored: {e:#}"),
    };
    if !snapshot_is_newer(home, &manifest) {
        return format!("the home is up to date with {}", dir.display());
    }
    let mut err = std::io::stderr();
    match restore(home, dir, &mut err) {
        Ok(report) if report.failed_venvs > 0 => format!(
            "restored from {} but {} venv(s) failed (see the log); reinstall those apps",
            dir.display(),
            report.failed_venvs
        ),
        Ok(report) => format!(
            "restored {} app(s) from {} ({} files copied)",
            manifest.apps.len(),
            dir.display(),
            report.files.copied
        ),
        Err(e) => format!("not restored: {e:#}"),
    }
}

/// Newer than the home's sync record; a home without one counts as old
/// when it has no database yet, else as old as its database's last write.
fn snapshot_is_newer(home: &Path, manifest: &Manifest) -> bool {
    if let Some(record) = SyncRecord::read(home) {
        return manifest.created_at_ms > record.snapshot_created_at_ms;
    }
    let db_written = std::fs::metadata(home.join(crate::store::DB_FILE))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64);
    db_written.is_none_or(|t| manifest.created_at_ms > t)
}

fn list_apps(home: &Path) -> Vec<String> {
    let mut apps: Vec<String> = std::fs::read_dir(home.join("api"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    apps.sort();
    apps
}

fn progress(out: &mut dyn Write, s: &MirrorStats) {
    let _ = writeln!(
        out,
        "  ... {} files checked, {} copied ({})",
        s.checked,
        s.copied,
        human_bytes(s.bytes_copied)
    );
}

/// The summary line tests and people read: `files: N copied (SIZE), ...`.
fn files_line(s: &MirrorStats) -> String {
    let mut line = format!(
        "files: {} copied ({}), {} unchanged",
        s.copied,
        human_bytes(s.bytes_copied),
        s.checked - s.copied
    );
    if s.deleted > 0 {
        line += &format!(", {} deleted", s.deleted);
    }
    if s.kept > 0 {
        line += &format!(", {} kept (in the home, not in the snapshot)", s.kept);
    }
    line
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn age(created_at_ms: u64) -> String {
    let secs = manifest::now_ms().saturating_sub(created_at_ms) / 1000;
    match secs {
        0..120 => format!("{secs}s"),
        120..7200 => format!("{}m", secs / 60),
        7200..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_leaves_out_logs_locks_tokens_caches_and_the_live_db() {
        for skipped in [
            "logs",
            "cache",
            "tools",
            "apps.lock",
            "cli-token",
            "pinokiocloud.db",
            "pinokiocloud.db-wal",
            "api/a/__pycache__",
        ] {
            assert!(!home_filter(Path::new(skipped), true), "{skipped}");
        }
        for kept in ["api", "api/a/ENVIRONMENT", "api/a/logs", "bin"] {
            assert!(home_filter(Path::new(kept), false), "{kept}");
        }
    }

    #[test]
    fn the_default_folder_sits_beside_the_persistent_home() {
        assert_eq!(
            default_dir(Some(Path::new("/content/drive/MyDrive/pinokio"))),
            Some(PathBuf::from(
                "/content/drive/MyDrive/pinokiocloud-snapshot"
            ))
        );
        assert_eq!(default_dir(None), None);
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
