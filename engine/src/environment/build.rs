//! The environment of child processes, built in Pinokio's order (spec
//! §8.1). Each layer overrides the ones before it:
//!
//! 1. this process's variables, minus those that break an app's isolation
//!    ([`dropped`]);
//! 2. Pinokio's fixed values ([`FIXED`]), then what the embedder set for
//!    the app ([`crate::Engine::set_app_env`]);
//! 3. the home ENVIRONMENT (`./` = the home);
//! 4. the app ENVIRONMENT (`./` = the app), for scripts under `<home>/api`;
//! 5. PATH with `<home>/bin` (and uv's caches, see [`crate::python`]),
//!    `HISTFILE`, `NVCC_PREPEND_FLAGS` when `g++` is on PATH;
//! 6. the home's tool folders and settings ([`tools`]): npm's prefix,
//!    git's config, a Pinokio-managed conda and CUDA when the home has them;
//! 7. the step's `env` (in [`crate::runner::StepCtx::env_map`]);
//! 8. defaults for unset or blank `HF_HUB_DISABLE_UPDATE_CHECK` and
//!    `HF_TOKEN_PATH` ([`finish`]);
//! 9. names that are not shell identifiers dropped, newlines in values
//!    turned into spaces ([`finish`]), the step's `-env` names removed;
//! 10. the activation values ([`ACTIVATION`], [`for_shell`]).
//!
//! Conda activation state is removed again after 4 and 8, so no file or
//! step can make a shell look like it runs inside a conda env it doesn't.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::file;
use crate::kernel::Kernel;
use crate::script::Location;

/// Layer 2: what Pinokio sets for every shell.
pub const FIXED: [(&str, &str); 4] = [
    // Conda must not create desktop shortcuts for packages.
    ("CONDA_SHORTCUTS", "0"),
    // Long object paths for CMake builds of deep source trees.
    ("CMAKE_OBJECT_PATH_MAX", "1024"),
    // Apple GPUs: run operations MPS lacks on the CPU instead of failing.
    ("PYTORCH_ENABLE_MPS_FALLBACK", "1"),
    // torch >= 2.6 refuses many older `.pth`/`.ckpt` checkpoints by default.
    ("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1"),
];

/// Layer 10: set when a shell activates its Python environment; they win
/// over every earlier layer. (Pinokio also sets `PIP_REQUIRE_VIRTUALENV`
/// when its own base conda env is activated; PinokioCloud has no base env.)
pub const ACTIVATION: [(&str, &str); 4] = [
    ("CONDA_AUTO_ACTIVATE_BASE", "false"),
    // pip and Python ignore `~/.local`: packages come from the venv only.
    ("PYTHONNOUSERSITE", "1"),
    ("UV_PYTHON_PREFERENCE", "only-managed"),
    ("UV_PYTHON_DOWNLOADS", "automatic"),
];

/// Host CUDA variables that are kept (a PinokioCloud deviation): Pinokio
/// removes every `CUDA*` because it installs its own CUDA through conda;
/// on a cloud machine the CUDA is the platform's, and these select its GPUs
/// (`CUDA_VISIBLE_DEVICES`, `CUDA_DEVICE_ORDER`) or locate its toolkit
/// (`CUDA_HOME`, `CUDA_PATH`). `NVIDIA_*` variables are never removed.
pub const KEPT_CUDA: [&str; 4] = [
    "CUDA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "CUDA_HOME",
    "CUDA_PATH",
];

/// Certificate-trust variables that are kept although their names contain
/// `SSL` (a PinokioCloud deviation): they only add the certificate
/// authorities the machine's owner configured, and without them every
/// HTTPS download (pip, uv, git, Hugging Face) fails behind a
/// TLS-inspecting proxy, which cloud and corporate machines often have.
pub const KEPT_SSL: [&str; 6] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "NIX_SSL_CERT_FILE",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
];

