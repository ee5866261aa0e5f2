//! `net`: an HTTP request (via curl, so no TLS stack is linked in). The
//! response body is parsed as JSON when it is JSON.

use serde_json::Value;

use super::{req_str, Flow};
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

pub fn request(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let url = req_str(params, "url")?;
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let method = params
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("get")
        .to_uppercase();
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "-L", "-X", &method, url]);
    for (k, v) in params
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        cmd.args(["-H", &format!("{k}: {}", crate::util::scalar_string(v))]);
    }
    if let Some(d) = params.get("data").or_else(|| params.get("body")) {
        let body = if d.is_string() {
            crate::util::scalar_string(d)
        } else {
            d.to_string()
        };
        cmd.args(["--data-binary", &body]);
    }
    let out = cmd
        .output()
        .map_err(|e| MethodError::msg(format!("curl: {e}")))?;
    if !out.status.success() {
        return Err(MethodError::msg(format!(
            "{method} {url} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(Flow::Next(
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}
