//! Git URIs of installed apps (spec §6.3, §4.0): every `<home>/api/<folder>`
//! whose git `remote.origin.url` is `https://host/owner/repo.git` can be
//! addressed as `https://host/owner/repo.git/<path inside>`, which is how
//! scripts start or read files of other installed apps.
//!
//! Pinokio matches an origin anywhere in the URI and assumes origins end
//! in `.git` (a clone made without `.git` then fails to resolve, a quirk);
//! here an origin without `.git` is matched as if it had one, and the URI
//! must start with the origin.

use std::path::{Path, PathBuf};

/// Why a git URI could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitUriError {
    #[error("{0:?} is not a git URI: it must name a repository ending in .git, e.g. https://github.com/owner/repo.git/start.js")]
    NotGit(String),
    #[error("no installed app was cloned from {repo} (needed for {uri}). Fix: install that repository first, or use a path inside this app.")]
    NotInstalled { repo: String, uri: String },
}

/// The repository part of a git URI: everything up to the first path
/// segment ending in `.git`.
pub fn repo_of(uri: &str) -> Option<&str> {
    let mut end = 0;
    for seg in uri.split('/') {
        end += seg.len();
        if seg.ends_with(".git") {
            return Some(&uri[..end]);
        }
        end += 1;
    }
    None
}

/// `remote "origin"`'s url in a `.git/config` text.
fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            let name: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            in_origin = name == "[remote\"origin\"]";
        } else if in_origin {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "url" {
                    return Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

/// The installed apps with a git origin: `(origin ending in .git, folder)`,
/// in folder-name order.
pub fn installed(home: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(home.join("api")) else {
        return vec![];
    };
    let mut apps: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|dir| {
            let config = std::fs::read_to_string(dir.join(".git").join("config")).ok()?;
            let url = origin_url(&config)?;
            let url = if url.ends_with(".git") {
                url
            } else {
                format!("{url}.git")
            };
            Some((url, dir))
        })
        .collect();
    apps.sort_by(|a, b| a.1.cmp(&b.1));
    apps
}

/// The local path a git URI names: the clone of its repository under
/// `<home>/api`, joined with the rest of the URI.
pub fn resolve(home: &Path, uri: &str) -> Result<PathBuf, GitUriError> {
    let repo = repo_of(uri).ok_or_else(|| GitUriError::NotGit(uri.to_string()))?;
    let rest = uri[repo.len()..].trim_start_matches('/');
    installed(home)
        .into_iter()
        .find(|(url, _)| url == repo)
        .map(|(_, dir)| crate::util::resolve(&dir, rest))
        .ok_or_else(|| GitUriError::NotInstalled {
            repo: repo.to_string(),
            uri: uri.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_part_and_origin_parsing() {
        assert_eq!(
            repo_of("https://github.com/o/r.git/sub/x.js"),
            Some("https://github.com/o/r.git")
        );
        assert_eq!(
            repo_of("https://github.com/o/r.git"),
            Some("https://github.com/o/r.git")
        );
        assert_eq!(repo_of("https://github.com/o/r/x.js"), None);
        let cfg = "[core]\n\turl = no\n[remote \"upstream\"]\n\turl = https://x/u.git\n[remote \"origin\"]\n\turl = https://x/o.git\n\tfetch = +refs/heads/*\n";
        assert_eq!(origin_url(cfg).as_deref(), Some("https://x/o.git"));
    }
}
