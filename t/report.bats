#!/usr/bin/env bats
# report.bats: anon-report on frozen audit files (t/data/report, made by make-fixtures.sh from
# real runs on demo/sample.csv) and on runs made here: golden reports, flags, signatures.

load helper

R="$DATA/report"

@test "golden Markdown report of the demo pipeline" {
	cd "$TOP"
	anon-report t/data/report/demo.jsonl > "$BATS_TEST_TMPDIR/demo.md"
	run -0 diff -u t/data/report/demo.md "$BATS_TEST_TMPDIR/demo.md"
}

@test "golden JSON report of the demo pipeline" {
	cd "$TOP"
	anon-report --format json t/data/report/demo.jsonl > "$BATS_TEST_TMPDIR/demo.json"
	run -0 diff -u t/data/report/demo.json "$BATS_TEST_TMPDIR/demo.json"
}

@test "the same records give the same report, byte for byte" {
	cd "$TOP"
	a=$(anon-report --format json t/data/report/demo.jsonl | sha256sum)
	b=$(anon-report --format json t/data/report/demo.jsonl | sha256sum)
	assert_equal "$a" "$b"
}

@test "the JSON report names its schema and puts the stages in pipeline order" {
	run -0 bash -c "anon-report --format json '$R/demo.jsonl' | jq -r '.schema, ([.stages[].tool] | join(\" \"))'"
	assert_line -n 0 "anon-report/1"
	assert_line -n 1 "anon-mask anon-noise anon-hash anon-fpe anon-validate"
}

@test "classification: keyed hash pseudonymised, FPE reversible, noise with its epsilon" {
	run -0 bash -c "anon-report --format json '$R/demo.jsonl' | jq -r '.classification[] | \"\(.column) \(.treatment) \(.gdpr.status) \(.agree)\"'"
	assert_line "email keyed-irreversible pseudonymised false"
	assert_line "card reversible pseudonymised true"
	assert_line "salary dp-noise possibly anonymised (epsilon stated) true"
	assert_line "phone masked possibly anonymised true"
}

@test "the budget ledger sums epsilon per row and counts other runs" {
	run -0 bash -c "anon-report --format json '$R/demo.jsonl' | jq -c '[.budget.per_row.epsilon, .budget.per_column[0].epsilon_other_runs]'"
	assert_output "[1,0.5]"
}

@test "--run picks another run; the seeded one is flagged" {
	run -0 --separate-stderr anon-report --run report-earlier "$R/demo.jsonl"
	assert_output --partial "seeded-noise"
	assert_output --partial "not private"
}

@test "a stage whose record is missing is flagged" {
	run -1 --separate-stderr anon-report "$R/missing.jsonl"
	assert_output --partial "missing-stage"
	assert_output --partial "the record of a stage between them is missing"
}

@test "rows in that are not the rows out of the stage before are flagged" {
	run -1 --separate-stderr anon-report "$R/mismatch.jsonl"
	assert_output --partial "rows-mismatch"
	assert_output --partial "read 7 rows, but stage 3 (anon-hash) wrote 8"
}

@test "a pipeline run with --jobs 2 tells the same story as one with --jobs 1" {
	export ANON_KEY_FILE=$(test_key) ANON_AUDIT="$BATS_TEST_TMPDIR/a.jsonl" ANON_RUN_ID=jobs2
	anon-mask --jobs 2 -c phone=phone "$TOP/demo/sample.csv" |
		anon-hash --jobs 2 -c email=email > /dev/null
	run -0 bash -c "anon-report --format json '$ANON_AUDIT' | jq -r '.summary.status, (.stages[] | \"\(.index) \(.tool) \(.jobs) \(.link)\"), (.lineage[] | \"\(.column) \(.treatment)\")'"
	assert_line -n 0 "ok"
	assert_line "1 anon-mask 2 start"
	assert_line "2 anon-hash 2 pipe"
	assert_line "phone masked"
	assert_line "email keyed-irreversible"
}

@test "a column selected by number in one stage and by name in the next is one column" {
	export ANON_KEY_FILE=$(test_key) ANON_AUDIT="$BATS_TEST_TMPDIR/a.jsonl" ANON_RUN_ID=bynumber
	anon-mask -c 3=last:4 "$TOP/demo/sample.csv" | anon-hash -c email=email -c phone > /dev/null
	run -0 bash -c "anon-report --format json '$ANON_AUDIT' | jq -r '.lineage[] | \"\(.column) \([.steps[].selected_as] | join(\" \"))\"'"
	assert_line "phone 3 phone"
	assert_line "email email"
	refute_line --regexp "^3 "
	run -0 bash -c "anon-report --format json '$ANON_AUDIT' | jq '.lineage | length'"
	assert_output 2
	run -0 --separate-stderr anon-report "$ANON_AUDIT"
	assert_output --partial '- stage 1, anon-mask as `3`: rule `last:4`'
	assert_output --partial '- stage 2, anon-hash: rule'
}

