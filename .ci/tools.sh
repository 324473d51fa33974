#!/usr/bin/env bash
# Installs what building the site needs and is missing: the wasm target, cargo-leptos,
# the wasm-bindgen CLI matching Cargo.lock, and (for release builds) binaryen's wasm-opt
# under $HOME/.cache/ciam-tools (the Makefile puts it on PATH).
# With "test" as argument also what the browser tests need: Debian's Chromium and the
# end2end npm packages, HAProxy for the cluster, and the SCIM compliance checker (alone with
# "scim"); with "bench" those and wrk; with "cluster" HAProxy and the npm packages. Safe to repeat: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# webauthn-rs links the system OpenSSL.
pkg-config --exists openssl 2>/dev/null || apt_install pkg-config libssl-dev

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos 0.3.5" ]; then
  echo "installing cargo-leptos 0.3.5 (about 10 minutes, once)"
  cargo install cargo-leptos --version 0.3.5 --locked --features no_downloads
fi

bindgen=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen" ]; then
  echo "installing wasm-bindgen-cli $bindgen (once)"
  cargo install wasm-bindgen-cli --version "$bindgen"
fi

# Release builds run wasm-opt. Debian's binaryen (108) is too old for the externref tables of
# current wasm-bindgen output (the page then fails to hydrate), so binaryen comes from npm.
tools="$HOME/.cache/ciam-tools"
if [ "$("$tools/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "132" ]; then
  echo "installing binaryen 132 (wasm-opt) into $tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" binaryen@132.0.0
fi

if [ "${1:-}" = "test" ] || [ "${1:-}" = "bench" ]; then
  command -v chromium >/dev/null || apt_install chromium
fi

# The cluster (`make cluster`, and its tests in `make test`) runs behind Debian's HAProxy.
if [ "${1:-}" = "test" ] || [ "${1:-}" = "cluster" ]; then
  [ -x /usr/sbin/haproxy ] || apt_install haproxy
  # The clock-skew fault runs a node under libfaketime.
  [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || apt_install libfaketime
fi

if [ "${1:-}" = "test" ] || [ "${1:-}" = "bench" ] || [ "${1:-}" = "cluster" ]; then
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules ]; then
    (cd end2end && npm ci --no-audit --no-fund)
  fi
fi

# The SCIM compliance checks (end2end/scim/check.py): python-scim's scim2-tester, pinned, in a
# virtualenv of its own.
scim_tester="0.5.2"
if [ "${1:-}" = "test" ] || [ "${1:-}" = "scim" ]; then
  venv="$tools/scim-venv"
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("scim2-tester"))' 2>/dev/null || true)" != "$scim_tester" ]; then
    echo "installing scim2-tester $scim_tester into $venv"
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "scim2-tester[httpx2]==$scim_tester"
  fi
fi

# The provider benchmark drives both servers with wrk.
if [ "${1:-}" = "bench" ]; then
  command -v wrk >/dev/null || apt_install wrk
fi
