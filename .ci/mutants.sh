#!/usr/bin/env bash
# The mutation check: every .ci/mutants/NAME.diff is a deliberate breakage
# of the code. Each is applied alone to a scratch copy of the module, with no
# ../shared beside it so that the unit tests alone must catch it; the copy
# must still compile (go vet), and `go test` on the packages the file names
# must then fail. A breakage the tests let through fails this check.
#
# A mutant file starts with two comment lines, then a diff that `git apply`
# takes from the module root:
#   # mutant: what the breakage is
#   # packages: ./coverage/site/ ./cmd/walkshed/
# and optionally a third, which limits the run to the tests that matter (the
# command-line package's whole suite takes a minute):
#   # run: TestTiersMatchBruteForce|TestUpdateRefusesTieredResult
#
# Mutants run two at a time (MUTANT_JOBS to change it): building and linking
# a test binary leaves a core idle, which the other mutant uses.
#
# Usage: bash .ci/mutants.sh [NAME ...]   (every mutant when none is named)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

if [ $# -gt 0 ]; then
  files=()
  for n in "$@"; do files+=("$root/.ci/mutants/$n.diff"); done
else
  files=("$root"/.ci/mutants/*.diff)
fi

# check runs one mutant and leaves its verdict in $scratch/NAME.result: a
# line starting "killed", "SURVIVED" or "ERROR".
check() {
  local m="$1" name what pkgs runpat work start by
  name="$(basename "$m" .diff)"
  what="$(sed -n 's/^# mutant: *//p' "$m" | head -1)"
  pkgs="$(sed -n 's/^# packages: *//p' "$m" | head -1)"
  runpat="$(sed -n 's/^# run: *//p' "$m" | head -1)"
  local runflag=()
  if [ -n "$runpat" ]; then runflag=(-run "$runpat"); fi
  local out="$scratch/$name.result"
  if [ -z "$what" ] || [ -z "$pkgs" ]; then
    echo "ERROR mutant $name: $m lacks its '# mutant:' or '# packages:' line" >"$out"
    return
  fi
  work="$scratch/$name/walkshed"
  mkdir -p "$work"
  # The files of the module as they stand (committed or not, less ignored ones).
  (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$root" && tar --null -T - -cf -) | tar -C "$work" -xf -
  if ! (cd "$work" && git apply "$m" 2>"$scratch/$name.apply"); then
    echo "ERROR mutant $name: the diff no longer applies to the code; update $m" >"$out"
    return
  fi
  # shellcheck disable=SC2086
  if ! (cd "$work" && go vet $pkgs >"$scratch/$name.vet" 2>&1); then
    { echo "ERROR mutant $name: the mutated code does not compile or vet:"; cat "$scratch/$name.vet"; } >"$out"
    return
  fi
  start=$SECONDS
  # Without CI set, tests that need a Debian tool skip as on a developer's
  # machine: what must kill the mutant is the unit tests.
  # shellcheck disable=SC2086
  if (cd "$work" && env -u CI go test -count=1 "${runflag[@]}" $pkgs >"$scratch/$name.log" 2>&1); then
    echo "SURVIVED mutant $name SURVIVED ($what): go test $pkgs passed with it" >"$out"
  else
    by="$(grep -o -- '--- FAIL: [^ ]*' "$scratch/$name.log" | sed 's/--- FAIL: //; s#/.*##' | sort -u | head -5 | paste -sd, - || true)"
    if [ -z "$by" ]; then
      { echo "ERROR mutant $name: go test failed without a failing test (a build error?):"; tail -20 "$scratch/$name.log"; } >"$out"
    else
      echo "killed mutant $name killed ($what) by ${by//,/, } in $((SECONDS - start)) s" >"$out"
    fi
  fi
  rm -rf "${scratch:?}/$name"
}
export -f check
export root scratch

printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "${MUTANT_JOBS:-2}" bash -c 'check "$0"'

killed=0
survived=0
errors=0
for m in "${files[@]}"; do
  r="$scratch/$(basename "$m" .diff).result"
  verdict="$(head -1 "$r" 2>/dev/null | cut -d' ' -f1)"
  case "$verdict" in
    killed) killed=$((killed + 1)); cut -d' ' -f2- "$r" ;;
    SURVIVED) survived=$((survived + 1)); cut -d' ' -f2- "$r" ;;
    *) errors=$((errors + 1)); { cut -d' ' -f2- "$r" 2>/dev/null || echo "mutant $m: no verdict"; } >&2 ;;
  esac
done
echo "mutants: $killed killed, $survived survived"
[ "$errors" -eq 0 ] || exit 2
[ "$survived" -eq 0 ]
