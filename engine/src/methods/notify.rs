//! `notify`: a message for the person watching; never blocks the run.

use serde_json::Value;

use super::Flow;
use crate::error::MethodResult;
use crate::runner::StepCtx;

pub fn notify(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if !ctx.is_plan() {
        ctx.notify("notify", params)?;
    }
    Ok(Flow::Next(Value::Null))
}
