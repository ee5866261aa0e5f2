//! `pinokiocloud install | start | stop | ls | logs`: app commands for the
//! terminal. When a dashboard serves this home they go through its JSON API
//! (`<home>/cli-token` and `<home>/cli-url`, written by `serve`); otherwise
//! they work on the home directly (and `start` then runs in the foreground,
//! streaming the terminal until the script ends or Ctrl-C).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::apps::{http::resolve_source, AppEvent, AppSummary, Apps, RunRecord};
use crate::proxy::ProxyTargets;
use crate::store::Store;

pub const TOKEN_FILE: &str = "cli-token";
pub const URL_FILE: &str = "cli-url";

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// A git URL (https://…, git@…, file://…), a local folder, or a catalog id.
    pub source: String,
    /// Folder name under `<home>/api` [default: from the repository name].
    #[arg(long)]
    pub folder: Option<String>,
    /// Skip the free-space check (it only warns; the install goes on).
    #[arg(long)]
    pub no_disk_check: bool,
    #[command(flatten)]
    pub home: HomeArg,
}

#[derive(clap::Args, Debug)]
pub struct StartArgs {
    pub app: String,
    /// Script in the app folder [default: start.js/start.json, else the launcher's default].
    pub script: Option<String>,
    /// The script's `args`, as a JSON object.
    #[arg(long)]
    pub args: Option<String>,
    #[command(flatten)]
    pub home: HomeArg,
}

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    pub app: String,
    #[command(flatten)]
    pub home: HomeArg,
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub home: HomeArg,
}

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    pub app: String,
    /// Which run [default: the latest].
    #[arg(long)]
    pub run: Option<i64>,
    #[command(flatten)]
    pub home: HomeArg,
}

#[derive(clap::Args, Debug)]
pub struct HomeArg {
    /// Where apps, logs and the database live [default: ~/pinokio].
    #[arg(long, env = "PINOKIOCLOUD_HOME")]
    pub home: Option<PathBuf>,
}

impl HomeArg {
    fn resolve(&self) -> anyhow::Result<PathBuf> {
        crate::home::resolve(self.home.clone())
    }
}

/// Lets the CLI reach this dashboard: its loopback URL and admin login
/// token, readable by this user only.
pub fn write_cli_access(home: &Path, port: u16, token: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    for (file, text) in [
        (TOKEN_FILE, token.to_string()),
        (URL_FILE, format!("http://127.0.0.1:{port}")),
    ] {
        let path = home.join(file);
        let _ = std::fs::remove_file(&path);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        writeln!(f, "{text}")?;
    }
    Ok(())
}

