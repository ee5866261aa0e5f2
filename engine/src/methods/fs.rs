//! File methods: write/read/rm/copy/link, and downloads (`fs.download` via
//! curl, `hf.download` via the Hugging Face CLI) which run in a shell so
//! their progress streams like any command.

use std::path::Path;

use serde_json::Value;

use super::{any_str, req_str, shell, Flow};
use crate::error::{MethodError, MethodResult};
use crate::runner::StepCtx;

/// `{path, text | json | buffer}`; parent folders are created.
pub fn write(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = ctx.path(req_str(params, "path")?);
    let text = match (params.get("text"), params.get("json"), params.get("buffer")) {
        (Some(t), _, _) => crate::util::scalar_string(t),
        (None, Some(j), _) => serde_json::to_string_pretty(j).unwrap_or_default(),
        // A rendered `{{Buffer.from(...)}}` keeps its bytes (C-058).
        (None, None, Some(b)) => match crate::util::buffer_bytes(b) {
            Some(bytes) => return write_bytes(ctx, &path, &bytes),
            None => crate::util::scalar_string(b),
        },
        _ => return Err(MethodError::msg("params.text or params.json is required")),
    };
    if !ctx.is_plan() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)
            .map_err(|e| MethodError::msg(format!("{}: {e}", path.display())))?;
    }
    Ok(Flow::Next(Value::Null))
}

fn write_bytes(ctx: &StepCtx<'_>, path: &Path, bytes: &[u8]) -> MethodResult<Flow> {
    if !ctx.is_plan() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, bytes)
            .map_err(|e| MethodError::msg(format!("{}: {e}", path.display())))?;
    }
    Ok(Flow::Next(Value::Null))
}

pub fn read(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = ctx.path(req_str(params, "path")?);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| MethodError::msg(format!("{}: {e}", path.display())))?;
    Ok(Flow::Next(Value::from(text)))
}

/// Removes a file or folder (recursively); a missing path is fine.
pub fn rm(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = ctx.path(req_str(params, "path")?);
    if !ctx.is_plan() {
        remove(&path).map_err(|e| MethodError::msg(format!("{}: {e}", path.display())))?;
    }
    Ok(Flow::Next(Value::Null))
}

fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

/// `{src, dest}`: copies a file or a folder tree.
pub fn copy(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let src = ctx.path(req_str(params, "src")?);
    let dest = ctx.path(req_str(params, "dest")?);
    if !ctx.is_plan() {
        copy_tree(&src, &dest).map_err(|e| {
            MethodError::msg(format!("copy {} → {}: {e}", src.display(), dest.display()))
        })?;
    }
    Ok(Flow::Next(Value::Null))
}

fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    if src.is_dir() {
        std::fs::create_dir_all(dest)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_tree(&e.path(), &dest.join(e.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::copy(src, dest).map(|_| ())
    }
}

/// `{src, dest}` makes a symlink. `{venv: ...}` (and other drive-sharing
/// forms) only deduplicate disk space upstream; here they are a no-op.
pub fn link(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let (Some(src), Some(dest)) = (any_str(params, &["src"]), any_str(params, &["dest"])) else {
        return Ok(Flow::Next(Value::Null));
    };
    let (src, dest) = (ctx.path(src), ctx.path(dest));
    if !ctx.is_plan() {
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d)?;
        }
        remove(&dest)?;
        std::os::unix::fs::symlink(&src, &dest)
            .map_err(|e| MethodError::msg(format!("link {}: {e}", dest.display())))?;
    }
    Ok(Flow::Next(Value::Null))
}

/// `{uri|url: string | [string], dir|path}`: downloads each URL into the folder.
pub fn download(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let urls = crate::util::string_or_list(params.get("uri").or_else(|| params.get("url")))
        .ok_or_else(|| MethodError::msg("params.uri (or url) is required"))?;
    let dir = any_str(params, &["dir", "path"]).unwrap_or(".");
    let lines: Vec<String> = urls
        .iter()
        .map(|u| {
            let name = u
                .split(['?', '#'])
                .next()
                .unwrap_or(u)
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("download");
            format!(
                "curl -fL --retry 2 -o {} {}",
                shell::quote(name),
                shell::quote(u)
            )
        })
        .collect();
    let mut sh = serde_json::json!({ "message": lines, "path": dir });
    if !ctx.is_plan() {
        std::fs::create_dir_all(ctx.path(dir))?;
    }
    sh["env"] = params.get("env").cloned().unwrap_or(Value::Null);
    shell::run_quiet(ctx, &sh)
}

/// `{_: [repo, files...], path, "local-dir": ..., ...}` → `huggingface-cli download ...`.
pub fn hf_download(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let mut args = vec!["huggingface-cli download".to_string()];
    for p in params
        .get("_")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        args.push(shell::quote(&crate::util::scalar_string(p)));
    }
    for (k, v) in params.as_object().into_iter().flatten() {
        if matches!(k.as_str(), "_" | "path" | "env" | "venv") {
            continue;
        }
        match v {
            Value::Bool(true) => args.push(format!("--{k}")),
            Value::Bool(false) | Value::Null => {}
            Value::Array(a) => a.iter().for_each(|x| {
                args.push(format!(
                    "--{k} {}",
                    shell::quote(&crate::util::scalar_string(x))
                ))
            }),
            other => args.push(format!(
                "--{k} {}",
                shell::quote(&crate::util::scalar_string(other))
            )),
        }
    }
    let sh = serde_json::json!({
        "message": args.join(" "),
        "path": params.get("path").cloned().unwrap_or(Value::from(".")),
        "env": params.get("env").cloned().unwrap_or(Value::Null),
        "venv": params.get("venv").cloned().unwrap_or(Value::Null),
    });
    shell::run_quiet(ctx, &sh)
}
