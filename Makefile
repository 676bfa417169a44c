# fastsse — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
DEPS    := $(VENV)/.deps-stamp
BUILT   := $(VENV)/.build-debug
RELEASE := $(VENV)/.build-release
RUST_SRC := $(shell find src-rust -name '*.rs') Cargo.toml pyproject.toml
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help setup system-deps build test test-rust test-python demo bench bench-rust bench-python lint fmt fuzz clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

$(DEPS): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	print('\n'.join(['maturin>=1.7,<2'] + d['dependencies'] + d['optional-dependencies']['dev']))" > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements.txt
	touch $@

# Tests run on a debug build, the demo and benchmarks on a release build (lto, codegen-units=1).
# Both install into the same venv, so each stamp removes the other; cargo keeps both cached.
$(BUILT): $(DEPS) $(RUST_SRC)
	$(VENV)/bin/maturin develop > $(VENV)/build.log 2>&1 || { cat $(VENV)/build.log; exit 1; }
	rm -f $(RELEASE)
	touch $@

$(RELEASE): $(DEPS) $(RUST_SRC)
	@echo "building the release extension (the first time takes a few minutes)"
	$(VENV)/bin/maturin develop --release > $(VENV)/build.log 2>&1 || { cat $(VENV)/build.log; exit 1; }
	rm -f $(BUILT)
	touch $@

setup: system-deps $(BUILT) ## create .venv, install build and dev dependencies, build the extension (debug)

# Debian packages the tests run for real: the resumable-stream tests start a redis-server,
# the chat page is tested in a headless chromium.
SYSTEM_DEPS := redis-server chromium
system-deps: ## install redis-server and chromium with apt-get when missing (CI runs as root)
	@missing=$$(for p in $(SYSTEM_DEPS); do command -v $$p > /dev/null || echo $$p; done); \
	[ -z "$$missing" ] || { apt-get update && apt-get install -y $$missing; }

build: $(BUILT) ## (re)build the extension in debug mode if Rust sources changed

test: test-rust test-python ## run every test (cargo test + pytest)

test-rust: ## Rust unit and integration tests (no Python needed)
	cargo test --quiet

test-python: system-deps $(BUILT) ## pytest on the Python package
	$(PY) -m pytest

demo: $(RELEASE) ## the main job on an embedded default (no network, no key)
	$(PY) -m fastsse demo

# The gateway bench's peer, LiteLLM's proxy, in a venv of its own (its pins fight the dev dependencies).
LITELLM := .venv-litellm/bin/litellm
$(LITELLM):
	python3 -m venv .venv-litellm
	.venv-litellm/bin/python -m pip install --quiet 'litellm[proxy]==1.108.7'

bench: $(RELEASE) $(LITELLM) ## every benchmark once, rewriting README.md's marked tables (~20 min; release builds)
	$(PY) benches/report.py

bench-rust: ## criterion benches of the Rust core
	cargo bench --bench sse
	cargo bench --bench encode
	cargo bench --bench eventstream
	cargo bench --bench text --features bench-peers
	cargo bench --bench text_formats --features bench-peers
	cargo bench --bench providers
	cargo bench --bench harmony

bench-python: $(RELEASE) ## Python side-by-side benches with the peers (release build)
	$(PY) benches/python/run.py

lint: $(BUILT) ## cargo fmt --check, clippy -D warnings, ruff, mypy --strict, stubtest
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --features python -- -D warnings
	$(PY) -m ruff check python tests benches
	$(PY) -m ruff format --check python tests benches
	$(PY) -m mypy --strict python/fastsse
	$(PY) -m mypy.stubtest fastsse._fastsse --allowlist stubtest-allowlist.txt

fmt: $(DEPS) ## format Rust and Python sources
	cargo fmt
	$(PY) -m ruff format python tests benches
	$(PY) -m ruff check --fix python tests benches

# Stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs nightly flags); FUZZ_SECONDS per
# target. The regression inputs and a short deterministic pass run in `make test` already.
FUZZ_SECONDS ?= 60
fuzz: ## run every cargo-fuzz target for FUZZ_SECONDS (default 60) each, seeded from tests/data
	@command -v cargo-fuzz > /dev/null || cargo install --locked cargo-fuzz
	cd fuzz && for t in $$(RUSTC_BOOTSTRAP=1 cargo fuzz list); do \
	  mkdir -p corpus/$$t && cp -n regressions/$$t/* corpus/$$t/ 2> /dev/null; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t corpus/$$t ../tests/data -- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 || exit 1; \
	done

clean: ## remove build products and the venv
	cargo clean
	rm -rf $(VENV) python/fastsse/*.so
