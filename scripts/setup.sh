#!/usr/bin/env bash
# Installs what the build (and, with --tests, the browser tests) need.
# Idempotent: each step checks what is already there and reuses it.
# Everything comes from crates.io, npm or Debian packages: nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[ "${1:-}" = "--tests" ] && want_tests=true

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  step "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # No --locked: its lockfile pins a crate version the registry mirror may lack.
  cargo install wasm-bindgen-cli --version "$want"
fi

# wasm-split-cli cuts the lazily loaded routes out of the bundle (scripts/build-site.sh).
split_version=0.2.4
if ! cargo install --list | grep -qx "wasm_split_cli_support v$split_version:"; then
  step "installing wasm-split-cli $split_version"
  cargo install wasm_split_cli_support --version "$split_version" --features build-binary
fi

# npm tools (wasm-opt from binaryen, playwright-core); reinstall only when the lockfile changed.
if ! cmp -s package-lock.json node_modules/.installed-lock 2>/dev/null; then
  step "installing npm tools"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.installed-lock
fi

if $want_tests; then
  if ! command -v chromium >/dev/null 2>&1; then
    step "installing Debian's chromium for the browser tests"
    sudo_=""
    [ "$(id -u)" -ne 0 ] && sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium
  fi
fi
