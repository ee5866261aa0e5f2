//! Shell methods in real PTYs.
//!
//! `shell.run` writes one bash script (conda env and venv activation,
//! created first when missing — see [`crate::python`] — then the message
//! lines under `set -e`) and watches its output:
//! `on` handlers are regexes (`"/re/flags"`) tested against the
//! ANSI-stripped stream, so a URL split across chunks or wrapped in colour
//! codes still matches. `done` ends the step and leaves the process running,
//! `kill` stops it, `return` ends the step with a value, `notify` tells the
//! host. Without a match the step ends with the process; a non-zero exit is
//! an error carrying the output tail.
//!
//! The older `shell.start`/`shell.enter` API keeps an interactive bash per
//! id and treats its prompt as the `event: null` signal.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde_json::{json, Value};

use super::Flow;
use crate::error::{MethodError, MethodResult};
use crate::host::Interaction;
use crate::plan::plausible_match;
use crate::pty::{ShellMsg, ShellProc, Spawn};
use crate::runner::StepCtx;

/// Prompt of old-API interactive shells; its reappearance means "command done".
const PROMPT: &str = "<<pinokio-prompt>>";
/// How much stripped output is kept for matching and error tails.
const KEEP: usize = 64 * 1024;

/// One `on` handler.
struct Handler {
    /// None: fires when the command finishes (`event: null`).
    re: Option<Regex>,
    done: bool,
    kill: bool,
    ret: Option<Value>,
    notify: Option<Value>,
}

/// Single-quotes for bash.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Parses `"/body/flags"` (JS regex literal) or a plain pattern.
fn js_regex(src: &str) -> MethodResult<Regex> {
    let (body, flags) = match src.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((b, f)) if f.chars().all(|c| "gimsuy".contains(c)) => (b, f),
        _ => (src, ""),
    };
    let inline: String = flags.chars().filter(|c| "ims".contains(*c)).collect();
    let pat = if inline.is_empty() {
        body.to_string()
    } else {
        format!("(?{inline}){body}")
    };
    Regex::new(&pat).map_err(|e| MethodError::msg(format!("bad `on` event pattern {src}: {e}")))
}

fn handlers(params: &Value) -> MethodResult<Vec<Handler>> {
    let Some(list) = params.get("on") else {
        return Ok(vec![]);
    };
    let list = list
        .as_array()
        .ok_or_else(|| MethodError::msg("params.on must be an array of handlers"))?;
    list.iter()
        .map(|h| {
            let re = match h.get("event") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(js_regex(s)?),
                Some(other) => {
                    return Err(MethodError::msg(format!(
                        "`on` event must be a regex string or null, not {other}"
                    )))
                }
            };
            let ret = h
                .get("return")
                .filter(|v| !matches!(v, Value::Null | Value::Bool(false)))
                .cloned();
            let notify = h
                .get("notify")
                .filter(|v| !matches!(v, Value::Null | Value::Bool(false)))
                .cloned();
            Ok(Handler {
                re,
                done: h.get("done").is_some_and(crate::runner::truthy),
                kill: h.get("kill").is_some_and(crate::runner::truthy),
                ret,
                notify,
            })
        })
        .collect()
}

/// The lines of `message` (string or array; null/empty entries skipped).
fn message_lines(params: &Value) -> Vec<String> {
    match params.get("message") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter(|v| !v.is_null())
            .map(crate::util::scalar_string)
            .collect(),
        _ => vec![],
    }
    .into_iter()
    .filter(|s| !s.trim().is_empty())
    .collect()
}

fn shell_cwd(ctx: &StepCtx<'_>, params: &Value) -> PathBuf {
    ctx.path(params.get("path").and_then(Value::as_str).unwrap_or("."))
}

