#!/bin/sh
# demo.sh: the main job on the bundled sample: demo/sample.csv through a pipeline of anon
# tools, each stage appending to one audit file under one run id.
set -eu
cd "$(dirname "$0")/.."
PATH=$PWD/bin:$PATH
chmod 600 demo/demo.key # git does not keep the mode; a readable key draws a warning
mkdir -p demo/out
rm -f demo/out/audit.jsonl
export ANON_KEY_FILE=demo/demo.key ANON_AUDIT=demo/out/audit.jsonl ANON_RUN_ID="demo-$(date +%Y%m%dT%H%M%S)"

echo "== demo/sample.csv (the input)"
cat demo/sample.csv
echo
echo "== anon-hash -c id=int64 -c email=email"
anon-hash -c id=int64 -c email=email < demo/sample.csv > demo/out/anon.csv
cat demo/out/anon.csv
echo
echo "== demo/out/audit.jsonl (one record per stage, run id $ANON_RUN_ID)"
cat demo/out/audit.jsonl
