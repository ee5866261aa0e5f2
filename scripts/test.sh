#!/usr/bin/env bash
# Runs every test: formatting, lints, Rust unit + integration tests, and the
# end-to-end tests in headless Chromium against the real server.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup.sh --tests
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
# The server side and the WASM side separately: built together, `app` would
# get both `ssr` and `hydrate` (see default-members in Cargo.toml).
cargo clippy --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
step "building the site (WASM + CSS)"
scripts/build-site.sh
step "cargo test"
cargo test
step "browser tests (end2end/)"
node --test --test-concurrency=1 end2end/tests/
