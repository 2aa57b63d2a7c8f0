# Switchboard. `make run` builds and opens the app; `make test` runs the whole suite.
# Both install what is missing first (Debian/Ubuntu: apt-get, npm ci, cargo install).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Cargo's build folder lives outside the clone, so a fresh clone on the same machine (CI)
# rebuilds incrementally.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/switchboard/target
export CARGO_TERM_COLOR ?= never
BIN := $(CARGO_TARGET_DIR)/debug/switchboard

.PHONY: run dev build ui deps test-deps bench-deps test lint test-rust test-ui bindings-check bundle check-deb clean bench bench-history bench-streaming bench-app

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

# The test tools and Chromium, bench-app's Electron-class reference.
bench-deps:
	@scripts/deps.sh --bench

ui: deps
	npm --prefix ui run build

build: ui
	cargo build --bin switchboard

run: build
	$(BIN)

# The app with its UI served by Vite (tauri.conf.json: devUrl, beforeDevCommand), so a UI change
# reloads in the window without a Rust rebuild; a Rust change rebuilds and restarts the app
# (.taurignore keeps ui/ out of Tauri's watch). Tauri's CLI builds dev runs with
# --no-default-features plus the default features that do not enable tauri/custom-protocol, so
# the window loads the dev server, not the embedded ui/dist; e2e-hooks stays off.
dev: deps
	ui/node_modules/.bin/tauri dev

# Clippy twice: with the test hooks (what the tests build) and without (what users get).
lint: ui
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked --features switchboard/e2e-hooks -- -D warnings
	cargo clippy --workspace --all-targets --locked -- -D warnings
	npm --prefix ui run check

test-ui: deps
	mkdir -p $(CARGO_TARGET_DIR)
	npm --prefix ui test 2>&1 | tee $(CARGO_TARGET_DIR)/test-ui.log

# Unit tests, integration tests against the HF test double, and the end-to-end tests (real app
# under Xvfb with gnome-keyring and tauri-driver). The app is built with the `e2e-hooks` feature:
# the end-to-end tests answer its file dialogs through SWITCHBOARD_E2E_DIALOG_FILE. `cargo test`
# also regenerates the TypeScript bindings of the IPC types (ts-rs).
test-rust: test-deps ui
	cargo test --workspace --locked --no-fail-fast --features switchboard/e2e-hooks 2>&1 \
	  | tee $(CARGO_TARGET_DIR)/test-rust.log

# The generated bindings must be committed and current.
bindings-check:
	@if [[ -n "$$(git status --porcelain -- ui/src/bindings)" ]]; then \
	  git status --porcelain -- ui/src/bindings; \
	  echo "ui/src/bindings is out of date: run 'cargo test' and commit the result." >&2; exit 1; \
	fi

test: test-deps lint test-ui test-rust bindings-check
	@echo "All checks passed."
	@scripts/test-summary.sh $(CARGO_TARGET_DIR)/test-ui.log $(CARGO_TARGET_DIR)/test-rust.log

# A release .deb (offline: everything comes from the lockfiles and the local toolchain).
bundle: deps
	ui/node_modules/.bin/tauri build --bundles deb
	@ls -1 $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb

# What the .deb declares and holds: control fields, binary, desktop entry, icons
# (scripts/check-deb.sh; SWITCHBOARD_DEB=path checks another one). Not part of `make test`:
# the release build is too slow for CI.
check-deb: bundle
	scripts/check-deb.sh

# Benchmarks, with release settings; each prints a table and writes JSON to
# $(CARGO_TARGET_DIR)/bench/. Add new ones as bench-* prerequisites of `bench`.
bench: bench-history bench-streaming bench-app

# The history at 10,000 conversations / 200,000 messages and at ten times that: sidebar, search,
# open time, file size, growth (benches/history.rs). Each database is generated once and cached in
# $(CARGO_TARGET_DIR) (the large one: 2.6 GB, about 7 minutes);
# SWITCHBOARD_BENCH_KEEP_DB=path/history.sqlite3 keeps a copy to try the app on.
bench-history: ui
	cargo bench --locked --bench history

# A 10,000-chunk answer from the HF test double: a bare reqwest client against the app's path to
# the UI (chat::run, coalescing, JSON for the Channel); chunks/s, ratio, latency per chunk
# (benches/streaming.rs).
bench-streaming: ui
	cargo bench --locked --bench streaming

# The release binary and its .deb (packaged from that binary, no second build), then the app
# under Xvfb against its references, launched in turn (benches/app.rs): start-up to first paint
# signed in with 10,000 and 100,000 conversations against a bare WebKitGTK page; idle memory
# against that page and against the app's own page in Chromium (the Electron-class reference,
# IPC mocked with answers recorded from the app), with both engines' defaults and without GPU
# compositing; smoothness of six compare panes streaming while keys are typed; sizes. It
# measures the binary the .deb installs, unpacked to bench/deb/ (`cargo bench` relinks
# release/switchboard with the dev-dependencies' features). Both builds have the `e2e-hooks`
# feature: the bench reads the app's first-paint report (SWITCHBOARD_REPORT_FIRST_PAINT), which a
# build without it never prints; this .deb is for measuring, not for release (`make bundle`
# makes that one).
bench-app: bench-deps ui
	cargo build --release --locked --bin switchboard --features e2e-hooks
	ui/node_modules/.bin/tauri bundle --bundles deb
	rm -rf $(CARGO_TARGET_DIR)/bench/deb
	deb=$$(ls -1t $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb | head -1); \
	dpkg-deb -x "$$deb" $(CARGO_TARGET_DIR)/bench/deb; \
	SWITCHBOARD_DEB="$$deb" SWITCHBOARD_BENCH_BIN=$(CARGO_TARGET_DIR)/bench/deb/usr/bin/switchboard \
	  cargo bench --locked --bench app --features e2e-hooks

clean:
	cargo clean
	rm -rf ui/dist
