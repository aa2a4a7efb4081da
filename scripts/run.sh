#!/usr/bin/env bash
# Set-up command 1: installs what is missing, builds the release server and runs it on SQLite.
# Configuration comes from the environment (README.md, "Configuration").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/install-tools.sh
printf '\033[1m==> Building Clavis (release; a clean build takes about 5 minutes)\033[0m\n'
cargo leptos build --release --precompress --split

BIN="${CARGO_TARGET_DIR:-target}/release/clavis"
ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
cat <<MSG

Clavis is starting on http://$ADDR (database: ${DATABASE_URL:-sqlite://data/clavis.db}).
Create the first administrator from another shell in this folder:

    $BIN user add --username admin --password-stdin --admin

(type the password at the prompt: at least 8 characters, not echoed), then sign in at
http://$ADDR/login. Stop the server with Ctrl-C.

MSG
exec "$BIN" serve
