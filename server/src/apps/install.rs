//! Installing apps: a real `git clone --progress` into `<home>/api/<folder>`
//! (through a hidden `.<folder>.installing` folder, so a half clone is never
//! listed), progress parsed from git's stderr, then a check that what
//! arrived is a Pinokio app. Also uninstall and rename.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::error::{AppsError, Result};
use super::store::{now, AppRow};
use super::{check_name, AppEvent, AppSummary, Apps};

/// Files that make a folder a Pinokio app (any one of them).
pub const APP_MARKERS: &[&str] = &[
    "pinokio.js",
    "pinokio.json",
    "pinokio/pinokio.js",
    "pinokio/pinokio.json",
    "install.js",
    "install.json",
    "start.js",
    "start.json",
];

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InstallPhase {
    Cloning,
    Checking,
    Done,
    Failed,
}

/// Where an install is; observed through a `watch` receiver.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstallProgress {
    pub app: String,
    pub source: String,
    pub phase: InstallPhase,
    /// git's current stage (`Receiving objects`, `Resolving deltas`...).
    pub stage: Option<String>,
    /// Percent of the current stage.
    pub percent: Option<u8>,
    /// Overall estimate, 0–100 (receiving counts for most of it).
    pub overall: u8,
    pub error: Option<String>,
}

static PROGRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(Counting objects|Compressing objects|Receiving objects|Resolving deltas|Updating files|Enumerating objects)\S*:\s+(\d+)%")
        .expect("progress regex")
});

/// Parses one git progress line (`Receiving objects:  45% (9/20)`).
pub fn parse_progress(line: &str) -> Option<(String, u8)> {
    let c = PROGRESS.captures(line)?;
    let pct: u8 = c[2].parse().ok()?;
    Some((c[1].to_string(), pct.min(100)))
}

fn overall(stage: &str, pct: u8) -> u8 {
    let p = pct as u32;
    (match stage {
        "Receiving objects" => 5 + p * 75 / 100,
        "Resolving deltas" => 80 + p * 15 / 100,
        "Updating files" => 95 + p * 4 / 100,
        _ => p * 5 / 100,
    }) as u8
}

/// The folder name a source suggests: its last path segment without `.git`,
/// with anything outside `[A-Za-z0-9._-]` turned into `-`.
pub fn folder_from_source(source: &str) -> String {
    let s = source.trim().trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    let last = s.rsplit(['/', ':', '\\']).next().unwrap_or(s);
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_start_matches('.').to_string();
    name.truncate(100);
    if name.is_empty() {
        "app".into()
    } else {
        name
    }
}

