//! `hf.download` / `hf.upload`: the Hugging Face CLI in the run's terminal,
//! in `path` (default: the script folder). Pinokio runs `hf <cmd>`; the
//! `hf` command replaced `huggingface-cli` in huggingface_hub 1.0, so the
//! older name is the fallback when `hf` is not installed. Downloads go
//! through the disk guard ([`super::hf_guard`]).

use serde_json::Value;

use super::{hf_guard, shell, uri_path, Flow};
use crate::error::MethodResult;
use crate::runner::StepCtx;

pub fn download(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    run(ctx, "download", params)
}

pub fn upload(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    run(ctx, "upload", params)
}

fn run(ctx: &StepCtx<'_>, sub: &str, params: &Value) -> MethodResult<Flow> {
    let args = cli_args(params).join(" ");
    let line = format!(
        "if command -v hf >/dev/null 2>&1; then hf {sub} {args}; \
         elif command -v huggingface-cli >/dev/null 2>&1; then huggingface-cli {sub} {args}; \
         else echo 'error: neither hf nor huggingface-cli is installed (pip install -U huggingface_hub)' >&2; exit 127; fi"
    );
    let path = match params.get("path").and_then(Value::as_str) {
        Some(p) => uri_path(ctx, p)?,
        None => ctx.loc.dir.clone(),
    };
    if !ctx.is_plan() {
        std::fs::create_dir_all(&path)?;
    }
    let sh = serde_json::json!({
        "message": line,
        "path": path.to_string_lossy(),
        "env": params.get("env").cloned().unwrap_or(Value::Null),
        "venv": params.get("venv").cloned().unwrap_or(Value::Null),
    });
    let guarded = (sub == "download" && !ctx.is_plan())
        .then(|| hf_guard::request(params, &path))
        .flatten();
    let Some(req) = guarded else {
        return shell::run_quiet(ctx, &sh);
    };
    let env = ctx.env_map(params.get("env"));
    let needed = hf_guard::before(&req, &env)?;
    shell::run_quiet(ctx, &sh).map_err(|e| hf_guard::after_failure(&req, &env, needed, e))
}

/// `_` positional words, then every other key as `--key value` (`true` →
/// `--key`, arrays repeat the flag), each word shell-quoted.
fn cli_args(params: &Value) -> Vec<String> {
    let word = |v: &Value| shell::quote(&crate::util::scalar_string(v));
    let mut args: Vec<String> = params
        .get("_")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(word)
        .collect();
    for (k, v) in params.as_object().into_iter().flatten() {
        if matches!(k.as_str(), "_" | "path" | "env" | "venv") {
            continue;
        }
        match v {
            Value::Bool(true) => args.push(format!("--{k}")),
            Value::Bool(false) | Value::Null => {}
            Value::Array(a) => args.extend(a.iter().map(|x| format!("--{k} {}", word(x)))),
            other => args.push(format!("--{k} {}", word(other))),
        }
    }
    args
}