/// Why a variable of this process is not passed on to child processes, or
/// `None` when it is:
///
/// - `BLUEFAIRY_*`: settings of Pinokio's package-freshness shims, which
///   belong to the Pinokio that set them;
/// - conda activation state (`CONDA_PREFIX`, `CONDA_PREFIX_<n>`,
///   `CONDA_SHLVL`, `CONDA_DEFAULT_ENV`, `CONDA_EXE`, `CONDA_PYTHON_EXE`,
///   `CONDA_PROMPT_MODIFIER`, `CONDA_PS1_BACKUP`, `_CE_M`, `_CE_CONDA`):
///   a shell must start outside whatever env the dashboard was started in;
/// - `PYTHONPATH`: extra import folders (Colab sets one) would leak the
///   host's packages into every venv;
/// - `CMAKE_GENERATOR`, `CMAKE_MAKE_PROGRAM`: a host build tool choice
///   breaks pip builds of C++ extensions;
/// - `CUDA*` except [`KEPT_CUDA`]: toolkit details of the host (e.g.
///   `CUDA_VERSION` of a Docker image) that need not match what apps use;
/// - names containing `SSH` or `SSL` except [`KEPT_SSL`]: agent sockets
///   and TLS settings of the host session (`GIT_SSL_NO_VERIFY`,
///   `SSLKEYLOGFILE`…).
pub fn dropped(key: &str) -> Option<&'static str> {
    if key.to_ascii_uppercase().starts_with("BLUEFAIRY_") {
        Some("Pinokio's package-freshness shim settings")
    } else if is_conda_state(key) {
        Some("conda activation state")
    } else if key == "PYTHONPATH" {
        Some("extra Python import folders")
    } else if key == "CMAKE_GENERATOR" || key == "CMAKE_MAKE_PROGRAM" {
        Some("the host's CMake build tool choice")
    } else if key.starts_with("CUDA") && !KEPT_CUDA.contains(&key) {
        Some("CUDA toolkit details of the host")
    } else if key.contains("SSH") || (key.contains("SSL") && !KEPT_SSL.contains(&key)) {
        Some("SSH/SSL session settings")
    } else {
        None
    }
}

