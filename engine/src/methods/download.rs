//! `fs.download`: curl in the run's terminal (so its progress bar streams
//! like any command). A file that is already there is skipped; a transfer
//! goes to `<file>.part`, resumes from it, and is renamed only when
//! complete, so an interrupted download never looks finished.
//!
//! The disk guard: when the server announces the size, a download that would
//! not fit (with a margin) is refused before it starts; one that fills the
//! disk anyway stops with the same "disk full" message and its `.part` is
//! removed (a disk left at zero bytes breaks everything else on it).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{any_str, shell, uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::runner::StepCtx;
use crate::sys::disk;

/// Where downloads land.
enum Dest {
    /// `dir`: this folder, under the server's file name.
    Dir(PathBuf),
    /// `path`: exactly this file.
    File(PathBuf),
}

/// `{uri|url: string | [string], dir}` or `{uri|url: string, path}`.
pub fn download(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let urls = crate::util::string_or_list(params.get("uri").or_else(|| params.get("url")))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| MethodError::msg("params.uri (or url) is required"))?;
    let dest = match (any_str(params, &["dir"]), any_str(params, &["path"])) {
        (Some(d), _) => Dest::Dir(uri_path(ctx, d)?),
        (None, Some(p)) if urls.len() == 1 => Dest::File(uri_path(ctx, p)?),
        (None, Some(_)) => {
            return Err(MethodError::msg(
                "params.path names one file; use params.dir to download several URLs",
            ))
        }
        (None, None) => Dest::Dir(ctx.loc.dir.clone()),
    };
    // Into a folder the server names the file, so it is asked first.
    let target = |url: &str| match &dest {
        Dest::File(p) => (p.clone(), None),
        Dest::Dir(d) => {
            let probe = probe(url);
            (d.join(probe.name(url)), Some(probe))
        }
    };
    if ctx.is_plan() {
        // Each file, and whether it is already there (then skipped).
        let files = urls
            .iter()
            .map(|url| {
                let (path, _) = target(url);
                serde_json::json!({ "url": url, "path": path, "present": path.is_file() })
            })
            .collect();
        ctx.annotate_plan("downloads", Value::Array(files));
        return Ok(Flow::Next(Value::Null));
    }
    for url in &urls {
        let (path, probed) = target(url);
        fetch(ctx, params, url, &path, probed)?;
    }
    Ok(Flow::Next(Value::Null))
}

/// Downloads one URL to `target` unless it is already there.
fn fetch(
    ctx: &StepCtx<'_>,
    params: &Value,
    url: &str,
    target: &Path,
    probed: Option<Probe>,
) -> MethodResult<()> {
    if target.is_file() {
        say(
            ctx,
            &format!("{} already exists; skipping {url}", target.display()),
        );
        return Ok(());
    }
    let dir = target.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir)
        .map_err(|e| MethodError::msg(format!("fs.download: {}: {e}", dir.display())))?;
    let size = probed.unwrap_or_else(|| probe(url)).size;
    let env = ctx.env_map(params.get("env"));
    let guard = Guard {
        url,
        part: part_path(target),
        size,
    };
    guard.before(dir, &env)?;
    let sh = serde_json::json!({
        "message": curl_line(url, target),
        "path": dir.to_string_lossy(),
        "env": params.get("env").cloned().unwrap_or(Value::Null),
    });
    // Success is the file being there, whatever the shell reports.
    let ran = shell::run_quiet(ctx, &sh);
    if let Err(MethodError::Stopped) = ran {
        return Err(MethodError::Stopped);
    }
    if !target.is_file() {
        guard.after_failure(dir)?;
        let why = ran.err().map(|e| format!(": {e}")).unwrap_or_default();
        return Err(MethodError::msg(format!(
            "fs.download of {url} failed; {} was not written (a partial download stays in its .part file and resumes next time){why}",
            target.display()
        )));
    }
    Ok(())
}

