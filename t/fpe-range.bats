#!/usr/bin/env bats
# anon-fpe range:LO..HI on small ranges, which are tabulated when the run starts: time per
# value stays bounded, values round-trip with -D, every output lies in the range and the
# mapping is a permutation, on both sides of the threshold; the ciphertexts are the
# cycle-walk's of before the tables; --tweak-column (never tabulated) warns; --jobs agrees.

load helper

setup() {
	KEY=$(test_key)
	export ANON_KEY_FILE=$KEY
}

# fpe_csv ARGS...: anon-fpe over headerless CSV.
fpe_csv() {
	anon-fpe -f csv --no-header "$@"
}

@test "range:1..5 on 100000 rows finishes in bounded time and decrypts back with -D" {
	# Cycle-walking alone costs 2*10^5 cipher calls a value here: hours for these rows.
	seq 1 100000 | awk '{ print $1 % 5 + 1 }' > "$BATS_TEST_TMPDIR/in"
	run -0 timeout 60 bash -c "anon-fpe -f csv --no-header -c 1=range:1..5 '$BATS_TEST_TMPDIR/in' > '$BATS_TEST_TMPDIR/enc'"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/enc")" -eq 100000 ]
	run -0 timeout 60 bash -c "anon-fpe -D -f csv --no-header -c 1=range:1..5 '$BATS_TEST_TMPDIR/enc' | cmp - '$BATS_TEST_TMPDIR/in'"
}

@test "range:1..5 on many rows: every output is in the range and the mapping is a permutation" {
	seq 1 20000 | awk '{ print ($1 * 7) % 5 + 1 }' > "$BATS_TEST_TMPDIR/in"
	fpe_csv -c 1=range:1..5 "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/enc"
	# every output is an integer of 1..5
	[ "$(wc -l < "$BATS_TEST_TMPDIR/enc")" -eq 20000 ]
	run -1 grep -vx '[1-5]' "$BATS_TEST_TMPDIR/enc"
	# a function (each input always gives the same output) ...
	run -0 bash -c "paste -d' ' '$BATS_TEST_TMPDIR/in' '$BATS_TEST_TMPDIR/enc' | sort -u | wc -l"
	[ "$output" -eq 5 ]
	# ... that is one to one, over the whole range
	run -0 bash -c "paste -d' ' '$BATS_TEST_TMPDIR/in' '$BATS_TEST_TMPDIR/enc' | sort -u | cut -d' ' -f2 | sort -n | tr '\n' ' '"
	[ "$output" = "1 2 3 4 5 " ]
	run -0 bash -c "seq 1 5 | anon-fpe -f csv --no-header -c 1=range:1..5 | cmp -s - <(seq 1 5) || echo shuffled"
	[ "$output" = shuffled ]
}

