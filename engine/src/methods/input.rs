//! `input` forms and `filepicker.open`: answered by the host; plans take
//! the declared defaults.

use serde_json::{Map, Value};

use super::Flow;
use crate::error::MethodResult;
use crate::host::{form_fields, Interaction};
use crate::runner::StepCtx;

pub fn input(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        let defaults: Map<String, Value> = form_fields(params)
            .iter()
            .map(|f| {
                let key = f
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("value")
                    .to_string();
                (key, f.get("default").cloned().unwrap_or(Value::from("")))
            })
            .collect();
        return Ok(Flow::Next(Value::Object(defaults)));
    }
    let answer = ctx.ask(
        "input",
        params,
        Interaction::Input {
            script: ctx.loc.file.clone(),
            params: params.clone(),
        },
    )?;
    Ok(Flow::Next(answer))
}

pub fn filepicker(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(serde_json::json!({ "paths": [] })));
    }
    let answer = ctx.ask(
        "filepicker.open",
        params,
        Interaction::FilePicker {
            script: ctx.loc.file.clone(),
            params: params.clone(),
        },
    )?;
    Ok(Flow::Next(answer))
}

/// `modal`: a dialog that waits for its answer. With a `form` it is an
/// `input` form; otherwise the dashboard shows it as a wait (title,
/// description/html, buttons) and the person's answer is the result.
pub fn modal(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    if params.get("form").is_some() {
        return input(ctx, params, step);
    }
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let answer = ctx.ask(
        "modal",
        params,
        Interaction::Wait {
            script: ctx.loc.file.clone(),
            params: params.clone(),
        },
    )?;
    Ok(Flow::Next(answer))
}
