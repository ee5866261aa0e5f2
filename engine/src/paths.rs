//! Pinokio's URI resolver (spec §4.0): how `shell.run.path`, `fs.*`,
//! `script.start` and module `uri`s name a folder.
//!
//! - `http(s)://host/owner/repo.git/sub/path`: the local clone under
//!   `HOME/api` whose `remote.origin.url` is that repository, then `sub/path`
//!   (the URI must contain `.git`, which is where the repository ends);
//! - `~/x`: `HOME/x` (Pinokio's home, not the user's);
//! - an absolute path as is;
//! - anything else relative to the step's `cwd` (the script folder).
//!
//! One place for every method that takes such a path, so they agree.

use std::path::{Path, PathBuf};

/// Why a path could not be resolved; each message says what to write instead.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum PathError {
    #[error("the path {uri} looks like a git URI but has no `.git` marking where the repository ends. Fix: write it as `https://host/owner/repo.git/sub/folder`, or use a folder path")]
    NoGitSuffix { uri: String },
    #[error("no app under {api} was cloned from {repo} (needed for the path {uri}). Fix: install that app first, or use a folder path", api = .api.display())]
    NoClone {
        uri: String,
        repo: String,
        api: PathBuf,
    },
}

/// Resolves `p` with the URI resolver: git URIs, `~/`, absolute, else
/// relative to `cwd`. The result is normalised (`..` and `.` removed).
pub fn resolve_uri(home: &Path, cwd: &Path, p: &str) -> Result<PathBuf, PathError> {
    if p.starts_with("http://") || p.starts_with("https://") {
        return resolve_git_uri(home, p);
    }
    if p == "~" {
        return Ok(home.to_path_buf());
    }
    if let Some(rest) = p.strip_prefix("~/") {
        return Ok(crate::util::resolve(home, rest));
    }
    Ok(crate::util::resolve(cwd, p))
}

/// `https://host/owner/repo.git/sub` → `<clone of repo>/sub`.
fn resolve_git_uri(home: &Path, uri: &str) -> Result<PathBuf, PathError> {
    let end = uri.find(".git").ok_or_else(|| PathError::NoGitSuffix {
        uri: uri.to_string(),
    })? + ".git".len();
    let (repo, sub) = uri.split_at(end);
    let api = home.join("api");
    let clone = std::fs::read_dir(&api)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|dir| origin_url(dir).is_some_and(|u| same_repo(&u, repo)))
        .ok_or_else(|| PathError::NoClone {
            uri: uri.to_string(),
            repo: repo.to_string(),
            api: api.clone(),
        })?;
    Ok(crate::util::resolve(&clone, sub.trim_start_matches('/')))
}

/// `remote "origin"`'s `url` in `<dir>/.git/config`.
fn origin_url(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".git").join("config")).ok()?;
    let mut in_origin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_origin = line == "[remote \"origin\"]";
        } else if in_origin {
            if let Some(v) = line.strip_prefix("url") {
                return Some(v.trim_start().trim_start_matches('=').trim().to_string());
            }
        }
    }
    None
}

/// Repository URLs compared without a trailing `/` or `.git` and without case.
fn same_repo(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim().trim_end_matches('/');
        s.strip_suffix(".git").unwrap_or(s).to_lowercase()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_absolute_and_relative() {
        let home = Path::new("/h");
        let cwd = Path::new("/h/api/app");
        assert_eq!(
            resolve_uri(home, cwd, "~/x/y").unwrap(),
            Path::new("/h/x/y")
        );
        assert_eq!(resolve_uri(home, cwd, "/abs").unwrap(), Path::new("/abs"));
        assert_eq!(
            resolve_uri(home, cwd, "sub").unwrap(),
            Path::new("/h/api/app/sub")
        );
        assert_eq!(
            resolve_uri(home, cwd, "../b").unwrap(),
            Path::new("/h/api/b")
        );
    }

    #[test]
    fn git_uri_finds_the_clone_by_origin() {
        let home = tempfile::tempdir().unwrap();
        let app = home.path().join("api").join("llama");
        std::fs::create_dir_all(app.join(".git")).unwrap();
        std::fs::write(
            app.join(".git").join("config"),
            "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/o/Llama.git\n",
        )
        .unwrap();
        let got = resolve_uri(
            home.path(),
            Path::new("/x"),
            "https://github.com/o/llama.git/models",
        )
        .unwrap();
        assert_eq!(got, app.join("models"));
        let missing = resolve_uri(home.path(), Path::new("/x"), "https://h/o/other.git");
        assert!(matches!(missing, Err(PathError::NoClone { .. })));
        let bad = resolve_uri(home.path(), Path::new("/x"), "https://h/o/other");
        assert!(matches!(bad, Err(PathError::NoGitSuffix { .. })));
    }
}
