//! `fs.download`: curl in the run's terminal (so its progress bar streams
//! like any command). A file that is already there is skipped; a transfer
//! goes to `<file>.part`, resumes from it, and is renamed only when
//! complete, so an interrupted download never looks finished.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{any_str, shell, uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::runner::StepCtx;

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
    let target = |url: &str| match &dest {
        Dest::File(p) => p.clone(),
        Dest::Dir(d) => d.join(remote_name(url)),
    };
    if ctx.is_plan() {
        // Each file, and whether it is already there (then skipped).
        let files = urls
            .iter()
            .map(|url| {
                let path = target(url);
                serde_json::json!({ "url": url, "path": path, "present": path.is_file() })
            })
            .collect();
        ctx.annotate_plan("downloads", Value::Array(files));
        return Ok(Flow::Next(Value::Null));
    }
    for url in &urls {
        fetch(ctx, params, url, &target(url))?;
    }
    Ok(Flow::Next(Value::Null))
}

/// Downloads one URL to `target` unless it is already there.
fn fetch(ctx: &StepCtx<'_>, params: &Value, url: &str, target: &Path) -> MethodResult<()> {
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
        let why = ran.err().map(|e| format!(": {e}")).unwrap_or_default();
        return Err(MethodError::msg(format!(
            "fs.download of {url} failed; {} was not written (a partial download stays in its .part file and resumes next time){why}",
            target.display()
        )));
    }
    Ok(())
}

/// curl to `<target>.part` with resume (`-C -`), up to 10 retries, an
/// attempt with no progress for 60 s aborted; a server that cannot resume
/// (curl exit 33) gets a fresh transfer; the `.part` is renamed at the end.
fn curl_line(url: &str, target: &Path) -> String {
    let part = shell::quote(&format!("{}.part", target.display()));
    let (u, t) = (shell::quote(url), shell::quote(&target.to_string_lossy()));
    let curl = "curl -fL --retry 10 --retry-delay 2 --speed-limit 1 --speed-time 60";
    format!(
        "{{ {curl} -C - -o {part} {u} || {{ [ $? -eq 33 ] && rm -f {part} && {curl} -o {part} {u}; }}; }} && mv -f {part} {t}"
    )
}

/// The server's name for `url`: `Content-Disposition` of a 1-byte GET
/// (after redirects), else the last segment of the final URL, else of `url`.
fn remote_name(url: &str) -> String {
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
    disposition
        .or_else(|| effective.and_then(url_name))
        .or_else(|| url_name(url))
        .unwrap_or_else(|| "download".into())
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
}
