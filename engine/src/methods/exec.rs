//! `exec`: a command without a terminal (Node's `child_process.exec`):
//! `bash -c message` in `path`/`cwd` with the run's environment plus `env`.
//! The result is `{stdout, stderr, error}`. A failing command gives a
//! truthy `error`, which halts the run in Pinokio (spec §2.2 step 8), so it
//! is a step error here, with the exit code and stderr.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::{uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::runner::StepCtx;

pub fn exec(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let message = match params.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter(|v| !v.is_null())
            .map(crate::util::scalar_string)
            .collect::<Vec<_>>()
            .join(" && "),
        _ => {
            return Err(MethodError::msg(
                "params.message is required (a command line)",
            ))
        }
    };
    let cwd = match params
        .get("path")
        .or_else(|| params.get("cwd"))
        .and_then(Value::as_str)
    {
        Some(p) => uri_path(ctx, p)?,
        None => ctx.loc.dir.clone(),
    };
    if ctx.is_plan() {
        return Ok(Flow::Next(
            json!({ "stdout": "", "stderr": "", "error": null }),
        ));
    }
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &message])
        .current_dir(&cwd)
        .env_clear()
        .envs(ctx.process_env(params.get("env")))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = cmd.spawn().map_err(|e| {
        MethodError::msg(format!("exec in {}: cannot start bash: {e}", cwd.display()))
    })?;
    // Its own process group, owned by the run: a stop kills it.
    ctx.run.stop.adopt(child.id() as i32);
    let out = child
        .wait_with_output()
        .map_err(|e| MethodError::msg(format!("exec {message}: {e}")))?;
    if ctx.run.stop.is_stopped() {
        return Err(MethodError::Stopped);
    }
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let shown = format!("{stdout}{stderr}").replace('\n', "\r\n");
    if !shown.is_empty() {
        ctx.run.events.emit(Event::Output {
            script: ctx.loc.file.clone(),
            shell: format!("{}#{}", ctx.loc.file.display(), ctx.index),
            data: shown.into_bytes(),
        });
    }
    match out.status.code() {
        Some(0) => Ok(Flow::Next(
            json!({ "stdout": stdout, "stderr": stderr, "error": null }),
        )),
        Some(c) => Err(MethodError::msg(format!(
            "exec: command failed with exit code {c}: {message}\n{}",
            stderr.trim_end()
        ))),
        None => Err(MethodError::msg(format!(
            "exec: command killed by a signal: {message}"
        ))),
    }
}
