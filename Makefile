# Switchboard. `make run` builds and opens the app; `make test` runs the whole suite.
# Both install what is missing first (Debian/Ubuntu: apt-get, npm ci, cargo install).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Cargo's build folder lives outside the clone, so a fresh clone on the same machine (CI)
# rebuilds incrementally.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/switchboard/target
export CARGO_TERM_COLOR ?= never
BIN := $(CARGO_TARGET_DIR)/debug/switchboard

.PHONY: run build ui deps test-deps test lint test-rust test-ui bindings-check bundle clean bench bench-history

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

ui: deps
	npm --prefix ui run build

build: ui
	cargo build --bin switchboard

run: build
	$(BIN)

lint: ui
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	npm --prefix ui run check

test-ui: deps
	npm --prefix ui test

# Unit tests, integration tests against the HF test double, and the end-to-end tests (real app
# under Xvfb with gnome-keyring and tauri-driver). `cargo test` also regenerates the TypeScript
# bindings of the IPC types (ts-rs).
test-rust: test-deps ui
	cargo test --workspace --locked --no-fail-fast

# The generated bindings must be committed and current.
bindings-check:
	@if [[ -n "$$(git status --porcelain -- ui/src/bindings)" ]]; then \
	  git status --porcelain -- ui/src/bindings; \
	  echo "ui/src/bindings is out of date: run 'cargo test' and commit the result." >&2; exit 1; \
	fi

test: test-deps lint test-ui test-rust bindings-check
	@echo "All checks passed."

# A release .deb (offline: everything comes from the lockfiles and the local toolchain).
bundle: deps
	ui/node_modules/.bin/tauri build --bundles deb
	@ls -1 $(CARGO_TARGET_DIR)/release/bundle/deb/*.deb

# Benchmarks, with release settings; each prints a table and writes JSON to
# $(CARGO_TARGET_DIR)/bench/. Add new ones as bench-* prerequisites of `bench`.
bench: bench-history

# The history at 10,000 conversations / 200,000 messages: sidebar, search, open time, file size
# (benches/history.rs). The database is generated once and cached in $(CARGO_TARGET_DIR);
# SWITCHBOARD_BENCH_KEEP_DB=path/history.sqlite3 keeps a copy to try the app on.
bench-history: ui
	cargo bench --locked --bench history

clean:
	cargo clean
	rm -rf ui/dist
