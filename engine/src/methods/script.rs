//! `script.start` (run another script to its end, with `params` as its
//! `args`), `script.stop`, `script.return` and `script.download` (git clone).

use serde_json::Value;

use super::{req_str, shell, Flow};
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

/// Runs the script at `uri` (relative to this script) on the same run.
/// Its result — what it `script.return`s, else its last step's — is ours.
pub fn start(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let uri = req_str(params, "uri")?;
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Err(MethodError::msg(format!(
            "script.start of a remote script ({uri}) is not supported"
        )));
    }
    let file = ctx.path(uri);
    if !ctx.is_plan() && ctx.run.kernel.registry.is_running(&file) {
        // Like Pinokio: a script that already runs is not started twice.
        ctx.run.events.emit(crate::events::Event::Log {
            script: ctx.loc.file.clone(),
            text: format!("{uri} already running. Continuing..."),
        });
        return Ok(Flow::Next(Value::Null));
    }
    let args = params
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let v = ctx.run.run_script(&file, args, false).map_err(|e| {
        if e.is_stopped() {
            MethodError::Stopped
        } else {
            MethodError::Nested(Box::new(e))
        }
    })?;
    Ok(Flow::Next(v))
}

/// Stops another running script (`uri`), or this run when none is given.
pub fn stop(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    match params.get("uri").and_then(Value::as_str) {
        Some(uri) => {
            if let Some(h) = ctx.run.kernel.registry.get(&ctx.path(uri)) {
                if !h.same(&ctx.run.stop) {
                    h.stop();
                    return Ok(Flow::Next(Value::Null));
                }
            }
            Ok(Flow::Next(Value::Null))
        }
        None => Err(MethodError::Stopped),
    }
}

/// Ends this script, handing `params` back to the caller.
pub fn ret(_ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    Ok(Flow::Return(params.clone()))
}

/// `{uri, path?}`: clones a git repository.
pub fn download(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let uri = req_str(params, "uri")?;
    let dest = params
        .get("path")
        .or_else(|| params.get("dest"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let cmd = format!(
        "git clone {} {}",
        shell::quote(uri),
        if dest.is_empty() {
            String::new()
        } else {
            shell::quote(dest)
        }
    );
    shell::run_quiet(ctx, &serde_json::json!({ "message": cmd.trim_end() }))
}
