//! Conformance: the environment of child processes and ENVIRONMENT files
//! (spec §3.6 `env`, §6.1–6.3, §8.1, §8.2; checklist C-067, C-180–C-185,
//! C-200–C-207). Real shells dump what they got (`env -0`) and the tests
//! read it back.
mod common;
use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Variables this test process sets "on the host" (once, before any
/// engine runs: every test calls [`host`] first), and a folder with a fake
/// `g++` put first on PATH plus a fake system CUDA toolkit.
struct HostSetup {
    gxx: PathBuf,
    cuda: PathBuf,
}

fn host() -> &'static HostSetup {
    static SETUP: OnceLock<HostSetup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("pinokio-env-host-{}", std::process::id()));
        let bin = root.join("bin");
        let cuda = root.join("cuda");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(cuda.join("bin")).unwrap();
        let gxx = bin.join("g++");
        write_exe(&gxx, "#!/bin/sh\necho fake g++\n");
        write_exe(&cuda.join("bin/nvcc"), "#!/bin/sh\necho fake nvcc\n");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let vars = [
            ("PATH", path.as_str()),
            ("PYTHONPATH", "/host/python/lib"),
            ("CMAKE_GENERATOR", "Ninja"),
            ("CMAKE_MAKE_PROGRAM", "/usr/bin/ninja"),
            ("CUDA_VERSION", "12.4.1"),
            ("CUDA_MODULE_LOADING", "LAZY"),
            ("CUDA_VISIBLE_DEVICES", "0,1"),
            ("NVIDIA_VISIBLE_DEVICES", "all"),
            ("NVIDIA_DRIVER_CAPABILITIES", "compute,utility"),
            ("CUDA_HOME", cuda.to_str().unwrap()),
            ("CONDA_PREFIX", "/opt/conda"),
            ("CONDA_PREFIX_1", "/opt/conda/envs/x"),
            ("CONDA_SHLVL", "1"),
            ("CONDA_DEFAULT_ENV", "base"),
            ("CONDA_EXE", "/opt/conda/bin/conda"),
            ("CONDA_PROMPT_MODIFIER", "(base) "),
            ("_CE_M", ""),
            ("_CE_CONDA", ""),
            ("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock"),
            ("GIT_SSL_NO_VERIFY", "1"),
            ("BLUEFAIRY_MODE", "on"),
            ("PINOKIO_TEST_HOST", "kept"),
            ("PINOKIO_TEST_LAYER", "host"),
            ("HF_TOKEN_PATH", ""),
        ];
        for (k, v) in vars {
            std::env::set_var(k, v);
        }
        if std::env::var_os("GIT_SSL_CAINFO").is_none() {
            std::env::set_var("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt");
        }
        HostSetup { gxx, cuda }
    })
}

