//! `local.set`/`global.set`/`local.rm` (script memory) and `log`.
//! Setting the share variable with `PINOKIO_SHARE_*` on asks the host to
//! publish that URL (spec §4.4).

use serde_json::{json, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::host::Interaction;
use crate::runner::StepCtx;

/// Sets each `key: value` of params (dotted keys nest) in the script's
/// `local`; the result is undefined (null), as in Pinokio.
pub fn set(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let Value::Object(map) = params else {
        return Err(MethodError::msg("params must be an object of name: value"));
    };
    for (k, v) in map {
        ctx.run.memory.set(&ctx.loc.file, k, v.clone());
    }
    if !ctx.is_plan() {
        share(ctx, params)?;
    }
    Ok(Flow::Next(Value::Null))
}

/// `PINOKIO_SHARE_VAR` (default `url`) just set while `PINOKIO_SHARE_CLOUDFLARE`
/// or `PINOKIO_SHARE_LOCAL` is on: the host publishes the URL (a
/// [`Interaction::Proxy`] with `share` details); its answer goes to `local.$share`.
fn share(ctx: &StepCtx<'_>, params: &Value) -> MethodResult<()> {
    // Only a URL can be shared: skip building the environment (files read
    // from disk) for the common `local.set` of anything else.
    let has_url = params.as_object().is_some_and(|m| {
        m.values().any(|v| {
            v.as_str()
                .is_some_and(|s| s.starts_with("http://") || s.starts_with("https://"))
        })
    });
    if !has_url {
        return Ok(());
    }
    let env = ctx.env_map(None);
    let on = |k: &str| {
        env.get(k)
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"))
    };
    let (cloudflare, local) = (on("PINOKIO_SHARE_CLOUDFLARE"), on("PINOKIO_SHARE_LOCAL"));
    let var = env
        .get("PINOKIO_SHARE_VAR")
        .filter(|v| !v.is_empty())
        .map_or("url", String::as_str);
    let Some(url) = params.get(var).and_then(Value::as_str) else {
        return Ok(());
    };
    if !(cloudflare || local) {
        return Ok(());
    }
    let request = json!({
        "uri": url,
        "share": {
            "cloudflare": cloudflare,
            "local": local,
            "passcode": env.get("PINOKIO_SHARE_PASSCODE"),
            "local_port": env.get("PINOKIO_SHARE_LOCAL_PORT"),
        },
    });
    let answer = ctx.ask(
        "local.set",
        &request,
        Interaction::Proxy {
            script: ctx.loc.file.clone(),
            params: request.clone(),
        },
    )?;
    if !answer.is_null() {
        ctx.run.memory.set(&ctx.loc.file, "$share", answer);
    }
    Ok(())
}

/// `["a.b", ...]`: removes those keys from `local`.
pub fn rm(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let keys = crate::util::string_or_list(Some(params))
        .ok_or_else(|| MethodError::msg("params must be an array of keys"))?;
    for k in keys {
        ctx.run.memory.remove(&ctx.loc.file, &k);
    }
    Ok(Flow::Next(Value::Null))
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
    Ok(Flow::Next(Value::Null))
}

/// `global.rm`: like `local.rm`, in the script's `global` memory.
pub fn rm_global(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let keys = crate::util::string_or_list(Some(params))
        .ok_or_else(|| MethodError::msg("params must be an array of keys"))?;
    for k in keys {
        ctx.run.memory.remove_global(&ctx.loc.file, &k);
    }
    Ok(Flow::Next(Value::Null))
}

/// Prints `raw`/`text` verbatim, `json` on one line, `json2` indented.
pub fn log(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let text = if let Some(v) = params.get("raw").or_else(|| params.get("text")) {
        crate::util::scalar_string(v)
    } else if let Some(j) = params.get("json") {
        serde_json::to_string(j).unwrap_or_default()
    } else if let Some(j) = params.get("json2") {
        serde_json::to_string_pretty(j).unwrap_or_default()
    } else {
        crate::util::scalar_string(params)
    };
    ctx.run.events.emit(Event::Log {
        script: ctx.loc.file.clone(),
        text,
    });
    Ok(Flow::Next(params.clone()))
}
