//! The installed distributions of a site-packages folder, read from their
//! `.dist-info` folders: name and version from the folder name, files from
//! `RECORD` (the list every installer, pip or uv, writes).

use std::path::{Path, PathBuf};

use super::error::{DriveError, Result};

/// One installed distribution.
#[derive(Debug, Clone)]
pub struct Dist {
    /// PEP 503 normalised (`typing-extensions`).
    pub name: String,
    pub version: String,
    /// `typing_extensions-4.12.2.dist-info`.
    pub dist_info: String,
    /// RECORD entries inside site-packages (scripts in `../../bin` are left out).
    pub files: Vec<RecordEntry>,
    /// Installed with `pip install -e`: its code lives elsewhere.
    pub editable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordEntry {
    pub path: String,
    /// `sha256=...`, empty for RECORD itself and compiled files.
    pub hash: String,
    pub size: Option<u64>,
}

/// Every distribution with a RECORD in `site`, sorted by folder name.
pub fn scan(site: &Path) -> Result<Vec<Dist>> {
    let mut names: Vec<String> = std::fs::read_dir(site)
        .map_err(DriveError::io("reading", site))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dist-info"))
        .collect();
    names.sort();
    let mut out = vec![];
    for dist_info in names {
        let dir = site.join(&dist_info);
        let Ok(text) = std::fs::read_to_string(dir.join("RECORD")) else {
            continue;
        };
        let Some((name, version)) = dist_info
            .strip_suffix(".dist-info")
            .and_then(|s| s.rsplit_once('-'))
        else {
            continue;
        };
        out.push(Dist {
            name: normalize_name(name),
            version: version.to_string(),
            files: parse_record(&text),
            editable: is_editable(&dir),
            dist_info,
        });
    }
    Ok(out)
}

/// The `lib/pythonX.Y/site-packages` of a venv, and `X.Y`.
pub fn site_packages(venv: &Path) -> Option<(PathBuf, String)> {
    let lib = venv.join("lib");
    let mut found: Vec<(PathBuf, String)> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("python")?.to_string();
            let site = e.path().join("site-packages");
            site.is_dir().then_some((site, version))
        })
        .collect();
    found.sort();
    found.pop()
}

/// PEP 503: lowercase, runs of `-_.` become `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// RECORD is CSV: `path,hash,size`; a path with a comma is quoted.
pub fn parse_record(text: &str) -> Vec<RecordEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let fields = csv_fields(line);
            let path = fields.first()?.clone();
            if path.starts_with("..") || path.starts_with('/') {
                return None;
            }
            Some(RecordEntry {
                path,
                hash: fields.get(1).cloned().unwrap_or_default(),
                size: fields.get(2).and_then(|s| s.parse().ok()),
            })
        })
        .collect()
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("one field").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

fn is_editable(dist_info: &Path) -> bool {
    std::fs::read(dist_info.join("direct_url.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.pointer("/dir_info/editable").and_then(|e| e.as_bool()))
        .unwrap_or(false)
}

/// What identifies a build of a package: its files and their hashes,
/// without the installer's own files (`INSTALLER`, `RECORD`, ...) and
/// compiled caches. A RECORD without hashes (hand-made wheels) falls back
/// to hashing the files in `site`. `None`: nothing to compare.
pub fn signature(dist: &Dist, site: &Path) -> Option<u64> {
    let prefix = format!("{}/", dist.dist_info);
    let own: Vec<&RecordEntry> = dist
        .files
        .iter()
        .filter(|e| !e.path.starts_with(&prefix) && !e.path.ends_with(".pyc"))
        .collect();
    let mut lines: Vec<String> = own
        .iter()
        .filter(|e| !e.hash.is_empty())
        .map(|e| format!("{},{}\n", e.path, e.hash))
        .collect();
    if lines.is_empty() {
        for e in &own {
            let bytes = std::fs::read(site.join(&e.path)).ok()?;
            lines.push(format!("{},fnv={:x}\n", e.path, fnv1a(&bytes)));
        }
    }
    if lines.is_empty() {
        return None;
    }
    lines.sort();
    Some(fnv1a(lines.concat().as_bytes()))
}

/// FNV-1a, 64 bit: stable across builds, unlike std's hasher, so a store
/// folder named after it is found again by a later version.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_parse_with_quotes_and_skip_scripts() {
        let e = parse_record(
            "foo/__init__.py,sha256=abc,12\n\"foo/a,b.py\",sha256=x,3\n../../../bin/foo,sha256=y,9\nfoo-1.dist-info/RECORD,,\n",
        );
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].path, "foo/a,b.py");
        assert_eq!(e[0].size, Some(12));
        assert_eq!(e[2].hash, "");
    }

    #[test]
    fn names_are_pep503_normalised() {
        assert_eq!(normalize_name("Typing_Extensions"), "typing-extensions");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
    }
}
