#!/usr/bin/env bash
# Installs the build tools Clavis needs, skipping what is already there (safe to run again).
#   - the wasm32-unknown-unknown target (seconds)
#   - cargo-leptos 0.3.10            (~19 min on 2 cores, once)
#   - wasm-bindgen-cli, the version pinned in Cargo.toml (~3 min, once)
#   - wasm-opt from crates.io       (~10 min, once; never Debian's binaryen, it breaks hydration)
# cargo-leptos would download these helpers itself; that fails on machines without general
# internet access, so they go on PATH first.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "error: cargo not found: install Rust with rustup first (https://rustup.rs)" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

LEPTOS_VERSION=0.3.10
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$LEPTOS_VERSION" ]; then
  say "Installing cargo-leptos $LEPTOS_VERSION (one time, about 19 minutes on 2 cores)"
  cargo install cargo-leptos --locked --version "$LEPTOS_VERSION"
fi

BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
[ -n "$BINDGEN_VERSION" ] || { echo "error: no wasm-bindgen pin found in Cargo.toml" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
  say "Installing wasm-bindgen-cli $BINDGEN_VERSION (one time, about 3 minutes)"
  cargo install wasm-bindgen-cli --version "$BINDGEN_VERSION" --force
fi

if ! wasm-opt --version 2>/dev/null | grep -q .; then
  say "Installing wasm-opt from crates.io (one time, about 10 minutes)"
  cargo install wasm-opt --locked
elif [ "$(command -v wasm-opt)" = /usr/bin/wasm-opt ]; then
  echo "warning: /usr/bin/wasm-opt (Debian's binaryen) is first on PATH; it breaks hydration." >&2
  echo "         Remove the binaryen package or put ~/.cargo/bin first." >&2
fi

say "Build tools ready: $(cargo leptos --version), $(wasm-bindgen --version), $(wasm-opt --version | head -1)"