/// Conda's activation variables (what `conda activate` sets and
/// `conda deactivate` reads).
fn is_conda_state(key: &str) -> bool {
    let numbered = |k: &str| {
        k.strip_prefix("CONDA_PREFIX_")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(
        key,
        "_CE_M"
            | "_CE_CONDA"
            | "CONDA_EXE"
            | "CONDA_PYTHON_EXE"
            | "CONDA_PREFIX"
            | "CONDA_DEFAULT_ENV"
            | "CONDA_PROMPT_MODIFIER"
            | "CONDA_SHLVL"
            | "CONDA_PS1_BACKUP"
    ) || numbered(key)
}

fn strip_conda_state(env: &mut BTreeMap<String, String>) {
    env.retain(|k, _| !is_conda_state(k));
}

/// A name bash accepts as a variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Layer 1: `vars` without the [`dropped`] ones.
pub fn inherit(vars: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter(|(k, _)| dropped(k).is_none())
        .collect()
}

/// Whether `loc`'s script belongs to an app of the home (so its app
/// ENVIRONMENT applies).
pub fn in_app(home: &Path, loc: &Location) -> bool {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let api = crate::util::resolve(&cwd, home.join("api"));
    loc.app_dir.parent() == Some(api.as_path())
}

/// Layers 1–6: what every process of `loc`'s app starts from, before the
/// step's own `env`.
pub fn base(kernel: &Kernel, loc: &Location) -> BTreeMap<String, String> {
    let home = &kernel.home;
    let mut env = inherit(std::env::vars());
    env.extend(FIXED.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.extend(kernel.app_env(&loc.app));
    env.extend(file::read_resolved(&home.join("ENVIRONMENT"), home));
    if in_app(home, loc) {
        env.extend(file::read_resolved(
            &file::app_file(&loc.app_dir),
            &loc.app_dir,
        ));
    }
    strip_conda_state(&mut env);
    shell_basics(&mut env, kernel, &loc.app);
    tools(&mut env, home);
    env
}

/// Layer 5.
fn shell_basics(env: &mut BTreeMap<String, String>, kernel: &Kernel, app: &str) {
    let home = &kernel.home;
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    env.insert("PINOKIO_HOME".into(), s(home.clone()));
    env.insert("TERM".into(), "xterm-256color".into());
    env.insert("PYTHONUNBUFFERED".into(), "1".into());
    let layout = crate::python::Layout::new(home);
    crate::python::apply_env(env, &layout, kernel.python.accelerated(app));
    env.insert(
        "HISTFILE".into(),
        s(home.join("history").join("bash_history")),
    );
    let path = env.get("PATH").cloned().unwrap_or_default();
    if let Some(gxx) = crate::python::which_in("g++", &path) {
        env.insert(
            "NVCC_PREPEND_FLAGS".into(),
            format!("-ccbin {}", gxx.display()),
        );
    }
}

/// Layer 6: the home's tools. npm installs globally into `<home>/bin/npm`
/// (on PATH) with its cache in `<home>/cache`; git reads
/// `<home>/gitconfig`; a conda installed at `<home>/bin/miniforge` (a home
/// brought over from Pinokio) is put on PATH; `CUDA_HOME` is that conda's
/// CUDA when it has one, else the machine's toolkit.
pub fn tools(env: &mut BTreeMap<String, String>, home: &Path) {
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    let bin = home.join("bin");
    let npm = bin.join("npm");
    let mut front = vec![npm.clone(), npm.join("bin")];
    for k in [
        "NPM_CONFIG_PREFIX",
        "npm_config_prefix",
        "PNPM_HOME",
        "pnpm_home",
    ] {
        env.insert(k.into(), s(npm.clone()));
    }
    env.insert(
        "npm_config_cache".into(),
        s(home.join("cache").join("npm_config_cache")),
    );
    env.insert("GIT_CONFIG_GLOBAL".into(), s(home.join("gitconfig")));
    env.insert("GH_CONFIG_DIR".into(), s(home.join("config").join("gh")));
    let conda = bin.join("miniforge");
    if conda.join("bin").join("conda").is_file() {
        front.extend(
            ["etc/profile.d", "bin", "condabin", "lib", "pkgs", ""]
                .iter()
                .map(|p| crate::util::resolve(&conda, p)),
        );
        env.insert("CONDA_ENVS_PATH".into(), s(conda.join("envs")));
        env.insert("CONDA_PKGS_DIRS".into(), s(conda.join("pkgs")));
        env.insert("PYTHON".into(), s(conda.join("python")));
    }
    if let Some(cuda) = cuda_home(env, &conda) {
        env.insert("CUDA_HOME".into(), s(cuda));
    }
    prepend_path(env, &front);
}

/// Where `CUDA_HOME` points: the home's conda when it has `nvcc` (as in
/// Pinokio); else the host's `CUDA_HOME` when it exists (kept as is, so
/// `None`); else the host's `CUDA_PATH` or `/usr/local/cuda` when they
/// hold a toolkit.
fn cuda_home(env: &BTreeMap<String, String>, conda: &Path) -> Option<PathBuf> {
    if conda.join("bin").join("nvcc").is_file() {
        return Some(conda.to_path_buf());
    }
    if env.get("CUDA_HOME").is_some_and(|d| Path::new(d).is_dir()) {
        return None;
    }
    let candidates = env.get("CUDA_PATH").map(PathBuf::from).into_iter();
    candidates
        .chain([PathBuf::from("/usr/local/cuda")])
        .find(|d| d.join("bin").join("nvcc").is_file())
}

fn prepend_path(env: &mut BTreeMap<String, String>, front: &[PathBuf]) {
    let path = env.get("PATH").cloned().unwrap_or_default();
    let rest = std::env::split_paths(&path).filter(|p| !front.contains(p));
    if let Ok(joined) = std::env::join_paths(front.iter().cloned().chain(rest)) {
        env.insert("PATH".into(), joined.to_string_lossy().into_owned());
    }
}

/// Layers 8 and 9 (after the step's `env`).
pub fn finish(env: &mut BTreeMap<String, String>, home: &Path) {
    let token = home.join("cache").join("HF_AUTH").join("token");
    set_default(env, "HF_HUB_DISABLE_UPDATE_CHECK", "1");
    set_default(env, "HF_TOKEN_PATH", &token.to_string_lossy());
    strip_conda_state(env);
    env.retain(|k, _| is_identifier(k));
    for (k, v) in env.iter_mut() {
        if !k.starts_with("PINOKIO_ARG_") && v.contains(['\r', '\n']) {
            *v = spaces_for_newlines(v);
        }
    }
}

/// Each run of `\r`/`\n` becomes one space.
fn spaces_for_newlines(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut in_break = false;
    for c in v.chars() {
        let brk = c == '\r' || c == '\n';
        if !brk {
            out.push(c);
        } else if !in_break {
            out.push(' ');
        }
        in_break = brk;
    }
    out
}

/// Sets `key` unless a variable of that name (any case) has a non-blank
/// value.
fn set_default(env: &mut BTreeMap<String, String>, key: &str, value: &str) {
    let existing = env.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
    match existing {
        Some(k) if !env[&k].trim().is_empty() => {}
        Some(k) => {
            env.insert(k, value.to_string());
        }
        None => {
            env.insert(key.to_string(), value.to_string());
        }
    }
}

/// The rest for a shell: the step's `-env` names removed, then the
/// activation values (layer 10).
pub fn for_shell(env: &mut BTreeMap<String, String>, params: &Value) {
    if let Some(names) = params.get("-env").and_then(Value::as_array) {
        for name in names.iter().filter_map(Value::as_str) {
            env.remove(name);
        }
    }
    env.extend(
        ACTIVATION
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
}

/// What templates see as `env`/`envs` for a script: layers 1–6, 8 and 9
/// (no step `env`, no activation).
pub fn template_env(kernel: &Kernel, loc: &Location) -> BTreeMap<String, String> {
    let mut env = base(kernel, loc);
    finish(&mut env, &kernel.home);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_breaking_host_variables_are_dropped() {
        for k in [
            "PYTHONPATH",
            "CONDA_PREFIX",
            "CONDA_PREFIX_2",
            "CONDA_SHLVL",
            "_CE_M",
            "BLUEFAIRY_MODE",
            "bluefairy_x",
            "CMAKE_GENERATOR",
            "CUDA_VERSION",
            "SSH_AUTH_SOCK",
            "GIT_SSL_NO_VERIFY",
            "SSLKEYLOGFILE",
        ] {
            assert!(dropped(k).is_some(), "{k}");
        }
        for k in [
            "CUDA_VISIBLE_DEVICES",
            "CUDA_HOME",
            "NVIDIA_VISIBLE_DEVICES",
            "CONDA_PREFIX_X",
            "CONDA_ENVS_PATH",
            "SSL_CERT_FILE",
            "GIT_SSL_CAINFO",
            "HOME",
            "PATH",
        ] {
            assert!(dropped(k).is_none(), "{k}");
        }
    }

    #[test]
    fn identifiers_and_newlines() {
        assert!(is_identifier("_A1") && !is_identifier("1A") && !is_identifier("A-B"));
        let mut env = BTreeMap::from([
            ("A-B".to_string(), "x".to_string()),
            ("M".to_string(), "one\r\ntwo\nthree".to_string()),
            ("PINOKIO_ARG_0".to_string(), "a\nb".to_string()),
            ("hf_token_path".to_string(), "".to_string()),
        ]);
        finish(&mut env, Path::new("/h"));
        assert!(!env.contains_key("A-B"));
        assert_eq!(env["M"], "one two three");
        assert_eq!(env["PINOKIO_ARG_0"], "a\nb");
        assert_eq!(env["hf_token_path"], "/h/cache/HF_AUTH/token");
        assert!(!env.contains_key("HF_TOKEN_PATH"));
        assert_eq!(env["HF_HUB_DISABLE_UPDATE_CHECK"], "1");
    }
}
