//! Natives behind the Node built-ins launchers `require`: `child_process`
//! (commands run to completion: launchers probe with them, e.g.
//! `nvidia-smi`), `http`/`https` (simple requests through `curl`),
//! `crypto` (hashes, random bytes) and the few `fs` calls the prelude's
//! text-only natives lack. Structured values travel as JSON text.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rquickjs::{Ctx, Exception, Function, Object, Result};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A command for `child_process`: `cmd` through `sh -c`, or `file` + `args`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RunSpec {
    cmd: Option<String>,
    file: Option<String>,
    args: Vec<String>,
    cwd: Option<String>,
    /// Replaces the environment when set (Node's `env` option).
    env: Option<Map<String, Value>>,
    input: Option<String>,
    /// Milliseconds; 0 = no limit.
    timeout: u64,
}

/// An HTTP request for `http.get`/`https.request`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct HttpSpec {
    url: String,
    method: Option<String>,
    headers: Map<String, Value>,
    body: Option<String>,
    /// Milliseconds; 0 = 60 s.
    timeout: u64,
}

fn throw(ctx: &Ctx<'_>, msg: String) -> rquickjs::Error {
    Exception::throw_message(ctx, &msg)
}

/// Adds the natives to `__native`.
pub fn install<'js>(ctx: &Ctx<'js>, o: &Object<'js>) -> Result<()> {
    o.set(
        "run",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, spec: String| {
            let spec: RunSpec = serde_json::from_str(&spec)
                .map_err(|e| throw(&ctx, format!("child_process: bad options: {e}")))?;
            Ok::<_, rquickjs::Error>(run(&spec).to_string())
        })?,
    )?;
    o.set(
        "http",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, spec: String| {
            let spec: HttpSpec = serde_json::from_str(&spec)
                .map_err(|e| throw(&ctx, format!("http: bad options: {e}")))?;
            http(&spec)
                .map(|v| v.to_string())
                .map_err(|e| throw(&ctx, e))
        })?,
    )?;
    o.set(
        "hash",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, alg: String, data: String, enc: String| {
                hash(&alg, data.as_bytes(), &enc).map_err(|e| throw(&ctx, e))
            },
        )?,
    )?;
    o.set(
        "randomHex",
        Function::new(ctx.clone(), |n: u32| random_hex(n as usize))?,
    )?;
    o.set(
        "rename",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, a: String, b: String| {
            std::fs::rename(&a, &b).map_err(|e| {
                let code = if e.kind() == std::io::ErrorKind::NotFound {
                    "ENOENT: no such file or directory"
                } else {
                    "EIO"
                };
                throw(&ctx, format!("{code}, rename '{a}' -> '{b}' ({e})"))
            })
        })?,
    )?;
    o.set(
        "realpath",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, p: String| {
            std::fs::canonicalize(&p)
                .map(|p| p.to_string_lossy().into_owned())
                .map_err(|e| {
                    throw(
                        &ctx,
                        format!("ENOENT: no such file or directory, realpath '{p}' ({e})"),
                    )
                })
        })?,
    )?;
    Ok(())
}

