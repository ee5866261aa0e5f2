#!/usr/bin/env bash
# Builds the browser side into target/site: pkg/pinokiocloud.{js,wasm,css} plus public/.
# The same steps cargo-leptos would run, without needing cargo-leptos installed.
set -euo pipefail
cd "$(dirname "$0")/.."

name=pinokiocloud           # = app::OUTPUT_NAME and LEPTOS_OUTPUT_NAME in .cargo/config.toml
site=target/site
pkg=$site/pkg

cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$site" && mkdir -p "$pkg"
# Cut the lazily loaded routes (app/src/lazy_pages.rs) out of the bundle: the
# main module goes on to wasm-bindgen, the route chunks and their loader
# (__wasm_split.js) land in pkg/ as they are.
split=target/wasm-split
rm -rf "$split" && mkdir -p "$split"
wasm-split-cli --target web --out-name "$name" \
  target/wasm32-unknown-unknown/wasm-release/frontend.wasm "$split"
mv "$split/$name.wasm" target/wasm-split-main.wasm
mv "$split"/* "$pkg/"
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
  --out-dir "$pkg" --out-name "$name" target/wasm-split-main.wasm
# Leptos asks for <name>.wasm when LEPTOS_OUTPUT_NAME is set at compile time.
mv "$pkg/${name}_bg.wasm" "$pkg/$name.wasm"
for wasm in "$pkg"/*.wasm; do
  # (binaryen warns about the name subsection it does not know; harmless.)
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-reference-types --enable-multivalue --enable-mutable-globals \
    "$wasm" -o "$wasm" 2> >(grep -v 'unknown name subsection' >&2)
done
cp style/main.css "$pkg/$name.css"
# xterm.js for terminals, loaded by the page on first use.
mkdir -p "$pkg/xterm"
cp node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/css/xterm.css \
  node_modules/@xterm/addon-fit/lib/addon-fit.js "$pkg/xterm/"
cp -r public/. "$site/"
echo "site built in $site ($(du -sh "$pkg" | cut -f1))"
