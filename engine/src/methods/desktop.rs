//! Methods of Pinokio's desktop app with no meaning on a cloud machine
//! (clipboard, native windows, the app store...). Rather than "unknown
//! method", each becomes a notice the dashboard shows (through the
//! [`crate::host::Host`], like `notify`), and the step goes on with `null`.

use serde_json::{json, Value};

use super::Flow;
use crate::error::MethodResult;
use crate::runner::StepCtx;

/// Exact names and `prefix.*` families (spec §4.9, §4.8).
const NAMES: &[&str] = &[
    "app.launch",
    "app.search",
    "app.info",
    "app.refresh",
    "github.create",
    "github.fork",
    "clipboard.copy",
    "clipboard.paste",
    "loading.start",
    "loading.end",
    "key.set",
    "key.get",
    "push",
    "terminal.upload",
    "hf.login",
    "hf.logout",
];
const FAMILIES: &[&str] = &["htmlmodal."];

pub fn is_desktop(method: &str) -> bool {
    NAMES.contains(&method) || FAMILIES.iter().any(|f| method.starts_with(f))
}

/// Tells the person what the desktop app would have done.
pub fn notice(ctx: &StepCtx<'_>, method: &str, params: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let text = match method {
        "clipboard.copy" => format!(
            "Copy this: {}",
            crate::util::scalar_string(params.get("text").unwrap_or(params))
        ),
        "loading.start" | "loading.end" => {
            let m = params.get("message").or_else(|| params.get("html"));
            match m.map(crate::util::scalar_string).filter(|m| !m.is_empty()) {
                Some(m) => m,
                None => return Ok(Flow::Next(Value::Null)),
            }
        }
        _ => format!("`{method}` is a Pinokio desktop feature; on this machine it does nothing."),
    };
    let note = json!({ "html": text, "method": method, "params": params, "type": "info" });
    ctx.notify(method, &note)?;
    Ok(Flow::Next(Value::Null))
}
