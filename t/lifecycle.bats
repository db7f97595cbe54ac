#!/usr/bin/env bats
# The tool lifecycle of lib/anon.h, seen through t/tool/anon-lifecycle, which traces each hook.

load helper

setup() {
	[ -x "$LIFECYCLE" ] || skip "build the test tool first (make units)"
	T="$BATS_TEST_TMPDIR/trace"
	printf 'a,b\nx,y\nfoo,bar\n' > "$BATS_TEST_TMPDIR/in.csv"
}

# The hooks' names, one a line, in the order they were called.
hooks() {
	cut -d' ' -f1 "$T" | uniq
}

@test "hooks run in the documented order, each once per run, per worker, per table or per row" {
	run -0 "$LIFECYCLE" -c b --trace "$T" "$BATS_TEST_TMPDIR/in.csv"
	[ "$output" = $'a,b\nx,Y\nfoo,BAR' ]
	run -0 hooks
	[ "$output" = "$(printf '%s\n' option rule check start worker_init table chunk row commit worker_free finish)" ]
	run -0 grep -c '^row ' "$T"
	[ "$output" = 2 ]
	run -0 grep '^finish' "$T"
	[ "$output" = "finish rows_in=2 rows_out=2 rows=2 applied=2" ]
}

@test "row() sees every cell with its column name and the row's line" {
	run -0 "$LIFECYCLE" --trace "$T" "$BATS_TEST_TMPDIR/in.csv"
	run -0 grep '^row ' "$T"
	[ "$output" = $'row line=2 width=2 name0=a\nrow line=3 width=2 name0=a' ]
}

@test "--jobs 4: one worker state each, folded before finish; the same bytes as --jobs 1" {
	seq 1 50000 | awk 'BEGIN { print "n,w" } { printf "%d,word%d\n", $1, $1 }' > "$BATS_TEST_TMPDIR/big.csv"
	"$LIFECYCLE" -c w --trace "$T.1" "$BATS_TEST_TMPDIR/big.csv" > "$BATS_TEST_TMPDIR/out1"
	"$LIFECYCLE" -c w --trace "$T" --jobs 4 "$BATS_TEST_TMPDIR/big.csv" > "$BATS_TEST_TMPDIR/out4"
	cmp "$BATS_TEST_TMPDIR/out1" "$BATS_TEST_TMPDIR/out4"
	run -0 grep -c '^worker_init ' "$T"
	[ "$output" = 4 ]
	run -0 grep -c '^worker_free ' "$T"
	[ "$output" = 4 ]
	# each worker's state was made on the thread that used it (its own malloc arena)
	run -0 grep -c '^worker_free [0-9]* foreign=0$' "$T"
	[ "$output" = 4 ]
	run -0 tail -n 1 "$T"
	[ "$output" = "finish rows_in=50000 rows_out=50000 rows=50000 applied=50000" ]
	# every chunk is committed before its rows leave: as many commits as chunks
	[ "$(grep -c '^commit ' "$T")" = "$(grep -c '^chunk ' "$T")" ]
}

# The largest chunk the trace shows.
max_chunk() {
	grep '^chunk ' "$T" | cut -d= -f2 | sort -n | tail -n 1
}

@test "chunks hold 4096 rows unless the tool asks for more (anon_run_set_chunk); a pipe gives the same bytes" {
	seq 1 50000 | awk 'BEGIN { print "n,w" } { printf "%d,word%d\n", $1, $1 }' > "$BATS_TEST_TMPDIR/big.csv"
	"$LIFECYCLE" -c w --trace "$T" "$BATS_TEST_TMPDIR/big.csv" > "$BATS_TEST_TMPDIR/want"
	run -0 max_chunk
	[ "$output" = 4096 ]
	"$LIFECYCLE" -c w --chunk 65536,16777216 --trace "$T" "$BATS_TEST_TMPDIR/big.csv" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	run -0 grep -c '^chunk ' "$T"
	[ "$output" = 1 ]
	run -0 max_chunk
	[ "$output" = 50001 ] # the header line travels in the first chunk
	"$LIFECYCLE" -c w --chunk 20000,16777216 --jobs 2 --trace "$T" "$BATS_TEST_TMPDIR/big.csv" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	run -0 max_chunk
	[ "$output" = 20000 ]
	# asking for less than the defaults keeps them
	"$LIFECYCLE" -c w --chunk 10,10 --trace "$T" "$BATS_TEST_TMPDIR/big.csv" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	run -0 max_chunk
	[ "$output" = 4096 ]
	# a tool may change the rows from a hook (anon_run_set_chunk_rows): 4096 first, then 65536
	seq 1 200000 | awk 'BEGIN { print "n,w" } { printf "%d,word%d\n", $1, $1 }' > "$BATS_TEST_TMPDIR/big2.csv"
	"$LIFECYCLE" -c w "$BATS_TEST_TMPDIR/big2.csv" > "$BATS_TEST_TMPDIR/want2"
	"$LIFECYCLE" -c w --chunk 65536,16777216,4096 --trace "$T" "$BATS_TEST_TMPDIR/big2.csv" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/want2" "$BATS_TEST_TMPDIR/out"
	run -0 sh -c "grep '^chunk ' '$T' | head -n 1"
	[ "$output" = "chunk rows=4096" ]
	run -0 max_chunk
	[ "$output" = 65536 ]
	# large chunks are worth waiting for: from a pipe that pauses every 20000 rows, they fill
	slow() {
		head -n 1 "$BATS_TEST_TMPDIR/big2.csv"
		for i in 0 1 2 3 4 5 6 7 8 9; do
			sed -n "$((i * 20000 + 2)),$((i * 20000 + 20001))p" "$BATS_TEST_TMPDIR/big2.csv"
			sleep 0.1
		done
	}
	slow | "$LIFECYCLE" -c w --chunk 65536,16777216,4096 --trace "$T" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/want2" "$BATS_TEST_TMPDIR/out"
	run -0 max_chunk
	[ "$output" = 65536 ]
	# through a pipe a chunk holds what the pipe has ready (how much is timing: that 64 KiB
	# reads still fill a buffer is t/unit/lib_reader.c's test), never more than asked
	cat "$BATS_TEST_TMPDIR/big.csv" | "$LIFECYCLE" -c w --chunk 20000,16777216 --jobs 2 --trace "$T" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	run -0 max_chunk
	[ "$output" -le 20000 ]
	run -0 tail -n 1 "$T"
	[ "$output" = "finish rows_in=50000 rows_out=50000 rows=50000 applied=50000" ]
}

