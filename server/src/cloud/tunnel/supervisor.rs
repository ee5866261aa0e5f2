//! Runs the tunnel (a process whose logs give the URL, or an in-process
//! ngrok session), restarts it with backoff when it dies, and publishes
//! [`TunnelState`] on a watch channel. A missing cloudflared is installed
//! first when the launch allows it.

use super::install::{self, Download};
use super::plan::Runner;
use super::{ngrok_sdk, Launch, LineEvent, ProviderKind, TunnelState};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Restart and timeout policy.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Wait before the first restart; doubles on each failure in a row.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Failures in a row (without a URL in between) before giving up.
    pub max_failures: u32,
    /// A process that prints no URL within this time is restarted.
    pub url_timeout: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_failures: 8,
            url_timeout: Duration::from_secs(90),
        }
    }
}

impl SupervisorConfig {
    /// The wait after `failures` failures in a row (1-based).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        self.backoff_initial
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

/// A supervised tunnel. Dropping it kills the process too.
pub struct Tunnel {
    kind: ProviderKind,
    state: watch::Receiver<TunnelState>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// Where the program will be downloaded from first, when it is missing.
    install_from: Option<String>,
}

impl Tunnel {
    /// Starts supervising `launch`; needs a Tokio runtime.
    pub fn spawn(launch: Launch, config: SupervisorConfig) -> Tunnel {
        let (state_tx, state) = watch::channel(TunnelState::Starting);
        let (stop, stop_rx) = watch::channel(false);
        let kind = launch.kind;
        let install_from = pending_download(&launch);
        let task = tokio::spawn(supervise(launch, config, state_tx, stop_rx));
        Tunnel {
            kind,
            state,
            stop,
            task: Some(task),
            install_from,
        }
    }

    /// The URL the program is downloaded from before it can start, when it
    /// is missing. Known at spawn, so a caller can say so even when the
    /// download fails faster than it watches the `Installing` state.
    pub fn install_from(&self) -> Option<&str> {
        self.install_from.as_deref()
    }

    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// The current state.
    pub fn state(&self) -> TunnelState {
        self.state.borrow().clone()
    }

    /// A receiver that sees every later state change.
    pub fn subscribe(&self) -> watch::Receiver<TunnelState> {
        self.state.clone()
    }

    /// Waits until the tunnel is up (its URL) or has given up (`None`).
    pub async fn wait_for_url(&self) -> Option<String> {
        let mut states = self.subscribe();
        let state = states
            .wait_for(|s| s.url().is_some() || s.is_final())
            .await
            .ok()?;
        state.url().map(str::to_string)
    }

