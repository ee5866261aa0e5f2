//! The environment the cloud layer reads: variables and which paths exist.
//!
//! [`SystemEnv`] reads the real process; [`FixtureEnv`] is a recorded map
//! (JSON: `{"vars": {..}, "paths": [..]}`) so detection is testable.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Variables and path existence, injectable for tests.
pub trait Env: Send + Sync {
    /// The variable's value; empty values count as unset.
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable whose name starts with `prefix`, sorted by name.
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)>;
    /// Whether `path` exists (file or folder).
    fn path_exists(&self, path: &Path) -> bool;

    /// True when the variable is set to a non-empty value.
    fn has(&self, name: &str) -> bool {
        self.var(name).is_some()
    }

    /// The user's home folder (`$HOME`).
    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}

/// The real process environment and file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let mut vars: Vec<_> = std::env::vars()
            .filter(|(k, v)| k.starts_with(prefix) && !v.is_empty())
            .collect();
        vars.sort();
        vars
    }

    fn path_exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from).or_else(dirs::home_dir)
    }
}

/// A recorded environment: variables plus the paths that exist.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FixtureEnv {
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default)]
    pub paths: BTreeSet<PathBuf>,
}

impl FixtureEnv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a fixture file's JSON text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.insert(path.into());
        self
    }
}

impl Env for FixtureEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|(k, v)| k.starts_with(prefix) && !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn path_exists(&self, path: &Path) -> bool {
        self.paths.contains(path)
    }
}

/// The first executable called `name` in the `PATH` that `env` sees.
pub fn which(name: &str, env: &dyn Env) -> Option<PathBuf> {
    let path_var = env.var("PATH")?;
    std::env::split_paths(&path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// A regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_reads_vars_prefixes_and_paths() {
        let env = FixtureEnv::from_json(
            r#"{"vars": {"A_1": "x", "A_2": "", "B": "y"}, "paths": ["/data"]}"#,
        )
        .unwrap();
        assert_eq!(env.var("A_1").as_deref(), Some("x"));
        assert_eq!(env.var("A_2"), None, "empty counts as unset");
        assert_eq!(env.vars_with_prefix("A_"), vec![("A_1".into(), "x".into())]);
        assert!(env.path_exists(Path::new("/data")));
        assert!(!env.path_exists(Path::new("/other")));
    }
}
