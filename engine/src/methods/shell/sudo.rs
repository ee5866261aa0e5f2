//! `sudo: true` (spec §4.1.2): the message runs elevated outside the PTY,
//! its output is printed and returned, and failures are printed, not
//! raised. As root (containers, Colab) it simply runs; otherwise through
//! `sudo -n` (no password prompt can be answered from a web terminal, so a
//! sudo that needs one fails with its own message).

use std::path::Path;
use std::process::Command as Process;

use serde_json::{json, Value};

use super::message::Command;
use crate::error::MethodResult;
use crate::events::Event;
use crate::runner::StepCtx;

pub fn run(ctx: &StepCtx<'_>, params: &Value, cwd: &Path, cmds: &[Command]) -> MethodResult<Value> {
    let env = ctx.shell_env(params);
    let id = format!("{}#{}", ctx.loc.file.display(), ctx.index);
    let print = |text: &str| {
        ctx.run.events.emit(Event::Output {
            script: ctx.loc.file.clone(),
            shell: id.clone(),
            data: text.replace('\n', "\r\n").into_bytes(),
        })
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut stdout = String::new();
    for cmd in cmds.iter().filter(|c| !c.line.trim().is_empty()) {
        let mut p = if root {
            Process::new("bash")
        } else {
            let mut p = Process::new("sudo");
            p.args(["-n", "--preserve-env", "bash"]);
            p
        };
        p.args(["--noprofile", "--norc", "-c", &cmd.line])
            .current_dir(cwd)
            .env_clear()
            .envs(env.iter().cloned())
            .envs(cmd.env.iter().cloned());
        match p.output() {
            Ok(out) => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                print(&text);
                print(&String::from_utf8_lossy(&out.stderr));
                if !out.status.success() {
                    print(&format!(
                        "[pinokio] sudo: `{}` failed ({}); Pinokio prints this and goes on\n",
                        cmd.line, out.status
                    ));
                }
                stdout.push_str(&text);
            }
            Err(e) => print(&format!(
                "[pinokio] sudo: cannot run `{}`: {e}; Pinokio prints this and goes on\n",
                cmd.line
            )),
        }
    }
    let stdout = stdout.trim_end().to_string();
    Ok(json!({ "id": id, "stdout": stdout, "response": stdout, "event": null }))
}