/// Runs a command to completion: `{status, signal, stdout, stderr, error}`
/// (`error` when it could not start or ran past its timeout).
fn run(spec: &RunSpec) -> Value {
    let mut cmd = match (&spec.cmd, &spec.file) {
        (Some(c), _) => {
            let mut k = Command::new("sh");
            k.arg("-c").arg(c);
            k
        }
        (None, Some(f)) => {
            let mut k = Command::new(f);
            k.args(&spec.args);
            k
        }
        (None, None) => return json!({ "status": null, "error": "no command given" }),
    };
    if let Some(d) = &spec.cwd {
        cmd.current_dir(d);
    }
    if let Some(env) = &spec.env {
        cmd.env_clear();
        for (k, v) in env {
            let v = v
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string());
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = spec
        .cmd
        .clone()
        .or_else(|| spec.file.clone())
        .unwrap_or_default();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                "ENOENT"
            } else {
                "EIO"
            };
            return json!({ "status": null, "code": code, "error": format!("spawn {shown} {code}: {e}") });
        }
    };
    let mut stdin = child.stdin.take();
    let input = spec.input.clone().unwrap_or_default();
    std::thread::spawn(move || {
        if let Some(mut s) = stdin.take() {
            let _ = s.write_all(input.as_bytes());
        }
    });
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let end = (spec.timeout > 0).then(|| Instant::now() + Duration::from_millis(spec.timeout));
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if end.is_some_and(|t| Instant::now() > t) => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    use std::os::unix::process::ExitStatusExt;
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    json!({
        "status": status.and_then(|s| s.code()),
        "signal": status.and_then(|s| s.signal()).map(|s| if s == 9 { "SIGKILL".to_string() } else { format!("SIG{s}") }),
        "stdout": stdout,
        "stderr": stderr,
        "error": timed_out.then(|| format!("{shown}: timed out after {} ms", spec.timeout)),
        "code": timed_out.then_some("ETIMEDOUT"),
    })
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// One request through `curl` (the engine has no HTTP client of its own):
/// `{status, headers, body}` after redirects.
fn http(spec: &HttpSpec) -> std::result::Result<Value, String> {
    let curl = crate::sys::which("curl").ok_or_else(|| {
        format!(
            "http request to {}: curl is not on PATH (install curl)",
            spec.url
        )
    })?;
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("pinokio-http-{}-{n}", std::process::id()));
    let (hfile, bfile) = (base.with_extension("h"), base.with_extension("b"));
    let secs = if spec.timeout == 0 {
        60.0
    } else {
        spec.timeout as f64 / 1000.0
    };
    let mut cmd = Command::new(curl);
    cmd.args([
        "-sS",
        "-L",
        "--max-time",
        &secs.to_string(),
        "-w",
        "%{http_code}",
    ])
    .arg("-X")
    .arg(spec.method.as_deref().unwrap_or("GET"))
    .arg("-D")
    .arg(&hfile)
    .arg("-o")
    .arg(&bfile);
    for (k, v) in &spec.headers {
        let v = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    if spec.body.is_some() {
        cmd.args(["--data-binary", "@-"]);
    }
    cmd.arg(&spec.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("http request to {}: running curl: {e}", spec.url))?;
    if let (Some(mut stdin), Some(body)) = (child.stdin.take(), &spec.body) {
        let _ = stdin.write_all(body.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("http request to {}: {e}", spec.url))?;
    let body = std::fs::read(&bfile).unwrap_or_default();
    let head = std::fs::read_to_string(&hfile).unwrap_or_default();
    let _ = (std::fs::remove_file(&bfile), std::fs::remove_file(&hfile));
    if !out.status.success() {
        return Err(format!(
            "http request to {} failed: {}",
            spec.url,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let status: u16 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    Ok(json!({
        "status": status,
        "headers": last_headers(&head),
        "body": String::from_utf8_lossy(&body),
    }))
}

/// Headers of the last response in a `curl -D` dump (one block per redirect),
/// names lowercased like Node's `res.headers`.
fn last_headers(dump: &str) -> Map<String, Value> {
    let block = dump
        .split("\r\n\r\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .last()
        .unwrap_or("");
    block
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), Value::String(v.trim().to_string())))
        .collect()
}

fn hash(alg: &str, data: &[u8], enc: &str) -> std::result::Result<String, String> {
    use sha2::Digest;
    let bytes: Vec<u8> = match alg.to_lowercase().as_str() {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        other => {
            return Err(format!(
                "crypto.createHash('{other}'): unsupported; use md5, sha1, sha256 or sha512"
            ))
        }
    };
    Ok(match enc {
        "base64" => crate::util::b64encode(&bytes),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// `n` random bytes as hex, from the kernel's generator.
fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    if let Ok(mut f) = std::fs::File::open(Path::new("/dev/urandom")) {
        let _ = f.read_exact(&mut buf);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
