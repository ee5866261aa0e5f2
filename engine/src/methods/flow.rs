//! Control-flow methods: `jump`/`goto` and `process.wait`.

use std::time::Duration;

use serde_json::Value;

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::host::Interaction;
use crate::runner::{StepCtx, Target};

/// `{index}` or `{id}`, with `params` becoming the target step's `input`.
pub fn jump(_ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let input = params.get("params").cloned().unwrap_or(Value::Null);
    let target = match (params.get("index"), params.get("id")) {
        (Some(i), _) => Target::Index(
            i.as_u64()
                .ok_or_else(|| MethodError::msg("params.index must be a step number"))?
                as usize,
        ),
        (None, Some(Value::String(id))) => Target::Id(id.clone()),
        _ => return Err(MethodError::msg("params.index or params.id is required")),
    };
    Ok(Flow::Jump(target, input))
}

/// Waits `sec`/`min`, until `url`/`uri` answers, until the `on` resources
/// are ready, or (none of these) until the host answers.
pub fn wait(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let secs = params
        .get("sec")
        .and_then(Value::as_f64)
        .or_else(|| params.get("min").and_then(Value::as_f64).map(|m| m * 60.0));
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let url = super::any_str(params, &["url", "uri"]);
    match (secs, url, params.get("on").filter(|o| o.is_object())) {
        (Some(s), _, _) => ctx.sleep(Duration::from_secs_f64(s.max(0.0)))?,
        (None, Some(u), _) => {
            ctx.emit_method("process.wait", params);
            super::wait::url(ctx, u, params)?;
        }
        (None, None, Some(on)) => {
            ctx.emit_method("process.wait", params);
            super::wait::on(ctx, &ctx.loc.dir, on)?;
        }
        (None, None, None) => {
            ctx.ask(
                "process.wait",
                params,
                Interaction::Wait {
                    script: ctx.loc.file.clone(),
                    params: params.clone(),
                },
            )?;
        }
    }
    Ok(Flow::Next(Value::Null))
}
