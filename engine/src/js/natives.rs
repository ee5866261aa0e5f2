//! Rust functions exposed to the prelude as `__native.*`. They take and
//! return plain strings/booleans (JSON where structured) so the prelude owns
//! every JS-facing shape.

use std::ffi::CString;
use std::path::Path;
use std::rc::Rc;

use rquickjs::{Ctx, Exception, Function, Object, Result, Value};

/// What the JS world needs from the engine around it.
pub trait Bridge {
    /// `JSON` of the system facts (platform, arch, gpu, gpus, ram, home...).
    fn sysinfo(&self) -> String;
    /// Whether the script at this absolute path is running.
    fn running(&self, path: &Path) -> bool;
    /// Whether the script at this absolute path reached ready (§2.4).
    fn ready(&self, path: &Path) -> bool;
    /// `local` memory of the script at this absolute path (JSON object).
    fn local_of(&self, path: &Path) -> serde_json::Value;
    /// `global` memory of the script at this absolute path (JSON object).
    fn global_of(&self, path: &Path) -> serde_json::Value;
    /// Environment visible to scripts (JSON object).
    fn env(&self) -> serde_json::Value;
    /// Environment of the script at `path`: ours plus its app's ENVIRONMENT file.
    fn env_for(&self, path: &Path) -> serde_json::Value;
    /// A free port for `kernel.port()`.
    fn port(&self) -> u16;
    /// Directory relative paths resolve against.
    fn cwd(&self) -> String;
    /// `console.log` output.
    fn log(&self, line: &str);
}

fn throw(ctx: &Ctx<'_>, msg: String) -> rquickjs::Error {
    Exception::throw_message(ctx, &msg)
}

fn io<T>(ctx: &Ctx<'_>, what: &str, p: &str, r: std::io::Result<T>) -> Result<T> {
    r.map_err(|e| {
        let code = match e.kind() {
            std::io::ErrorKind::NotFound => "ENOENT: no such file or directory",
            std::io::ErrorKind::PermissionDenied => "EACCES: permission denied",
            std::io::ErrorKind::AlreadyExists => "EEXIST: file already exists",
            _ => "EIO",
        };
        throw(ctx, format!("{code}, {what} '{p}' ({e})"))
    })
}