fn write_exe(p: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs a one-step `shell.run` (extra `params` merged in) in app `app`
/// and returns the environment its shell had.
fn child_env(home: &Home, app: &str, params: serde_json::Value) -> BTreeMap<String, String> {
    host();
    let mut p = json!({ "message": "env -0 > \"$PINOKIO_TEST_OUT\"" });
    let out = home.app(app).join(format!("env-{}.bin", rand_suffix()));
    p["env"] = json!({ "PINOKIO_TEST_OUT": out.to_str().unwrap() });
    if let serde_json::Value::Object(extra) = params {
        for (k, v) in extra {
            if k == "env" {
                for (ek, ev) in v.as_object().unwrap() {
                    p["env"][ek] = ev.clone();
                }
            } else {
                p[k] = v;
            }
        }
    }
    let script = json!({ "run": [{ "method": "shell.run", "params": p }] });
    let s = home.write(app, "dump.json", &script.to_string());
    let (r, ev) = run(&home.engine(), &s, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", plain_output(&ev)));
    read_env_dump(&out)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn read_env_dump(p: &Path) -> BTreeMap<String, String> {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    String::from_utf8_lossy(&bytes)
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn s(p: impl AsRef<Path>) -> String {
    p.as_ref().to_string_lossy().into_owned()
}

#[test]
fn c200_shells_do_not_inherit_isolation_breaking_host_variables() {
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    for gone in [
        "PYTHONPATH",
        "CMAKE_GENERATOR",
        "CMAKE_MAKE_PROGRAM",
        "CUDA_VERSION",
        "CUDA_MODULE_LOADING",
        "CONDA_PREFIX",
        "CONDA_PREFIX_1",
        "CONDA_SHLVL",
        "CONDA_DEFAULT_ENV",
        "CONDA_EXE",
        "CONDA_PROMPT_MODIFIER",
        "_CE_M",
        "_CE_CONDA",
        "SSH_AUTH_SOCK",
        "GIT_SSL_NO_VERIFY",
        "BLUEFAIRY_MODE",
    ] {
        assert!(
            !env.contains_key(gone),
            "{gone} leaked: {:?}",
            env.get(gone)
        );
    }
    assert_eq!(env["PINOKIO_TEST_HOST"], "kept");
    // Deviation: the machine's trusted certificate authorities stay.
    assert_eq!(
        env.get("SSL_CERT_FILE"),
        std::env::var("SSL_CERT_FILE").ok().as_ref()
    );
    assert_eq!(env["GIT_SSL_CAINFO"], h_cainfo());
}

/// A certificate bundle path set on the host (the real one when set).
fn h_cainfo() -> String {
    std::env::var("GIT_SSL_CAINFO").unwrap()
}

#[test]
fn c200_cloud_deviation_keeps_the_platforms_gpu_selection_and_toolkit() {
    let h = host();
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    assert_eq!(env["CUDA_VISIBLE_DEVICES"], "0,1");
    assert_eq!(env["NVIDIA_VISIBLE_DEVICES"], "all");
    assert_eq!(env["NVIDIA_DRIVER_CAPABILITIES"], "compute,utility");
    assert_eq!(env["CUDA_HOME"], s(&h.cuda));
}

#[test]
fn c200_a_pinokio_managed_conda_cuda_wins_over_the_machines() {
    let home = Home::new();
    let conda = home.path().join("bin/miniforge");
    std::fs::create_dir_all(conda.join("bin")).unwrap();
    write_exe(&conda.join("bin/conda"), "#!/bin/sh\n");
    write_exe(&conda.join("bin/nvcc"), "#!/bin/sh\n");
    let env = child_env(&home, "a", json!({}));
    assert_eq!(env["CUDA_HOME"], s(&conda));
    assert_eq!(env["CONDA_ENVS_PATH"], s(conda.join("envs")));
    assert!(
        env["PATH"].split(':').any(|d| d == s(conda.join("bin"))),
        "{}",
        env["PATH"]
    );
    assert!(!env.contains_key("CONDA_PREFIX"));
}

#[test]
fn c200_environment_files_cannot_fake_conda_activation() {
    let home = Home::new();
    home.write(
        "a",
        "ENVIRONMENT",
        "CONDA_PREFIX=/fake\nCONDA_SHLVL=3\nPYTHONPATH=./lib\n",
    );
    let env = child_env(&home, "a", json!({}));
    assert!(!env.contains_key("CONDA_PREFIX") && !env.contains_key("CONDA_SHLVL"));
    // Only the host's PYTHONPATH is dropped; an app may set its own.
    assert_eq!(env["PYTHONPATH"], s(home.app("a").join("lib")));
}

#[test]
fn c201_shells_get_pinokios_fixed_values() {
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    for (k, v) in [
        ("CONDA_SHORTCUTS", "0"),
        ("CMAKE_OBJECT_PATH_MAX", "1024"),
        ("PYTORCH_ENABLE_MPS_FALLBACK", "1"),
        ("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1"),
    ] {
        assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
    }
}

#[test]
fn c202_home_then_app_then_step_env_later_layers_winning() {
    let home = Home::new();
    std::fs::write(
        home.path().join("ENVIRONMENT"),
        "PINOKIO_TEST_LAYER=home\nL_HOME=home\nL_APP=home\nL_STEP=home\nTORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=0\n",
    )
    .unwrap();
    home.write("a", "ENVIRONMENT", "L_APP=app\nL_STEP=app\n");
    let env = child_env(&home, "a", json!({ "env": { "L_STEP": "step" } }));
    assert_eq!(
        env["PINOKIO_TEST_LAYER"], "home",
        "home file beats the host"
    );
    assert_eq!(env["L_HOME"], "home");
    assert_eq!(env["L_APP"], "app");
    assert_eq!(env["L_STEP"], "step");
    assert_eq!(
        env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"], "0",
        "files beat the fixed values"
    );
}

#[test]
fn c202_scripts_outside_the_homes_apps_get_no_app_file() {
    let home = Home::new();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("ENVIRONMENT"), "L_APP=outside\n").unwrap();
    host();
    let out = elsewhere.path().join("env.bin");
    let script = json!({ "run": [{ "method": "shell.run", "params": {
        "message": format!("env -0 > {}", out.display()) } }] });
    let f = elsewhere.path().join("s.json");
    std::fs::write(&f, script.to_string()).unwrap();
    let (r, _) = run(&home.engine(), &f, json!({}), json!({}));
    r.unwrap();
    let env = read_env_dump(&out);
    assert!(!env.contains_key("L_APP"));
    assert!(
        home.path().join("ENVIRONMENT").is_file(),
        "the home file is still made"
    );
}

#[test]
fn c203_model_caches_go_to_the_app_and_download_and_temp_caches_to_the_home() {
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    let app = home.app("a");
    for k in ["HF_HOME", "TORCH_HOME", "GRADIO_TEMP_DIR"] {
        let want = app.join("cache").join(k);
        assert_eq!(env[k], s(&want), "{k}");
        assert!(want.is_dir(), "{k} folder made");
    }
    for k in [
        "PIP_TMPDIR",
        "TMPDIR",
        "TEMP",
        "TMP",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "HOMEBREW_CACHE",
    ] {
        let want = home.path().join("cache").join(k);
        assert_eq!(env[k], s(&want), "{k}");
        assert!(want.is_dir(), "{k} folder made");
    }
    // PinokioCloud's one download cache per home (deliberate deviation).
    assert_eq!(env["UV_CACHE_DIR"], s(home.path().join("cache/uv")));
    assert_eq!(env["PIP_CACHE_DIR"], s(home.path().join("cache/pip")));
    assert_eq!(env["PIP_CONFIG_FILE"], s(home.path().join("pipconfig")));
    assert!(
        !home.path().join("pipconfig").exists(),
        "file keys are not made folders"
    );
    assert_eq!(env["PINOKIO_DRIVE"], s(home.path().join("drive")));
}

#[test]
fn c203_home_environment_is_written_once_and_never_overwritten() {
    let home = Home::new();
    child_env(&home, "a", json!({}));
    let file = home.path().join("ENVIRONMENT");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("HF_HOME=./cache/HF_HOME") && text.contains("UV_CACHE_DIR=./cache/uv"),
        "{text}"
    );
    assert!(engine::environment::validate(&text).is_empty());
    // A person's edit (a removed line, a changed value) survives later runs.
    std::fs::write(&file, "GRADIO_ANALYTICS_ENABLED=True\n").unwrap();
    let env = child_env(&home, "b", json!({}));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "GRADIO_ANALYTICS_ENABLED=True\n"
    );
    assert_eq!(env["GRADIO_ANALYTICS_ENABLED"], "True");
    // b's file was generated from the edited home file: no HF_HOME there
    // either except the app default.
    assert_eq!(env["HF_HOME"], s(home.app("b").join("cache/HF_HOME")));
    assert!(!env.contains_key("TMPDIR") || !env["TMPDIR"].starts_with(&s(home.path())));
}

#[test]
fn c204_gradio_and_hugging_face_defaults() {
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    assert_eq!(env["GRADIO_ANALYTICS_ENABLED"], "False");
    assert_eq!(env["GRADIO_ALLOWED_PATHS"], s(home.path()));
    assert_eq!(env["HF_HUB_DISABLE_UPDATE_CHECK"], "1");
    // The host's blank HF_TOKEN_PATH counts as unset.
    assert_eq!(
        env["HF_TOKEN_PATH"],
        s(home.path().join("cache/HF_AUTH/token"))
    );
    let env = child_env(
        &home,
        "a",
        json!({ "env": { "HF_TOKEN_PATH": "/run/secrets/hf", "HF_HUB_DISABLE_UPDATE_CHECK": "0" } }),
    );
    assert_eq!(env["HF_TOKEN_PATH"], "/run/secrets/hf");
    assert_eq!(env["HF_HUB_DISABLE_UPDATE_CHECK"], "0");
}

#[test]
fn c205_activation_values_win_over_files_and_step_env() {
    let home = Home::new();
    home.write("a", "ENVIRONMENT", "PYTHONNOUSERSITE=0\n");
    let env = child_env(
        &home,
        "a",
        json!({ "env": { "UV_PYTHON_PREFERENCE": "system" } }),
    );
    assert_eq!(env["CONDA_AUTO_ACTIVATE_BASE"], "false");
    assert_eq!(env["PYTHONNOUSERSITE"], "1");
    assert_eq!(env["UV_PYTHON_PREFERENCE"], "only-managed");
    assert_eq!(env["UV_PYTHON_DOWNLOADS"], "automatic");
}

#[test]
fn c206_home_bin_and_tool_folders_on_path_and_gits_global_config_in_the_home() {
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    let path: Vec<&str> = env["PATH"].split(':').collect();
    for dir in ["bin", "bin/npm", "bin/npm/bin"] {
        assert!(
            path.contains(&s(home.path().join(dir)).as_str()),
            "{dir} in {path:?}"
        );
    }
    assert_eq!(env["NPM_CONFIG_PREFIX"], s(home.path().join("bin/npm")));
    assert_eq!(env["GIT_CONFIG_GLOBAL"], s(home.path().join("gitconfig")));
    assert_eq!(env["HISTFILE"], s(home.path().join("history/bash_history")));
    assert!(home.path().join("history").is_dir());
    // A real `git config --global` writes into the home's file.
    let p = json!({ "message": "git config --global pinokio.test yes" });
    let script = json!({ "run": [{ "method": "shell.run", "params": p }] });
    let f = home.write("a", "git.json", &script.to_string());
    let (r, _) = run(&home.engine(), &f, json!({}), json!({}));
    r.unwrap();
    let cfg = std::fs::read_to_string(home.path().join("gitconfig")).unwrap();
    assert!(cfg.contains("test = yes"), "{cfg}");
}

#[test]
fn c207_nvcc_uses_the_g_plus_plus_on_path() {
    let h = host();
    let home = Home::new();
    let env = child_env(&home, "a", json!({}));
    assert_eq!(
        env["NVCC_PREPEND_FLAGS"],
        format!("-ccbin {}", h.gxx.display())
    );
}

#[test]
fn c207_bad_names_dropped_newlines_become_spaces_and_minus_env_removes() {
    let home = Home::new();
    home.write("a", "ENVIRONMENT", "BAD.NAME=1\n");
    let env = child_env(
        &home,
        "a",
        json!({
            "env": { "MULTI": "one\ntwo\r\nthree", "DROP_ME": "x", "KEEP_ME": "y" },
            "-env": ["DROP_ME", "PINOKIO_TEST_HOST"]
        }),
    );
    assert_eq!(env["MULTI"], "one two three");
    assert!(!env.contains_key("DROP_ME") && !env.contains_key("PINOKIO_TEST_HOST"));
    assert_eq!(env["KEEP_ME"], "y");
    assert!(!env.contains_key("BAD.NAME"));
}

#[test]
fn c067_templates_see_process_home_and_app_environment_with_absolute_paths() {
    let home = Home::new();
    host();
    std::fs::write(
        home.path().join("ENVIRONMENT"),
        "FROM_HOME=./shared\nBOTH=home\n",
    )
    .unwrap();
    home.write("a", "ENVIRONMENT", "FROM_APP=./data\nBOTH=app\nBLANK=\n");
    let s_ = home.write(
        "a",
        "t.js",
        r#"module.exports = { run: [
      { method: "log", params: { text: "{{env.FROM_HOME}}|{{envs.FROM_APP}}|{{env.BOTH}}|{{env.PINOKIO_TEST_HOST}}|{{typeof env.BLANK}}|{{typeof env.PYTHONPATH}}" } } ] }"#,
    );
    let (r, ev) = run(&home.engine(), &s_, json!({}), json!({}));
    r.unwrap();
    let want = format!(
        "{}|{}|app|kept|undefined|undefined",
        home.path().join("shared").display(),
        home.app("a").join("data").display()
    );
    assert_eq!(logs(&ev), [want]);
}