@test "small ranges are permutations that decrypt back, both algorithms, both sides of the 62500-value threshold" {
	for algo in ff1 ff3-1; do
		for spec in 1..5 -3..3 0..1 -50..49 1..1000 1..62499 1..62500; do
			lo=${spec%..*} hi=${spec#*..}
			seq -- "$lo" "$hi" > "$BATS_TEST_TMPDIR/ids"
			fpe_csv --algo "$algo" -c "1=range:$spec" "$BATS_TEST_TMPDIR/ids" > "$BATS_TEST_TMPDIR/enc" ||
				{ echo "$algo $spec: encrypt failed"; return 1; }
			sort -n "$BATS_TEST_TMPDIR/enc" | cmp -s - "$BATS_TEST_TMPDIR/ids" ||
				{ echo "$algo $spec: not a permutation of the range"; return 1; }
			fpe_csv --algo "$algo" -D -c "1=range:$spec" "$BATS_TEST_TMPDIR/enc" | cmp -s - "$BATS_TEST_TMPDIR/ids" ||
				{ echo "$algo $spec: does not decrypt back"; return 1; }
		done
	done
}

@test "tabulated ranges give the ciphertexts cycle-walking gave before the tables" {
	# from anon-fpe before small ranges were tabulated, with test_key (derived key)
	run -0 bash -c "seq 1 5 | anon-fpe -f csv --no-header -c 1=range:1..5 | tr '\n' ' '"
	[ "$output" = "5 2 1 4 3 " ]
	run -0 bash -c "seq -3 3 | anon-fpe -f csv --no-header -c 1=range:-3..3 | tr '\n' ' '"
	[ "$output" = "1 2 -3 0 -1 3 -2 " ]
	run -0 bash -c "seq 1 5 | anon-fpe --algo ff3-1 -f csv --no-header -c 1=range:1..5 | tr '\n' ' '"
	[ "$output" = "2 3 1 5 4 " ]
	run -0 bash -c "seq -3 3 | anon-fpe --algo ff3-1 -f csv --no-header -c 1=range:-3..3 | tr '\n' ' '"
	[ "$output" = "-2 -1 -3 3 2 0 1 " ]
	run -0 bash -c "seq 1 5 | anon-fpe --tweak 0a0b0c -f csv --no-header -c 1=range:1..5 | tr '\n' ' '"
	[ "$output" = "1 3 5 4 2 " ]
	run -0 bash -c "seq 1 20 | anon-fpe -f csv --no-header -c 1=range:1..62499 | tr '\n' ' '"
	[ "$output" = "45995 59465 41860 30131 26492 17274 27250 16454 40302 24793 30251 38955 26887 23742 10022 8270 32640 25625 40132 35880 " ]
	run -0 bash -c "seq 1 20 | anon-fpe -D -f csv --no-header -c 1=range:1..62499 | tr '\n' ' '"
	[ "$output" = "50677 44750 1083 38445 28689 121 5694 1506 39841 40088 16795 34692 45722 13239 62382 54689 32045 34287 28566 50054 " ]
}

@test "a small range with --tweak-column is walked per value, with a warning that -q silences" {
	printf 'c,id\na,1\nb,2\nc,3\n' > "$BATS_TEST_TMPDIR/in.csv"
	run -0 --separate-stderr anon-fpe --tweak-column c -c id=range:1..5 "$BATS_TEST_TMPDIR/in.csv"
	[[ "$stderr" == *"column 'id': range: of 5 values with --tweak-column cycle-walks about 200000 cipher calls per value"* ]]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/enc.csv"
	run -0 bash -c "tail -n +2 '$BATS_TEST_TMPDIR/enc.csv' | cut -d, -f2 | grep -cx '[1-5]'"
	[ "$output" -eq 3 ]
	run -0 --separate-stderr anon-fpe -q -D --tweak-column c -c id=range:1..5 "$BATS_TEST_TMPDIR/enc.csv"
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/in.csv")" ]
	# a range of the walked size does not warn
	run -0 --separate-stderr anon-fpe --tweak-column c -c id=range:1..62500 "$BATS_TEST_TMPDIR/in.csv"
	[ -z "$stderr" ]
}

@test "--jobs 4 writes what --jobs 1 writes: range tables, --match and --tweak-column shared by the workers" {
	# enough rows for many chunks of input
	awk 'BEGIN { for (i = 1; i <= 200000; i++)
		printf "%d,%d,4%015d,cust%d\n", i, i % 5 + 1, i * 7919, i % 97 }' > "$BATS_TEST_TMPDIR/in.csv"
	# the range's tables; --match's per-worker match data; a tweak per row, hashed with each
	# worker's own SHA-256 context
	for opts in "-c 2=range:1..5" "-c 3 --match ^4(\d+)\d{4}\$" "-c 3 --tweak-column 4"; do
		read -r -a args <<< "$opts"
		fpe_csv --jobs 1 "${args[@]}" "$BATS_TEST_TMPDIR/in.csv" > "$BATS_TEST_TMPDIR/one" ||
			{ echo "$opts: --jobs 1 failed"; return 1; }
		fpe_csv --jobs 4 "${args[@]}" "$BATS_TEST_TMPDIR/in.csv" > "$BATS_TEST_TMPDIR/four" ||
			{ echo "$opts: --jobs 4 failed"; return 1; }
		cmp "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/four" ||
			{ echo "$opts: --jobs 4 differs"; return 1; }
		! cmp -s "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/in.csv" ||
			{ echo "$opts: nothing encrypted"; return 1; }
		fpe_csv --jobs 4 -D "${args[@]}" "$BATS_TEST_TMPDIR/four" | cmp - "$BATS_TEST_TMPDIR/in.csv" ||
			{ echo "$opts: does not decrypt back"; return 1; }
	done
}
