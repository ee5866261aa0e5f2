//! `load {name: uri}` (read JS/JSON files into the step result) and
//! `local.import`/`import {name: uri}` (copy another script's `local`).

use serde_json::{Map, Value};

use super::{uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

fn entries(params: &Value) -> MethodResult<impl Iterator<Item = (&String, &str)>> {
    let m = params
        .as_object()
        .ok_or_else(|| MethodError::msg("params must be an object of name: file"))?;
    m.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|p| (k, p))
                .ok_or_else(|| MethodError::msg(format!("params.{k} must be a file path")))
        })
        .collect::<MethodResult<Vec<_>>>()
        .map(Vec::into_iter)
}

/// Each file's value: parsed JSON, or a JS script's exports (functions
/// dropped, a function export called with `kernel` as scripts are).
pub fn load(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let mut out = Map::new();
    for (name, p) in entries(params)? {
        let file = uri_path(ctx, p)?;
        if ctx.is_plan() && !file.is_file() {
            continue;
        }
        let v = if file.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| MethodError::msg(format!("load {}: {e}", file.display())))?;
            serde_json::from_str(&text).map_err(|e| {
                MethodError::msg(format!("load {}: invalid JSON: {e}", file.display()))
            })?
        } else {
            ctx.run
                .js
                .load_script(&file)
                .map_err(|e| MethodError::msg(format!("load {}: {}", file.display(), e.0)))?
                .json
        };
        out.insert(name.clone(), v);
    }
    Ok(Flow::Next(Value::Object(out)))
}

/// `local.name = <local of the script at uri>`.
pub fn import(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    for (name, p) in entries(params)? {
        let other = ctx.run.memory.local(&uri_path(ctx, p)?);
        ctx.run.memory.set(&ctx.loc.file, name, other);
    }
    Ok(Flow::Next(Value::Null))
}