#[test]
fn c180_scripts_run_from_their_own_folder() {
    let home = Home::new();
    host();
    let s_ = home.write(
        "a",
        "sub/s.json",
        r#"{ "run": [ { "method": "shell.run", "params": { "message": "pwd > here.txt" } },
                     { "method": "shell.run", "params": { "path": "deeper", "message": "pwd > here.txt" } } ] }"#,
    );
    let sub = home.app("a").join("sub");
    std::fs::create_dir_all(sub.join("deeper")).unwrap();
    let (r, ev) = run(&home.engine(), &s_, json!({}), json!({}));
    r.unwrap_or_else(|e| panic!("{e}\n{}", plain_output(&ev)));
    assert_eq!(
        std::fs::read_to_string(sub.join("here.txt"))
            .unwrap()
            .trim(),
        s(&sub)
    );
    let deeper = sub.join("deeper");
    assert_eq!(
        std::fs::read_to_string(deeper.join("here.txt"))
            .unwrap()
            .trim(),
        s(&deeper)
    );
}

#[test]
fn c181_the_app_file_is_in_the_pinokio_folder_when_there_is_one() {
    let home = Home::new();
    home.write("a", "pinokio/ENVIRONMENT", "WHERE=nested\n");
    home.write("a", "ENVIRONMENT", "WHERE=top\n");
    let env = child_env(&home, "a", json!({}));
    assert_eq!(env["WHERE"], "nested");
    // A missing file is generated there too (and `./` stays the app folder).
    std::fs::create_dir_all(home.app("b").join("pinokio")).unwrap();
    let env = child_env(&home, "b", json!({}));
    assert!(home.app("b").join("pinokio/ENVIRONMENT").is_file());
    assert!(!home.app("b").join("ENVIRONMENT").exists());
    assert_eq!(env["HF_HOME"], s(home.app("b").join("cache/HF_HOME")));
}

