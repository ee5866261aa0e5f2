//! Pinokio's path forms for step params (spec §4.0): relative to the step's
//! `cwd`, absolute, `~/x` (inside the Pinokio home, not the user's home),
//! and git URIs `https://host/owner/repo.git/sub/path` naming a file inside
//! the local clone of that repository under `HOME/api`. One module so every
//! method resolves the same way.

use std::path::{Path, PathBuf};

/// A path param that names nothing we can resolve.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PathError {
    #[error("'{0}' is a web address without a `.git` repository part; write https://host/owner/repo.git/path/in/repo")]
    NotGit(String),
    #[error("no app under {api} is a clone of {repo} (for '{uri}'); download it first with script.download", api = .api.display())]
    NoClone {
        uri: String,
        repo: String,
        api: PathBuf,
    },
}

/// Pinokio's URI resolver: `~/`, git URIs, absolute paths, else `cwd`-relative.
pub fn resolve(home: &Path, cwd: &Path, p: &str) -> Result<PathBuf, PathError> {
    match absolute(home, p)? {
        Some(abs) => Ok(abs),
        None => Ok(crate::util::resolve(cwd, p)),
    }
}

/// The forms that need no `cwd`; `None` for a relative path (what
/// `script.stop` ignores, spec §4.0).
pub fn absolute(home: &Path, p: &str) -> Result<Option<PathBuf>, PathError> {
    if let Some(rest) = p.strip_prefix("~/") {
        return Ok(Some(crate::util::resolve(home, rest)));
    }
    if p == "~" {
        return Ok(Some(home.to_path_buf()));
    }
    if is_web(p) {
        let (repo, sub) = split_git_uri(p).ok_or_else(|| PathError::NotGit(p.to_string()))?;
        let clone = find_clone(home, &repo).ok_or_else(|| PathError::NoClone {
            uri: p.to_string(),
            repo: repo.clone(),
            api: home.join("api"),
        })?;
        return Ok(Some(crate::util::resolve(&clone, sub)));
    }
    if Path::new(p).is_absolute() {
        return Ok(Some(crate::util::normalize(Path::new(p))));
    }
    Ok(None)
}

/// `http://` or `https://`.
pub fn is_web(p: &str) -> bool {
    let l = p.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Splits `https://host/o/r.git/a/b.js` into (`https://host/o/r.git`, `a/b.js`).
pub fn split_git_uri(uri: &str) -> Option<(String, String)> {
    let base = uri.split(['?', '#']).next().unwrap_or(uri);
    let mut end = 0;
    for (i, _) in base.match_indices(".git") {
        let after = i + 4;
        if after == base.len() || base[after..].starts_with('/') {
            end = after;
            break;
        }
    }
    if end == 0 {
        return None;
    }
    let sub = base[end..].trim_start_matches('/').to_string();
    Some((base[..end].to_string(), sub))
}

/// The folder `script.download` clones into: the repository URL without
/// its scheme, every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn clone_folder_name(repo: &str) -> String {
    let no_scheme = repo.split_once("://").map(|(_, r)| r).unwrap_or(repo);
    no_scheme
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The app folder under `HOME/api` whose `origin` remote is `repo`.
pub fn find_clone(home: &Path, repo: &str) -> Option<PathBuf> {
    let want = same_repo_key(repo);
    let api = home.join("api");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&api)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .find(|d| origin_url(d).is_some_and(|u| same_repo_key(&u) == want))
}

/// `remote.origin.url` of a clone, read from its `.git/config`.
pub fn origin_url(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".git").join("config")).ok()?;
    let mut in_origin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_origin = line.replace(' ', "") == "[remote\"origin\"]";
        } else if in_origin {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "url" {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

/// A comparable form of a repository URL: no scheme, credentials, `.git`
/// or trailing slash, lowercase (`git@host:o/r` counts as `host/o/r`).
fn same_repo_key(url: &str) -> String {
    let mut u = url.trim().to_ascii_lowercase();
    if let Some((_, rest)) = u.split_once("://") {
        u = rest.to_string();
    } else if let Some((user_host, path)) = u.split_once(':') {
        u = format!(
            "{}/{path}",
            user_host.rsplit('@').next().unwrap_or(user_host)
        );
    }
    if let Some((_, rest)) = u.split_once('@') {
        u = rest.to_string();
    }
    let u = u.trim_end_matches('/');
    u.strip_suffix(".git").unwrap_or(u).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_uris_split_and_name_folders() {
        assert_eq!(
            split_git_uri("https://github.com/o/r.git/a/b.js"),
            Some(("https://github.com/o/r.git".into(), "a/b.js".into()))
        );
        assert_eq!(
            split_git_uri("https://github.com/o/r.git"),
            Some(("https://github.com/o/r.git".into(), String::new()))
        );
        assert_eq!(split_git_uri("https://github.com/o/r.github/x"), None);
        assert_eq!(
            clone_folder_name("https://github.com/o/r.git"),
            "github_com_o_r_git"
        );
        assert_eq!(
            same_repo_key("git@github.com:O/r.git"),
            same_repo_key("https://github.com/o/r/")
        );
    }

    #[test]
    fn tilde_is_the_pinokio_home() {
        let home = Path::new("/h");
        assert_eq!(
            resolve(home, Path::new("/c"), "~/api/x").unwrap(),
            PathBuf::from("/h/api/x")
        );
        assert_eq!(
            resolve(home, Path::new("/c"), "a/../b").unwrap(),
            PathBuf::from("/c/b")
        );
        assert!(absolute(home, "rel").unwrap().is_none());
    }
}