@test "a run with a failed stage says so, and where it stopped" {
	export ANON_KEY_FILE=$(test_key) ANON_AUDIT="$BATS_TEST_TMPDIR/a.jsonl" ANON_RUN_ID=failed
	printf 'id,card\n1,4111111111111111\n2,12\n3,4000056655665556\n' > "$BATS_TEST_TMPDIR/in.csv"
	run bash -c "anon-hash --jobs 2 -c id '$BATS_TEST_TMPDIR/in.csv' | anon-fpe --jobs 2 -c card=luhn > /dev/null"
	run -1 --separate-stderr anon-report "$ANON_AUDIT"
	assert_output --partial "**flagged**"
	assert_output --partial "stage 2 (anon-fpe) failed: status error, exit 65"
	assert_output --partial "stopped after reading 2 of the 3 rows"
	assert_output --partial "| 2 | anon-fpe | stdin | stage 1 (pipe) | 2 | 1 | 0 | error | 65 | 2 |"
}

@test "columns only a verdict names are untouched; the width comes from the verdict" {
	run -0 bash -c "anon-report --format json '$R/demo.jsonl' | jq -c '.untouched | [.complete, .input_width]'"
	assert_output "[true,9]"
}

@test "--meta fills the record of processing and lists every column" {
	printf '{"controller":"Example Ltd","purpose":"testing","columns":["id","email","extra"],"recipients":[{"name":"QA","has_key":false}]}' > "$BATS_TEST_TMPDIR/meta.json"
	run -0 --separate-stderr anon-report --meta "$BATS_TEST_TMPDIR/meta.json" "$R/demo.jsonl"
	assert_output --partial "| Controller (Art. 30(1)(a)) | Example Ltd |"
	assert_output --partial "QA (does not hold the key)"
	assert_output --partial '### `extra`: untouched'
}

@test "a signed report verifies; a changed one does not" {
	cd "$BATS_TEST_TMPDIR"
	openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null
	openssl pkey -in k.pem -pubout -out k.pub
	run -0 anon-report --sign k.pem -o r.md "$R/demo.jsonl"
	assert_file_exists r.md.sig
	run -0 anon-report --verify --pubkey k.pub r.md
	run -0 openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in r.md -sigfile r.md.sig
	sed -i 's/epsilon 1/epsilon 9/' r.md
	run -1 anon-report --verify --pubkey k.pub r.md
	assert_output --partial "does not match"
}

@test "verification: another key fails, a malformed signature is 65, a wrong key is 78" {
	cd "$BATS_TEST_TMPDIR"
	openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null
	openssl genpkey -algorithm ed25519 -out other.pem 2>/dev/null
	openssl pkey -in other.pem -pubout -out other.pub
	anon-report --sign k.pem -o r.json --format json "$R/demo.jsonl"
	run -1 anon-report --verify --pubkey other.pub r.json
	printf 'short' > r.json.sig
	run -65 anon-report --verify --pubkey other.pub r.json
	anon-report --sign k.pem -o r.json --format json "$R/demo.jsonl"
	run -78 anon-report --verify --pubkey r.json r.json
}

@test "usage and input errors" {
	run -64 anon-report
	run -64 anon-report --format pdf "$R/demo.jsonl"
	run -64 anon-report --sign k.pem "$R/demo.jsonl"
	run -66 anon-report /nonexistent.jsonl
	run -65 anon-report --run nosuchrun "$R/demo.jsonl"
	printf 'not json\n' > "$BATS_TEST_TMPDIR/bad.jsonl"
	run -65 anon-report "$BATS_TEST_TMPDIR/bad.jsonl"
	assert_output --partial "bad.jsonl:1: not JSON"
}

@test "a tool the report does not know is listed, not classified" {
	jq -c 'if .tool == "anon-hash" then .tool = "anon-future" else . end' "$R/demo.jsonl" > "$BATS_TEST_TMPDIR/u.jsonl"
	run -0 bash -c "anon-report --format json '$BATS_TEST_TMPDIR/u.jsonl' | jq -r '.flags[].code, (.lineage[] | select(.column == \"email\") | .treatment)'"
	assert_line "unknown-tool"
	assert_line "unclassified"
}

@test "a verdict document is read beside the records" {
	export ANON_KEY_FILE=$(test_key) ANON_AUDIT="$BATS_TEST_TMPDIR/a.jsonl" ANON_RUN_ID=verdicts
	run -1 anon-validate --verdict "$BATS_TEST_TMPDIR/v.json" --k-anon age:2 "$TOP/demo/sample.csv"
	jq -c 'del(.verdict)' "$ANON_AUDIT" > "$BATS_TEST_TMPDIR/b.jsonl"
	run -1 --separate-stderr anon-report "$BATS_TEST_TMPDIR/b.jsonl" "$BATS_TEST_TMPDIR/v.json"
	assert_output --partial "| k-anonymity | — | **FAIL** |"
}