#[test]
fn c182_dot_slash_values_are_absolute_and_empty_values_do_not_override() {
    let home = Home::new();
    std::fs::write(
        home.path().join("ENVIRONMENT"),
        "KEEP=from-home\nHOME_REL=./h\n",
    )
    .unwrap();
    home.write(
        "a",
        "ENVIRONMENT",
        "KEEP=\nAPP_REL=./models/x\nQUOTED=\"./q\"\n",
    );
    let env = child_env(&home, "a", json!({}));
    assert_eq!(env["KEEP"], "from-home");
    assert_eq!(env["HOME_REL"], s(home.path().join("h")));
    assert_eq!(env["APP_REL"], s(home.app("a").join("models/x")));
    assert_eq!(env["QUOTED"], s(home.app("a").join("q")));
    assert!(
        home.app("a").join("models/x").is_dir(),
        "named folders are made"
    );
}

#[test]
fn c183_a_missing_app_file_is_generated_from_the_home_file_and_template() {
    let home = Home::new();
    std::fs::write(
        home.path().join("ENVIRONMENT"),
        "HF_HOME=/shared/hf\nTMPDIR=./cache/TMPDIR\nMY_MODELS=./models\nPINOKIO_SHARE_LOCAL=\n",
    )
    .unwrap();
    home.write("a", "_ENVIRONMENT", "# from the launcher\nLAUNCHER_KEY=1\n");
    child_env(&home, "a", json!({}));
    let text = std::fs::read_to_string(home.app("a").join("ENVIRONMENT")).unwrap();
    assert!(
        text.starts_with("# from the launcher\nLAUNCHER_KEY=1\n"),
        "{text}"
    );
    let vars = engine::environment::file::parse(&text);
    let get = |k: &str| {
        vars.iter()
            .rev()
            .find(|a| a.key == k)
            .map(|a| a.value.clone())
    };
    assert_eq!(
        get("HF_HOME").as_deref(),
        Some("/shared/hf"),
        "home's raw value"
    );
    assert_eq!(
        get("TORCH_HOME").as_deref(),
        Some("./cache/TORCH_HOME"),
        "default"
    );
    assert_eq!(
        get("PINOKIO_SHARE_LOCAL").as_deref(),
        Some("false"),
        "blank home value: default"
    );
    assert_eq!(get("PINOKIO_SCRIPT_AUTOLAUNCH").as_deref(), Some(""));
    assert_eq!(
        get("MY_MODELS").as_deref(),
        Some("./models"),
        "custom home keys are inherited"
    );
    assert_eq!(get("TMPDIR"), None, "home-only keys stay in the home file");
    // An existing app file is left alone.
    std::fs::write(home.app("a").join("ENVIRONMENT"), "X=1\n").unwrap();
    child_env(&home, "a", json!({}));
    assert_eq!(
        std::fs::read_to_string(home.app("a").join("ENVIRONMENT")).unwrap(),
        "X=1\n"
    );
}