/// The lines that create-if-missing and activate the step's conda env and
/// venv (see [`crate::python`]). Setup output goes to the run's terminal.
fn python_lines(
    ctx: &StepCtx<'_>,
    id: &str,
    params: &Value,
    cwd: &std::path::Path,
) -> MethodResult<Vec<String>> {
    let env = ctx.env_map(params.get("env"));
    let layout = crate::python::Layout::new(&ctx.run.kernel.home);
    let say = |line: &str| {
        ctx.run.events.emit(crate::events::Event::Output {
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

fn spawn(
    ctx: &StepCtx<'_>,
    id: &str,
    cwd: &std::path::Path,
    args: Vec<String>,
    params: &Value,
    extra_env: &[(&str, &str)],
) -> MethodResult<(Arc<ShellProc>, Receiver<ShellMsg>)> {
    if !cwd.is_dir() {
        return Err(MethodError::msg(format!(
            "shell path {} does not exist",
            cwd.display()
        )));
    }
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
    })
    .map_err(|e| MethodError::msg(format!("cannot start a shell: {e}")))?;
    ctx.run.stop.adopt(proc.pgid);
    ctx.run.stop.attach_terminal(&proc);
    ctx.run.refresh_port();
    ctx.run
        .shells
        .borrow_mut()
        .insert(id.to_string(), proc.clone());
    Ok((proc, rx))
}

/// `shell.run`: one command script in a fresh PTY.
pub fn run(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let hs = handlers(params)?;
    let lines = message_lines(params);
    if ctx.is_plan() {
        return plan_result(ctx, &hs, "shell");
    }
    let cwd = shell_cwd(ctx, params);
    let id = format!("{}#{}", ctx.loc.file.display(), ctx.index);
    let mut script = vec!["set -e".to_string()];
    if cwd.is_dir() {
        script.extend(python_lines(ctx, &id, params, &cwd)?);
    }
    script.extend(lines);
    let args = vec![
        "--noprofile".into(),
        "--norc".into(),
        "-c".into(),
        script.join("\n"),
    ];
    let (proc, rx) = spawn(ctx, &id, &cwd, args, params, &[])?;
    let r = watch(ctx, &proc, &rx, &hs, false);
    proc.unsubscribe();
    r.map(Flow::Next)
}

/// Used by download helpers: a `shell.run` with no handlers.
pub fn run_quiet(ctx: &StepCtx<'_>, params: &Value) -> MethodResult<Flow> {
    run(ctx, params, &Value::Null)
}

/// `shell.start`: an interactive bash kept under `id` (default: the script folder).
pub fn start(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let id = shell_id(ctx, params);
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::from(id)));
    }
    let cwd = shell_cwd(ctx, params);
    let args = vec![
        "--noprofile".into(),
        "--norc".into(),
        "--noediting".into(),
        "-i".into(),
    ];
    let (proc, rx) = spawn(
        ctx,
        &id,
        &cwd,
        args,
        params,
        &[("PS1", PROMPT), ("PS2", "")],
    )?;
    // Wait for the first prompt so later `enter`s see only their own output.
    watch(
        ctx,
        &proc,
        &rx,
        &[Handler {
            re: None,
            done: true,
            kill: false,
            ret: None,
            notify: None,
        }],
        true,
    )?;
    proc.unsubscribe();
    let setup = python_lines(ctx, &id, params, &cwd)?;
    if !setup.is_empty() {
        enter_line(ctx, &proc, &setup.join(" && "), &[])?;
    }
    Ok(Flow::Next(Value::from(id)))
}

fn shell_id(ctx: &StepCtx<'_>, params: &Value) -> String {
    params
        .get("id")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| ctx.loc.dir.to_string_lossy().into_owned())
}

fn find_shell(ctx: &StepCtx<'_>, params: &Value) -> MethodResult<Arc<ShellProc>> {
    let id = shell_id(ctx, params);
    ctx.run
        .shells
        .borrow()
        .get(&id)
        .cloned()
        .ok_or_else(|| MethodError::msg(format!("no shell '{id}' (start one with shell.start)")))
}

/// `shell.enter`: types the message (plus newline) and waits for its `on` handlers.
pub fn enter(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let hs = handlers(params)?;
    if ctx.is_plan() {
        return plan_result(ctx, &hs, &shell_id(ctx, params));
    }
    let proc = find_shell(ctx, params)?;
    let line = message_lines(params).join("\n");
    enter_line(ctx, &proc, &line, &hs).map(Flow::Next)
}

fn enter_line(
    ctx: &StepCtx<'_>,
    proc: &Arc<ShellProc>,
    line: &str,
    hs: &[Handler],
) -> MethodResult<Value> {
    let rx = proc.subscribe();
    proc.write(&format!("{line}\n"))
        .map_err(|e| MethodError::msg(format!("shell {}: {e}", proc.id)))?;
    let r = watch(ctx, proc, &rx, hs, true);
    proc.unsubscribe();
    r
}

/// `shell.write`: types text as-is.
pub fn write(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let proc = find_shell(ctx, params)?;
    proc.write(&message_lines(params).join("\n"))
        .map_err(|e| MethodError::msg(e.to_string()))?;
    Ok(Flow::Next(Value::Null))
}

/// `shell.stop`: kills a shell's process group.
pub fn stop(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let id = shell_id(ctx, params);
    if let Some(p) = ctx.run.shells.borrow_mut().remove(&id) {
        crate::process::kill_group(p.pgid);
    }
    Ok(Flow::Next(Value::Null))
}

/// Output seen so far: the unmatched window and a tail for errors.
struct Seen {
    window: String,
    tail: String,
}

impl Seen {
    fn push(&mut self, t: &str) {
        for s in [&mut self.window, &mut self.tail] {
            s.push_str(t);
            if s.len() > KEEP {
                let mut cut = s.len() - KEEP / 2;
                while !s.is_char_boundary(cut) {
                    cut += 1;
                }
                s.drain(..cut);
            }
        }
    }

