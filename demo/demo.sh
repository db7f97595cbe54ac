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
anon-fpe   -c card=luhn |
anon-validate --pass --verdict demo/out/verdict.json --require id --type age=int \
           --range age=0..90 --unique id --pii email,phone,ssn,iban,ip \
           --deny-list demo/out/emails.txt
PIPE
# the gate's deny-list: the sample's addresses, which must not survive anywhere
cut -d, -f2 demo/sample.csv | grep @ > demo/out/emails.txt
anon-mask -c name=fake:full_name -c phone=phone -c 'notes=regex:\d' demo/sample.csv |
	anon-noise --entity id -c salary=laplace:epsilon=1,sensitivity=1000 \
		-c age=topcode:90 -c dob=dateshift:days=180 |
	anon-hash -c id=int64 -c email=email |
	anon-fpe -c card=luhn |
	anon-validate --pass --verdict demo/out/verdict.json --require id --type age=int \
		--range age=0..90 --unique id --pii email,phone,ssn,iban,ip \
		--deny-list demo/out/emails.txt > demo/out/anon.csv

echo
echo "== demo/out/verdict.json: the last stage's verdict on what the others wrote"
echo "   (a failing check fails the pipeline and ends its output with a line PostgreSQL"
echo "   refuses to load; cards stay out of --pii: anon-fpe -c card=luhn keeps them"
echo "   Luhn-valid on purpose, and the card detector would find them)"
cat demo/out/verdict.json
printf 'the raw sample fails the same gate: '
ANON_AUDIT='' anon-validate --pii email,phone,ssn,iban,ip --verdict /dev/null demo/sample.csv &&
	echo passed || echo "exit $?"

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

echo
echo "== anon-report: the run's compliance and lineage report, from the audit records alone"
echo "anon-report --format html -o demo/out/report.html demo/out/audit.jsonl"
anon-report -q --format md demo/out/audit.jsonl | sed -n '/^## Summary/,/^## Lineage/p' || true
anon-report -q --format html -o demo/out/report.html demo/out/audit.jsonl || true
echo "demo/out/report.html: open it in a browser (charts inline; prints to PDF cleanly)"

echo
echo "== anon-token: vault tokens (random, reversible with the vault) for the emails and cards"
echo "anon-token --mode vault --vault demo/out/tokens.db -c email -c card=vault:digits,keep-length"
rm -f demo/out/tokens.db demo/out/tokens.db-wal demo/out/tokens.db-shm
# a run of its own, beside the pipeline: its audit records would be another run's in the report
ANON_AUDIT='' anon-token --mode vault --vault demo/out/tokens.db -c email \
	-c card=vault:digits,keep-length demo/sample.csv > demo/out/tokens.csv
cat demo/out/tokens.csv
printf 'detokenized (anon-token -D), the bytes of demo/sample.csv again: '
ANON_AUDIT='' anon-token --mode vault --vault demo/out/tokens.db -D -c email -c card \
	demo/out/tokens.csv | cmp -s - demo/sample.csv && echo yes || echo NO
anon-token --vault demo/out/tokens.db --vault-stats
