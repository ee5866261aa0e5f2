//! The generated ENVIRONMENT files: the home's, written on first start,
//! and each app's, written the first time one of its scripts runs (or its
//! variables are listed), as Pinokio does when an app page is first opened.
//!
//! Existing files are never rewritten and missing keys are not added back:
//! Pinokio's own advice for a shared model cache is to delete the `HF_HOME`
//! line, so a key a person removed must stay removed.

use std::path::{Path, PathBuf};

use super::{file, EnvError};

/// Which generated file a default goes into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// `<home>/ENVIRONMENT` only.
    Home,
    /// The app files only.
    App,
    /// Both.
    Both,
}

/// One default variable: key, raw value (`./` = the owning folder), scope
/// and the comment written above it.
struct Default {
    key: &'static str,
    value: &'static str,
    scope: Scope,
    comment: &'static str,
}

const fn d(key: &'static str, value: &'static str, scope: Scope, comment: &'static str) -> Default {
    Default {
        key,
        value,
        scope,
        comment,
    }
}

use Scope::{App, Both, Home};

/// Pinokio's defaults (§8.2 of the spec), in the order they are written.
///
/// One deliberate difference: `PIP_CACHE_DIR` and `UV_CACHE_DIR` are
/// `./cache/pip` and `./cache/uv` (Pinokio: `./cache/PIP_CACHE_DIR`,
/// `./cache/UV_CACHE_DIR`), the one download cache every app of a
/// PinokioCloud home has always shared: cloud disks are small and a
/// snapshot leaves `<home>/cache` out.
const DEFAULTS: &[Default] = &[
    d("HOMEBREW_CACHE", "./cache/HOMEBREW_CACHE", Home, ""),
    d("XDG_CACHE_HOME", "./cache/XDG_CACHE_HOME", Home, ""),
    d("PIP_CACHE_DIR", "./cache/pip", Home, "Download caches shared by every app (PinokioCloud: one cache per home)."),
    d("UV_CACHE_DIR", "./cache/uv", Home, ""),
    d("PIP_TMPDIR", "./cache/PIP_TMPDIR", Home, ""),
    d("TMPDIR", "./cache/TMPDIR", Home, ""),
    d("TEMP", "./cache/TEMP", Home, ""),
    d("TMP", "./cache/TMP", Home, ""),
    d("XDG_DATA_HOME", "./cache/XDG_DATA_HOME", Home, ""),
    d("XDG_CONFIG_HOME", "./cache/XDG_CONFIG_HOME", Home, ""),
    d("XDG_STATE_HOME", "./cache/XDG_STATE_HOME", Home, ""),
    d("PIP_CONFIG_FILE", "./pipconfig", Home, ""),
    d("CONDARC", "./condarc", Home, ""),
    d("PS1", "<<PINOKIO_SHELL>> ", Home, ""),
    d("GRADIO_ANALYTICS_ENABLED", "False", Home, ""),
    d("GRADIO_ALLOWED_PATHS", "./", Home, "Gradio apps may serve files from anywhere in this home. Add folders if you need more."),
    d("PINOKIO_SCRIPT_AUTOLAUNCH", "", App, "Script (relative to the app) started when the dashboard starts."),
    d("PINOKIO_SCRIPT_REQUIRES", "", App, "Apps (folder names, comma-separated) to start before this one."),
    d("PINOKIO_SHARE_VAR", "url", Home, "The local variable whose value scripts share (e.g. the app's URL)."),
    d("PINOKIO_SHARE_CLOUDFLARE", "false", Both, "true: share the app publicly through a Cloudflare tunnel."),
    d("PINOKIO_SHARE_PASSCODE", "", App, "A passcode protecting the shared app."),
    d("PINOKIO_SCRIPT_DEFAULT", "true", Both, "false: menu items marked `default` do not start by themselves."),
    d("PINOKIO_DRIVE", "./drive", Home, "Root of the virtual drives (fs.link). May be an absolute path on another disk."),
    d("GRADIO_TEMP_DIR", "./cache/GRADIO_TEMP_DIR", Both, "Files uploaded to Gradio apps."),
    d("HF_HOME", "./cache/HF_HOME", Both, "Hugging Face downloads (models, datasets). In an app file this is the app's own\n# cache; delete the line to share <home>/cache/HF_HOME between apps."),
    d("TORCH_HOME", "./cache/TORCH_HOME", Both, "torch.hub downloads; delete the line in an app file to share the home's."),
    d("PINOKIO_SHARE_LOCAL", "false", Both, "true: share the app on the local network."),
    d("PINOKIO_SHARE_LOCAL_PORT", "", Both, "A fixed port for local sharing (empty: any free port)."),
    d("HTTP_PROXY", "", Home, "Proxies for every process (empty: none)."),
    d("HTTPS_PROXY", "", Home, ""),
    d("NO_PROXY", "", Home, ""),
];

