//! The pip shim: `<venv>/bin/pip` (and `pip3`, `pip3.X`) become a small
//! bash script that forwards `pip install/uninstall/freeze/list/show` to
//! `uv pip … --python <venv>/bin/python`, sharing the home's uv cache.
//!
//! When to fall back to the real pip (`<venv>/bin/python -m pip`, which the
//! shim never touches): uv exits 1 for resolution/build failures and 2 for
//! usage errors, but 2 also covers "file not found" for `-r`. So the shim
//! falls back on exit 2 *with* a clap/usage message on stderr ("unexpected
//! argument", "unrecognized", "unsupported", "invalid value"), e.g.
//! `--prefer-binary`, `--user`, `--timeout`, `--log` — checked first with
//! `--help` appended, so uv's `error:` line never reaches the terminal
//! (printed `error:` fails a step, spec §4.1); and on exit 1 with
//! "No solution found", because pip's resolver tolerates some metadata
//! uv's rejects (a typo'd package then fails twice, a little slower). Build
//! failures are reported as they are: pip would build the same way.
//! Subcommands uv lacks (`download`, `config`, `wheel`, `--version`...) go
//! to the real pip directly. Either way one `[pinokio]` line says so.
//!
//! uv draws its download bars only on a terminal, so when the shim's own
//! output is one, uv runs under `script` (a PTY that also keeps a copy of
//! the output for the checks above); piped or redirected, it runs plainly
//! with its stderr copied through `tee`.
//!
//! `UV_INDEX_STRATEGY=unsafe-best-match` makes `--extra-index-url` behave
//! like pip (best version across all indexes) rather than uv's first-index
//! rule. `PINOKIO_UV_PIP=0` (set by the engine when acceleration is off)
//! turns the shim into plain pip for venvs created while it was on.
//!
//! pip upgrading itself rewrites `bin/pip`; the shim keeps its text in
//! `<venv>/.pinokio-pip-shim` and puts itself back after every call, and
//! the engine re-applies it before each step that activates the venv.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Marks a venv whose pip goes through uv (and holds the shim's text).
pub const MARKER: &str = ".pinokio-pip-shim";
/// A line only the shim contains.
const SIGNATURE: &str = "# pinokio pip shim";

const TEMPLATE: &str = r#"#!/usr/bin/env bash
# pinokio pip shim: forwards pip to `uv pip` for speed and a shared cache,
# and falls back to the real pip (`python -m pip`) when uv can't do it.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$here/python"
uv=__UV__
[ -x "$uv" ] || uv="$(command -v uv || true)"
heal() {
  local src="$here/../.pinokio-pip-shim" f
  [ -f "$src" ] || return 0
  for f in "$here"/pip "$here"/pip3 "$here"/pip3.*; do
    [ -e "$f" ] || continue
    grep -q "^# pinokio pip shim" "$f" 2>/dev/null || { cp "$src" "$f"; chmod 755 "$f"; }
  done
}
real() {
  "$py" -m pip "$@"
  local rc=$?
  heal
  exit $rc
}
if [ "${PINOKIO_UV_PIP:-1}" = "0" ] || [ -z "$uv" ]; then real "$@"; fi
case "${1:-}" in
  install|uninstall|freeze|list|show) ;;
  *) echo "[pinokio] pip ${1:-}: not a uv pip command, using the real pip" >&2; real "$@" ;;
esac
sub="$1"; shift
err="$(mktemp "${TMPDIR:-/tmp}/pinokio-uv.XXXXXX")"
export UV_INDEX_STRATEGY="${UV_INDEX_STRATEGY:-unsafe-best-match}"
usage='unexpected argument|unrecognized|unsupported|invalid value'
# Options uv lacks are found before anything runs (its parser stops at the
# first unknown one, even with --help), so no uv `error:` line reaches the
# terminal, where it would fail the step as printed errors do in Pinokio.
"$uv" pip "$sub" "$@" --help >/dev/null 2>"$err"
if [ $? = 2 ] && grep -qE "$usage" "$err"; then
  why="$(grep -m1 -E "$usage" "$err" | sed 's/^error: //')"
  rm -f "$err"
  echo "[pinokio] uv can't run this pip command ($why); falling back to the real pip" >&2
  real "$sub" "$@"
fi
if [ -t 1 ] && [ -t 2 ] && command -v script >/dev/null 2>&1; then
  # Through `script`, uv still writes to a terminal (so it draws its
  # download bars) while a copy of what it says lands in "$err".
  script -qefc "$(printf '%q ' "$uv" pip "$sub" --python "$py" "$@")" "$err"
  rc=$?
else
  { "$uv" pip "$sub" --python "$py" "$@" 2>&1 1>&3 3>&- | tee "$err" >&2; rc=${PIPESTATUS[0]}; } 3>&1
fi
why=""
if [ "$rc" = 2 ]; then why="$(grep -m1 -E "$usage" "$err" | sed 's/^error: //')"; fi
if [ "$rc" = 1 ] && grep -q "No solution found" "$err"; then why="uv's resolver found no solution"; fi
if [ -n "$why" ]; then
  rm -f "$err"
  echo "[pinokio] uv can't run this pip command ($why); falling back to the real pip" >&2
  real "$sub" "$@"
fi
rm -f "$err"
heal
exit "$rc"
"#;

/// The shim's text for a given uv binary.
fn text(uv: &Path) -> String {
    let quoted = crate::methods::quote(&uv.to_string_lossy());
    TEMPLATE.replace("__UV__", &quoted)
}

/// The pip entry points of a venv (`pip`, `pip3`, `pip3.X`).
fn entry_points(venv: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(venv.join("bin")) else {
        return vec![];
    };
    dir.filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name == "pip"
                || name == "pip3"
                || name
                    .strip_prefix("pip3.")
                    .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit()))
        })
        .collect()
}

/// Writes the shim over the venv's pip entry points (and `bin/pip` if the
/// venv has none) and records it in the venv's marker file.
pub fn install(venv: &Path, uv: &Path) -> std::io::Result<()> {
    let body = text(uv);
    std::fs::write(venv.join(MARKER), &body)?;
    let mut targets = entry_points(venv);
    if targets.is_empty() {
        targets.push(venv.join("bin").join("pip"));
    }
    for t in targets {
        write_exec(&t, &body)?;
    }
    Ok(())
}

/// Puts the shim back where pip rewrote it, for venvs that have one.
pub fn heal(venv: &Path) -> std::io::Result<()> {
    let Ok(body) = std::fs::read_to_string(venv.join(MARKER)) else {
        return Ok(());
    };
    for t in entry_points(venv) {
        let current = std::fs::read_to_string(&t).unwrap_or_default();
        if !current.contains(SIGNATURE) {
            write_exec(&t, &body)?;
        }
    }
    Ok(())
}

fn write_exec(path: &Path, body: &str) -> std::io::Result<()> {
    // Remove first: pip's entry point may be a hardlink into uv's cache.
    let _ = std::fs::remove_file(path);
    std::fs::write(path, body)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}