/// Where a transfer to `target` is written until it is complete.
fn part_path(target: &Path) -> PathBuf {
    let mut p = target.as_os_str().to_owned();
    p.push(".part");
    PathBuf::from(p)
}

/// The disk guard around one transfer.
struct Guard<'a> {
    url: &'a str,
    part: PathBuf,
    /// Bytes the server announced, when it did.
    size: Option<u64>,
}

/// Below this many free bytes, a transfer that failed is taken to have
/// filled the disk (curl says only "failure writing output", exit 23).
const NEARLY_FULL: u64 = 16 << 20;

impl Guard<'_> {
    fn part_len(&self) -> u64 {
        std::fs::metadata(&self.part).map_or(0, |m| m.len())
    }

    /// Refuses a transfer of announced size that would not fit (what a
    /// resumed `.part` already holds is not needed again).
    fn before(
        &self,
        dir: &Path,
        env: &std::collections::BTreeMap<String, String>,
    ) -> MethodResult<()> {
        let Some(size) = self.size else {
            return Ok(());
        };
        let space = disk::space_in(dir, |k| env.get(k).cloned())
            .map_err(|e| MethodError::msg(format!("fs.download: {}: {e}", dir.display())))?;
        disk::check(&space, size.saturating_sub(self.part_len()))
            .map_err(|s| MethodError::msg(format!("fs.download of {}: {s}", self.url)))
    }

    /// After a failed transfer: when the disk is (nearly) full, removes the
    /// `.part` (it cannot finish here and holds the space everything else
    /// needs) and fails with the disk-full message; otherwise lets the
    /// `.part` stay for the next run to resume.
    fn after_failure(&self, dir: &Path) -> MethodResult<()> {
        let Ok(now) = disk::space(dir) else {
            return Ok(());
        };
        let written = self.part_len();
        let short = self
            .size
            .is_some_and(|s| s.saturating_sub(written) > now.free);
        if now.free >= NEARLY_FULL && !short {
            return Ok(());
        }
        let _ = std::fs::remove_file(&self.part);
        let free = disk::space(dir).map_or(now.free, |s| s.free);
        let shortage = disk::Shortage {
            mount: now.mount,
            bytes: self.size.unwrap_or(written),
            free,
            at_least: self.size.is_none(),
        };
        Err(MethodError::msg(format!(
            "fs.download of {} stopped: {shortage}",
            self.url
        )))
    }
}

/// curl to `<target>.part` with resume (`-C -`), up to 10 retries, an
/// attempt with no progress for 60 s aborted; a server that cannot resume
/// (curl exit 33) gets a fresh transfer; the `.part` is renamed at the end.
/// curl's own exit code is the shell's (23: it could not write).
fn curl_line(url: &str, target: &Path) -> String {
    let part = shell::quote(&part_path(target).to_string_lossy());
    let (u, t) = (shell::quote(url), shell::quote(&target.to_string_lossy()));
    let curl = "curl -fL --retry 10 --retry-delay 2 --speed-limit 1 --speed-time 60";
    format!(
        "{{ {curl} -C - -o {part} {u} || {{ rc=$?; [ $rc -eq 33 ] || exit $rc; rm -f {part} && {curl} -o {part} {u}; }}; }} && mv -f {part} {t}"
    )
}

/// What a 1-byte GET (after redirects) tells of a URL.
struct Probe {
    /// The server's file name (`Content-Disposition`, else the final URL's).
    name: Option<String>,
    /// The whole file's size (`Content-Range` total, or `Content-Length`
    /// of a full answer).
    size: Option<u64>,
}

impl Probe {
    /// The file name to save `url` under.
    fn name(&self, url: &str) -> String {
        self.name
            .clone()
            .or_else(|| url_name(url))
            .unwrap_or_else(|| "download".into())
    }
}

/// Asks the server about `url` with a 1-byte ranged GET (some servers
/// refuse HEAD, e.g. presigned S3 links).
fn probe(url: &str) -> Probe {
    let probe = std::process::Command::new("curl")
        .args([
            "-sSL",
            "--max-time",
            "30",
            "-r",
            "0-0",
            "-D",
            "-",
            "-o",
            "/dev/null",
        ])
        .args(["-w", "\n%{url_effective}", url])
        .output();
    let text = probe
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    parse_probe(&text)
}

