# The two commands a newcomer needs: `make run` and `make test`.
ARGS ?=

.PHONY: run build test bench setup

run: build  ## build everything (release) and start the dashboard
	./target/release/pinokiocloud serve $(ARGS)

build:      ## release build: site + server, site copied next to the binary
	scripts/build.sh

test:       ## every test: fmt, clippy, Rust tests, browser tests in Chromium
	scripts/test.sh

bench:      ## benchmarks (numbers, not pass/fail)
	scripts/build-site.sh
	cargo bench -p server
	PINOKIOCLOUD_BIN=target/release/pinokiocloud node end2end/bench/phone_fcp.mjs

setup:      ## install build tools only (idempotent)
	scripts/setup.sh
