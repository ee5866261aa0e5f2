//! `env.set {K: v}` writes the app's ENVIRONMENT file; `env.switch
//! {K: [a, b, ...]}` moves K to the value after its current one (spec §4.9).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

pub fn set(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let values = pairs(params)?
        .map(|(k, v)| (k.clone(), crate::util::scalar_string(v)))
        .collect();
    save(ctx, &values)
}

pub fn switch(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let current = crate::script::read_env_file(&ctx.loc.env_file());
    let mut values = BTreeMap::new();
    for (k, v) in pairs(params)? {
        let choices: Vec<String> = crate::util::string_or_list(Some(v))
            .filter(|c| !c.is_empty())
            .ok_or_else(|| MethodError::msg(format!("env.switch: params.{k} must list values")))?;
        let now = current
            .get(k)
            .and_then(|c| choices.iter().position(|x| x == c));
        let next = now.map_or(0, |i| (i + 1) % choices.len());
        values.insert(k.clone(), choices[next].clone());
    }
    save(ctx, &values)
}

fn pairs(params: &Value) -> MethodResult<impl Iterator<Item = (&String, &Value)>> {
    params
        .as_object()
        .map(|m| m.iter())
        .ok_or_else(|| MethodError::msg("params must be an object of NAME: value"))
}

fn save(ctx: &StepCtx<'_>, values: &BTreeMap<String, String>) -> MethodResult<Flow> {
    if !ctx.is_plan() {
        let file = ctx.loc.env_file();
        crate::script::update_env_file(&file, values)
            .map_err(|e| MethodError::msg(format!("{}: {e}", file.display())))?;
    }
    Ok(Flow::Next(Value::Null))
}
