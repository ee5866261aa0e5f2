//! File methods: write/read/cat/make/rm/copy/link. Paths go through
//! Pinokio's URI resolver ([`super::uri_path`]); downloads live in
//! [`super::download`] and [`super::hf`].

use std::path::Path;

use serde_json::Value;

use super::{any_str, req_str, uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::runner::{truthy, StepCtx};

/// `{path, json | json2 | buffer | text}` (the first truthy one, in that
/// order): `json` one line, `json2` 2-space indented, `buffer` raw bytes,
/// `text` as is. Parent folders are created and an existing file (or link)
/// is replaced, not written through.
pub fn write(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = uri_path(ctx, req_str(params, "path")?)?;
    let bytes = content(params)?;
    if !ctx.is_plan() {
        let fail =
            |e: std::io::Error| MethodError::msg(format!("fs.write {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(&path).map_err(fail)?;
        }
        std::fs::write(&path, bytes).map_err(fail)?;
    }
    Ok(Flow::Next(Value::Null))
}

/// The bytes `fs.write` writes.
fn content(params: &Value) -> MethodResult<Vec<u8>> {
    let given = |k: &str| params.get(k).filter(|v| truthy(v));
    let text = |v: &Value| crate::util::scalar_string(v).into_bytes();
    Ok(if let Some(j) = given("json") {
        serde_json::to_string(j).unwrap_or_default().into_bytes()
    } else if let Some(j) = given("json2") {
        serde_json::to_string_pretty(j)
            .unwrap_or_default()
            .into_bytes()
    } else if let Some(b) = given("buffer") {
        buffer_bytes(b).ok_or_else(|| {
            MethodError::msg("params.buffer must be a Buffer, a string or an array of bytes")
        })?
    } else if let Some(t) = params.get("text").filter(|t| !t.is_null()) {
        text(t)
    } else {
        return Err(MethodError::msg(
            "fs.write needs params.json, params.json2, params.buffer or params.text",
        ));
    })
}

/// Bytes of a Buffer as it reaches Rust: Node's JSON form
/// `{type: "Buffer", data: [..]}`, the prelude's `{_t: text}`, a string or
/// an array of byte values.
fn buffer_bytes(v: &Value) -> Option<Vec<u8>> {
    let array = |a: &Vec<Value>| {
        a.iter()
            .map(|x| x.as_u64().filter(|n| *n < 256).map(|n| n as u8))
            .collect::<Option<Vec<u8>>>()
    };
    match v {
        Value::String(s) => Some(s.clone().into_bytes()),
        Value::Array(a) => array(a),
        Value::Object(m) => match (m.get("data"), m.get("_t")) {
            (Some(Value::Array(a)), _) => array(a),
            (_, Some(Value::String(t))) => Some(t.clone().into_bytes()),
            _ => None,
        },
        _ => None,
    }
}

/// `{path, encoding}`: the content in that encoding; without one, a Buffer
/// (Node's JSON form, `{type: "Buffer", data: [bytes]}`).
pub fn read(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = uri_path(ctx, req_str(params, "path")?)?;
    let encoding = params
        .get("encoding")
        .or_else(|| params.get("options").and_then(|o| o.get("encoding")))
        .and_then(Value::as_str);
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| MethodError::msg(format!("fs.read {}: {e}", path.display())))?;
    let out = match encoding {
        None => serde_json::json!({ "type": "Buffer", "data": bytes }),
        Some(enc) => Value::String(decode(&bytes, enc)?),
    };
    Ok(Flow::Next(out))
}

/// Node's `buffer.toString(encoding)`.
fn decode(bytes: &[u8], encoding: &str) -> MethodResult<String> {
    Ok(match encoding.to_ascii_lowercase().as_str() {
        "utf8" | "utf-8" => String::from_utf8_lossy(bytes).into_owned(),
        "base64" => crate::util::b64encode(bytes),
        "base64url" => crate::util::b64encode(bytes)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_"),
        "hex" => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        "latin1" | "binary" => bytes.iter().map(|b| char::from(*b)).collect(),
        "ascii" => bytes.iter().map(|b| char::from(b & 0x7f)).collect(),
        "utf16le" | "utf-16le" | "ucs2" | "ucs-2" => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        other => {
            return Err(MethodError::msg(format!(
                "fs.read: unknown encoding '{other}' (use utf8, base64, base64url, hex, latin1, ascii or utf16le)"
            )))
        }
    })
}

/// `{path}`: prints the file (UTF-8) to the run's terminal.
pub fn cat(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = uri_path(ctx, req_str(params, "path")?)?;
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| MethodError::msg(format!("fs.cat {}: {e}", path.display())))?;
    let mut text = String::from_utf8_lossy(&bytes)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    if !text.ends_with("\r\n") {
        text.push_str("\r\n");
    }
    ctx.run.events.emit(Event::Output {
        script: ctx.loc.file.clone(),
        shell: format!("{}#{}", ctx.loc.file.display(), ctx.index),
        data: text.into_bytes(),
    });
    Ok(Flow::Next(Value::Null))
}

/// `{path}`: `mkdir -p`.
pub fn make(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = uri_path(ctx, req_str(params, "path")?)?;
    if !ctx.is_plan() {
        std::fs::create_dir_all(&path)
            .map_err(|e| MethodError::msg(format!("fs.make {}: {e}", path.display())))?;
    }
    Ok(Flow::Next(Value::Null))
}

/// Removes a file or folder (recursively); a missing path is fine.
pub fn rm(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let path = uri_path(ctx, req_str(params, "path")?)?;
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
    let src = uri_path(ctx, req_str(params, "src")?)?;
    let dest = uri_path(ctx, req_str(params, "dest")?)?;
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
