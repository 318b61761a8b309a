#!/bin/sh
# One-shot seeding for the docker compose stack (the `seed` service), idempotent:
#   1. the contract's flags in Unleash (scripts/unleash-seed.ts; existing flags are kept);
#   2. an admin API key of tenant "ops" for Alertmanager, written to $ALERT_TOKEN_FILE,
#      which Alertmanager reads as http_config.authorization.credentials_file when it posts
#      to the alert inbox (POST /v1/alerts/webhook). Created once: an existing file is kept.
# Runs in the Airlock image as uid 1000, after `migrate` and with Unleash healthy.
set -eu

token_file=${ALERT_TOKEN_FILE:-/run/airlock-secrets/alertmanager-api-key}

echo "seed: Unleash flags at ${UNLEASH_URL:-unset}"
node scripts/unleash-seed.ts

if [ -s "$token_file" ]; then
  echo "seed: $token_file exists; keeping the Alertmanager key"
else
  echo "seed: creating the ops admin key for Alertmanager"
  created=$(node src/cli/cli.ts keys create --tenant ops --role admin --json)
  # umask first: the key never exists on disk with wider permissions.
  umask 077
  printf '%s' "$created" | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(JSON.parse(s).key));
  ' >"$token_file.tmp"
  mv "$token_file.tmp" "$token_file"
  # Alertmanager runs as another user (nobody) and must read it; the volume is only shared
  # between this step and Alertmanager.
  chmod 0644 "$token_file"
  echo "seed: wrote $token_file"
fi
echo "seed: done"