/// A running dashboard of this home, reached over loopback HTTP.
pub struct Dashboard {
    url: String,
    token: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Dashboard {
    /// The dashboard serving `home`, if one answers.
    pub async fn find(home: &Path) -> Option<Dashboard> {
        let read = |f: &str| {
            std::fs::read_to_string(home.join(f))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let d = Dashboard {
            url: read(URL_FILE)?,
            token: read(TOKEN_FILE)?,
            client: Client::builder(TokioExecutor::new()).build_http(),
        };
        let up = tokio::time::timeout(Duration::from_secs(3), d.call("GET", "/healthz", None))
            .await
            .is_ok_and(|r| r.is_ok());
        up.then_some(d)
    }

    /// The dashboard's loopback URL, e.g. `http://127.0.0.1:42000`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One JSON call; an error status becomes an error with the server's message.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))?;
        let resp = self
            .client
            .request(req)
            .await
            .with_context(|| format!("calling the dashboard at {}", self.url))?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        if !status.is_success() {
            let msg = value
                .get("error")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| value.to_string());
            bail!("{msg} (HTTP {status})");
        }
        Ok(value)
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The supervisor on the home itself (no dashboard is running).
async fn open_direct(home: &Path) -> anyhow::Result<Apps> {
    let home = crate::home::prepare(home)?;
    let store = Store::open(&home).await?;
    Ok(Apps::open(&home, store.pool().clone(), Arc::new(ProxyTargets::new())).await?)
}

pub fn install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let home = args.home.resolve()?;
    let source = resolve_source(&args.source);
    runtime()?.block_on(async {
        if !args.no_disk_check {
            warn_if_short_of_space(&home).await;
        }
        let app: AppSummary = match Dashboard::find(&home).await {
            Some(d) => {
                eprintln!("installing {source} through the dashboard…");
                let body = json!({ "source": source, "folder": args.folder });
                serde_json::from_value(
                    d.call("POST", "/api/admin/apps/install", Some(body))
                        .await?,
                )?
            }
            None => {
                let apps = open_direct(&home).await?;
                let mut events = apps.events();
                let watcher = {
                    let apps = apps.clone();
                    tokio::spawn(async move {
                        while let Ok(e) = events.recv().await {
                            if let AppEvent::InstallStarted { app, .. } = e {
                                if let Some(mut rx) = apps.install_progress(&app) {
                                    let mut last = 101;
                                    loop {
                                        let pct = rx.borrow_and_update().overall;
                                        if pct != last {
                                            eprint!("\rcloning {app}: {pct}%");
                                            last = pct;
                                        }
                                        if rx.changed().await.is_err() {
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                    })
                };
                let r = apps.install(&source, args.folder.as_deref()).await;
                watcher.abort();
                eprintln!();
                r?
            }
        };
        println!(
            "installed {} in {}",
            app.name,
            home.join("api").join(&app.name).display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The disk guard before an install, on this machine's disk whether or not
/// a dashboard serves the home: a warning on stderr, and the install goes on
/// (the clone is small; what fills a disk comes later, from the app's own
/// install script, whose downloads have their own guard).
async fn warn_if_short_of_space(home: &Path) {
    if !home.is_dir() {
        return;
    }
    let check = async {
        let store = Store::open(home).await?;
        crate::storage::guard::install_space(home, &store).await
    };
    match check.await {
        Ok(space) => {
            if let Some(warning) = space.warning() {
                eprintln!("warning: {warning}");
                eprintln!(
                    "  `pinokiocloud dedup` links duplicate files; --no-disk-check skips this check"
                );
            }
        }
        Err(e) => eprintln!("note: free space not checked: {e:#}"),
    }
}

pub fn start(args: StartArgs) -> anyhow::Result<ExitCode> {
    let home = args.home.resolve()?;
    let script_args = match args.args.as_deref() {
        Some(a) => serde_json::from_str(a).context("--args must be a JSON object")?,
        None => Value::Null,
    };
    runtime()?.block_on(async {
        if let Some(d) = Dashboard::find(&home).await {
            let body = json!({ "script": args.script, "args": script_args });
            let r = d
                .call(
                    "POST",
                    &format!("/api/op/apps/{}/start", args.app),
                    Some(body),
                )
                .await?;
            let id = r.get("run_id").and_then(Value::as_i64).unwrap_or_default();
            println!(
                "started {} ({}) as run {id}; its output: pinokiocloud logs {} --run {id}",
                args.app,
                r.get("script").and_then(Value::as_str).unwrap_or("?"),
                args.app
            );
            return Ok(ExitCode::SUCCESS);
        }
        let apps = open_direct(&home).await?;
        let script = match args.script {
            Some(s) => s,
            None => apps.default_script(&args.app).await?,
        };
        eprintln!(
            "no dashboard is running: running {}/{script} here (Ctrl-C stops it)",
            args.app
        );
        foreground(&apps, &args.app, &script, script_args).await
    })
}

/// Runs a script in this process, streaming its terminal, asking its
/// questions on stdin, stopping it on Ctrl-C.
async fn foreground(apps: &Apps, app: &str, script: &str, args: Value) -> anyhow::Result<ExitCode> {
    let mut events = apps.events();
    let run = apps.start(app, script, args).await?;
    let (scroll, mut out) = apps.attach(run)?;
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(&scroll);
    let _ = stdout.flush();
    let ended = apps.wait(run);
    tokio::pin!(ended);
    let rec: RunRecord = loop {
        tokio::select! {
            chunk = out.recv() => {
                if let Ok(b) = chunk {
                    let _ = stdout.write_all(&b);
                    let _ = stdout.flush();
                }
            }
            ev = events.recv() => {
                if let Ok(AppEvent::Form { form }) = ev {
                    if form.run_id == run {
                        ask_on_stdin(apps.clone(), form);
                    }
                }
            }
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\nstopping…");
                apps.stop(run).await?;
            }
            rec = &mut ended => break rec?,
        }
    };
    while let Ok(b) = out.try_recv() {
        let _ = stdout.write_all(&b);
    }
    let _ = stdout.flush();
    eprintln!(
        "\n{}: {}",
        rec.outcome.as_deref().unwrap_or("ended"),
        rec.reason.as_deref().unwrap_or("")
    );
    Ok(if rec.outcome.as_deref() == Some("ok") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn ask_on_stdin(apps: Apps, form: crate::apps::PendingForm) {
    std::thread::spawn(move || loop {
        eprintln!(
            "\nthe script asks ({:?}): {}\nanswer with one line of JSON:",
            form.kind, form.params
        );
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let value = serde_json::from_str(line.trim()).unwrap_or(Value::String(line.trim().into()));
        match apps.answer(&form.id, value) {
            Ok(()) => return,
            Err(crate::apps::AppsError::NoSuchForm(_)) => return,
            Err(e) => eprintln!("{e}"),
        }
    });
}

pub fn stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    let home = args.home.resolve()?;
    runtime()?.block_on(async {
        match Dashboard::find(&home).await {
            Some(d) => {
                let r = d
                    .call("POST", &format!("/api/op/apps/{}/stop", args.app), None)
                    .await?;
                println!("stopped runs {}", r["stopped"]);
            }
            None => {
                // Opening the supervisor cleans up anything left running.
                let apps = open_direct(&home).await?;
                let stopped = apps.stop_app(&args.app).await?;
                println!(
                    "no dashboard is running; {} has {} run(s) in progress now",
                    args.app,
                    stopped.len()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn ls(args: LsArgs) -> anyhow::Result<ExitCode> {
    let home = args.home.resolve()?;
    runtime()?.block_on(async {
        let dashboard = Dashboard::find(&home).await;
        let apps: Vec<AppSummary> = match &dashboard {
            Some(d) => serde_json::from_value(d.call("GET", "/api/view/apps", None).await?)?,
            None => open_direct(&home).await?.list().await?,
        };
        if args.json {
            let origins = match &dashboard {
                Some(d) => d.call("GET", "/api/view/origins", None).await?,
                None => Value::Array(Vec::new()),
            };
            let listed = crate::origin::cli::with_origins(serde_json::to_value(&apps)?, &origins);
            println!("{}", serde_json::to_string_pretty(&listed)?);
            return Ok(ExitCode::SUCCESS);
        }
        if apps.is_empty() {
            println!("no apps installed; add one with `pinokiocloud install <git-url>`");
        }
        for a in apps {
            let state = match (&a.running[..], &a.url) {
                ([], _) => "stopped".to_string(),
                (runs, Some(_)) => format!(
                    "running (runs {runs:?}); open it: pinokiocloud open {}",
                    a.name
                ),
                (runs, None) => format!("running (runs {runs:?})"),
            };
            println!("{:<28} {:<32} {state}", a.name, a.title);
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn logs(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let home = args.home.resolve()?;
    runtime()?.block_on(async {
        let text = match Dashboard::find(&home).await {
            Some(d) => {
                let id = match args.run {
                    Some(id) => id,
                    None => latest(
                        serde_json::from_value(
                            d.call("GET", &format!("/api/view/apps/{}/runs", args.app), None)
                                .await?,
                        )?,
                        &args.app,
                    )?,
                };
                match d
                    .call("GET", &format!("/api/view/apps/runs/{id}/log"), None)
                    .await?
                {
                    Value::String(s) => s,
                    other => other.to_string(),
                }
            }
            None => {
                let apps = open_direct(&home).await?;
                let id = match args.run {
                    Some(id) => id,
                    None => latest(apps.history(&args.app).await?, &args.app)?,
                };
                apps.log(id).await?
            }
        };
        print!("{text}");
        Ok(ExitCode::SUCCESS)
    })
}

fn latest(runs: Vec<RunRecord>, app: &str) -> anyhow::Result<i64> {
    match runs.first() {
        Some(r) => Ok(r.id),
        None => bail!("{app} has not run yet; start it with `pinokiocloud start {app}`"),
    }
}
