# memacct — one Rust core, thin bindings for Erlang, Python and C.
#   make demo    the main job (builds what it needs)
#   make test    everything CI runs
#   make bench   benchmarks; writes the figures into BENCHMARKS.md
#   make bench-100k  the 100K-connection benchmark (four configurations)
#   make build   libmemacct (C), the NIF + OTP app, the Python module in .venv
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT      := $(abspath .)
VENV      := $(ROOT)/.venv
PY        := $(VENV)/bin/python
NIF_SO    := nif-erlang/priv/memacct_nif.so
CARGO_REL := cargo build --release --locked
FUZZ_SECONDS ?= 300

.PHONY: help deps build build-rust build-nif build-py header header-check \
        test test-rust test-c test-py test-erlang lint dialyzer \
        demo bench bench-100k vectors vectors-codec fuzz clean

help:
	@echo "make demo | make test | make bench | make bench-100k | make build | make vectors | make fuzz | make clean"

deps:
	@scripts/ensure-deps.sh

## ---- build -----------------------------------------------------------------
build: deps build-rust build-nif build-py header

build-rust:
	$(CARGO_REL) -p memacct-core -p memacct-ffi -p memacct-nif
	scripts/c-staticlib.sh target/release/libmemacct.a target/c/libmemacct.a

build-nif: build-rust
	mkdir -p nif-erlang/priv
	# install replaces the file (new inode): a running VM that mapped the old
	# one keeps it, where cp would overwrite it in place and crash that VM.
	install -m 0755 target/release/libmemacct_nif.so $(NIF_SO)
	cd nif-erlang && rebar3 compile

build-py: deps
	cd py-bindings && VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH maturin develop --release --locked -q
	$(PY) -c "import memacct"

header: deps
	cbindgen --quiet --config ffi-c/cbindgen.toml --crate memacct-ffi --output include/memacct.h

header-check: deps
	@tmp=$$(mktemp); cbindgen --quiet --config ffi-c/cbindgen.toml --crate memacct-ffi --output $$tmp; \
	 if cmp -s $$tmp include/memacct.h; then echo "include/memacct.h is fresh"; rm -f $$tmp; \
	 else echo "include/memacct.h is stale: run 'make header' and commit it"; diff -u include/memacct.h $$tmp | head -40; rm -f $$tmp; exit 1; fi

## ---- test ------------------------------------------------------------------
test: build lint header-check test-rust test-c test-py test-erlang
	@echo "make test: all suites passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	cargo test --workspace --locked

test-c: build-rust
	tests/c/run.sh

test-py: build-py
	$(PY) -m pytest -q py-bindings/tests

test-erlang: build-nif dialyzer
	cd nif-erlang && rebar3 eunit && rebar3 ct

dialyzer: build-nif
	cd nif-erlang && rebar3 dialyzer

## ---- the main job ------------------------------------------------------------
demo: build
	escript scripts/demo.escript $(DEMO_ARGS)

## ---- benchmarks --------------------------------------------------------------
bench: build
	escript bench/corpus.escript 2000
	cargo bench --locked -p memacct-core --bench scan
	escript bench/erlang_bench.escript target/bench-corpus/erlang.json
	escript bench/codec_bench.escript target/bench-corpus/codec.json
	escript bench/pool_bench.escript target/bench-corpus/pool.json
	escript bench/decompose_bench.escript target/bench-corpus/decompose.json
	$(PY) bench/report.py

BENCH_100K_CONNECTIONS ?= 100000
bench-100k: build
	mkdir -p target/bench-corpus
	escript bench/bench_100k.escript target/bench-corpus/bench100k.json $(BENCH_100K_CONNECTIONS)
	$(PY) bench/report.py bench-100k

## ---- maintenance -------------------------------------------------------------
vectors:
	escript tests/gen_vectors.escript tests/vectors 10500

vectors-codec:
	escript tests/gen_codec_vectors.escript tests/vectors/codec

fuzz:
	cd fuzz && for t in size_etf codec snapshot; do mkdir -p corpus/$$t; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536; done

clean:
	cargo clean
	rm -rf nif-erlang/_build $(NIF_SO) .venv
