//! Moving an app folder's files into a drive folder that may already hold
//! files of other apps, without losing or overwriting any.
//!
//! On a name clash: two folders merge (recursively); two files with the
//! same bytes keep the drive's copy (the app's is the same data, dropped);
//! anything else keeps the drive's entry under its name, because other apps
//! already see it there, and moves the app's entry next to it as
//! `<stem> (<app>)<.ext>` (`… (<app> 2)…` if that is taken too). The
//! extension is kept so model loaders that list `*.safetensors` still show
//! the renamed file.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::{DriveError, Result};
use super::links::move_path;

/// What a merge did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Merged {
    /// Entries moved into the drive under their own name.
    pub moved: usize,
    /// Files dropped because the drive already had the same bytes.
    pub duplicates: usize,
    /// App entries that clashed and were moved under another name: (drive entry kept, new name of the app's).
    pub renamed: Vec<(PathBuf, PathBuf)>,
}

/// Moves every entry of `src` into `dst` (created), leaving `src` empty.
pub fn merge_into(src: &Path, dst: &Path, app: &str, out: &mut Merged) -> Result<()> {
    std::fs::create_dir_all(dst).map_err(DriveError::io("creating", dst))?;
    let entries = std::fs::read_dir(src).map_err(DriveError::io("reading", src))?;
    for entry in entries {
        let entry = entry.map_err(DriveError::io("reading", src))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let Ok(existing) = std::fs::symlink_metadata(&to) else {
            move_path(&from, &to)?;
            out.moved += 1;
            continue;
        };
        let ours = std::fs::symlink_metadata(&from).map_err(DriveError::io("reading", &from))?;
        if ours.is_dir() && existing.is_dir() {
            merge_into(&from, &to, app, out)?;
            std::fs::remove_dir(&from).map_err(DriveError::io("removing", &from))?;
        } else if ours.is_file() && existing.is_file() && same_bytes(&from, &to)? {
            std::fs::remove_file(&from).map_err(DriveError::io("removing", &from))?;
            out.duplicates += 1;
        } else {
            let free = free_name(&to, app);
            move_path(&from, &free)?;
            out.renamed.push((to, free));
        }
    }
    Ok(())
}

/// `dir/<stem> (<app>)<.ext>`, numbered until nothing is there.
fn free_name(taken: &Path, app: &str) -> PathBuf {
    let name = taken
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    (1..)
        .map(|n| {
            let tag = if n == 1 {
                app.to_string()
            } else {
                format!("{app} {n}")
            };
            taken.with_file_name(format!("{stem} ({tag}){ext}"))
        })
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .expect("an unused name exists")
}

/// Whether two files hold the same bytes (sizes first, then content).
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(DriveError::io("reading", p))
    };
    if size(a)? != size(b)? {
        return Ok(false);
    }
    let open = |p: &Path| File::open(p).map_err(DriveError::io("reading", p));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let na = read_full(&mut fa, &mut ba).map_err(DriveError::io("reading", a))?;
        let nb = read_full(&mut fb, &mut bb).map_err(DriveError::io("reading", b))?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashing_names_get_the_app_tag_before_the_extension() {
        let d = tempfile::tempdir().unwrap();
        let taken = d.path().join("model.safetensors");
        std::fs::write(&taken, b"a").unwrap();
        assert_eq!(
            free_name(&taken, "forge"),
            d.path().join("model (forge).safetensors")
        );
        std::fs::write(d.path().join("model (forge).safetensors"), b"b").unwrap();
        assert_eq!(
            free_name(&taken, "forge"),
            d.path().join("model (forge 2).safetensors")
        );
        assert_eq!(
            free_name(&d.path().join("README"), "x"),
            d.path().join("README (x)")
        );
    }
}
