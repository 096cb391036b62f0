#!/usr/bin/env bash
# /api/schema as a contract a client can be built from: the document validates
# (openapi-spec-validator), openapi-python-client generates a client from it without a
# warning (it warns when it drops an operation or a response), and that client replays the
# README's examples, a 400, a 404 and a list page (.ci/openapi_client_check.py). The server
# is the debug binary on a fresh SQLite; NOTIFIER_BIN points elsewhere for local runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${NOTIFIER_BIN:-target/debug/notifier}"
venv="${OPENAPI_CLIENT_VENV:-target/openapi-client-venv}"
if [ ! -x "$venv/bin/openapi-python-client" ] || [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator>=0.7,<0.8" "openapi-python-client>=0.29,<0.30"
fi

work=$(mktemp -d)
token=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
NOTIFIER__DATABASE__URL="sqlite://$work/client.db?mode=rwc" \
NOTIFIER__SECURITY__SECRET_KEY_FILE="$work/secret.key" \
NOTIFIER__SECURITY__ADMIN_TOKEN="$token" \
NOTIFIER__SERVER__LISTEN="127.0.0.1:$port" \
RUST_LOG=warn \
  "$bin" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
if ! curl -sf "$base/healthz" >/dev/null; then
  echo "the server did not start"; cat "$work/server.log"; exit 1
fi

curl -sf "$base/api/schema" -o "$work/schema.json"
"$venv/bin/openapi-spec-validator" "$work/schema.json"

# No post hooks: they would run ruff, which formats the code and proves nothing here.
printf 'post_hooks: []\n' >"$work/generator.yaml"
"$venv/bin/openapi-python-client" generate --path "$work/schema.json" \
  --output-path "$work/client/notifier_client" --meta none --config "$work/generator.yaml" \
  --fail-on-warning 2>&1 | tee "$work/generate.log"
# --fail-on-warning already fails on the warnings it counts; any other warning it prints
# fails too, so a dropped response cannot pass unnoticed.
if grep -qi 'warning' "$work/generate.log"; then
  echo "openapi-python-client warned: the schema does not fully describe the API"; exit 1
fi

NOTIFIER_URL="$base" NOTIFIER_TOKEN="$token" PYTHONPATH="$work/client" \
  "$venv/bin/python" .ci/openapi_client_check.py
kill -0 "$server" || { echo "the server crashed under the generated client"; cat "$work/server.log"; exit 1; }
