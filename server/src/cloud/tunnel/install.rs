//! Installing cloudflared with no manual step: the pinned release for this
//! machine's architecture, downloaded into `<home>/bin`, its sha256 checked
//! before it is ever made executable.
//!
//! The file is written to a temporary name next to the target, hashed while
//! it streams in, and only renamed into place once the digest matches: an
//! interrupted or tampered download never leaves a `cloudflared` behind.
//!
//! `PINOKIOCLOUD_CLOUDFLARED_URL` replaces the release base URL (a mirror,
//! or a local server in tests); `PINOKIOCLOUD_CLOUDFLARED_SHA256` replaces
//! the expected digest for a mirror that hosts another build.

use super::TunnelError;
use crate::cloud::env::Env;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The cloudflared release we install.
pub const CLOUDFLARED_VERSION: &str = "2026.9.3";

/// Overrides the base URL the asset is downloaded from.
pub const URL_ENV: &str = "PINOKIOCLOUD_CLOUDFLARED_URL";
/// Overrides the expected sha256 of the asset.
pub const SHA256_ENV: &str = "PINOKIOCLOUD_CLOUDFLARED_SHA256";

/// `(Rust target arch, release asset, sha256)` for the pinned version, as
/// published in the "SHA256 Checksums" section of the cloudflared release
/// notes. Moving the pin means replacing every line here.
const PINNED: &[(&str, &str, &str)] = &[
    (
        "x86_64",
        "cloudflared-linux-amd64",
        "77e26d8d900e0b8469f416239d14b5f296525fdf79fee6f511ef55609e3fbac2",
    ),
    (
        "aarch64",
        "cloudflared-linux-arm64",
        "aaeb2d7d0da3614634c7e03ab13487a1522c2e79165ed2929cfe23d5e95b326d",
    ),
];

/// Bounds one download attempt; the binary is about 40 MB.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// One file to fetch and the digest it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The program name it is installed as.
    pub name: &'static str,
    pub url: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// How far a download has come, for logs and the System page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub received: u64,
    /// From `Content-Length`, when the server sent one.
    pub total: Option<u64>,
}

impl Download {
    /// The pinned cloudflared for this machine, with the overrides from `env`.
    pub fn cloudflared(env: &dyn Env) -> Result<Download, TunnelError> {
        Self::cloudflared_for(std::env::consts::OS, std::env::consts::ARCH, env)
    }

    /// [`Download::cloudflared`] for a given OS and architecture.
    pub fn cloudflared_for(os: &str, arch: &str, env: &dyn Env) -> Result<Download, TunnelError> {
        let pinned = PINNED.iter().find(|(a, _, _)| *a == arch && os == "linux");
        let Some((_, asset, sha256)) = pinned else {
            return Err(TunnelError::NoPinnedRelease {
                os: os.to_string(),
                arch: arch.to_string(),
            });
        };
        let base = env
            .var(URL_ENV)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| {
                format!(
                    "https://github.com/cloudflare/cloudflared/releases/download/{CLOUDFLARED_VERSION}"
                )
            });
        let sha256 = env
            .var(SHA256_ENV)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| sha256.to_string());
        Ok(Download {
            name: "cloudflared",
            url: format!("{}/{asset}", base.trim().trim_end_matches('/')),
            sha256: sha256.trim().to_ascii_lowercase(),
        })
    }
}

/// Downloads `download` into `home_bin/<name>`, checks its sha256, makes it
/// executable; `progress` sees each step. Installs run one at a time (two
/// tunnels asking at once share the first one's result).
pub async fn install(
    download: &Download,
    home_bin: &Path,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<PathBuf, TunnelError> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let target = home_bin.join(download.name);
    if crate::cloud::env::is_executable(&target) {
        return Ok(target);
    }
    tokio::fs::create_dir_all(home_bin)
        .await
        .map_err(|e| io_error(download, home_bin, "creating", home_bin, e))?;
    let partial = Partial::new(home_bin, download.name);
    tracing::info!(target: "pinokiocloud::tunnel", "downloading {} from {}", download.name, download.url);
    progress(Progress {
        received: 0,
        total: None,
    });
    let actual = fetch(download, home_bin, &partial.path, progress).await?;
    if actual != download.sha256 {
        return Err(TunnelError::ChecksumMismatch {
            name: download.name,
            url: download.url.clone(),
            expected: download.sha256.clone(),
            actual,
        });
    }
    make_executable(&partial.path)
        .await
        .map_err(|e| io_error(download, home_bin, "making executable", &partial.path, e))?;
    tokio::fs::rename(&partial.path, &target)
        .await
        .map_err(|e| io_error(download, home_bin, "renaming into place", &target, e))?;
    partial.keep();
    tracing::info!(target: "pinokiocloud::tunnel", "installed {} (sha256 verified)", target.display());
    Ok(target)
}

