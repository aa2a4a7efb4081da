#!/usr/bin/env bash
# The benchmark (README.md, "Speed"): installs what is missing, builds the release server and
# bundle, then runs `clavis bench` with the arguments given, e.g.
#   scripts/bench.sh                                        # SQLite, every load, search at 100k and 1M
#   scripts/bench.sh --postgres postgres://postgres@127.0.0.1:5432/test
#   scripts/bench.sh --seconds 5 --search-at 0 --json bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/install-tools.sh
printf '\033[1m==> Building Clavis (release)\033[0m\n'
cargo leptos build --release --precompress --split
TARGET="${CARGO_TARGET_DIR:-target}"
# The site is written to the project's target/site (Cargo.toml's site-root) wherever
# CARGO_TARGET_DIR puts the binaries.
exec "$TARGET/release/clavis" bench --site-root "$PWD/target/site" "$@"