    fn last_lines(&self, n: usize) -> String {
        let lines: Vec<&str> = self.tail.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// Follows a shell until a handler ends the step or the process exits.
/// `prompt` marks old-API shells whose prompt means "command finished".
fn watch(
    ctx: &StepCtx<'_>,
    proc: &Arc<ShellProc>,
    rx: &Receiver<ShellMsg>,
    hs: &[Handler],
    prompt: bool,
) -> MethodResult<Value> {
    let mut seen = Seen {
        window: String::new(),
        tail: String::new(),
    };
    loop {
        let msg = match rx.recv_timeout(Duration::from_millis(25)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) if ctx.run.stop.is_stopped() => {
                return Err(MethodError::Stopped)
            }
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => ShellMsg::Exit(proc.exit_code().unwrap_or(-1)),
        };
        match msg {
            ShellMsg::Text(t) => {
                seen.push(&t);
                if let Some(v) = match_handlers(ctx, proc, hs, &mut seen, true)? {
                    return Ok(v);
                }
                if prompt {
                    if let Some(pos) = seen.window.find(PROMPT) {
                        seen.window.drain(..pos + PROMPT.len());
                        let done =
                            json!({ "id": proc.id, "stdout": seen.last_lines(50), "event": null });
                        return Ok(finish(ctx, proc, hs, &seen, None)?.unwrap_or(done));
                    }
                }
            }
            ShellMsg::Exit(code) => {
                if ctx.run.stop.is_stopped() {
                    return Err(MethodError::Stopped);
                }
                if let Some(v) = match_handlers(ctx, proc, hs, &mut seen, false)? {
                    return Ok(v);
                }
                if let Some(v) = finish(ctx, proc, hs, &seen, Some(code))? {
                    return Ok(v);
                }
                if code != 0 {
                    return Err(MethodError::msg(format!(
                        "command exited with code {code}; last output:\n{}",
                        seen.last_lines(20)
                    )));
                }
                return Ok(
                    json!({ "id": proc.id, "stdout": seen.last_lines(50), "exit": code, "event": null }),
                );
            }
        }
    }
}

/// Tests the regex handlers against the unmatched window. With
/// `complete_lines` (while the process runs), only text up to the last
/// newline counts, so a URL split across chunks — even seconds apart — is
/// matched whole rather than by its first half.
fn match_handlers(
    ctx: &StepCtx<'_>,
    proc: &Arc<ShellProc>,
    hs: &[Handler],
    seen: &mut Seen,
    complete_lines: bool,
) -> MethodResult<Option<Value>> {
    for h in hs {
        let Some(re) = &h.re else { continue };
        let upto = match complete_lines {
            true => seen.window.rfind('\n').map(|i| i + 1).unwrap_or(0),
            false => seen.window.len(),
        };
        let Some(caps) = re.captures(&seen.window[..upto]) else {
            continue;
        };
        let m: Vec<Value> = caps
            .iter()
            .map(|c| c.map(|c| Value::from(c.as_str())).unwrap_or(Value::Null))
            .collect();
        let end = caps.get(0).map(|c| c.end()).unwrap_or(0);
        seen.window.drain(..end);
        if let Some(v) = fire(ctx, proc, h, Value::Array(m), &seen.tail)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Handles the "command finished" moment for `event: null` handlers.
fn finish(
    ctx: &StepCtx<'_>,
    proc: &Arc<ShellProc>,
    hs: &[Handler],
    seen: &Seen,
    code: Option<i32>,
) -> MethodResult<Option<Value>> {
    for h in hs.iter().filter(|h| h.re.is_none()) {
        if let Some(v) = fire(ctx, proc, h, Value::Null, &seen.tail)? {
            if let Some(c) = code.filter(|c| *c != 0) {
                return Err(MethodError::msg(format!(
                    "command exited with code {c}; last output:\n{}",
                    seen.last_lines(20)
                )));
            }
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Applies one handler; `Some` ends the step with that result.
fn fire(
    ctx: &StepCtx<'_>,
    proc: &Arc<ShellProc>,
    h: &Handler,
    m: Value,
    tail: &str,
) -> MethodResult<Option<Value>> {
    let matches = if m.is_null() {
        json!([])
    } else {
        json!([m.clone()])
    };
    let event = json!({ "matches": matches, "match": m, "stdout": tail, "id": proc.id });
    if let Some(n) = &h.notify {
        let params = if n.is_object() {
            ctx.render_with(n, json!({ "event": event }))?
        } else {
            json!({ "html": m })
        };
        ctx.ask(
            "notify",
            &params,
            Interaction::Notify {
                script: ctx.loc.file.clone(),
                params: params.clone(),
            },
        )?;
    }
    let result = json!({ "id": proc.id, "event": m, "matches": matches, "stdout": tail });
    if h.kill {
        crate::process::kill_group(proc.pgid);
        return Ok(Some(result));
    }
    if let Some(r) = &h.ret {
        if r == &Value::Bool(true) {
            return Ok(Some(result));
        }
        return ctx.render_with(r, json!({ "event": event })).map(Some);
    }
    Ok(h.done.then_some(result))
}

/// Plan-mode answer: the first ending handler fires with a plausible match.
fn plan_result(ctx: &StepCtx<'_>, hs: &[Handler], id: &str) -> MethodResult<Flow> {
    let port = ctx.run.port();
    let Some(h) = hs.iter().find(|h| h.done || h.kill || h.ret.is_some()) else {
        return Ok(Flow::Next(
            json!({ "id": id, "event": null, "stdout": "", "exit": 0 }),
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
            json!({ "id": id, "event": m, "matches": matches, "stdout": "" }),
        )),
    }
}
