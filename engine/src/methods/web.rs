//! `web.open`/`browser.open`/`fs.open` (hand a URL or path to the person)
//! and `proxy.start`/`proxy.stop` (deprecated upstream; reported to the host).

use serde_json::Value;

use super::{any_str, uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::host::Interaction;
use crate::runner::StepCtx;

/// Hands a URL to the person. Addresses with a scheme (`http(s)://`...)
/// go as given; a file path (relative, absolute, `~/`, git URI) becomes
/// `file://<absolute path>` with `params.path` set to that path, which the
/// host maps to its own page for the file (Pinokio: its file page URL).
/// `uri.open` appends `params` as a query string.
pub fn open(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    let raw = any_str(params, &["uri", "url", "path"])
        .ok_or_else(|| MethodError::msg("params.uri (or url/path) is required"))?;
    let method = step
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("web.open");
    let mut params = params.clone();
    let url = match local_file(ctx, raw)? {
        Some(p) => {
            params["path"] = Value::from(p.to_string_lossy());
            format!("file://{}", p.display())
        }
        None => with_query(raw, method, &params),
    };
    let params = &params;
    if !ctx.is_plan() {
        ctx.ask(
            method,
            params,
            Interaction::Open {
                script: ctx.loc.file.clone(),
                url: url.clone(),
                params: params.clone(),
            },
        )?;
    }
    Ok(Flow::Next(Value::from(url)))
}

/// The local file `raw` names, or `None` for an address to open as given
/// (a git URI of a repository not cloned here is opened as given too).
fn local_file(ctx: &StepCtx<'_>, raw: &str) -> MethodResult<Option<std::path::PathBuf>> {
    if crate::paths::is_web(raw) {
        return Ok(is_git_file(raw).then(|| uri_path(ctx, raw).ok()).flatten());
    }
    if has_scheme(raw) {
        return Ok(None);
    }
    uri_path(ctx, raw).map(Some)
}

/// `scheme:` prefix (`http:`, `mailto:`, `vscode:`...), not a Windows drive.
fn has_scheme(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// A web address naming a file inside a git repository we have cloned
/// (`https://github.com/o/r.git/README.md`): opened as that local file.
fn is_git_file(s: &str) -> bool {
    crate::paths::split_git_uri(s).is_some_and(|(_, sub)| !sub.is_empty())
}

/// `uri.open {uri, params}`: params appended as a query string.
fn with_query(uri: &str, method: &str, params: &Value) -> String {
    if method != "uri.open" {
        return uri.to_string();
    }
    crate::util::with_query(uri, params.get("params"))
}

pub fn proxy(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let method = step
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("proxy.start");
    let answer = ctx.ask(
        method,
        params,
        Interaction::Proxy {
            script: ctx.loc.file.clone(),
            params: params.clone(),
        },
    )?;
    Ok(Flow::Next(answer))
}
