#!/bin/sh
# One-shot seeding for the docker compose stack (the `seed` service), idempotent:
#   1. the contract's flags in Unleash (scripts/unleash-seed.ts; existing flags are kept);
#   2. ALERT_WEBHOOK_TOKEN written to $ALERT_TOKEN_FILE, which Alertmanager reads as
#      http_config.authorization.credentials_file when it posts to the alert inbox
#      (POST /v1/alerts/webhook, where the api checks the same token). Rewritten when the
#      token in .env changed, so a rotation reaches Alertmanager on the next `up`.
# Runs in the Airlock image as uid 1000, after `migrate` and with Unleash healthy.
set -eu

token_file=${ALERT_TOKEN_FILE:-/run/airlock-secrets/alertmanager-api-key}

echo "seed: Unleash flags at ${UNLEASH_URL:-unset}"
node scripts/unleash-seed.ts

if [ -z "${ALERT_WEBHOOK_TOKEN:-}" ]; then
  echo "seed: ALERT_WEBHOOK_TOKEN is not set (copy .env.example to .env)" >&2
  exit 1
fi
if [ -s "$token_file" ] && [ "$(cat "$token_file")" = "$ALERT_WEBHOOK_TOKEN" ]; then
  echo "seed: $token_file is current; keeping the Alertmanager token"
else
  # umask first: the token never exists on disk with wider permissions.
  umask 077
  printf '%s' "$ALERT_WEBHOOK_TOKEN" >"$token_file.tmp"
  mv "$token_file.tmp" "$token_file"
  # Alertmanager runs as another user (nobody) and must read it; the volume is only shared
  # between this step and Alertmanager.
  chmod 0644 "$token_file"
  echo "seed: wrote $token_file"
fi
echo "seed: done"
