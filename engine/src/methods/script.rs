//! `script.start` (run another script to its end, with `params` as its
//! `args`), `script.stop`, `script.restart`, `script.return` and
//! `script.download` (clone a launcher repository into `HOME/api`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::{req_str, uri_path, Flow};
use crate::error::{MethodError, MethodResult};
use crate::events::Event;
use crate::paths;
use crate::runner::StepCtx;

/// Runs the script at `uri` on the same run; its last step's result is
/// ours. A remote `uri` (`https://host/o/r.git/start.js`) is downloaded
/// first, as `script.download` does.
pub fn start(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let uri = req_str(params, "uri")?;
    let file = if is_remote(uri) {
        let (clone, sub) = ensure_clone(ctx, uri, params)?;
        let file = crate::util::resolve(&clone, sub);
        ctx.run.set_launch_uri(&file, uri);
        file
    } else {
        uri_path(ctx, uri)?
    };
    if ctx.is_plan() && !file.is_file() {
        // A remote script a plan cannot download: nothing more to walk.
        return Ok(Flow::Next(Value::Null));
    }
    if !ctx.is_plan() && ctx.run.kernel.registry.is_running(&file) {
        // Like Pinokio: a script that already runs is not started twice.
        log(ctx, format!("{uri} already running. Continuing..."));
        return Ok(Flow::Next(Value::Null));
    }
    let args = params
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let v = ctx.run.run_script(&file, args, false).map_err(|e| {
        if e.is_stopped() {
            MethodError::Stopped
        } else {
            MethodError::Nested(Box::new(e))
        }
    })?;
    Ok(Flow::Next(v))
}

/// A git URI `script.start`/`script.download` clone (web, or `file://`).
fn is_remote(uri: &str) -> bool {
    paths::is_web(uri) || uri.starts_with("file://")
}

/// Stops each script of `uri` (a string or an array). Like Pinokio, only
/// absolute, `~/` and git-URI paths name a script: a relative one is
/// skipped with a warning (spec §4.0). Without `uri` this run stops.
pub fn stop(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    let Some(uris) = crate::util::string_or_list(params.get("uri")) else {
        return Err(MethodError::Stopped);
    };
    for uri in uris {
        let Some(file) = stop_target(ctx, &uri)? else {
            continue;
        };
        if let Some(h) = ctx.run.kernel.registry.get(&file) {
            if !h.same(&ctx.run.stop) {
                h.stop();
            }
        }
    }
    Ok(Flow::Next(Value::Null))
}

/// The script `script.stop` means by `uri`, or `None` (relative: warned).
fn stop_target(ctx: &StepCtx<'_>, uri: &str) -> MethodResult<Option<PathBuf>> {
    let abs =
        paths::absolute(&ctx.run.kernel.home, uri).map_err(|e| MethodError::msg(e.to_string()))?;
    if abs.is_none() {
        log(
            ctx,
            format!(
                "[pinokio] script.stop: '{uri}' is relative, which Pinokio ignores; \
                 write an absolute path, '~/api/<app>/<file>' or a git URI"
            ),
        );
    }
    Ok(abs)
}

