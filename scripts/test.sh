#!/usr/bin/env bash
# Set-up command 2: installs what the tests need and runs ALL tests:
#   0. the lint wall: rustfmt, clippy with -D warnings on the server and the browser builds
#   1. unit + integration tests on SQLite        (cargo leptos test)
#   2. the same suite on Postgres                (CLAVIS_TEST_POSTGRES_URL, a fresh database per test)
#   3. browser tests: Playwright + Debian's Chromium against a release build (cargo leptos end-to-end)
#   4. the same browser tests with the server on a fresh Postgres database
# Postgres must answer at CLAVIS_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# if it does not, the run fails: no test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/install-tools.sh

if [ ! -x /usr/bin/chromium ]; then
  say "Installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
command -v npm >/dev/null || { echo "error: npm not found: install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "Installing the end2end npm packages (no browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

PG_URL="${CLAVIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
command -v psql >/dev/null || { echo "error: psql not found: install postgresql-client" >&2; exit 1; }
# Databases left by earlier runs (each test makes its own).
for db in $(psql "$PG_URL" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'clavis\_t\_%'" 2>/dev/null); do
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
done

say "0/4 Lint: cargo fmt --check, cargo clippy -D warnings (server with tests, browser build)"
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
cargo fmt --check
cargo clippy --locked --features ssr --all-targets -- -D warnings
cargo clippy --locked --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

say "1/4 Unit and integration tests on SQLite"
# --no-fail-fast: every failing suite is reported, not only the first.
env -u CLAVIS_TEST_POSTGRES_URL cargo leptos test --bin-cargo-args=--no-fail-fast

say "2/4 Integration tests on Postgres ($PG_URL)"
CLAVIS_TEST_POSTGRES_URL="$PG_URL" cargo leptos test --bin-cargo-args=--no-fail-fast

TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
export CLAVIS_BIN="$TARGET/release/clavis"
export LEPTOS_SITE_ADDR="${CLAVIS_E2E_ADDR:-127.0.0.1:3117}"
E2E_DIR=$(mktemp -d)
E2E_PG_DB="clavis_e2e_$$"
cleanup() {
  rm -rf "$E2E_DIR"
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $E2E_PG_DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "3/4 Browser tests on SQLite (release build, Playwright + Chromium)"
DATABASE_URL="sqlite://$E2E_DIR/e2e.db" cargo leptos end-to-end --release --precompress --split

say "4/4 Browser tests on Postgres"
psql "$PG_URL" -qc "CREATE DATABASE $E2E_PG_DB"
DATABASE_URL="${PG_URL%/*}/$E2E_PG_DB" cargo leptos end-to-end --release --precompress --split
say "All tests passed (screenshots in end2end/screenshots)"
