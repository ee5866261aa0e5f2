//! JSON files and the general `set`/`rm`: `json.get` (into `local`),
//! `json.set`/`json.rm` and their `self.*` names (files relative to the
//! script folder, lodash key paths, 2-space indent, key order kept).

use serde_json::{Map, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
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

/// Pinokio only touches `.json` files; others are skipped with a warning.
fn is_json(ctx: &StepCtx<'_>, method: &str, file: &str) -> bool {
    let ok = file.ends_with(".json");
    if !ok {
        ctx.run.events.emit(Event::Log {
            script: ctx.loc.file.clone(),
            text: format!("[pinokio] {method}: '{file}' is not a .json file; skipped"),
        });
    }
    ok
}

/// `{name: "file.json"}` → `local.name = <parsed file>`; the result is
/// undefined (null), as in Pinokio.
pub fn get(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    for (name, file) in file_map(params)? {
        let file = file
            .as_str()
            .ok_or_else(|| MethodError::msg(format!("params.{name} must be a file path")))?;
        if !is_json(ctx, "json.get", file) || ctx.is_plan() {
            continue;
        }
        let doc = read_json(&ctx.path(file))?;
        ctx.run.memory.set(&ctx.loc.file, name, doc);
    }
    Ok(Flow::Next(Value::Null))
}

/// `{"file.json": {"a.b": value}}` sets keys and writes the file back.
pub fn set(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    for (file, changes) in file_map(params)? {
        let changes = changes
            .as_object()
            .ok_or_else(|| MethodError::msg(format!("params[\"{file}\"] must be an object")))?;
        if !is_json(ctx, "json.set", file) || ctx.is_plan() {
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

/// `{"file.json": ["a.b", "list.0", ...]}` removes keys (an index removes
/// that array element).
pub fn rm(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    for (file, keys) in file_map(params)? {
        let keys = keys.as_array().ok_or_else(|| {
            MethodError::msg(format!("params[\"{file}\"] must be an array of keys"))
        })?;
        if !is_json(ctx, "json.rm", file) || ctx.is_plan() {
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

/// `set {local, global, self, json, key}`: the general form behind
/// `local.set`, `json.set`...; `key` edits `HOME/key.json`.
pub fn set_any(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    for (scope, v) in file_map(params)? {
        match scope.as_str() {
            "local" | "global" => {
                super::local::set(ctx, v, step)?;
            }
            "self" | "json" => {
                set(ctx, v, step)?;
            }
            "key" => {
                let home_file = ctx.run.kernel.home.join("key.json");
                let wrapped = serde_json::json!({ home_file.to_string_lossy(): v });
                set(ctx, &wrapped, step)?;
            }
            other => return Err(unknown_scope("set", other)),
        }
    }
    Ok(Flow::Next(Value::Null))
}

/// `rm {local, global, self, json, key}` (see [`set_any`]).
pub fn rm_any(ctx: &StepCtx<'_>, params: &Value, step: &Value) -> MethodResult<Flow> {
    for (scope, v) in file_map(params)? {
        match scope.as_str() {
            "local" | "global" => {
                super::local::rm(ctx, v, step)?;
            }
            "self" | "json" => {
                rm(ctx, v, step)?;
            }
            "key" => {
                let home_file = ctx.run.kernel.home.join("key.json");
                let wrapped = serde_json::json!({ home_file.to_string_lossy(): v });
                rm(ctx, &wrapped, step)?;
            }
            other => return Err(unknown_scope("rm", other)),
        }
    }
    Ok(Flow::Next(Value::Null))
}

fn unknown_scope(method: &str, scope: &str) -> MethodError {
    MethodError::msg(format!(
        "{method}: unknown scope '{scope}' (use local, global, self, json or key)"
    ))
}

fn write(path: &std::path::Path, doc: &Value) -> MethodResult<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| MethodError::msg(format!("{}: {e}", dir.display())))?;
    }
    let text = serde_json::to_string_pretty(doc).map_err(|e| MethodError::msg(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| MethodError::msg(format!("{}: {e}", path.display())))
}
