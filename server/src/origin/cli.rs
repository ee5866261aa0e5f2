//! `pinokiocloud open <app>`: the sign-in link to the app's own origin, as
//! the Open button gives it to a person on this machine.

use crate::app_cli::{Dashboard, HomeArg};
use anyhow::bail;
use serde_json::Value;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    pub app: String,
    /// Print the answer as JSON (link, mode, reason, origin).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub home: HomeArg,
}

pub fn open(args: OpenArgs) -> anyhow::Result<ExitCode> {
    crate::proxy::check_app_name(&args.app)?;
    let home = crate::home::resolve(args.home.home.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let Some(dashboard) = Dashboard::find(&home).await else {
            bail!(
                "no dashboard is running for {}; start it with `pinokiocloud serve`, then `pinokiocloud start {}`",
                home.display(),
                args.app
            );
        };
        let answer = dashboard
            .call("GET", &format!("/open/{}?format=json", args.app), None)
            .await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
            return Ok(ExitCode::SUCCESS);
        }
        let field = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or("");
        println!("{}", absolute(field("link"), &dashboard));
        eprintln!(
            "{} opens at {} ({} mode: {}). The link signs you in once, within a minute.",
            args.app,
            absolute(field("origin"), &dashboard),
            field("mode"),
            field("reason")
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Prefix-mode links are paths on the dashboard.
fn absolute(link: &str, dashboard: &Dashboard) -> String {
    if link.starts_with('/') {
        format!("{}{link}", dashboard.url().trim_end_matches('/'))
    } else {
        link.to_string()
    }
}

/// `ls --json`: each running app gets `"origin": {mode, reason, origin}`
/// (as the dashboard's loopback address sees it), with `tunnel` (provider,
/// state, url, detail) once it has a tunnel of its own; stopped apps get
/// `null`.
pub fn with_origins(mut apps: Value, origins: &Value) -> Value {
    let Some(list) = apps.as_array_mut() else {
        return apps;
    };
    for app in list {
        let name = app.get("name").and_then(Value::as_str).unwrap_or("");
        let origin = origins
            .as_array()
            .and_then(|all| all.iter().find(|o| o["app"] == name))
            .map(|o| {
                let mut shown = serde_json::json!({
                    "mode": o["mode"], "reason": o["reason"], "origin": o["origin"]
                });
                if let Some(tunnel) = o.get("tunnel") {
                    shown["tunnel"] = tunnel.clone();
                }
                shown
            })
            .unwrap_or(Value::Null);
        if let Some(obj) = app.as_object_mut() {
            obj.insert("origin".into(), origin);
        }
    }
    apps
}