#[test]
fn c183_utf16_app_files_are_read() {
    let home = Home::new();
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("WIDE=yes\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(home.app("a").join("ENVIRONMENT"), bytes).unwrap();
    let env = child_env(&home, "a", json!({}));
    assert_eq!(env["WIDE"], "yes");
}

/// `git init` + `remote add origin <url>` in `<home>/api/<name>`.
fn clone_like(home: &Home, name: &str, origin: &str) -> PathBuf {
    let dir = home.app(name);
    for args in [vec!["init", "-q"], vec!["remote", "add", "origin", origin]] {
        let st = std::process::Command::new("git")
            .args(&args)
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    }
    dir
}

#[test]
fn c184_shell_output_is_logged_cleaned_per_script_and_step() {
    let home = Home::new();
    host();
    let s_ = home.write(
        "a",
        "start.json",
        r#"{ "run": [ { "method": "shell.run", "params": { "message": ["printf '\\033[1;32mgreen\\033[0m\\n'", "echo second"] } },
                     { "method": "shell.run", "params": { "message": "echo other step" } } ] }"#,
    );
    let cleaned = home.path().join("logs/shell/cleaned/api/a");
    for _ in 0..2 {
        let (r, ev) = run(&home.engine(), &s_, json!({}), json!({}));
        r.unwrap_or_else(|e| panic!("{e}\n{}", plain_output(&ev)));
    }
    // Escapes gone; both shells of step 0 in its file, written afresh by
    // each run (not appended forever).
    let step0 = std::fs::read_to_string(cleaned.join("start.json.0.txt")).unwrap();
    assert!(!step0.contains('\u{1b}'), "{step0:?}");
    assert_eq!(step0.matches("green").count(), 1, "{step0:?}");
    assert_eq!(step0.matches("second").count(), 1, "{step0:?}");
    let step1 = std::fs::read_to_string(cleaned.join("start.json.1.txt")).unwrap();
    assert!(
        step1.contains("other step") && !step1.contains("green"),
        "{step1:?}"
    );
}

