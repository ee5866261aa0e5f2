//! Steps whose method is JavaScript of the app (spec §1.3): a method of a
//! JS module, `{uri: "./index.js", method: "config", params}`, or a step
//! whose `method` is itself a function. Both get Pinokio's
//! `(req, ondata, kernel)`: `req` is the rendered step plus `cwd`, `input`,
//! `args`, `current`, `total`, `next` and `parent {path, uri, cwd, args,
//! body}`; what they return is the step's result.

use serde_json::{json, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

pub fn call(ctx: &StepCtx<'_>, uri: &str, method: &str, _params: &Value) -> MethodResult<Flow> {
    // `~/x`, git URIs of another installed app, absolute or script-relative.
    let file = super::uri_path(ctx, uri)
        .map_err(|e| MethodError::msg(format!("unknown method '{method}': {e}")))?;
    if !file.is_file() {
        return Err(MethodError::msg(format!(
            "unknown method '{method}': module {} does not exist",
            file.display()
        )));
    }
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let answer = ctx
        .run
        .js
        .call_step(ctx.script, Some(&file), method, &request(ctx))
        .map_err(|e| MethodError::msg(e.0))?;
    Ok(flow_of(answer))
}

/// The method's result, and where to go on: a method may set `req.next`
/// (an index, or null to end the script), as Pinokio's `jump` does.
fn flow_of(mut answer: Value) -> Flow {
    let value = answer["value"].take();
    if answer["moved"] != Value::Bool(true) {
        return Flow::Next(value);
    }
    match answer["next"].as_u64() {
        Some(n) => Flow::Jump(crate::runner::Target::Index(n as usize), value),
        None => Flow::End(value),
    }
}

/// A step whose `method` is a JS function (C-013).
pub fn inline(ctx: &StepCtx<'_>) -> MethodResult<Flow> {
    if ctx.is_plan() {
        ctx.record(crate::runner::INLINE, &Value::Null);
        return Ok(Flow::Next(Value::Null));
    }
    let answer = ctx
        .run
        .js
        .call_step(ctx.script, None, "", &request(ctx))
        .map_err(|e| MethodError::msg(e.0))?;
    Ok(flow_of(answer))
}

/// What Pinokio adds to the rendered step before calling it.
fn request(ctx: &StepCtx<'_>) -> Value {
    let next = (ctx.index + 1 < ctx.total).then_some(ctx.index + 1);
    json!({
        "cwd": ctx.loc.dir, "dirname": ctx.loc.dir, "input": ctx.input, "args": ctx.args,
        "current": ctx.index, "total": ctx.total, "next": next, "root": ctx.loc.file,
        "parent": { "path": ctx.loc.file, "uri": ctx.run.launch_uri(&ctx.loc.file), "cwd": ctx.loc.dir, "args": ctx.args },
    })
}