/// `{uri?, params?}`: stops the script and starts it again. Without `uri`
/// (or naming this script) this script restarts from its first step with
/// `params` (default: its `args`); another script is restarted on a thread
/// of its own, with this run's host and events.
pub fn restart(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let target = match params.get("uri").and_then(Value::as_str) {
        Some(u) => uri_path(ctx, u)?,
        None => ctx.loc.file.clone(),
    };
    let new_params = params.get("params").cloned();
    if ctx.is_plan() {
        return Ok(Flow::Next(Value::Null));
    }
    if target == ctx.loc.file {
        log(ctx, format!("[pinokio] restarting {}", target.display()));
        return Ok(Flow::Restart(new_params));
    }
    let args = new_params.unwrap_or(Value::Object(Default::default()));
    let kernel = ctx.run.kernel.clone();
    if let Some(h) = kernel.registry.get(&target) {
        if h.same(&ctx.run.stop) {
            return Err(MethodError::msg(format!(
                "script.restart: {} runs inside this run (started by script.start); restart the top script instead",
                target.display()
            )));
        }
        h.stop();
    }
    let (host, events, file, a) = (
        ctx.run.host.clone(),
        ctx.run.events.clone(),
        target.clone(),
        args.clone(),
    );
    std::thread::Builder::new()
        .name("pinokio-restart".into())
        .spawn(move || {
            // Wait for the stopped run to unregister before starting again.
            let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while kernel.registry.is_running(&file) && std::time::Instant::now() < end {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let stop = crate::process::StopHandle::new();
            let run = crate::runner::Run::new(kernel, crate::plan::Mode::Run, host, events, stop)?;
            run.run_script(&file, a, true)
        })
        .map_err(|e| MethodError::msg(format!("script.restart: cannot start a thread: {e}")))?;
    Ok(Flow::Next(json!({
        "uri": target, "scheduled": true, "self": false, "params": args,
    })))
}

/// Its params become the step result; the script goes on (Pinokio's
/// behaviour: the caller of `script.start` gets the *last* step's result,
/// so `script.return` only works as the final step).
pub fn ret(_ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    Ok(Flow::Next(params.clone()))
}

/// `{uri, branch?, hash?, pull?}`: clones the repository of `uri` into
/// `HOME/api/<folder from the URL>` unless a clone with that origin exists.
pub fn download(ctx: &StepCtx<'_>, params: &Value, _step: &Value) -> MethodResult<Flow> {
    let uri = req_str(params, "uri")?;
    ensure_clone(ctx, uri, params)?;
    Ok(Flow::Next(Value::Null))
}

/// The clone of `uri`'s repository (made if missing, then `branch`/`hash`/
/// `pull` applied) and the path inside it that `uri` names.
fn ensure_clone(ctx: &StepCtx<'_>, uri: &str, params: &Value) -> MethodResult<(PathBuf, String)> {
    let home = &ctx.run.kernel.home;
    let (repo, sub) = paths::split_git_uri(uri).ok_or_else(|| {
        MethodError::msg(format!(
            "'{uri}' has no `.git` repository part; write https://host/owner/repo.git[/file.js]"
        ))
    })?;
    let existing = paths::find_clone(home, &repo);
    let dir = existing
        .clone()
        .unwrap_or_else(|| home.join("api").join(paths::clone_folder_name(&repo)));
    if ctx.is_plan() {
        return Ok((dir, sub));
    }
    if existing.is_none() {
        std::fs::create_dir_all(home.join("api"))?;
        git(
            ctx,
            &home.join("api"),
            &["clone", &repo, &dir.to_string_lossy()],
            true,
        )?;
    }
    let opt = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(branch) = opt("branch") {
        git(ctx, &dir, &["pull"], false)?;
        git(ctx, &dir, &["switch", branch], true)?;
    }
    if let Some(hash) = opt("hash") {
        git(ctx, &dir, &["pull"], false)?;
        git(ctx, &dir, &["switch", "--detach", hash], true)?;
    }
    if params.get("pull").is_some_and(crate::runner::truthy) {
        git(ctx, &dir, &["pull"], false)?;
    }
    Ok((dir, sub))
}

/// Runs git, showing its output in the run's terminal. `must` failures are
/// step errors; others (a `git pull` on a detached HEAD...) only warn, as
/// Pinokio ignores them.
fn git(ctx: &StepCtx<'_>, cwd: &Path, args: &[&str], must: bool) -> MethodResult<()> {
    let shown = format!("git {}", args.join(" "));
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(ctx.process_env(None))
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| MethodError::msg(format!("{shown} in {}: {e}", cwd.display())))?;
    let text = format!(
        "$ {shown}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ctx.run.events.emit(Event::Output {
        script: ctx.loc.file.clone(),
        shell: format!("{}#{}", ctx.loc.file.display(), ctx.index),
        data: text.replace('\n', "\r\n").into_bytes(),
    });
    if !out.status.success() {
        let msg = format!(
            "{shown} in {} failed: {}",
            cwd.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if must {
            return Err(MethodError::msg(msg));
        }
        log(ctx, format!("[pinokio] warning: {msg}"));
    }
    Ok(())
}

fn log(ctx: &StepCtx<'_>, text: String) {
    ctx.run.events.emit(Event::Log {
        script: ctx.loc.file.clone(),
        text,
    });
}
