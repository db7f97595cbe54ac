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
echo "== the pipeline"
cat <<'PIPE'
anon-mask  -c name=fake:full_name -c phone=phone -c 'notes=regex:\d' demo/sample.csv |
anon-noise --entity id -c salary=laplace:epsilon=1,sensitivity=1000 \
           -c age=topcode:90 -c dob=dateshift:days=180 |
anon-hash  -c id=int64 -c email=email |
anon-fpe   -c card=luhn
PIPE
anon-mask -c name=fake:full_name -c phone=phone -c 'notes=regex:\d' demo/sample.csv |
	anon-noise --entity id -c salary=laplace:epsilon=1,sensitivity=1000 \
		-c age=topcode:90 -c dob=dateshift:days=180 |
	anon-hash -c id=int64 -c email=email |
	anon-fpe -c card=luhn > demo/out/anon.csv

echo
echo "== demo/out/anon.csv (the output)"
cat demo/out/anon.csv

echo
echo "== demo/out/audit.jsonl: one record per stage, run id $ANON_RUN_ID"
while IFS= read -r rec; do
	tool=${rec#*\"tool\":\"}
	rows=${rec#*\"rows_out\":}
	echo "${tool%%\"*}: ${rows%%,*} rows out, $(printf '%s' "$rec" | wc -c) bytes of JSON"
done < demo/out/audit.jsonl

echo
echo "== anon-fpe -D -c card=luhn: with the key, the cards decrypt back"
anon-fpe -D -c card=luhn demo/out/anon.csv
