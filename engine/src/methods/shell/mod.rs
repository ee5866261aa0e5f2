//! Shell methods in real PTYs (spec §4.1, §4.2).
//!
//! `shell.run` behaves as Pinokio 8's code does, not as its docs say: each
//! element of a `message` array runs in its own fresh `bash --noprofile
//! --norc` (so `cd` or `export` in one element does not reach the next, and
//! each gets its own venv/conda activation), in order, and a non-zero exit
//! does not stop the sequence nor fail the step. What fails a step is
//! printed text: `error:`/`errno ` lines (see [`handlers::ErrorRules`]) or a
//! `break: true` handler. A non-zero exit that Pinokio passes over is still
//! shown: one warning line in the terminal and an [`Event::Warning`] the
//! server records with the run.
//!
//! The older `shell.start`/`shell.enter` API ([`legacy`]) keeps an
//! interactive bash per id and treats its prompt as the `event: null` signal.

mod handlers;
mod legacy;
mod message;
mod sudo;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use serde_json::{json, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::plan::plausible_match;
use crate::pty::{ShellMsg, ShellProc, Spawn};
use crate::runner::{truthy, StepCtx};
use handlers::{handlers, ErrorRules, Handler};
use message::Command;
use watch::{Ended, Watch};

pub use legacy::{enter, start, stop, write};

/// Single-quotes for bash.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `shell.run`: each command in its own fresh PTY shell (see the module doc).
pub fn run(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    run_with(ctx, params, false)
}

/// Used by the engine's own download helpers (`fs.download` via curl,
/// `hf.download`, `script.download`): not a launcher's `shell.run`, so a
/// non-zero exit is their failure and fails the step.
pub fn run_quiet(ctx: &StepCtx<'_>, params: &Value) -> MethodResult<Flow> {
    run_with(ctx, params, true)
}

/// `strict`: a non-zero exit is an error instead of a warning.
fn run_with(ctx: &StepCtx<'_>, params: &Value, strict: bool) -> MethodResult<Flow> {
    let hs = handlers(params)?;
    let cmds = message::commands(params);
    if ctx.is_plan() {
        mark_plan_shells(ctx, &cmds);
        return plan_result(ctx, &hs, "shell");
    }
    let cwd = shell_cwd(ctx, params)?;
    if params.get("sudo").is_some_and(truthy) {
        return sudo::run(ctx, params, &cwd, &cmds).map(Flow::Next);
    }
    let rules = ErrorRules::new(&hs);
    let id = params
        .get("id")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| format!("{}#{}", ctx.loc.file.display(), ctx.index));
    let mut last = Value::Null;
    for (i, cmd) in cmds.iter().enumerate() {
        if ctx.run.stop.is_stopped() {
            return Err(MethodError::Stopped);
        }
        let shell = Shell {
            id: &id,
            cmd,
            first: i == 0,
        };
        last = run_one(ctx, params, &cwd, &shell, &hs, &rules, strict)?;
    }
    Ok(Flow::Next(last))
}

/// One shell of a step: its id, its command, whether it is the step's first.
struct Shell<'a> {
    id: &'a str,
    cmd: &'a Command,
    first: bool,
}

/// One shell: activation, then the command line; its result.
fn run_one(
    ctx: &StepCtx<'_>,
    params: &Value,
    cwd: &Path,
    shell: &Shell<'_>,
    hs: &[Handler],
    rules: &ErrorRules,
    strict: bool,
) -> MethodResult<Value> {
    let (id, cmd) = (shell.id, shell.cmd);
    let activation = python_lines(ctx, id, params, cwd)?;
    let mut line = typed_line(&activation, &cmd.line);
    let interactive = params.get("input").is_some_and(truthy);
    if interactive {
        // `input: true`: the shell stays open at its prompt for the person.
        line.push_str("\nexec bash --noprofile --norc -i");
    }
    let args = vec!["--noprofile".into(), "--norc".into(), "-c".into(), line];
    let extra: Vec<(&str, &str)> = cmd
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let log = shell_log(ctx, shell.first);
    let (proc, rx) = spawn(ctx, params, id, cwd, args, &extra, log)?;
    let ended = Watch {
        ctx,
        proc: &proc,
        hs,
        rules: Some(rules),
        prompt: false,
        interactive,
    }
    .run(&rx);
    proc.unsubscribe();
    match ended? {
        Ended::Handler(v) => Ok(v),
        Ended::Finished { code, stdout } => {
            match code.filter(|c| *c != 0) {
                Some(c) if strict => {
                    return Err(MethodError::msg(format!(
                        "`{}` exited with code {c}; last output:\n{stdout}",
                        cmd.line
                    )))
                }
                Some(c) => warn_exit(ctx, id, &cmd.line, c),
                None => {}
            }
            Ok(
                json!({ "id": id, "stdout": stdout, "response": stdout, "exit": code, "event": null }),
            )
        }
    }
}

/// Pinokio's cleaned shell log (C-184): the printable output of the
/// step's shells in `<home>/logs/shell/cleaned/<script relative to the
/// home>.<step index>.txt`, started afresh by the step's first shell.
/// `None` (no log) when it cannot be opened.
fn shell_log(ctx: &StepCtx<'_>, first: bool) -> Option<std::fs::File> {
    let home = &ctx.run.kernel.home;
    let rel = ctx.loc.file.strip_prefix(home).ok()?;
    let name = format!("{}.{}.txt", rel.display(), ctx.index);
    let path = home.join("logs/shell/cleaned").join(name);
    std::fs::create_dir_all(path.parent()?).ok()?;
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(!first)
        .truncate(first)
        .open(&path)
        .ok()
}

