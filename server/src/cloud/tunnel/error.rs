//! Why a tunnel cannot be started, each with the fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("tunnels are not allowed on {platform}: {reason}")]
    Forbidden { platform: String, reason: String },

    #[error(
        "{name} was not found on PATH or in {}; install {name} into {} or put it on PATH \
         (download: {url})",
        home_bin.display(), home_bin.display()
    )]
    MissingBinary {
        name: &'static str,
        home_bin: PathBuf,
        url: &'static str,
    },

    #[error(
        "ngrok needs an auth token: set NGROK_AUTHTOKEN to the token from \
         https://dashboard.ngrok.com/get-started/your-authtoken"
    )]
    MissingNgrokToken,

    #[error(
        "no tunnel program is available: install cloudflared into {} or put it on PATH \
         (https://github.com/cloudflare/cloudflared/releases/latest), pass --tunnel cloudflared to \
         download it, or set NGROK_AUTHTOKEN to use ngrok (no program needed)",
        home_bin.display()
    )]
    NoProvider { home_bin: PathBuf },

    #[error(
        "could not download {name} from {url}: {reason}; install it yourself into {} \
         or pass --tunnel off",
        home_bin.display()
    )]
    DownloadFailed {
        name: &'static str,
        url: String,
        reason: String,
        home_bin: PathBuf,
    },

    #[error(
        "the {name} downloaded from {url} has sha256 {actual}, not the pinned {expected}; \
         nothing was installed (a proxy or mirror may have changed the file; set \
         PINOKIOCLOUD_CLOUDFLARED_SHA256 only for a mirror you trust)"
    )]
    ChecksumMismatch {
        name: &'static str,
        url: String,
        expected: String,
        actual: String,
    },

    #[error(
        "no cloudflared release is pinned for {os}/{arch} (only linux/x86_64 and \
         linux/aarch64); install cloudflared yourself and put it on PATH"
    )]
    NoPinnedRelease { os: String, arch: String },

    #[error("could not open an ngrok tunnel: {reason}")]
    Ngrok { reason: String },

    #[error("unknown tunnel provider {given:?}; use auto, cloudflared or ngrok")]
    UnknownProvider { given: String },
}
