//! Which repository an app is. Peers name each other by git URL (§6.3), so
//! a drive remembers the URLs of the apps that use it. An app folder that
//! is not a clone is known by its path instead.

use std::path::Path;

/// The app's identity: its normalised `remote.origin.url`, else `dir:<path>`.
pub fn of_app(app_dir: &Path) -> String {
    crate::paths::origin_url(app_dir)
        .map(|u| normalize(&u))
        .unwrap_or_else(|| format!("dir:{}", app_dir.display()))
}

/// Spellings of one repository compare equal: case, a trailing `/` or
/// `.git`, and `http` vs `https` do not matter.
pub fn normalize(url: &str) -> String {
    let mut u = url.trim().to_lowercase();
    while u.ends_with('/') {
        u.pop();
    }
    if let Some(s) = u.strip_suffix(".git") {
        u = s.to_string();
    }
    if let Some(rest) = u.strip_prefix("http://") {
        u = format!("https://{rest}");
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_repository_compare_equal() {
        let a = normalize("https://github.com/Comfy/ComfyUI.git");
        assert_eq!(a, normalize("http://github.com/comfy/comfyui/"));
        assert_ne!(a, normalize("https://github.com/comfy/comfyui-2"));
    }

    #[test]
    fn origin_is_read_from_the_git_config() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".git")).unwrap();
        std::fs::write(
            d.path().join(".git/config"),
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = x\n[remote \"origin\"]\n\turl = https://h/o/r.git\n",
        )
        .unwrap();
        assert_eq!(
            crate::paths::origin_url(d.path()).as_deref(),
            Some("https://h/o/r.git")
        );
        assert_eq!(of_app(d.path()), "https://h/o/r");
        let plain = tempfile::tempdir().unwrap();
        assert!(of_app(plain.path()).starts_with("dir:"));
    }
}