@test "output mode none writes nothing; pass writes the input as it was, apply() never called" {
	run --separate-stderr -0 "$LIFECYCLE" -c b --output none --trace "$T" "$BATS_TEST_TMPDIR/in.csv"
	[ -z "$output" ]
	run -0 grep -c '^row ' "$T"
	[ "$output" = 2 ]
	run --separate-stderr -0 "$LIFECYCLE" -c b --output pass --trace "$T" "$BATS_TEST_TMPDIR/in.csv"
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/in.csv")" ]
	run -0 tail -n 1 "$T"
	[ "$output" = "finish rows_in=2 rows_out=2 rows=2 applied=0" ]
}

@test "table() refusing a table stops the run at its COPY header, before any of its rows" {
	printf 'COPY public.a (x) FROM stdin;\nok\n\\.\nCOPY public.b (x) FROM stdin;\nsecret\n\\.\n' > "$BATS_TEST_TMPDIR/d.sql"
	run --separate-stderr -65 "$LIFECYCLE" -f pgdump --refuse-table public.b --trace "$T" "$BATS_TEST_TMPDIR/d.sql"
	[[ "$stderr" == *"table public.b is refused"* ]]
	[[ "$output" != *secret* ]]
	[[ "$output" != *"public.b"* ]]
	assert_line --index 2 '\.'
	assert_line --index 3 '\set ON_ERROR_STOP on'
	assert_line --partial --index 4 'DO $anon_abort$'
}

@test "row() refusing a row is a data error under --on-error" {
	run --separate-stderr -65 "$LIFECYCLE" --reject-row foo "$BATS_TEST_TMPDIR/in.csv"
	[[ "$stderr" == *":3:1 (a): row() refused this row" ]]
	run --separate-stderr -0 "$LIFECYCLE" --reject-row foo --on-error skip --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/in.csv"
	[ "$output" = $'a,b\nx,y' ]
	[ "$(cat "$BATS_TEST_TMPDIR/rej")" = $'a,b\nfoo,bar' ]
}

@test "a failing commit() releases none of its chunk's rows" {
	run --separate-stderr -75 "$LIFECYCLE" -c b --fail-commit 1 "$BATS_TEST_TMPDIR/in.csv"
	[[ "$stderr" == *"could not commit"* ]]
	[[ "$output" != *BAR* ]]
	[[ "$output" != *Y* ]]
}

@test "finish() returning 1 is exit 1, and the output ends with a rollback line" {
	run --separate-stderr -1 "$LIFECYCLE" -c b --fail-finish "$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 2 'foo,BAR'
	assert_line --index 3 '"\.anon: anon-lifecycle failed (exit 1): this output is incomplete; do not load it'
}

@test "apply() failing under --on-error keep and null: only that value is kept or nulled" {
	printf 'a,b,c\nx,bad,z\n' > "$BATS_TEST_TMPDIR/k.csv"
	run --separate-stderr -0 "$LIFECYCLE" -c b -c c --fail-value bad --on-error keep "$BATS_TEST_TMPDIR/k.csv"
	[ "$output" = $'a,b,c\nx,bad,Z' ]
	run --separate-stderr -0 "$LIFECYCLE" -c b -c c --fail-value bad --on-error null "$BATS_TEST_TMPDIR/k.csv"
	[ "$output" = $'a,b,c\nx,,Z' ]
}
