//! The legacy persistent-shell API (spec §4.2): `shell.start` opens an
//! interactive bash kept under an id, `shell.enter` types a line and waits
//! for a handler (`event: null` = the prompt came back), `shell.write`
//! types without a newline, `shell.stop` kills one shell or a group.
//!
//! In Pinokio 8.0.40 `shell.start` never completes; we do what launchers
//! using it expect: return the id once the shell is ready.

use std::sync::Arc;

use serde_json::{json, Value};

use super::handlers::{handlers, Handler};
use super::watch::{Ended, Watch, PROMPT};
use super::{message, plan_result, python_lines, shell_cwd, spawn};
use crate::error::{MethodError, MethodResult};
use crate::methods::Flow;
use crate::pty::ShellProc;
use crate::runner::StepCtx;

/// `shell.start`: an interactive bash kept under `id` (default: the script folder).
pub fn start(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let id = shell_id(ctx, params);
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::from(id)));
    }
    let cwd = shell_cwd(ctx, params)?;
    let args = ["--noprofile", "--norc", "--noediting", "-i"]
        .map(String::from)
        .to_vec();
    let (proc, rx) = spawn(
        ctx,
        params,
        &id,
        &cwd,
        args,
        &[("PS1", PROMPT), ("PS2", "")],
        super::shell_log(ctx, true),
    )?;
    // Wait for the first prompt so later `enter`s see only their own output.
    let first = Watch {
        ctx,
        proc: &proc,
        hs: &[Handler::on_finish()],
        rules: None,
        prompt: true,
        interactive: true,
    }
    .run(&rx);
    proc.unsubscribe();
    first?;
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
    enter_line(ctx, &proc, &message::text(params), &hs).map(Flow::Next)
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
    let ended = Watch {
        ctx,
        proc,
        hs,
        rules: None,
        prompt: true,
        interactive: true,
    }
    .run(&rx);
    proc.unsubscribe();
    Ok(match ended? {
        Ended::Handler(v) => v,
        Ended::Finished { stdout, .. } => json!({ "id": proc.id, "stdout": stdout, "event": null }),
    })
}

/// `shell.write`: types text as-is.
pub fn write(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let proc = find_shell(ctx, params)?;
    proc.write(&message::text(params))
        .map_err(|e| MethodError::msg(e.to_string()))?;
    Ok(Flow::Next(Value::Null))
}

/// `shell.stop {id}` kills that shell; `shell.stop {group}` every shell of
/// the group (a shell's group is its `group` param, else its script's path).
pub fn stop(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let victims: Vec<Arc<ShellProc>> = match params.get("group").and_then(Value::as_str) {
        Some(group) => {
            let group = group_key(ctx, group);
            let mut shells = ctx.run.shells.borrow_mut();
            let ids: Vec<String> = shells
                .iter()
                .filter(|(_, p)| p.group.get().is_some_and(|g| *g == group))
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| shells.remove(id)).collect()
        }
        None => {
            let id = shell_id(ctx, params);
            ctx.run
                .shells
                .borrow_mut()
                .remove(&id)
                .into_iter()
                .collect()
        }
    };
    for p in victims {
        crate::process::kill_group(p.pgid);
    }
    Ok(Flow::Next(Value::Null))
}

/// A group named by a relative script path means that script's group.
fn group_key(ctx: &StepCtx<'_>, group: &str) -> String {
    let as_path = ctx.path(group);
    let known = ctx
        .run
        .shells
        .borrow()
        .values()
        .any(|p| p.group.get().is_some_and(|g| g == group));
    if known || !as_path.is_file() {
        group.to_string()
    } else {
        as_path.to_string_lossy().into_owned()
    }
}
