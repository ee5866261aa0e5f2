//! The `fs.link` / `fs.share` step for the drive forms (`{drive, peers}`,
//! `{venv}`): runs them and tells the terminal what moved, what was linked
//! and what was left alone, in `[pinokio]` lines.

use serde_json::Value;

use super::{link_drive, link_venv, root, DriveOutcome, DriveRequest, VenvOutcome, VenvRequest};
use crate::error::{MethodError, MethodResult};
use crate::methods::Flow;
use crate::runner::StepCtx;

/// Whether `params` asks for a drive form (else `fs.link` is `{src, dest}`).
pub fn wants(params: &Value) -> bool {
    params.get("venv").is_some() || params.get("drive").is_some()
}

pub fn link(ctx: &StepCtx<'_>, params: &Value) -> MethodResult<Flow> {
    if ctx.is_plan() {
        plan(ctx, params);
        return Ok(Flow::Next(Value::Null));
    }
    let say = |line: &str| {
        ctx.run.events.emit(crate::events::Event::Output {
            script: ctx.loc.file.clone(),
            shell: "fs.link".into(),
            data: format!("[pinokio] {line}\r\n").into_bytes(),
        })
    };
    let env = ctx.env_map(None);
    let root = root(&ctx.run.kernel.home, &env);
    let fail = |e: super::DriveError| MethodError::msg(e.to_string());
    if let Some(venv) = params.get("venv").and_then(Value::as_str) {
        let venv = ctx.path(venv);
        let uv_cache = env.get("UV_CACHE_DIR").map(std::path::PathBuf::from);
        let req = VenvRequest {
            root: &root,
            venv: &venv,
            app_dir: &ctx.loc.app_dir,
            uv_cache: uv_cache.as_deref(),
        };
        match link_venv(&req).map_err(fail)? {
            Some(out) => tell_venv(&say, &venv, &root, uv_cache.as_deref(), &out),
            None => say(&format!(
                "fs.link: no venv at {} (no lib/python*/site-packages); nothing to share",
                venv.display()
            )),
        }
    } else if let Some(Value::Object(mapping)) = params.get("drive") {
        let peers = crate::util::string_or_list(params.get("peers")).unwrap_or_default();
        let req = DriveRequest {
            root: &root,
            app: &ctx.loc.app,
            app_dir: &ctx.loc.app_dir,
            cwd: &ctx.loc.dir,
            mapping,
            peers: &peers,
        };
        tell_drive(&say, &link_drive(&req).map_err(fail)?);
    } else {
        say("fs.link: `drive` must be an object of name → path(s), or pass `venv`; nothing linked");
    }
    Ok(Flow::Next(Value::Null))
}

/// What the plan shows: the folders that would become links into the
/// drive, and where the drive keeps them.
fn plan(ctx: &StepCtx<'_>, params: &Value) {
    let root = root(&ctx.run.kernel.home, &ctx.env_map(None));
    if let Some(venv) = params.get("venv").and_then(Value::as_str) {
        ctx.annotate_plan(
            "drive_link",
            serde_json::json!({ "venv": ctx.path(venv), "store": root.join("drives/pip") }),
        );
    } else if let Some(Value::Object(mapping)) = params.get("drive") {
        let folders: serde_json::Map<String, Value> = mapping
            .iter()
            .map(|(name, paths)| {
                let paths = crate::util::string_or_list(Some(paths)).unwrap_or_default();
                let resolved = paths
                    .iter()
                    .map(|p| Value::from(ctx.path(p).display().to_string()));
                (name.clone(), Value::Array(resolved.collect()))
            })
            .collect();
        ctx.annotate_plan(
            "drive_link",
            serde_json::json!({ "folders": folders, "store": root.join("drives/peers") }),
        );
    }
}

fn tell_drive(say: &dyn Fn(&str), out: &DriveOutcome) {
    let how = match (&out.joined, out.created) {
        (Some(peer), _) => format!("shared with {peer}"),
        (None, true) => "new".to_string(),
        (None, false) => "this app's".to_string(),
    };
    say(&format!("drive folder {} ({how})", out.folder.display()));
    for p in &out.linked {
        say(&format!("linked {} → drive", p.display()));
    }
    for p in &out.unchanged {
        say(&format!("already linked: {}", p.display()));
    }
    for s in &out.skipped {
        say(&format!("skipped {s}"));
    }
    let m = &out.merged;
    if m.moved + m.duplicates > 0 {
        say(&format!(
            "moved {} entries into the drive; {} duplicate files dropped (the drive has the same bytes)",
            m.moved, m.duplicates
        ));
    }
    for (kept, ours) in &m.renamed {
        say(&format!(
            "name clash: the drive keeps {}; this app's copy is now {}",
            kept.display(),
            ours.display()
        ));
    }
}

fn tell_venv(
    say: &dyn Fn(&str),
    venv: &std::path::Path,
    root: &std::path::Path,
    uv_cache: Option<&std::path::Path>,
    out: &VenvOutcome,
) {
    say(&format!(
        "venv {} (python {}): {} packages stored in {}, {} reused an identical copy there, {} already linked, {} hardlinked from uv's cache, {} hardlinked from elsewhere, {} kept in place",
        venv.display(),
        out.python,
        out.moved.len(),
        root.join("drives/pip").display(),
        out.reused.len(),
        out.unchanged.len(),
        out.uv_cache.len(),
        out.hardlinked.len(),
        out.kept.len()
    ));
    if out.mode == super::store::Mode::Symlink && !(out.moved.is_empty() && out.reused.is_empty()) {
        say("the drive is on another filesystem, so packages are symlinked into the venv (Pinokio's way): upgrading one of them in this venv changes the copy other apps share");
    }
    if !out.uv_cache.is_empty() {
        say(&format!(
            "uv installed {} packages as hardlinks of its cache ({}): they are stored once already, so they stay where they are; recorded in {}",
            out.uv_cache.len(),
            uv_cache.map(|p| p.display().to_string()).unwrap_or_default(),
            root.join("drives/pip/venvs.json").display()
        ));
    }
    if !out.hardlinked.is_empty() {
        say(&format!(
            "not moved (their files are hardlinks shared with another folder already): {}",
            out.hardlinked.join(", ")
        ));
    }
    for (label, why) in &out.kept {
        say(&format!("kept {label} in the venv: {why}"));
    }
}
