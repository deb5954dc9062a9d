#!/usr/bin/env bash
# The whole suite: typecheck, lint, format, then ava (arguments go to ava). Prints the TAP output and ends
# with the one line CI reads: "N passed, N failed" (plus ", N skipped" if any); non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() {
  local name=$1
  shift
  if "$@" >"$work/$name.out" 2>&1; then
    echo "# $name: passed"
    passed=$((passed + 1))
  else
    echo "# $name: FAILED"
    sed 's/^/#   /' "$work/$name.out"
    failed=$((failed + 1))
  fi
}

check typecheck npm run -s typecheck
check lint npm run -s lint
check format npm run -s format:check

npx ava --tap "$@" | tee "$work/tap"
ava_status=${PIPESTATUS[0]}

count() { grep -cE "$1" "$work/tap" || true; }
ava_skipped=$(count '^(not )?ok [0-9]+ .*# (SKIP|TODO)')
ava_passed=$(($(count '^ok [0-9]+') - $(count '^ok [0-9]+ .*# (SKIP|TODO)')))
ava_failed=$(($(count '^not ok [0-9]+') - $(count '^not ok [0-9]+ .*# TODO')))
passed=$((passed + ava_passed))
failed=$((failed + ava_failed))
skipped=$((skipped + ava_skipped))
# A crash, a timeout or a syntax error can fail the run without a single "not ok" line.
if ((ava_status != 0 && ava_failed == 0)); then
  echo "# ava exited with status $ava_status without reporting a failed test"
  failed=$((failed + 1))
fi

summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