    /// Kills the process and waits until it is gone.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// How one run of the process ended.
pub(super) enum RunEnd {
    StopRequested,
    Died {
        was_up: bool,
        error: String,
    },
    /// Retrying cannot help (a refused token): give up at once.
    Fatal(String),
}

async fn supervise(
    launch: Launch,
    config: SupervisorConfig,
    state: watch::Sender<TunnelState>,
    mut stop: watch::Receiver<bool>,
) {
    let mut failures = 0u32;
    let mut attempt = 0u32;
    let launch = match ensure_installed(launch, &state, &mut stop).await {
        Ok(Some(launch)) => launch,
        Ok(None) => {
            state.send_replace(TunnelState::Stopped);
            return;
        }
        Err(reason) => {
            state.send_replace(TunnelState::Failed { reason });
            return;
        }
    };
    loop {
        let (was_up, error) = match run_once(&launch, &config, &state, &mut stop).await {
            RunEnd::StopRequested => break,
            RunEnd::Died { was_up, error } => (was_up, error),
            RunEnd::Fatal(reason) => {
                state.send_replace(TunnelState::Failed { reason });
                return;
            }
        };
        failures = if was_up { 1 } else { failures + 1 };
        if failures >= config.max_failures {
            let reason = format!(
                "{} failed {failures} times in a row; last error: {error}",
                launch.kind
            );
            state.send_replace(TunnelState::Failed { reason });
            return;
        }
        attempt += 1;
        state.send_replace(TunnelState::Restarting {
            attempt,
            last_error: error,
        });
        tokio::select! {
            _ = tokio::time::sleep(config.backoff(failures)) => {}
            _ = stop.changed() => break,
        }
    }
    state.send_replace(TunnelState::Stopped);
}

fn pending_download(launch: &Launch) -> Option<String> {
    match &launch.runner {
        Runner::Process {
            binary,
            install: Some(download),
            ..
        } if !crate::cloud::env::is_executable(binary) => Some(download.url.clone()),
        _ => None,
    }
}

/// Downloads the program first when it is missing and the launch says how
/// (`Ok(None)`: stopped meanwhile; `Err`: why it cannot be installed).
async fn ensure_installed(
    mut launch: Launch,
    state: &watch::Sender<TunnelState>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<Launch>, String> {
    let Runner::Process {
        binary, install, ..
    } = &mut launch.runner
    else {
        return Ok(Some(launch));
    };
    let Some(download) = install.take() else {
        return Ok(Some(launch));
    };
    if crate::cloud::env::is_executable(binary) {
        return Ok(Some(launch));
    }
    let home_bin = binary.parent().map(Path::to_path_buf).unwrap_or_default();
    tokio::select! {
        installed = install_with_progress(&download, &home_bin, state) => {
            *binary = installed.map_err(|e| e.to_string())?;
            Ok(Some(launch))
        }
        _ = stop.changed() => Ok(None),
    }
}

async fn install_with_progress(
    download: &Download,
    home_bin: &Path,
    state: &watch::Sender<TunnelState>,
) -> Result<PathBuf, super::TunnelError> {
    let name = download.name;
    let url = download.url.clone();
    let mut report = |p: install::Progress| {
        tracing::info!(target: "pinokiocloud::tunnel", "downloading {name}: {}", install::describe(p));
        state.send_replace(TunnelState::Installing {
            url: url.clone(),
            received: p.received,
            total: p.total,
        });
    };
    install::install(download, home_bin, &mut report).await
}

async fn run_once(
    launch: &Launch,
    config: &SupervisorConfig,
    state: &watch::Sender<TunnelState>,
    stop: &mut watch::Receiver<bool>,
) -> RunEnd {
    if *stop.borrow_and_update() {
        return RunEnd::StopRequested;
    }
    match &launch.runner {
        Runner::Process {
            binary, args, env, ..
        } => {
            let process = Process {
                kind: launch.kind,
                binary,
                args,
                env,
            };
            run_process(&process, config, state, stop).await
        }
        Runner::NgrokSdk(sdk) => ngrok_sdk::run_once(sdk, launch.port, state, stop).await,
    }
}

/// One tunnel program to run.
struct Process<'a> {
    kind: ProviderKind,
    binary: &'a Path,
    args: &'a [String],
    env: &'a [(String, String)],
}

async fn run_process(
    launch: &Process<'_>,
    config: &SupervisorConfig,
    state: &watch::Sender<TunnelState>,
    stop: &mut watch::Receiver<bool>,
) -> RunEnd {
    let mut child = match spawn(launch) {
        Ok(child) => child,
        Err(err) => {
            let error = format!("cannot start {}: {err}", launch.binary.display());
            return RunEnd::Died {
                was_up: false,
                error,
            };
        }
    };
    let mut lines = read_lines(&mut child);
    let mut watcher = RunWatcher::new(launch.kind);
    let url_deadline = tokio::time::sleep(config.url_timeout);
    tokio::pin!(url_deadline);
    let status = loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = child.kill().await;
                return RunEnd::StopRequested;
            }
            Some(line) = lines.recv() => watcher.see(&line, state),
            status = child.wait() => break status,
            _ = &mut url_deadline, if watcher.url.is_none() => {
                let _ = child.kill().await;
                let error = format!("no public URL after {} s", config.url_timeout.as_secs());
                return RunEnd::Died { was_up: false, error: watcher.error_or(error) };
            }
        }
    };
    // Lines written just before exit may still be in the pipes; read them
    // until both close (a leftover grandchild may hold them: 2 s at most).
    let drain_until = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Some(line)) = tokio::time::timeout_at(drain_until, lines.recv()).await {
        watcher.see(&line, state);
    }
    let status = match status {
        Ok(status) => format!("{} exited ({status})", launch.kind),
        Err(err) => format!("{} could not be waited for: {err}", launch.kind),
    };
    RunEnd::Died {
        was_up: watcher.url.is_some(),
        error: watcher.error_or(status),
    }
}

fn spawn(launch: &Process<'_>) -> std::io::Result<Child> {
    Command::new(launch.binary)
        .args(launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

/// Both output streams, merged line by line.
fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(256);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(forward_lines(out, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(forward_lines(err, tx));
    }
    rx
}

async fn forward_lines(stream: impl AsyncRead + Unpin, tx: mpsc::Sender<String>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "pinokiocloud::tunnel", "{line}");
        if tx.send(line).await.is_err() {
            break;
        }
    }
}

/// What one run has said so far.
struct RunWatcher {
    kind: ProviderKind,
    url: Option<String>,
    last_error: Option<String>,
}

impl RunWatcher {
    fn new(kind: ProviderKind) -> Self {
        RunWatcher {
            kind,
            url: None,
            last_error: None,
        }
    }

    fn see(&mut self, line: &str, state: &watch::Sender<TunnelState>) {
        match self.kind.parse_line(line) {
            LineEvent::Url(url) if self.url.as_deref() != Some(&url) => {
                tracing::info!(target: "pinokiocloud::tunnel", "{} tunnel up at {url}", self.kind);
                self.url = Some(url.clone());
                state.send_replace(TunnelState::Up { url });
            }
            LineEvent::Error(error) => self.last_error = Some(error),
            _ => {}
        }
    }

    /// `fallback`, with the last error line the process printed.
    fn error_or(&self, fallback: String) -> String {
        match &self.last_error {
            Some(error) => format!("{fallback}: {error}"),
            None => fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = SupervisorConfig {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(10),
            ..SupervisorConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| config.backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 10, 10]);
        assert_eq!(config.backoff(1000).as_secs(), 10);
    }
}
