//! CLI glue for the engine subcommands: `run` (stream a script, Ctrl-C
//! stops it and its processes), `plan` (what a script would do, no side
//! effects) and `menu` (an app's launcher as it renders now).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use engine::{AutoHost, Engine, Event, Host, Interaction, MenuItem, PlanOptions, RunOptions};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Script to run: a path, or `<app>/<script>` under `<home>/api`.
    pub script: PathBuf,
    /// Pinokio home (default `~/pinokio`; apps live in `<home>/api/<app>`).
    #[arg(long)]
    pub home: Option<PathBuf>,
    /// The script's `args`, as a JSON object.
    #[arg(long)]
    pub args: Option<String>,
    /// Answers for `input` fields and missing environment variables, as a
    /// JSON object of key → value (needed without a terminal).
    #[arg(long)]
    pub answers: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Script to plan: a path, or `<app>/<script>` under `<home>/api`.
    pub script: PathBuf,
    #[arg(long)]
    pub home: Option<PathBuf>,
    /// Print a JSON array of `{script, index, method, params}`.
    #[arg(long)]
    pub json: bool,
    /// Plan for this platform instead of this machine's.
    #[arg(long, value_parser = ["linux", "darwin", "win32"])]
    pub platform: Option<String>,
    /// Plan for this GPU instead of this machine's.
    #[arg(long, value_parser = ["nvidia", "amd", "apple", "none"])]
    pub gpu: Option<String>,
    /// Check torch installs against this NVIDIA driver version (e.g. `470.82.01`).
    #[arg(long, value_name = "VERSION")]
    pub driver: Option<String>,
    /// The script's `args`, as a JSON object.
    #[arg(long)]
    pub args: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct MenuArgs {
    /// App folder, or an app name under `<home>/api`.
    pub app_dir: PathBuf,
    #[arg(long)]
    pub home: Option<PathBuf>,
    /// Print the menu as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let home = crate::home::resolve(args.home)?;
    let script = locate(&home, &args.script, "script")?;
    let engine = Engine::detect(&home);
    let host = host_for(args.answers.as_deref())?;
    let (sink, mut rx) = engine::channel();
    let opts = RunOptions {
        args: json_arg(args.args.as_deref(), "--args")?,
        host,
        events: sink,
    };
    let handle = engine.start(&script, opts)?;
    let stopper = handle.stopper();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                eprintln!("\nstopping…");
                stopper.stop();
            }
        }
    });
    let printer = std::thread::spawn(move || {
        while let Some(event) = rx.blocking_recv() {
            print_event(&event);
        }
    });
    let result = handle.wait();
    let _ = printer.join();
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) if e.is_stopped() => {
            eprintln!("stopped");
            Ok(ExitCode::from(130))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let home = crate::home::resolve(args.home)?;
    let script = locate(&home, &args.script, "script")?;
    let engine = Engine::detect(&home);
    let mut system = engine
        .system()
        .clone()
        .with_overrides(args.platform.as_deref(), args.gpu.as_deref());
    if let Some(driver) = args.driver {
        (system.gpu_driver, system.cuda) = (Some(driver), None);
    }
    let opts = PlanOptions {
        args: Some(json_arg(args.args.as_deref(), "--args")?),
        system: Some(system.clone()),
    };
    let plan = match engine.plan(&script, opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
        return Ok(ExitCode::SUCCESS);
    }
    for entry in &plan {
        println!(
            "{}#{} {} {}",
            entry.script,
            entry.index,
            entry.method,
            summary(&entry.params)
        );
    }
    print_torch_check(&engine::torch::check(&plan, &system));
    Ok(ExitCode::SUCCESS)
}

/// The torch section of a plan: only when the script installs torch.
fn print_torch_check(check: &engine::TorchCheck) {
    if check.findings.is_empty() {
        return;
    }
    let driver = check.driver.as_deref().unwrap_or("none");
    let cuda = check.cuda.as_deref().unwrap_or("none");
    println!(
        "\ntorch: GPU {}, driver {driver}, CUDA {cuda}; best index here: {}",
        check.gpu, check.recommended
    );
    for f in &check.findings {
        let mark = match f.verdict {
            engine::Verdict::Fits => "ok",
            engine::Verdict::Caution => "warning",
            engine::Verdict::Incompatible => "error",
        };
        println!("  {mark}: {}#{} {}", f.script, f.index, f.message);
    }
}

pub fn menu(args: MenuArgs) -> anyhow::Result<ExitCode> {
    let home = crate::home::resolve(args.home)?;
    let dir = locate(&home, &args.app_dir, "app")?;
    let engine = Engine::detect(&home);
    let menu = match engine.menu(&dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&menu)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(t) = &menu.title {
        println!("{t}");
    }
    print_items(&menu.items, 1);
    Ok(ExitCode::SUCCESS)
}

/// A path as given, else `<home>/api/<path>`: the first that is `what`
/// (a script file, or an app folder with a launcher).
fn locate(home: &Path, p: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let fits = |c: &Path| match what {
        "app" => ["pinokio.js", "pinokio.json", "pinokio/pinokio.js"]
            .iter()
            .any(|f| c.join(f).is_file()),
        _ => c.is_file(),
    };
    let under = home.join("api").join(p);
    let candidates = [p.to_path_buf(), under.clone()];
    if let Some(c) = candidates.iter().find(|c| fits(c)) {
        return Ok(c.clone());
    }
    if let Some(c) = candidates.iter().find(|c| c.exists()) {
        return Ok(c.clone());
    }
    bail!("{what} {} not found (nor {})", p.display(), under.display())
}

