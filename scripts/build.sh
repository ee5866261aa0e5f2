#!/usr/bin/env bash
# Release build: the site, then the server binary with the site copied beside it
# (target/release/site), so the binary can be copied anywhere with its site.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-site.sh
cargo build -p server --release
rm -rf target/release/site && cp -r target/site target/release/site
echo "built target/release/pinokiocloud"
