#!/usr/bin/env bash
# Installs what memacct's build, tests, demo and benchmarks need and is missing:
# Erlang/OTP 25 + rebar3 + valgrind from apt, maturin/pytest/hypothesis/pandas/matplotlib into
# .venv from PyPI, cbindgen from crates.io. Idempotent and quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_pkgs=()
command -v erl >/dev/null 2>&1 || apt_pkgs+=(erlang-base erlang-dev)
[ -d /usr/lib/erlang/lib ] && ls /usr/lib/erlang/lib | grep -q '^eunit-' || apt_pkgs+=(erlang-eunit)
[ -d /usr/lib/erlang/lib ] && ls /usr/lib/erlang/lib | grep -q '^common_test-' || apt_pkgs+=(erlang-common-test)
[ -d /usr/lib/erlang/lib ] && ls /usr/lib/erlang/lib | grep -q '^dialyzer-' || apt_pkgs+=(erlang-dialyzer)
command -v rebar3 >/dev/null 2>&1 || apt_pkgs+=(rebar3)
command -v valgrind >/dev/null 2>&1 || apt_pkgs+=(valgrind)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  echo "ensure-deps: apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "ensure-deps: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import maturin, pytest, hypothesis, pandas, matplotlib" >/dev/null 2>&1; then
  echo "ensure-deps: pip install -r py-bindings/requirements-dev.txt"
  .venv/bin/pip install -q --disable-pip-version-check -r py-bindings/requirements-dev.txt
fi

if ! command -v cbindgen >/dev/null 2>&1; then
  echo "ensure-deps: cargo install cbindgen"
  cargo install -q cbindgen --version 0.29.4 --locked
fi
