//! `net`: an HTTP request with axios' conventions (via curl, so no TLS
//! stack is linked in): an object `data` is sent as JSON with
//! `Content-Type: application/json` (unless a header says otherwise),
//! `params` become the query string, a status of 400 or more is an error,
//! and the response body is parsed as JSON when it is JSON.

use std::process::Command;

use serde_json::{Map, Value};

use super::{req_str, Flow};
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

pub fn request(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let url = crate::util::with_query(req_str(params, "url")?, params.get("params"));
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let method = params
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("get")
        .to_uppercase();
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-L", "-X", &method, "-w", "\n%{http_code}"]);
    if let Some(ms) = params
        .get("timeout")
        .and_then(Value::as_f64)
        .filter(|t| *t > 0.0)
    {
        cmd.args(["--max-time", &format!("{:.3}", ms / 1000.0)]);
    }
    let headers = params
        .get("headers")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in &headers {
        cmd.args(["-H", &format!("{k}: {}", crate::util::scalar_string(v))]);
    }
    if let Some(d) = params.get("data").or_else(|| params.get("body")) {
        let (body, json) = match d {
            Value::String(s) => (s.clone(), false),
            Value::Null => (String::new(), false),
            other => (other.to_string(), true),
        };
        if json && !has_header(&headers, "content-type") {
            cmd.args(["-H", "Content-Type: application/json"]);
        }
        cmd.args(["--data-binary", &body]);
    }
    cmd.arg(&url);
    let out = cmd
        .output()
        .map_err(|e| MethodError::msg(format!("net {method} {url}: cannot run curl: {e}")))?;
    if !out.status.success() {
        return Err(MethodError::msg(format!(
            "net {method} {url} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    let status: u16 = status.trim().parse().unwrap_or(0);
    if status >= 400 {
        let excerpt: String = body.chars().take(500).collect();
        return Err(MethodError::msg(format!(
            "net {method} {url}: Request failed with status code {status}: {excerpt}"
        )));
    }
    Ok(Flow::Next(
        serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string())),
    ))
}

fn has_header(headers: &Map<String, Value>, name: &str) -> bool {
    headers.keys().any(|k| k.eq_ignore_ascii_case(name))
}

/// `gradio.predict` needs Pinokio's bundled Gradio client, which this engine
/// does not have: a precise error instead of "unknown method".
pub fn gradio_predict(_ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let uri = params.get("uri").and_then(Value::as_str).unwrap_or("?");
    Err(MethodError::msg(format!(
        "gradio.predict ({uri}) is not supported by this engine; call the app's HTTP API with `net` or run a Python gradio_client script with shell.run"
    )))
}