/// Keys whose values are paths of files, not folders: never created as
/// folders.
const FILE_KEYS: &[&str] = &["PIP_CONFIG_FILE", "CONDARC", "HF_TOKEN_PATH"];

fn block(key: &str, value: &str, comment: &str) -> String {
    let mut s = String::new();
    if !comment.is_empty() {
        s.push_str(&format!("\n# {comment}\n"));
    }
    s.push_str(&format!("{key}={value}\n"));
    s
}

/// The text of a new `<home>/ENVIRONMENT`.
pub fn home_text() -> String {
    let mut s = String::from(
        "# Variables every app's processes get (PinokioCloud, Pinokio's format).\n\
         # Values starting with ./ are relative to this folder; empty values are ignored.\n\
         # Each app has its own ENVIRONMENT too, generated from this one, which wins over it.\n",
    );
    for x in DEFAULTS.iter().filter(|x| x.scope != App) {
        s.push_str(&block(x.key, x.value, x.comment));
    }
    s
}

/// The text of a new app ENVIRONMENT: the app keys with the home file's
/// current raw values (so `./cache/HF_HOME` now means the app's cache),
/// then the home's custom keys, after the app's `_ENVIRONMENT` template
/// when it has one.
pub fn app_text(home_file: &Path, template: Option<&str>) -> String {
    let home = file::read_raw(home_file);
    let mut s = String::new();
    if let Some(t) = template {
        s.push_str(t);
        s.push_str("\n\n\n");
    }
    s.push_str("# This app's variables: they win over the home's ENVIRONMENT.\n# Values starting with ./ are relative to the app's folder.\n");
    for x in DEFAULTS.iter().filter(|x| x.scope != Home) {
        let value = home
            .get(x.key)
            .filter(|v| !v.trim().is_empty())
            .map(String::as_str)
            .unwrap_or(x.value);
        s.push_str(&block(x.key, value, x.comment));
    }
    let known = |k: &str| DEFAULTS.iter().any(|x| x.key == k);
    for (k, v) in home
        .iter()
        .filter(|(k, v)| !known(k) && !v.trim().is_empty())
    {
        s.push_str(&format!("{k}={v}\n"));
    }
    s
}

/// Writes `<home>/ENVIRONMENT` when missing. Returns whether it wrote it.
pub fn ensure_home_file(home: &Path) -> Result<bool, EnvError> {
    let path = home.join("ENVIRONMENT");
    if path.exists() {
        return Ok(false);
    }
    file::write_atomic(&path, &home_text())?;
    Ok(true)
}

/// Writes the app's ENVIRONMENT when missing (see [`app_text`]). Returns
/// whether it wrote it.
pub fn ensure_app_file(home: &Path, app_dir: &Path) -> Result<bool, EnvError> {
    let path = file::app_file(app_dir);
    if path.exists() {
        return Ok(false);
    }
    let template_path = path.with_file_name("_ENVIRONMENT");
    let template = std::fs::read(&template_path).ok().map(|b| file::decode(&b));
    file::write_atomic(
        &path,
        &app_text(&home.join("ENVIRONMENT"), template.as_deref()),
    )?;
    Ok(true)
}

/// Creates the folders an ENVIRONMENT file names (absolute or `./` values,
/// except file keys), as Pinokio does before a shell starts, so tools that
/// expect their cache or temp folder to exist find it. Like Pinokio's, this
/// is best effort: what could not be made is returned, to be told, and the
/// shell still starts.
pub fn create_folders(env_file: &Path, base: &Path) -> Vec<EnvError> {
    let mut failed = vec![];
    for (key, value) in file::read_resolved(env_file, base) {
        if FILE_KEYS.contains(&key.as_str()) || !value.starts_with('/') {
            continue;
        }
        let dir = PathBuf::from(&value);
        if dir.exists() {
            continue;
        }
        if let Err(e) = std::fs::create_dir_all(&dir) {
            failed.push(EnvError::Folder {
                key,
                file: env_file.to_path_buf(),
                dir,
                source: e,
            });
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_key_appears_once_and_parses() {
        let text = home_text();
        let parsed = file::parse(&text);
        for x in DEFAULTS.iter().filter(|x| x.scope != App) {
            let hits: Vec<_> = parsed.iter().filter(|a| a.key == x.key).collect();
            assert_eq!(hits.len(), 1, "{}", x.key);
            assert_eq!(hits[0].value, x.value.trim(), "{}", x.key);
        }
        assert!(
            file::validate(&text).is_empty(),
            "{:?}",
            file::validate(&text)
        );
    }
}