fn json_arg(text: Option<&str>, flag: &str) -> anyhow::Result<Value> {
    match text {
        None => Ok(Value::Object(Default::default())),
        Some(t) => serde_json::from_str(t).with_context(|| format!("{flag} must be JSON")),
    }
}

/// `--answers` when given; a terminal prompt when interactive; otherwise
/// declared defaults only (a field without one fails, naming `--answers`).
fn host_for(answers: Option<&str>) -> anyhow::Result<Arc<dyn Host>> {
    match answers {
        Some(a) => Ok(Arc::new(AutoHost::new(json_arg(Some(a), "--answers")?))),
        None if std::io::stdin().is_terminal() => Ok(Arc::new(TtyHost)),
        None => Ok(Arc::new(AutoHost::default())),
    }
}

/// Asks on the terminal for each field, offering its default.
struct TtyHost;

impl TtyHost {
    fn ask(&self, label: &str, default: Option<&Value>) -> Result<Value, String> {
        let d = default.map(engine_value_text).unwrap_or_default();
        eprint!(
            "{label}{}: ",
            if d.is_empty() {
                String::new()
            } else {
                format!(" [{d}]")
            }
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let line = line.trim();
        if line.is_empty() {
            return default
                .cloned()
                .ok_or_else(|| format!("no answer for {label}"));
        }
        Ok(Value::String(line.to_string()))
    }
}

fn engine_value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Host for TtyHost {
    fn interact(&self, what: &Interaction) -> Result<Value, String> {
        match what {
            Interaction::Input { params, .. } => {
                let mut out = serde_json::Map::new();
                for f in engine::host::form_fields(params) {
                    let key = f
                        .get("key")
                        .and_then(Value::as_str)
                        .unwrap_or("value")
                        .to_string();
                    let label = f
                        .get("title")
                        .and_then(Value::as_str)
                        .unwrap_or(&key)
                        .to_string();
                    out.insert(key, self.ask(&label, f.get("default"))?);
                }
                Ok(Value::Object(out))
            }
            Interaction::Env { vars, .. } => {
                let mut out = serde_json::Map::new();
                for v in vars {
                    let d = v.default.clone().map(Value::String);
                    out.insert(
                        v.key.clone(),
                        self.ask(v.title.as_deref().unwrap_or(&v.key), d.as_ref())?,
                    );
                }
                Ok(Value::Object(out))
            }
            Interaction::FilePicker { .. } => {
                let p = self.ask("path", None)?;
                Ok(serde_json::json!({ "paths": [p] }))
            }
            Interaction::Wait { .. } => self.ask("press Enter to continue", Some(&Value::Null)),
            Interaction::Notify { params, .. } => {
                eprintln!(
                    "[notify] {}",
                    params
                        .get("html")
                        .map(engine_value_text)
                        .unwrap_or_default()
                );
                Ok(Value::Null)
            }
            Interaction::Open { url, .. } => {
                eprintln!("[open] {url}");
                Ok(Value::Null)
            }
            Interaction::Proxy { .. } => Ok(Value::Null),
        }
    }
}

fn print_event(event: &Event) {
    match event {
        Event::Output { data, .. } => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(data);
            let _ = out.flush();
        }
        Event::Log { text, .. } => println!("{text}"),
        Event::StepStart {
            script,
            index,
            total,
            step,
        } => {
            let name = script
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let method = step.get("method").and_then(Value::as_str).unwrap_or("?");
            eprintln!("▶ {name} [{}/{total}] {method}", index + 1);
        }
        Event::Method { method, params, .. } if method == "notify" => {
            eprintln!(
                "[notify] {}",
                params
                    .get("html")
                    .map(engine_value_text)
                    .unwrap_or_default()
            );
        }
        Event::DaemonReady { script } => {
            eprintln!("✔ {} is running (Ctrl-C to stop)", script.display())
        }
        _ => {}
    }
}

/// One-line view of a step's params for plan output.
fn summary(params: &Value) -> String {
    if let Some(m) = params.get("message") {
        let lines = match m {
            Value::Array(a) => a
                .iter()
                .map(engine_value_text)
                .collect::<Vec<_>>()
                .join(" && "),
            other => engine_value_text(other),
        };
        let mut s = format!("$ {lines}");
        for k in ["path", "venv"] {
            if let Some(v) = params.get(k).filter(|v| !v.is_null()) {
                s.push_str(&format!("  ({k}: {})", engine_value_text(v)));
            }
        }
        return s;
    }
    params.to_string()
}

fn print_items(items: &[MenuItem], depth: usize) {
    for item in items {
        let label = item
            .text
            .clone()
            .or_else(|| item.html.clone())
            .unwrap_or_default();
        let href = item
            .href
            .as_deref()
            .map(|h| format!(" → {h}"))
            .unwrap_or_default();
        let default = if item.default == Some(true) {
            " (default)"
        } else {
            ""
        };
        println!("{}- {label}{href}{default}", "  ".repeat(depth));
        if let Some(sub) = &item.menu {
            print_items(sub, depth + 1);
        }
    }
}
