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
         (https://github.com/cloudflare/cloudflared/releases/latest), or install ngrok and set \
         NGROK_AUTHTOKEN",
        home_bin.display()
    )]
    NoProvider { home_bin: PathBuf },

    #[error(
        "cannot install {name} automatically (no download from here); download it from {url}, \
         put the executable at {} and make it executable (chmod +x)",
        home_bin.join(name).display()
    )]
    InstallUnavailable {
        name: &'static str,
        home_bin: PathBuf,
        url: &'static str,
    },

    #[error("unknown tunnel provider {given:?}; use auto, cloudflared or ngrok")]
    UnknownProvider { given: String },
}
