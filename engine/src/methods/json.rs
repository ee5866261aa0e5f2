//! `json.get`, `json.set`, `json.rm` and `self.set`: read and edit JSON
//! files relative to the script folder, with dotted key paths.

use serde_json::{Map, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

fn read_json(path: &std::path::Path) -> MethodResult<Value> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t)
            .map_err(|e| MethodError::msg(format!("{}: invalid JSON: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Object(Map::new())),
        Err(e) => Err(MethodError::msg(format!("{}: {e}", path.display()))),
    }
}

fn file_map(params: &Value) -> MethodResult<&Map<String, Value>> {
    params
        .as_object()
        .ok_or_else(|| MethodError::msg("params must be an object keyed by file path"))
}

/// `{name: "file.json"}` → `{name: <contents>}` as the step result.
pub fn get(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let mut out = Map::new();
    for (name, file) in file_map(params)? {
        let file = file
            .as_str()
            .ok_or_else(|| MethodError::msg(format!("params.{name} must be a file path")))?;
        out.insert(name.clone(), read_json(&ctx.path(file))?);
    }
    Ok(Flow::Next(Value::Object(out)))
}

/// `{"file.json": {"a.b": value}}` sets keys and writes the file back.
pub fn set(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    for (file, changes) in file_map(params)? {
        let changes = changes
            .as_object()
            .ok_or_else(|| MethodError::msg(format!("params[\"{file}\"] must be an object")))?;
        if ctx.is_plan() {
            continue;
        }
        let path = ctx.path(file);
        let mut doc = read_json(&path)?;
        for (k, v) in changes {
            crate::util::set_path(&mut doc, k, v.clone());
        }
        write(&path, &doc)?;
    }
    Ok(Flow::Next(Value::Null))
}

/// `{"file.json": ["a.b", ...]}` removes keys.
pub fn rm(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    for (file, keys) in file_map(params)? {
        let keys = keys.as_array().ok_or_else(|| {
            MethodError::msg(format!("params[\"{file}\"] must be an array of keys"))
        })?;
        if ctx.is_plan() {
            continue;
        }
        let path = ctx.path(file);
        let mut doc = read_json(&path)?;
        for k in keys.iter().filter_map(Value::as_str) {
            crate::util::remove_path(&mut doc, k);
        }
        write(&path, &doc)?;
    }
    Ok(Flow::Next(Value::Null))
}

fn write(path: &std::path::Path, doc: &Value) -> MethodResult<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(doc).map_err(|e| MethodError::msg(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| MethodError::msg(format!("{}: {e}", path.display())))
}
