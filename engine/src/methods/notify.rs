//! `notify`: a message for the person watching; never blocks the run.

use serde_json::Value;

use super::Flow;
use crate::error::MethodResult;
use crate::host::Interaction;
use crate::runner::StepCtx;

pub fn notify(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if !ctx.is_plan() {
        ctx.ask(
            "notify",
            params,
            Interaction::Notify {
                script: ctx.loc.file.clone(),
                params: params.clone(),
            },
        )?;
    }
    Ok(Flow::Next(Value::Null))
}