/// Reads curl's `-D -` headers (every hop's) followed by the final URL.
fn parse_probe(text: &str) -> Probe {
    let disposition = text
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-disposition")
                .then(|| disposition_name(v))
                .flatten()
        })
        .next_back();
    let effective = text.lines().last().filter(|l| l.contains("://"));
    Probe {
        name: disposition.or_else(|| effective.and_then(url_name)),
        size: announced_size(text),
    }
}

/// The size the last response announces: the total of `Content-Range:
/// bytes 0-0/<total>`, else `Content-Length` of a full answer (`file://`
/// has no status line). Error answers announce nothing.
fn announced_size(text: &str) -> Option<u64> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().rposition(|l| l.starts_with("HTTP/"));
    let block = &lines[start.unwrap_or(0)..];
    let status = start.and_then(|i| lines[i].split_whitespace().nth(1));
    let header = |name: &str| {
        block.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    };
    match status {
        None | Some("200") => header("content-length")?.parse().ok(),
        Some("206") => header("content-range")?.rsplit('/').next()?.parse().ok(),
        Some(_) => None,
    }
}

/// `filename*=UTF-8''a%20b.bin` or `filename="a b.bin"`.
fn disposition_name(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let encoded = v.rsplit("''").next().unwrap_or(v);
                return safe_name(&percent_decode(encoded));
            }
            "filename" => plain = safe_name(v),
            _ => {}
        }
    }
    plain
}

/// The last path segment of a URL, percent-decoded.
fn url_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    safe_name(&percent_decode(path.rsplit('/').next()?))
}

/// A bare file name (no folders, not `.`/`..`).
fn safe_name(n: &str) -> Option<String> {
    let n = n.rsplit(['/', '\\']).next().unwrap_or(n).trim();
    (!n.is_empty() && n != "." && n != "..").then(|| n.to_string())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn say(ctx: &StepCtx<'_>, line: &str) {
    ctx.run.events.emit(Event::Output {
        script: ctx.loc.file.clone(),
        shell: format!("{}#{}", ctx.loc.file.display(), ctx.index),
        data: format!("[pinokio] {line}\r\n").into_bytes(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_disposition_or_url() {
        assert_eq!(
            disposition_name(r#"attachment; filename="model v1.safetensors""#).as_deref(),
            Some("model v1.safetensors")
        );
        assert_eq!(
            disposition_name("attachment; filename=x.bin; filename*=UTF-8''a%20b.bin").as_deref(),
            Some("a b.bin")
        );
        assert_eq!(
            url_name("https://h/x/resolve/main/m%2B1.ckpt?download=true").as_deref(),
            Some("m+1.ckpt")
        );
        assert_eq!(url_name("https://h/x/"), None);
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn the_size_is_the_last_answers_range_total_or_full_length() {
        let redirected = "HTTP/1.1 302 Found\r\nContent-Length: 99\r\nLocation: /x\r\n\r\n\
            HTTP/1.1 206 Partial\r\nContent-Length: 1\r\nContent-Range: bytes 0-0/6900000000\r\n\r\n\nhttps://h/x";
        assert_eq!(announced_size(redirected), Some(6_900_000_000));
        let full = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n\nhttps://h/x";
        assert_eq!(announced_size(full), Some(1234));
        assert_eq!(
            announced_size("Content-Length: 6\r\n\r\n\nfile:///a"),
            Some(6)
        );
        let unknown = "HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-0/*\r\n\r\n\nhttps://h/x";
        assert_eq!(announced_size(unknown), None);
        assert_eq!(
            announced_size("HTTP/1.1 404 No\r\nContent-Length: 9\r\n"),
            None
        );
        assert_eq!(parse_probe(redirected).name.as_deref(), Some("x"));
    }
}
