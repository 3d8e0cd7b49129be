#!/usr/bin/env bash
# The README's "Watch a job in thirty seconds", run literally: the block is
# taken from README.md as a reader would copy it and run by bash in a
# directory where build/herald is the binary under test. It must print the
# job's three events, the last one completed, and leave no server behind.
#   tests/readme_quickstart.sh HERALD_BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
herald=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"
ln -s "$herald" "$work/build/herald"
awk '/^## Watch a job in thirty seconds/{f=1} f && /^```sh/{g=1; next} g && /^```/{exit} g{print}' \
  "$root/README.md" > "$work/quickstart.sh"
[[ -s $work/quickstart.sh ]] || { echo "no quick start block in README.md" >&2; exit 1; }
out=$(cd "$work" && timeout 60 bash quickstart.sh 2>&1) || { echo "$out"; echo "the quick start failed" >&2; exit 1; }
echo "$out"
for want in 'retry: 5000' '"status":"pending"' '"status":"running","progress":40' \
            '"message":"Page 4/10","step":"translate"' '"status":"completed","progress":100' \
            '"data":{"pages":10}' '{"id":3,"status":"completed","progress":100}'; do
  grep -qF "$want" <<<"$out" || { echo "missing from the output: $want" >&2; exit 1; }
done
# The block stops its server: nothing listens on 8001 afterwards.
sleep 0.5
if (exec 3<>/dev/tcp/127.0.0.1/8001) 2>/dev/null; then
  echo "a server is still listening on 8001" >&2
  exit 1
fi
echo "README quick start: OK"