#[test]
fn c185_a_git_uri_resolves_inside_the_clone_whose_origin_is_that_repo() {
    let home = Home::new();
    let other = clone_like(&home, "other", "https://github.com/o/other.git");
    let plain = clone_like(&home, "plain", "https://github.com/o/plain");
    clone_like(&home, "decoy", "https://github.com/o/other-fork.git");
    // The resolver is `engine::paths`, shared with the methods.
    let r = |uri: &str| engine::paths::resolve(home.path(), Path::new("/cwd"), uri);
    let ok = |uri: &str| r(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
    assert_eq!(
        ok("https://github.com/o/other.git/start.js"),
        other.join("start.js")
    );
    assert_eq!(
        ok("https://github.com/o/other.git/app/x/../y.json"),
        other.join("app/y.json")
    );
    assert_eq!(ok("https://github.com/o/other.git"), other);
    // Cloned without `.git`: still addressable with it.
    assert_eq!(
        ok("https://github.com/o/plain.git/install.js"),
        plain.join("install.js")
    );
    let e = r("https://github.com/o/missing.git/start.js")
        .unwrap_err()
        .to_string();
    assert!(e.contains("https://github.com/o/missing.git"), "{e}");
    let e = r("https://github.com/o/other/start.js")
        .unwrap_err()
        .to_string();
    assert!(e.contains(".git"), "{e}");
}
