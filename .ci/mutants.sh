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

killed=0
survived=0
for m in "${files[@]}"; do
  name="$(basename "$m" .diff)"
  what="$(sed -n 's/^# mutant: *//p' "$m" | head -1)"
  pkgs="$(sed -n 's/^# packages: *//p' "$m" | head -1)"
  runpat="$(sed -n 's/^# run: *//p' "$m" | head -1)"
  runflag=()
  if [ -n "$runpat" ]; then runflag=(-run "$runpat"); fi
  if [ -z "$what" ] || [ -z "$pkgs" ]; then
    echo "mutant $name: $m lacks its '# mutant:' or '# packages:' line" >&2
    exit 2
  fi
  work="$scratch/$name/walkshed"
  mkdir -p "$work"
  # The files of the module as they stand (committed or not, less ignored ones).
  (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$root" && tar --null -T - -cf -) | tar -C "$work" -xf -
  if ! (cd "$work" && git apply "$m"); then
    echo "mutant $name: the diff no longer applies to the code; update $m" >&2
    exit 2
  fi
  # shellcheck disable=SC2086
  if ! (cd "$work" && go vet $pkgs >"$scratch/$name.vet" 2>&1); then
    echo "mutant $name: the mutated code does not compile or vet:" >&2
    cat "$scratch/$name.vet" >&2
    exit 2
  fi
  start=$SECONDS
  # Without CI set, tests that need a Debian tool skip as on a developer's
  # machine: what must kill the mutant is the unit tests.
  # shellcheck disable=SC2086
  if (cd "$work" && env -u CI go test -count=1 "${runflag[@]}" $pkgs >"$scratch/$name.log" 2>&1); then
    echo "mutant $name SURVIVED ($what): go test $pkgs passed with it"
    survived=$((survived + 1))
  else
    by="$(grep -o -- '--- FAIL: [^ ]*' "$scratch/$name.log" | sed 's/--- FAIL: //; s#/.*##' | sort -u | head -5 | paste -sd, - || true)"
    if [ -z "$by" ]; then
      echo "mutant $name: go test failed without a failing test (a build error?):" >&2
      tail -20 "$scratch/$name.log" >&2
      exit 2
    fi
    echo "mutant $name killed ($what) by ${by//,/, } in $((SECONDS - start)) s"
    killed=$((killed + 1))
  fi
  rm -rf "${scratch:?}/$name"
done
echo "mutants: $killed killed, $survived survived"
[ "$survived" -eq 0 ]