/// Local folder sources (not URLs): cloned if they are repositories,
/// copied otherwise.
fn local_source(source: &str) -> Option<PathBuf> {
    if source.contains("://") || (source.contains('@') && source.contains(':')) {
        return None;
    }
    let p = PathBuf::from(source);
    p.is_dir().then(|| p.canonicalize().unwrap_or(p))
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && parse_progress(l).is_none())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Apps {
    /// Installs an app from a git URL (`https://…`, `git@…`, `file://…`) or
    /// a local folder into `<home>/api/<folder>`. Without `folder` the name
    /// comes from the repository (`name`, `name-2`… if taken); a given folder
    /// that exists is refused. Follow progress with [`Apps::install_progress`].
    pub async fn install(&self, source: &str, folder: Option<&str>) -> Result<AppSummary> {
        let s = self.shared().clone();
        let source = source.trim().to_string();
        if source.is_empty() {
            return Err(AppsError::Install {
                url: source,
                message: "no source given: pass a git URL or a catalog id".into(),
            });
        }
        let (name, tx) = {
            let mut installs = s.installs.lock().expect("installs lock");
            let in_flight = |n: &str| {
                installs.get(n).is_some_and(|tx| {
                    matches!(
                        tx.borrow().phase,
                        InstallPhase::Cloning | InstallPhase::Checking
                    )
                })
            };
            let taken =
                |n: &str| s.app_dir(n).exists() || in_flight(n) || staging(&s.home, n).exists();
            let name = match folder {
                Some(f) => {
                    check_name(f)?;
                    if taken(f) {
                        return Err(AppsError::FolderTaken {
                            folder: f.to_string(),
                            dir: s.api_dir(),
                        });
                    }
                    f.to_string()
                }
                None => {
                    let base = folder_from_source(&source);
                    let mut n = 1;
                    let mut name = base.clone();
                    while taken(&name) {
                        n += 1;
                        name = format!("{base}-{n}");
                    }
                    name
                }
            };
            let (tx, _) = watch::channel(InstallProgress {
                app: name.clone(),
                source: source.clone(),
                phase: InstallPhase::Cloning,
                stage: None,
                percent: None,
                overall: 0,
                error: None,
            });
            installs.insert(name.clone(), tx.clone());
            (name, tx)
        };
        s.emit(AppEvent::InstallStarted {
            app: name.clone(),
            source: source.clone(),
        });
        // The entry stays (finished) so late observers see how it ended.
        let result = self.install_into(&name, &source, &tx).await;
        match result {
            Ok(()) => {
                tx.send_modify(|p| {
                    p.phase = InstallPhase::Done;
                    p.overall = 100;
                });
                s.emit(AppEvent::Installed { app: name.clone() });
                let list = self.list().await?;
                list.into_iter()
                    .find(|a| a.name == name)
                    .ok_or(AppsError::NoSuchApp(name))
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(staging(&s.home, &name));
                tx.send_modify(|p| {
                    p.phase = InstallPhase::Failed;
                    p.error = Some(e.to_string());
                });
                s.emit(AppEvent::InstallFailed {
                    app: name,
                    message: e.to_string(),
                });
                Err(e)
            }
        }
    }

    async fn install_into(
        &self,
        name: &str,
        source: &str,
        tx: &watch::Sender<InstallProgress>,
    ) -> Result<()> {
        let s = self.shared().clone();
        let stage_dir = staging(&s.home, name);
        let fail = |message: String| AppsError::Install {
            url: source.to_string(),
            message,
        };
        match local_source(source) {
            Some(dir) if !dir.join(".git").exists() => {
                let out = tokio::process::Command::new("cp")
                    .arg("-a")
                    .arg(&dir)
                    .arg(&stage_dir)
                    .output()
                    .await
                    .map_err(AppsError::io("running cp"))?;
                if !out.status.success() {
                    return Err(fail(format!(
                        "copying {} failed: {}",
                        dir.display(),
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
            }
            _ => clone(source, &stage_dir, tx).await.map_err(fail)?,
        }
        tx.send_modify(|p| p.phase = InstallPhase::Checking);
        if !APP_MARKERS.iter().any(|m| stage_dir.join(m).is_file()) {
            let _ = std::fs::remove_dir_all(&stage_dir);
            return Err(AppsError::NotPinokioApp {
                app: name.to_string(),
                url: source.to_string(),
                wanted: APP_MARKERS.join(", "),
            });
        }
        let dest = s.app_dir(name);
        if dest.exists() {
            return Err(AppsError::FolderTaken {
                folder: name.to_string(),
                dir: s.api_dir(),
            });
        }
        std::fs::rename(&stage_dir, &dest).map_err(AppsError::io(format!(
            "moving the clone to {}",
            dest.display()
        )))?;
        let menu = self.menu(name).await.ok();
        s.store
            .upsert_app(&AppRow {
                name: name.to_string(),
                source_url: Some(source.to_string()),
                title: menu.as_ref().and_then(|m| m.title.clone()),
                description: menu.as_ref().and_then(|m| m.description.clone()),
                icon: menu.as_ref().and_then(|m| m.icon.clone()),
                installed_at: now(),
                last_used_at: None,
                autostart: false,
            })
            .await?;
        Ok(())
    }

    /// Progress of an install (in flight, or the last one into that folder
    /// since the supervisor opened), by folder name.
    pub fn install_progress(&self, app: &str) -> Option<watch::Receiver<InstallProgress>> {
        self.shared()
            .installs
            .lock()
            .expect("installs lock")
            .get(app)
            .map(|tx| tx.subscribe())
    }

    /// Installs in flight.
    pub fn installs(&self) -> Vec<InstallProgress> {
        self.shared()
            .installs
            .lock()
            .expect("installs lock")
            .values()
            .map(|tx| tx.borrow().clone())
            .filter(|p| matches!(p.phase, InstallPhase::Cloning | InstallPhase::Checking))
            .collect()
    }

    /// Stops the app's runs, then removes its folder, logs and rows.
    pub async fn uninstall(&self, app: &str) -> Result<()> {
        let s = self.shared().clone();
        let dir = s.existing_app(app)?;
        self.stop_app(app).await?;
        tokio::fs::remove_dir_all(&dir)
            .await
            .map_err(AppsError::io(format!("removing {}", dir.display())))?;
        super::drive::release(&s.home, &dir).await;
        let _ = tokio::fs::remove_dir_all(s.logs_dir(app)).await;
        s.store.delete_app(app).await?;
        s.targets.remove(app);
        s.engine.set_app_env(app, vec![]);
        s.emit(AppEvent::Uninstalled {
            app: app.to_string(),
        });
        Ok(())
    }

    /// Renames an app's folder (refused while it runs or if `to` exists).
    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let s = self.shared().clone();
        let dir = s.existing_app(from)?;
        check_name(to)?;
        if let Some(r) = self.running().into_iter().find(|r| r.app == from) {
            return Err(AppsError::Busy {
                app: from.to_string(),
                run_id: r.run_id,
                what: "cannot rename it".into(),
            });
        }
        let dest = s.app_dir(to);
        if dest.exists() || self.installs().iter().any(|p| p.app == to) {
            return Err(AppsError::FolderTaken {
                folder: to.to_string(),
                dir: s.api_dir(),
            });
        }
        std::fs::rename(&dir, &dest).map_err(AppsError::io(format!(
            "renaming {} to {}",
            dir.display(),
            dest.display()
        )))?;
        super::drive::moved(&s.home, &dir, &dest).await;
        let (old_logs, new_logs) = (s.logs_dir(from), s.logs_dir(to));
        if old_logs.exists() {
            let _ = std::fs::rename(&old_logs, &new_logs);
        }
        s.store.rename_app(from, to).await?;
        super::python::rename(&s, from, to);
        s.runs
            .lock()
            .expect("runs lock")
            .retain(|_, r| r.app != from);
        s.emit(AppEvent::Renamed {
            from: from.to_string(),
            to: to.to_string(),
        });
        Ok(())
    }
}

/// Where a clone lands before it is checked: `<home>/api/.<name>.installing`.
pub(crate) fn staging(home: &Path, name: &str) -> PathBuf {
    home.join("api").join(format!(".{name}.installing"))
}

/// `git clone --progress`, reporting progress; the error carries git's
/// last words.
async fn clone(
    source: &str,
    dest: &Path,
    tx: &watch::Sender<InstallProgress>,
) -> std::result::Result<(), String> {
    let mut child = tokio::process::Command::new("git")
        .args(["clone", "--progress", "--recurse-submodules", "--", source])
        .arg(dest)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run git ({e}); install git and try again"))?;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let mut all = String::new();
    let mut line = String::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stderr.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        all.push_str(&text);
        if all.len() > 64 * 1024 {
            let mut cut = all.len() - 32 * 1024;
            while !all.is_char_boundary(cut) {
                cut += 1;
            }
            all.drain(..cut);
        }
        for c in text.chars() {
            if c == '\r' || c == '\n' {
                if let Some((stage, pct)) = parse_progress(&line) {
                    tx.send_modify(|p| {
                        p.overall = p.overall.max(overall(&stage, pct));
                        p.stage = Some(stage);
                        p.percent = Some(pct);
                    });
                }
                line.clear();
            } else {
                line.push(c);
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for git: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let tail = last_lines(&all, 6);
        Err(format!(
            "git clone failed ({status}); check the URL and that the repository is reachable from this machine. git said:\n{tail}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_come_from_the_repository() {
        for (src, want) in [
            (
                "https://github.com/cocktailpeanut/comfyui.pinokio.git",
                "comfyui.pinokio",
            ),
            ("https://github.com/a/b/", "b"),
            ("git@github.com:owner/My App.git", "My-App"),
            ("file:///tmp/x/fixture", "fixture"),
            ("/srv/apps/.hidden", "hidden"),
            ("", "app"),
        ] {
            assert_eq!(folder_from_source(src), want, "{src}");
        }
    }

    #[test]
    fn git_progress_lines_parse() {
        assert_eq!(
            parse_progress("Receiving objects:  45% (9/20), 1.2 MiB | 3 MiB/s"),
            Some(("Receiving objects".into(), 45))
        );
        assert_eq!(
            parse_progress("remote: Counting objects: 100% (3/3), done."),
            Some(("Counting objects".into(), 100))
        );
        assert_eq!(parse_progress("Cloning into 'x'..."), None);
        assert!(overall("Receiving objects", 100) > overall("Counting objects", 100));
    }
}
