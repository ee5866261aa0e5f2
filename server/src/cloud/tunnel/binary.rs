//! Finding the tunnel program: `PATH` first, then `<home>/bin`.

use super::{ProviderKind, TunnelError};
use crate::cloud::env::{is_executable, which, Env};
use std::path::{Path, PathBuf};

/// The executable for `kind`: the first match on `PATH` (as `env` sees it),
/// then `home_bin/<name>`.
pub fn find_binary(
    kind: ProviderKind,
    env: &dyn Env,
    home_bin: &Path,
) -> Result<PathBuf, TunnelError> {
    let name = kind.binary_name();
    let in_home = home_bin.join(name);
    which(name, env)
        .or_else(|| is_executable(&in_home).then_some(in_home))
        .ok_or_else(|| TunnelError::MissingBinary {
            name,
            home_bin: home_bin.to_path_buf(),
            url: kind.download_url(),
        })
}
