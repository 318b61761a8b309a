#!/usr/bin/env bash
# Validates the Prometheus rules and runs their promtool unit tests.
# Usage: bash scripts/check-rules.sh   (from anywhere; paths are relative to the repo)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rules_dir="$root/observability/prometheus/rules"
tests_dir="$root/observability/prometheus/tests"
promtool="${PROMTOOL:-promtool}"

if ! command -v "$promtool" >/dev/null 2>&1; then
  echo "check-rules: promtool not found on PATH; install it (apt-get install prometheus, or the prometheus release tarball) or set PROMTOOL=/path/to/promtool" >&2
  exit 127
fi

shopt -s nullglob
rule_files=("$rules_dir"/*.yml)
test_files=("$tests_dir"/*.test.yml)
if [ "${#rule_files[@]}" -eq 0 ] || [ "${#test_files[@]}" -eq 0 ]; then
  echo "check-rules: no rule files in $rules_dir or no tests in $tests_dir" >&2
  exit 1
fi

echo "check-rules: promtool check rules (${#rule_files[@]} files)"
"$promtool" check rules "${rule_files[@]}"

echo "check-rules: promtool check config"
(cd "$root/observability/prometheus" && "$promtool" check config --syntax-only prometheus.yml)

if command -v amtool >/dev/null 2>&1; then
  echo "check-rules: amtool check-config"
  amtool check-config "$root/observability/alertmanager/alertmanager.yml"
else
  echo "check-rules: amtool not found; skipping the Alertmanager config check"
fi

echo "check-rules: promtool test rules (${#test_files[@]} files)"
# Test files name their rule files relative to themselves.
cd "$tests_dir"
"$promtool" test rules "${test_files[@]##*/}"

echo "check-rules: OK"
