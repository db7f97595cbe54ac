#!/bin/sh
# make-fixtures.sh: remake the frozen audit files of t/report.bats from real runs of the tools
# on demo/sample.csv (a fixed key and run id), then the golden reports from them.  Run it from
# the top of the tree after a change the goldens should follow, and review the diff.
set -eu
cd "$(dirname "$0")/../../.."
PATH=$PWD/bin:$PATH
D=t/data/report
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f > "$tmp/key"
chmod 600 "$tmp/key"
export ANON_KEY_FILE="$tmp/key" ANON_RUN_ID=report-golden ANON_AUDIT="$tmp/audit.jsonl"
# an earlier run in the same file, which the report leaves out unless --run names it
ANON_RUN_ID=report-earlier anon-noise -q --seed 1 -c salary=laplace:epsilon=0.5,sensitivity=1000 \
	demo/sample.csv > /dev/null
anon-mask -c name=fake:full_name -c phone=phone -c 'notes=regex:\d' demo/sample.csv |
	anon-noise --entity id -c salary=laplace:epsilon=1,sensitivity=1000 \
		-c age=topcode:90 -c dob=dateshift:days=180 |
	anon-hash -c id=int64 -c email=email |
	anon-fpe -c card=luhn > "$tmp/anon.csv"
anon-validate --verdict /dev/null --unique id --pii ssn,iban,ip --k-anon age:1 "$tmp/anon.csv"
# the file names as a user would see them, not the temporary directory
sed "s|$tmp/|out/|g" "$tmp/audit.jsonl" > $D/demo.jsonl
# the same run with the anon-noise record lost, and with a row count that does not join up
grep -v '"tool":"anon-noise"' $D/demo.jsonl > $D/missing.jsonl
sed '/"tool":"anon-fpe"/s/"rows_in":8/"rows_in":7/' $D/demo.jsonl | grep -v report-earlier > $D/mismatch.jsonl
bin/anon-report $D/demo.jsonl > $D/demo.md || true
bin/anon-report --format json $D/demo.jsonl > $D/demo.json || true