/// Pinokio's typed line: `<activation> && <message>`, the activation
/// being the conda then venv lines joined with ` ; `.
fn typed_line(activation: &[String], message: &str) -> String {
    match (activation.is_empty(), message.trim().is_empty()) {
        (true, _) => message.to_string(),
        (false, true) => activation.join(" ; "),
        (false, false) => format!("{} && {message}", activation.join(" ; ")),
    }
}

/// Tells (terminal line + recorded event) that a command failed by its
/// exit code but the run goes on, as in Pinokio.
fn warn_exit(ctx: &StepCtx<'_>, shell: &str, line: &str, code: i32) {
    let first = line.lines().next().unwrap_or("").trim();
    let mut cmd: String = first.chars().take(80).collect();
    if cmd.len() < first.len() || line.lines().count() > 1 {
        cmd.push('…');
    }
    let message = format!(
        "`{cmd}` exited with code {code}; Pinokio goes on past a failing exit code, so this run does too"
    );
    ctx.run.events.emit(Event::Output {
        script: ctx.loc.file.clone(),
        shell: shell.to_string(),
        data: format!("\x1b[33m[pinokio] warning: {message}\x1b[0m\r\n").into_bytes(),
    });
    ctx.run.events.emit(Event::Warning {
        script: ctx.loc.file.clone(),
        index: ctx.index,
        message,
    });
}

/// The shell's folder (URI resolver, spec §4.0), created when missing.
fn shell_cwd(ctx: &StepCtx<'_>, params: &Value) -> MethodResult<PathBuf> {
    let p = params
        .get("path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or(".");
    let dir = crate::paths::resolve(&ctx.run.kernel.home, &ctx.loc.dir, p)
        .map_err(|e| MethodError::msg(e.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        MethodError::msg(format!(
            "cannot create the shell folder {}: {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// The lines that create-if-missing and activate the step's conda env and
/// venv (see [`crate::python`]). Setup output goes to the run's terminal.
fn python_lines(
    ctx: &StepCtx<'_>,
    id: &str,
    params: &Value,
    cwd: &Path,
) -> MethodResult<Vec<String>> {
    let env = ctx.env_map(params.get("env"));
    let layout = crate::python::Layout::new(&ctx.run.kernel.home);
    let say = |line: &str| {
        ctx.run.events.emit(Event::Output {
            script: ctx.loc.file.clone(),
            shell: id.to_string(),
            data: format!("[pinokio] {line}\r\n").into_bytes(),
        })
    };
    let setup = crate::python::ShellSetup {
        params,
        cwd,
        env: &env,
        layout: &layout,
        accelerated: ctx.accelerated(),
        reuse_platform_torch: ctx.run.kernel.python.reuse_platform_torch(),
        say: &say,
    };
    setup.lines().map_err(|e| MethodError::msg(e.to_string()))
}

/// Starts `bash <args>` in a PTY in `cwd`, registered with the run (stop,
/// keyboard input, the shell table under `id` and its `group`).
fn spawn(
    ctx: &StepCtx<'_>,
    params: &Value,
    id: &str,
    cwd: &Path,
    args: Vec<String>,
    extra_env: &[(&str, &str)],
    log: Option<std::fs::File>,
) -> MethodResult<(Arc<ShellProc>, Receiver<ShellMsg>)> {
    let mut env_vars = ctx.shell_env(params);
    env_vars.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let (proc, rx) = ShellProc::spawn(Spawn {
        id: id.to_string(),
        program: "bash",
        args,
        cwd,
        env: env_vars,
        script: ctx.loc.file.clone(),
        events: ctx.run.events.clone(),
        log,
    })
    .map_err(|e| MethodError::msg(format!("cannot start a shell in {}: {e}", cwd.display())))?;
    let group = params
        .get("group")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| ctx.loc.file.to_string_lossy().into_owned());
    let _ = proc.group.set(group);
    ctx.run.stop.adopt(proc.pgid);
    ctx.run.stop.attach_terminal(&proc);
    ctx.run.refresh_port();
    ctx.run
        .shells
        .borrow_mut()
        .insert(id.to_string(), proc.clone());
    Ok((proc, rx))
}

/// Plans show how many shells a step opens: an array message without
/// `chain` lists its per-element command lines under `shells`.
fn mark_plan_shells(ctx: &StepCtx<'_>, cmds: &[Command]) {
    if cmds.len() < 2 {
        return;
    }
    let lines: Vec<Value> = cmds.iter().map(|c| Value::from(c.line.clone())).collect();
    ctx.annotate_plan("shells", Value::Array(lines));
}

/// Plan-mode answer: the first ending handler fires with a plausible match.
fn plan_result(ctx: &StepCtx<'_>, hs: &[Handler], id: &str) -> MethodResult<Flow> {
    let port = ctx.run.port();
    let Some(h) = hs.iter().find(|h| h.done || h.kill || h.ret.is_some()) else {
        return Ok(Flow::Next(
            json!({ "id": id, "event": null, "stdout": "", "response": "", "exit": 0 }),
        ));
    };
    let m = match &h.re {
        Some(re) => Value::Array(plausible_match(re, port)),
        None => Value::Null,
    };
    let matches = if m.is_null() {
        json!([])
    } else {
        json!([m.clone()])
    };
    match h.ret.as_ref().filter(|r| **r != Value::Bool(true)) {
        Some(r) => {
            let event = json!({ "matches": matches, "match": m, "stdout": "", "id": id });
            ctx.render_with(r, json!({ "event": event }))
                .map(Flow::Next)
        }
        None => Ok(Flow::Next(
            json!({ "id": id, "event": m, "matches": matches, "stdout": "", "response": "" }),
        )),
    }
}
