//! `local.set` / `global.set` (script memory) and `log`.

use serde_json::Value;

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::runner::StepCtx;

/// Sets each `key: value` of params (dotted keys nest) in the script's
/// `local`; the step's result is the params object.
pub fn set(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let Value::Object(map) = params else {
        return Err(MethodError::msg("params must be an object of name: value"));
    };
    for (k, v) in map {
        ctx.run.memory.set(&ctx.loc.file, k, v.clone());
    }
    Ok(Flow::Next(params.clone()))
}

/// `global.set`: like `local.set`, in the script's `global` memory, which
/// outlives the script's end.
pub fn set_global(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let Value::Object(map) = params else {
        return Err(MethodError::msg("params must be an object of name: value"));
    };
    for (k, v) in map {
        ctx.run.memory.set_global(&ctx.loc.file, k, v.clone());
    }
    Ok(Flow::Next(params.clone()))
}

/// Emits `params.raw`, `params.text` or `params.json` as a log event.
pub fn log(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let text = match (params.get("raw"), params.get("text"), params.get("json")) {
        (Some(v), _, _) | (None, Some(v), _) => crate::util::scalar_string(v),
        (None, None, Some(j)) => serde_json::to_string_pretty(j).unwrap_or_default(),
        _ => crate::util::scalar_string(params),
    };
    ctx.run.events.emit(Event::Log {
        script: ctx.loc.file.clone(),
        text,
    });
    Ok(Flow::Next(params.clone()))
}
