//! `process.wait` conditions besides a plain sleep: poll a URL until it
//! answers (`url`/`uri`), or wait for `wait-on` resources (`on`). Every
//! wait honours a stop request within a few milliseconds.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::runner::StepCtx;

/// `{url|uri, interval (s, default 1), message}`: GET until a 2xx/3xx answer.
pub fn url(ctx: &StepCtx<'_>, url: &str, params: &Value) -> MethodResult<()> {
    let interval = params
        .get("interval")
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    if let Some(m) = params.get("message").filter(|m| !m.is_null()) {
        say(ctx, &crate::util::scalar_string(m));
    }
    while !http_ok(url, false) {
        ctx.sleep(Duration::from_secs_f64(interval.max(0.05)))?;
    }
    Ok(())
}

/// `{on: {resources, delay, interval, timeout, reverse}}` as Node's
/// `wait-on`: files, `http(s)://` (HEAD), `http(s)-get://` (GET),
/// `tcp:host:port`; times in ms. Every resource must be ready (or gone,
/// with `reverse`).
pub fn on(ctx: &StepCtx<'_>, cwd: &Path, opts: &Value) -> MethodResult<()> {
    let resources = crate::util::string_or_list(opts.get("resources"))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| MethodError::msg("params.on.resources must list what to wait for"))?;
    let ms = |k: &str, d: f64| opts.get(k).and_then(Value::as_f64).unwrap_or(d);
    let reverse = opts.get("reverse").is_some_and(crate::runner::truthy);
    let timeout = opts
        .get("timeout")
        .and_then(Value::as_f64)
        .map(|t| Instant::now() + Duration::from_secs_f64(t / 1000.0));
    ctx.sleep(Duration::from_secs_f64(ms("delay", 0.0) / 1000.0))?;
    loop {
        if resources.iter().all(|r| ready(cwd, r) != reverse) {
            return Ok(());
        }
        if timeout.is_some_and(|t| Instant::now() >= t) {
            return Err(MethodError::msg(format!(
                "process.wait: timed out waiting for {}",
                resources.join(", ")
            )));
        }
        ctx.sleep(Duration::from_secs_f64(
            ms("interval", 250.0).max(10.0) / 1000.0,
        ))?;
    }
}

/// Whether one wait-on resource is available.
fn ready(cwd: &Path, r: &str) -> bool {
    if let Some(rest) = r.strip_prefix("http-get://") {
        return http_ok(&format!("http://{rest}"), false);
    }
    if let Some(rest) = r.strip_prefix("https-get://") {
        return http_ok(&format!("https://{rest}"), false);
    }
    if crate::paths::is_web(r) {
        return http_ok(r, true);
    }
    if let Some(addr) = r.strip_prefix("tcp:") {
        let addr = if addr.contains(':') {
            addr.to_string()
        } else {
            format!("localhost:{addr}")
        };
        return addr
            .to_socket_addrs()
            .ok()
            .into_iter()
            .flatten()
            .any(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok());
    }
    let p = r.strip_prefix("file:").unwrap_or(r);
    crate::util::resolve(cwd, p).exists()
}

/// One request with curl; true on a non-error status.
fn http_ok(url: &str, head: bool) -> bool {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-f", "-o", "/dev/null", "--max-time", "5"]);
    if head {
        cmd.arg("-I");
    }
    cmd.arg(url)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn say(ctx: &StepCtx<'_>, text: &str) {
    ctx.run.events.emit(Event::Log {
        script: ctx.loc.file.clone(),
        text: text.to_string(),
    });
}
