//! Steps that call a method of an app's own JS module:
//! `{uri: "./index.js", method: "config", params}` (older launchers).

use serde_json::{json, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

pub fn call(ctx: &StepCtx<'_>, uri: &str, method: &str, params: &Value) -> MethodResult<Flow> {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Err(MethodError::msg(format!(
            "unknown method '{method}' (remote module {uri} is not supported)"
        )));
    }
    let file = ctx.path(uri);
    if !file.is_file() {
        return Err(MethodError::msg(format!(
            "unknown method '{method}': module {} does not exist",
            file.display()
        )));
    }
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let req =
        json!({ "params": params, "cwd": ctx.loc.dir, "path": ctx.loc.file, "method": method });
    let v = ctx
        .run
        .js
        .call_module(&file, method, &req)
        .map_err(|e| MethodError::msg(e.0))?;
    Ok(Flow::Next(v))
}