/// Streams the body into `path`, returning its sha256 (lowercase hex).
async fn fetch(
    download: &Download,
    home_bin: &Path,
    path: &Path,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<String, TunnelError> {
    let failed = |reason: String| TunnelError::DownloadFailed {
        name: download.name,
        url: download.url.clone(),
        reason,
        home_bin: home_bin.to_path_buf(),
    };
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(DOWNLOAD_TIMEOUT)
        .build()
        .map_err(|e| failed(error_chain(&e)))?;
    let mut response = client
        .get(&download.url)
        .send()
        .await
        .map_err(|e| failed(error_chain(&e)))?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status())));
    }
    let total = response.content_length();
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| io_error(download, home_bin, "creating", path, e))?;
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    let mut reported = Reporter::default();
    progress(Progress { received, total });
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed(error_chain(&e)))?
    {
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error(download, home_bin, "writing", path, e))?;
        received += chunk.len() as u64;
        if reported.due(received, total) {
            progress(Progress { received, total });
        }
    }
    if let Some(total) = total.filter(|t| *t != received) {
        return Err(failed(format!(
            "the connection ended after {received} of {total} bytes"
        )));
    }
    file.flush()
        .await
        .map_err(|e| io_error(download, home_bin, "writing", path, e))?;
    progress(Progress { received, total });
    Ok(hex::encode(hasher.finalize()))
}

/// Reports at most every 2 MB, so logs stay short.
#[derive(Default)]
struct Reporter {
    last: u64,
}

impl Reporter {
    fn due(&mut self, received: u64, total: Option<u64>) -> bool {
        let step = 2 * 1024 * 1024;
        let due = received >= self.last + step || total == Some(received);
        if due {
            self.last = received;
        }
        due
    }
}

/// A temporary file removed on drop unless kept (renamed into place).
struct Partial {
    path: PathBuf,
    kept: bool,
}

impl Partial {
    fn new(dir: &Path, name: &str) -> Partial {
        let nonce: u64 = rand_u64();
        Partial {
            path: dir.join(format!(".{name}.download-{}-{nonce:x}", std::process::id())),
            kept: false,
        }
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn rand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // A clash only makes `File::create` overwrite our own leftover.
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

async fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).await
}

fn io_error(
    download: &Download,
    home_bin: &Path,
    doing: &str,
    path: &Path,
    err: std::io::Error,
) -> TunnelError {
    TunnelError::DownloadFailed {
        name: download.name,
        url: download.url.clone(),
        reason: format!("{doing} {}: {err}", path.display()),
        home_bin: home_bin.to_path_buf(),
    }
}

/// `error sending request: connection refused`: reqwest's top-level message
/// alone hides the cause.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `12.3 of 38.0 MB`, or `12.3 MB` without a total.
pub fn describe(p: Progress) -> String {
    let mb = |b: u64| b as f64 / 1_000_000.0;
    match p.total {
        Some(total) => format!("{:.1} of {:.1} MB", mb(p.received), mb(total)),
        None => format!("{:.1} MB", mb(p.received)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::env::FixtureEnv;

    #[test]
    fn pinned_assets_per_architecture() {
        let env = FixtureEnv::new();
        let amd = Download::cloudflared_for("linux", "x86_64", &env).unwrap();
        assert_eq!(
            amd.url,
            format!("https://github.com/cloudflare/cloudflared/releases/download/{CLOUDFLARED_VERSION}/cloudflared-linux-amd64")
        );
        assert_eq!(amd.sha256.len(), 64);
        let arm = Download::cloudflared_for("linux", "aarch64", &env).unwrap();
        assert!(arm.url.ends_with("/cloudflared-linux-arm64"));
        assert_ne!(arm.sha256, amd.sha256);
        let err = Download::cloudflared_for("macos", "aarch64", &env).unwrap_err();
        assert!(err.to_string().contains("macos/aarch64"), "{err}");
    }

    #[test]
    fn overrides_replace_base_and_digest() {
        let env = FixtureEnv::new()
            .with_var(URL_ENV, "http://127.0.0.1:9/mirror/")
            .with_var(SHA256_ENV, "ABCD");
        let d = Download::cloudflared_for("linux", "x86_64", &env).unwrap();
        assert_eq!(d.url, "http://127.0.0.1:9/mirror/cloudflared-linux-amd64");
        assert_eq!(d.sha256, "abcd");
    }

    #[test]
    fn progress_reads_in_megabytes() {
        let p = Progress {
            received: 12_300_000,
            total: Some(38_000_000),
        };
        assert_eq!(describe(p), "12.3 of 38.0 MB");
        let mut r = Reporter::default();
        assert!(!r.due(1000, Some(10_000_000)));
        assert!(r.due(3 * 1024 * 1024, Some(10_000_000)));
        assert!(r.due(10_000_000, Some(10_000_000)));
    }
}
