//! Files of an app's folder that the dashboard hands out or takes in: its
//! icon (from `pinokio.json`'s `icon`) and uploads for `type: "file"` form
//! fields. Every path comes from an app or a person, so each one is checked
//! to stay inside the app's folder: no absolute paths, no `..`, and no
//! symlink that leads out (checked on the resolved path).

use std::path::{Component, Path, PathBuf};

use super::error::{AppsError, Result};
use super::Apps;

/// Image types an icon may have, by extension, with what they are served as.
/// Anything else (HTML, scripts, the app's `ENVIRONMENT`...) is never served.
pub const ICON_TYPES: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("svg", "image/svg+xml"),
];

/// Icons larger than this are refused (an icon, not a photo album).
pub const ICON_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// `rel` resolved inside `dir`, or why not. The file need not exist yet:
/// the deepest existing ancestor is what must resolve inside `dir`.
pub fn inside(app: &str, dir: &Path, rel: &str) -> Result<PathBuf> {
    let bad = |why: &str| AppsError::BadPath {
        app: app.to_string(),
        path: rel.to_string(),
        why: why.to_string(),
    };
    let rel_path = Path::new(rel.trim_start_matches("./"));
    if rel.is_empty() || rel_path.is_absolute() || rel.contains('\\') || rel.contains('\0') {
        return Err(bad("only relative paths are allowed"));
    }
    if rel_path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(bad("`..` is not allowed"));
    }
    let root = dir
        .canonicalize()
        .map_err(AppsError::io(format!("resolving {}", dir.display())))?;
    let full = root.join(rel_path);
    let mut existing = full.as_path();
    while !existing.exists() {
        existing = existing.parent().unwrap_or(&root);
    }
    let resolved = existing
        .canonicalize()
        .map_err(AppsError::io(format!("resolving {}", existing.display())))?;
    if !resolved.starts_with(&root) {
        return Err(bad("it leads out of the app's folder"));
    }
    Ok(full)
}

/// The content type of an icon file, if its extension is an image's.
pub fn icon_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    ICON_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, mime)| *mime)
}

impl Apps {
    /// The app's icon file: `icon` (from its `pinokio.json`/`pinokio.js`,
    /// recorded at install, else read from the launcher now) relative to the
    /// app's folder, or to its `pinokio/` folder where the launcher lives.
    pub async fn icon(&self, app: &str) -> Result<(PathBuf, &'static str)> {
        let dir = self.shared().existing_app(app)?;
        let recorded = self.shared().store.app(app).await?.and_then(|r| r.icon);
        let icon = match recorded {
            Some(i) => Some(i),
            None => self.menu(app).await.ok().and_then(|m| m.icon),
        };
        let icon = icon.ok_or_else(|| AppsError::NoIcon {
            app: app.to_string(),
            why: "its launcher names none".into(),
        })?;
        icon_file(app, &dir, &icon)
    }
}

/// Checks `icon` names an image inside `dir` (or `dir/pinokio`), small enough.
pub fn icon_file(app: &str, dir: &Path, icon: &str) -> Result<(PathBuf, &'static str)> {
    let no = |why: String| AppsError::NoIcon {
        app: app.to_string(),
        why,
    };
    if icon.contains("://") || icon.starts_with("data:") {
        return Err(no(format!("{icon:?} is a URL, not a file in the app")));
    }
    let mime = icon_type(Path::new(icon)).ok_or_else(|| {
        no(format!(
            "{icon:?} is not an image file (png, jpg, gif, webp, avif, ico or svg)"
        ))
    })?;
    let mut tried = Vec::new();
    for base in [dir.to_path_buf(), dir.join("pinokio")] {
        if !base.is_dir() {
            continue;
        }
        let path = inside(app, &base, icon)?;
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.len() <= ICON_MAX_BYTES => return Ok((path, mime)),
            Ok(m) if m.is_file() => {
                return Err(no(format!("{icon:?} is over {ICON_MAX_BYTES} bytes")))
            }
            _ => tried.push(path.display().to_string()),
        }
    }
    Err(no(format!("no file at {}", tried.join(" or "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_app_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let app = tmp.path().join("app");
        std::fs::create_dir_all(app.join("img")).unwrap();
        std::fs::write(tmp.path().join("secret.png"), b"x").unwrap();
        std::os::unix::fs::symlink(tmp.path(), app.join("out")).unwrap();
        assert!(inside("a", &app, "img/icon.png").is_ok());
        assert!(inside("a", &app, "./new/dir/file.bin").is_ok());
        for bad in [
            "../secret.png",
            "img/../../secret.png",
            "/etc/passwd",
            "out/secret.png",
            "..\\secret.png",
            "",
        ] {
            assert!(inside("a", &app, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_images_are_icons() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("icon.PNG"), b"png").unwrap();
        std::fs::write(tmp.path().join("ENVIRONMENT"), b"TOKEN=x").unwrap();
        std::fs::create_dir(tmp.path().join("pinokio")).unwrap();
        std::fs::write(tmp.path().join("pinokio/logo.svg"), b"<svg/>").unwrap();
        assert_eq!(
            icon_file("a", tmp.path(), "icon.PNG").unwrap().1,
            "image/png"
        );
        assert_eq!(
            icon_file("a", tmp.path(), "logo.svg").unwrap().1,
            "image/svg+xml"
        );
        for bad in [
            "ENVIRONMENT",
            "missing.png",
            "https://x/y.png",
            "../a/icon.PNG",
        ] {
            assert!(icon_file("a", tmp.path(), bad).is_err(), "{bad}");
        }
    }
}