/// Builds the `__native` object.
pub fn install<'js>(ctx: &Ctx<'js>, bridge: Rc<dyn Bridge>) -> Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    let b = bridge.clone();
    o.set("sysinfo", Function::new(ctx.clone(), move || b.sysinfo())?)?;
    let b = bridge.clone();
    o.set(
        "running",
        Function::new(ctx.clone(), move |p: String| b.running(Path::new(&p)))?,
    )?;
    let b = bridge.clone();
    o.set(
        "ready",
        Function::new(ctx.clone(), move |p: String| b.ready(Path::new(&p)))?,
    )?;
    let b = bridge.clone();
    o.set(
        "localOf",
        Function::new(ctx.clone(), move |p: String| {
            b.local_of(Path::new(&p)).to_string()
        })?,
    )?;
    let b = bridge.clone();
    o.set(
        "globalOf",
        Function::new(ctx.clone(), move |p: String| {
            b.global_of(Path::new(&p)).to_string()
        })?,
    )?;
    let b = bridge.clone();
    o.set(
        "env",
        Function::new(ctx.clone(), move || b.env().to_string())?,
    )?;
    let b = bridge.clone();
    o.set(
        "envFor",
        Function::new(ctx.clone(), move |p: String| {
            b.env_for(Path::new(&p)).to_string()
        })?,
    )?;
    let b = bridge.clone();
    o.set("port", Function::new(ctx.clone(), move || b.port())?)?;
    let b = bridge.clone();
    o.set("cwd", Function::new(ctx.clone(), move || b.cwd())?)?;
    let b = bridge;
    o.set(
        "log",
        Function::new(ctx.clone(), move |s: String| b.log(&s))?,
    )?;
    o.set(
        "which",
        Function::new(ctx.clone(), |n: String| {
            crate::sys::which(&n).map(|p| p.to_string_lossy().into_owned())
        })?,
    )?;
    o.set(
        "exists",
        Function::new(ctx.clone(), |p: String| Path::new(&p).exists())?,
    )?;
    o.set(
        "isFile",
        Function::new(ctx.clone(), |p: String| Path::new(&p).is_file())?,
    )?;
    o.set(
        "b64encode",
        Function::new(ctx.clone(), |s: String| {
            // A binary string (one char per byte) from the prelude's Buffer.
            let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
            crate::util::b64encode(&bytes)
        })?,
    )?;
    o.set(
        "b64decode",
        Function::new(ctx.clone(), |s: String| {
            // Bytes as a binary string, so no byte is lost (see Buffer).
            crate::util::b64decode(&s)
                .into_iter()
                .map(char::from)
                .collect::<String>()
        })?,
    )?;
    o.set(
        "readFile",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, p: String| {
            io(&ctx, "open", &p.clone(), std::fs::read_to_string(&p))
        })?,
    )?;
    o.set(
        "writeFile",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, p: String, data: String, append: bool| {
                let r = if append {
                    use std::io::Write;
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&p)
                        .and_then(|mut f| f.write_all(data.as_bytes()))
                } else {
                    std::fs::write(&p, data)
                };
                io(&ctx, "open", &p, r)
            },
        )?,
    )?;
    o.set(
        "mkdir",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, p: String, rec: bool| {
            let r = if rec {
                std::fs::create_dir_all(&p)
            } else {
                std::fs::create_dir(&p)
            };
            io(&ctx, "mkdir", &p, r)
        })?,
    )?;
    o.set(
        "readdir",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, p: String| {
            let rd = io(&ctx, "scandir", &p, std::fs::read_dir(&p))?;
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            Ok::<_, rquickjs::Error>(serde_json::to_string(&names).unwrap_or_default())
        })?,
    )?;
    o.set(
        "stat",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, p: String| {
            let m = io(&ctx, "stat", &p, std::fs::metadata(&p))?;
            let link = std::fs::symlink_metadata(&p).map(|m| m.file_type().is_symlink()).unwrap_or(false);
            let mtime = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as f64).unwrap_or(0.0);
            Ok::<_, rquickjs::Error>(
                serde_json::json!({"size": m.len(), "file": m.is_file(), "dir": m.is_dir(), "symlink": link, "mtime_ms": mtime}).to_string(),
            )
        })?,
    )?;
    o.set(
        "rm",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, p: String, rec: bool, force: bool| {
                let path = Path::new(&p);
                if !path.exists() && !path.is_symlink() {
                    return if force {
                        Ok(())
                    } else {
                        io(&ctx, "rm", &p, Err(std::io::ErrorKind::NotFound.into()))
                    };
                }
                let r = if path.is_dir() && !path.is_symlink() {
                    if rec {
                        std::fs::remove_dir_all(path)
                    } else {
                        std::fs::remove_dir(path)
                    }
                } else {
                    std::fs::remove_file(path)
                };
                io(&ctx, "rm", &p, r)
            },
        )?,
    )?;
    super::node::install(ctx, &o)?;
    o.set(
        "compile",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, src: String, file: String| {
            compile(&ctx, &src, &file)
        })?,
    )?;
    Ok(o)
}

/// Evaluates `src` with `file` as its name, so syntax and runtime errors
/// point at the script's own file and line.
fn compile<'js>(ctx: &Ctx<'js>, src: &str, file: &str) -> Result<Value<'js>> {
    let src = CString::new(src).map_err(|_| throw(ctx, format!("{file}: contains a NUL byte")))?;
    let name = CString::new(file).map_err(|_| throw(ctx, format!("{file}: bad file name")))?;
    // SAFETY: JS_Eval only reads the two NUL-terminated buffers, which outlive
    // the call; the returned value is owned and handed to `Value::from_raw`.
    let raw = unsafe {
        rquickjs::qjs::JS_Eval(
            ctx.as_raw().as_ptr(),
            src.as_ptr(),
            src.as_bytes().len() as _,
            name.as_ptr(),
            rquickjs::qjs::JS_EVAL_TYPE_GLOBAL as i32,
        )
    };
    // SAFETY: `raw` was just returned by JS_Eval for this context.
    let v = unsafe { Value::from_raw(ctx.clone(), raw) };
    if v.is_exception() {
        return Err(rquickjs::Error::Exception);
    }
    Ok(v)
}
