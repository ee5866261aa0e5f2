//! `web.open`/`browser.open`/`fs.open` (hand a URL or path to the person)
//! and `proxy.start`/`proxy.stop` (deprecated upstream; reported to the host).

use serde_json::Value;

use super::{any_str, Flow};
use crate::error::{MethodError, MethodResult};
use crate::host::Interaction;
use crate::runner::StepCtx;

pub fn open(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    let url = any_str(params, &["uri", "url", "path"])
        .ok_or_else(|| MethodError::msg("params.uri (or url/path) is required"))?
        .to_string();
    if !ctx.is_plan() {
        let method = step
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("web.open");
        ctx.ask(
            method,
            params,
            Interaction::Open {
                script: ctx.loc.file.clone(),
                url: url.clone(),
                params: params.clone(),
            },
        )?;
    }
    Ok(Flow::Next(Value::from(url)))
}

pub fn proxy(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let method = step
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("proxy.start");
    let answer = ctx.ask(
        method,
        params,
        Interaction::Proxy {
            script: ctx.loc.file.clone(),
            params: params.clone(),
        },
    )?;
    Ok(Flow::Next(answer))
}
