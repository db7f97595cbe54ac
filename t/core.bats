#!/usr/bin/env bats
# core.bats: what lib/ gives every tool (formats, identity, errors, keys, audit, pipes),
# exercised through anon-hash, the first tool built on it.

load helper

setup() {
	KEY=$(test_key)
	KEYHEX=$(cat "$KEY")
}

# --- identity: nothing selected, every byte comes back ------------------------------------

@test "csv with BOM, CRLF, quoted newlines and no final newline passes unchanged" {
	run -0 bash -c "anon-hash < '$DATA/csv-basic.in' | cmp - '$DATA/csv-basic.in'"
}

@test "tsv passes unchanged" {
	run -0 bash -c "anon-hash -f tsv < '$DATA/tsv-basic.in' | cmp - '$DATA/tsv-basic.in'"
}

@test "copy passes unchanged, control bytes included" {
	run -0 bash -c "anon-hash -f copy < '$DATA/copy-basic.in' | cmp - '$DATA/copy-basic.in'"
}

@test "pgdump passes unchanged, SQL around the blocks included" {
	run -0 bash -c "anon-hash -f pgdump < '$DATA/pgdump-basic.in' | cmp - '$DATA/pgdump-basic.in'"
}

@test "a pipeline of tools that select nothing is the identity" {
	run -0 bash -c "anon-hash < '$DATA/csv-basic.in' | anon-hash | anon-hash | cmp - '$DATA/csv-basic.in'"
}

@test "an empty input gives an empty output; a column name cannot be checked against it" {
	run -0 bash -c "anon-hash < /dev/null | wc -c"
	assert_output 0
	run --separate-stderr -64 anon-hash -c email --key-file "$KEY" < /dev/null
	[[ "$stderr" == *"column 'email' not found: the input is empty"* ]]
}

# --- transformed rows: only the selected cells change -------------------------------------

@test "csv: hashing one column leaves the other bytes, quoting and CRLF alone" {
	run -0 bash -c "anon-hash -c email --key-file '$KEY' < '$DATA/csv-basic.in' | cmp - '$DATA/csv-basic.hash-email.out'"
}

@test "csv: NULL stays NULL and an empty string stays \"\"" {
	run -0 bash -c "anon-hash -c email --key-file '$KEY' < '$DATA/csv-basic.in' | sed -n 3p"
	assert_output $'2,,"",plain\r'
	run -0 bash -c "anon-hash -c email --key-file '$KEY' < '$DATA/csv-basic.in' | sed -n '\$p'"
	assert_output '5,"",x,"\."'
}

@test "tsv, copy and pgdump: hashed values match the expected files" {
	run -0 bash -c "anon-hash -f tsv -c email --key-file '$KEY' < '$DATA/tsv-basic.in' | cmp - '$DATA/tsv-basic.hash-email.out'"
	run -0 bash -c "anon-hash -f copy --schema id,email,tags,notes -c email -c 4 --key-file '$KEY' < '$DATA/copy-basic.in' | cmp - '$DATA/copy-basic.hash.out'"
	run -0 bash -c "anon-hash -f pgdump -c users.email -c 'public.\"Weird Name\".\"first name\"' --key-file '$KEY' < '$DATA/pgdump-basic.in' | cmp - '$DATA/pgdump-basic.hash.out'"
}

@test "the hash of a decoded COPY value equals an independent HMAC of its text" {
	want=$(python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash hash-hmac-sha256 "" sha256 $'a\tb\\c\nd')
	run -0 bash -c "anon-hash -f copy -c 4 --key-file '$KEY' < '$DATA/copy-basic.in' | head -n1 | cut -f4"
	assert_output "$want"
}

@test "a value that needs quoting after the change is quoted" {
	printf 'a,b\n1,x\n' > "$BATS_TEST_TMPDIR/in.csv"
	# base64url never needs quoting, but an email domain with a comma would: check the writer
	printf 'a,b\n1,"x@a,b"\n' > "$BATS_TEST_TMPDIR/in2.csv"
	run -0 anon-hash -c b=email --key-file "$KEY" "$BATS_TEST_TMPDIR/in2.csv"
	assert_line --index 1 --regexp '^1,"[0-9a-f]{64}@a,b"$'
}

@test "a field of 1 MiB goes through" {
	python3 -c 'import sys; sys.stdout.write("id,big\n1,\"" + "x,"*524288 + "\"\n2,small\n")' > "$BATS_TEST_TMPDIR/big.csv"
	run -0 bash -c "anon-hash < '$BATS_TEST_TMPDIR/big.csv' | cmp - '$BATS_TEST_TMPDIR/big.csv'"
	run -0 bash -c "anon-hash -c big --key-file '$KEY' < '$BATS_TEST_TMPDIR/big.csv' | wc -l"
	assert_output 3
}

@test "columns by name, by number, and copy with --schema" {
	a=$(anon-hash -c email --key-file "$KEY" < "$DATA/tsv-basic.in" -f tsv)
	b=$(anon-hash -c 2 --key-file "$KEY" < "$DATA/tsv-basic.in" -f tsv)
	[ "$a" = "$b" ]
	run -0 anon-hash -f copy -c 2 --key-file "$KEY" "$DATA/copy-basic.in"
	run -64 anon-hash -f copy -c email --key-file "$KEY" "$DATA/copy-basic.in"
	assert_output --partial "--schema"
}

@test "--schema names are SQL identifiers; an empty one or an open quote is exit 64" {
	printf '1\ta@b.c\tx\n' > "$BATS_TEST_TMPDIR/in.copy"
	run -0 anon-mask -f copy --schema 'id,"E, ""mail""",x' -c 'E, "mail"=null' "$BATS_TEST_TMPDIR/in.copy"
	assert_output "$(printf '1\t\\N\tx')"
	run -0 anon-mask -f copy --schema 'id,"E, ""mail""",x' -c 2=label "$BATS_TEST_TMPDIR/in.copy"
	assert_output "$(printf '1\t<E, "MAIL">\tx')"
	# an empty name would shift every later name onto the wrong column
	run -64 anon-mask -f copy --schema 'id,,email' -c email=null "$BATS_TEST_TMPDIR/in.copy"
	assert_output --partial "--schema: name 2 is empty"
	refute_output --partial "a@b.c"
	run -64 anon-mask -f copy --schema 'id,email,' -c email=null "$BATS_TEST_TMPDIR/in.copy"
	assert_output --partial "--schema: name 3 is empty"
	run -64 anon-mask -f copy --schema 'id,"email,x' -c email=null "$BATS_TEST_TMPDIR/in.copy"
	assert_output --partial "quote is not closed"
	run -64 anon-mask -f copy --schema 'id,"e"mail,x' -c email=null "$BATS_TEST_TMPDIR/in.copy"
	assert_output --partial "--schema: name 2 is followed by more than a comma"
}

@test "the same value hashes the same in every column; --domain separates" {
	printf 'a,b\nv,v\n' > "$BATS_TEST_TMPDIR/in.csv"
	run -0 anon-hash -c a -c b --key-file "$KEY" "$BATS_TEST_TMPDIR/in.csv"
	IFS=, read -r x y <<<"${lines[1]}"
	[ "$x" = "$y" ]
	run -0 anon-hash -c a --domain crm --key-file "$KEY" "$BATS_TEST_TMPDIR/in.csv"
	IFS=, read -r z _ <<<"${lines[1]}"
	[ "$z" != "$x" ]
	[ "$z" = "$(python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash hash-hmac-sha256 crm sha256 v)" ]
}

# --- bad input ----------------------------------------------------------------------------

@test "unterminated quote: exit 65, line and column named, value never shown" {
	printf 'id,email\n1,ok@x.org\n2,"secret@leak.org\n' > "$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr -65 anon-hash -c email --key-file "$KEY" "$BATS_TEST_TMPDIR/bad.csv"
	[ "$stderr" = "anon-hash: $BATS_TEST_TMPDIR/bad.csv:3:2 (email): unterminated quoted field" ]
	[[ "$stderr" != *secret* ]]
	# the complete row before the error was written, then the rollback line
	assert_line --index 0 'id,email'
	assert_line --index 1 --regexp '^1,[0-9a-f]{64}$'
	assert_line --index 2 '"\.anon: anon-hash failed (exit 65): this output is incomplete; do not load it'
	[ "${#lines[@]}" -eq 3 ]
}

@test "a row with the wrong number of fields is exit 65 (stdin is -)" {
	run --separate-stderr -65 bash -c "printf 'a,b\n1,2\n3,4,topsecret\n' | anon-hash"
	[ "$stderr" = "anon-hash: -:3:3: row has 3 fields, expected 2" ]
	run --separate-stderr -65 bash -c "printf 'a,b\n1\n' | anon-hash"
	[ "$stderr" = "anon-hash: -:2:2 (b): row has 1 field, expected 2" ]
}

@test "text after a closing quote is an error; a quote inside a field is one with --csv-strict" {
	run --separate-stderr -65 bash -c "printf 'a,b\n\"x\"y,2\n' | anon-hash"
	[[ "$stderr" == *"-:2:1 (a): text after closing quote" ]]
	run --separate-stderr -65 bash -c "printf 'a,b\n1,x\"y\n' | anon-hash --csv-strict"
	[[ "$stderr" == *"-:2:2 (b): quote inside unquoted field" ]]
}

@test "an error in a multi-line row names the line where the field starts" {
	printf 'a,b,c\n"x\ny\nz",1\n' > "$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr -65 anon-hash "$BATS_TEST_TMPDIR/bad.csv"
	[[ "$stderr" == *"bad.csv:2:3 (c): row has 2 fields, expected 3" ]]
}

@test "--on-error skip drops bad rows into --rejects; keep never writes a row it cannot split" {
	printf 'a,b\n1,2\n3,4,5\n6,"7\n' > "$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr -0 anon-hash --on-error skip --rejects "$BATS_TEST_TMPDIR/rej.csv" "$BATS_TEST_TMPDIR/bad.csv"
	[ "$output" = $'a,b\n1,2' ]
	[ "$(cat "$BATS_TEST_TMPDIR/rej.csv")" = $'a,b\n3,4,5\n6,"7' ]
	[[ "$stderr" == *"2 rows rejected"* ]]
	run --separate-stderr -0 anon-hash --on-error keep --rejects "$BATS_TEST_TMPDIR/rej2.csv" "$BATS_TEST_TMPDIR/bad.csv"
	[ "$output" = $'a,b\n1,2' ]
	[ "$(cat "$BATS_TEST_TMPDIR/rej2.csv")" = $'a,b\n3,4,5\n6,"7' ]
}

@test "a rule that cannot handle a value is a data error naming the column" {
	run --separate-stderr -65 bash -c "printf 'a\nabc\n' | anon-hash -c a=digits --key-file '$KEY'"
	[ "$stderr" = "anon-hash: -:2:1 (a): digits rule: the value has no digits" ]
}

@test "pgdump: end of input inside a COPY block is a data error" {
	run --separate-stderr -65 bash -c "printf 'COPY t (a) FROM stdin;\n1\n' | anon-hash -f pgdump"
	[[ "$stderr" == *"end of input inside COPY data"* ]]
}

# --- usage, keys, files -------------------------------------------------------------------

@test "an unknown column is exit 64 before any row is written: only the rollback line" {
	run --separate-stderr -64 anon-hash -c nope --key-file "$KEY" "$DATA/csv-basic.in"
	[ "$output" = "$(printf '\357\273\277"\\.anon: anon-hash failed (exit 64): this output is incomplete; do not load it')" ]
	[[ "$stderr" == *"column 'nope' not found"* ]]
}

@test "pgdump: a column in no COPY block is exit 64" {
	run -64 anon-hash -f pgdump -c users.nope --key-file "$KEY" "$DATA/pgdump-basic.in"
}

@test "an unknown option is exit 64 with the usage" {
	run --separate-stderr -64 anon-hash --bogus
	[[ "$stderr" == *"usage: anon-hash"* ]]
}

@test "--help and --version exit 0" {
	run -0 anon-hash --help
	assert_line --partial "usage: anon-hash"
	run -0 anon-hash --version
	assert_output "anon-hash 0.1.0"
}

@test "a missing input file is exit 66" {
	run -66 anon-hash "$BATS_TEST_TMPDIR/none.csv"
}

@test "no key is exit 78; a short or malformed key is exit 78" {
	run --separate-stderr -78 anon-hash -c email "$DATA/csv-basic.in"
	[[ "$stderr" == *"no key"* ]]
	printf 'abc' > "$BATS_TEST_TMPDIR/short.key"
	run -78 anon-hash -c email --key-file "$BATS_TEST_TMPDIR/short.key" "$DATA/csv-basic.in"
	run -78 anon-hash -c email --key-file "$BATS_TEST_TMPDIR/missing.key" "$DATA/csv-basic.in"
}

@test "keys: raw 32 bytes, hex file, ANON_KEY and ANON_KEY_FILE agree" {
	python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('$KEYHEX'))" > "$BATS_TEST_TMPDIR/raw.key"
	chmod 600 "$BATS_TEST_TMPDIR/raw.key"
	a=$(anon-hash -c email --key-file "$KEY" "$DATA/csv-basic.in")
	b=$(anon-hash -c email --key-file "$BATS_TEST_TMPDIR/raw.key" "$DATA/csv-basic.in")
	c=$(ANON_KEY=$KEYHEX anon-hash -c email "$DATA/csv-basic.in")
	d=$(ANON_KEY_FILE=$KEY anon-hash -c email "$DATA/csv-basic.in")
	[ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$a" = "$d" ]
}

@test "a key file readable by others draws a warning" {
	cp "$KEY" "$BATS_TEST_TMPDIR/open.key"
	chmod 644 "$BATS_TEST_TMPDIR/open.key"
	run --separate-stderr -0 anon-hash -c email --key-file "$BATS_TEST_TMPDIR/open.key" "$DATA/csv-basic.in"
	[[ "$stderr" == *"readable by group or others"* ]]
}

# --- output discipline --------------------------------------------------------------------

@test "a full disk is exit 74 with a message" {
	run --separate-stderr -74 bash -c "anon-hash < '$DATA/csv-basic.in' > /dev/full"
	[[ "$stderr" == *"No space left on device"* ]]
}

@test "a closed pipe ends quietly: SIGPIPE, no message" {
	big="$BATS_TEST_TMPDIR/big.csv"
	python3 -c 'import sys; sys.stdout.write("a,b\n" + "1,2\n"*400000)' > "$big"
	run -0 bash -c "anon-hash < '$big' 2>'$BATS_TEST_TMPDIR/err' | head -n1; echo \"\${PIPESTATUS[*]}\""
	assert_line --index 1 "141 0"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	run -0 bash -c "trap '' PIPE; anon-hash < '$big' 2>'$BATS_TEST_TMPDIR/err2' | head -n1"
	[ ! -s "$BATS_TEST_TMPDIR/err2" ]
}

# --- audit --------------------------------------------------------------------------------

@test "the audit record has the contract's fields and no data value" {
	audit="$BATS_TEST_TMPDIR/audit.jsonl"
	run -0 bash -c "anon-hash -c email=email --key-file '$KEY' --audit '$audit' < '$DATA/csv-basic.in' >/dev/null"
	run -0 python3 - "$audit" "$KEYHEX" <<-'EOF'
	import json, sys, subprocess
	lines = open(sys.argv[1]).read().splitlines()
	assert len(lines) == 1, lines
	r = json.loads(lines[0])
	for k in ("tool version time run_id format columns key_fingerprint rows_in rows_out "
	          "rows_rejected nulls bytes_in bytes_out seconds").split():
	    assert k in r, k
	assert r["tool"] == "anon-hash" and r["format"] == "csv"
	assert r["rows_in"] == 5 and r["rows_out"] == 5 and r["rows_rejected"] == 0
	assert r["nulls"] == 1, r["nulls"]
	assert r["columns"][0]["name"] == "email" and r["columns"][0]["rule"] == "email"
	fp = subprocess.check_output(["python3", "t/oracle.py", "fingerprint", sys.argv[2]], text=True).strip()
	assert r["key_fingerprint"] == fp
	text = lines[0]
	for secret in ("alice", "example.com", "carol", sys.argv[2]):
	    assert secret not in text, secret
	EOF
}

@test "the audit record says where each -c went: table, column number, a header that is a name" {
	audit="$BATS_TEST_TMPDIR/audit.jsonl"
	run -0 bash -c "anon-hash -c 2 --key-file '$KEY' --audit '$audit' < '$DATA/csv-basic.in' >/dev/null"
	run -0 jq -c '.columns[0].resolved' "$audit"
	assert_output '[{"header":"email","number":2,"table":null}]'
	rm "$audit"
	# a header that reads as data (an address) is not copied into the record
	run -0 bash -c "printf 'id,zoe@example.com\n1,x\n' | anon-hash -c 2 --key-file '$KEY' --audit '$audit' >/dev/null"
	run -0 jq -c '.columns[0].resolved' "$audit"
	assert_output '[{"header":null,"number":2,"table":null}]'
	rm "$audit"
	run -0 bash -c "anon-hash -f pgdump -c email -c 'first name' --key-file '$KEY' --audit '$audit' < '$DATA/pgdump-basic.in' >/dev/null"
	run -0 jq -c '.columns[] | [.name, .resolved]' "$audit"
	assert_line -n 0 '["email",[{"header":"email","number":2,"table":"public.users"}]]'
	assert_line -n 1 '["first name",[{"header":"first name","number":1,"table":"public.Weird Name"}]]'
}

@test "every stage of a pipeline appends to one audit file under one run id" {
	audit="$BATS_TEST_TMPDIR/audit.jsonl"
	export ANON_RUN_ID=run-42 ANON_AUDIT="$audit"
	run -0 bash -c "anon-hash -c email --key-file '$KEY' < '$DATA/csv-basic.in' | anon-hash -c name --key-file '$KEY' > /dev/null"
	[ "$(wc -l < "$audit")" -eq 2 ]
	[ "$(grep -c '"run_id":"run-42"' "$audit")" -eq 2 ]
}

@test "a failed run still writes its audit record, with its exit code" {
	audit="$BATS_TEST_TMPDIR/audit.jsonl"
	run -65 bash -c "printf 'a,b\n1,2,3\n' | anon-hash --audit '$audit'"
	grep -q '"exit_code":65' "$audit"
	grep -q '"status":"error"' "$audit"
}

@test "--progress reports rows on stderr" {
	run --separate-stderr -0 anon-hash --progress "$DATA/csv-basic.in"
	[[ "$stderr" == *"5 rows"* ]]
}

@test "pgdump: COPY lines inside strings and comments are not data blocks" {
	# E'...' with \', '' doubling, and a multi-line string holding a COPY line
	run -0 anon-hash -f pgdump -c t.a --key-file "$KEY" "$DATA/pgdump-quoting.in"
	assert_line --index 2 --regexp '^[0-9a-f]{64}$'
	assert_line --index 5 'COPY u (a) FROM stdin;'
	assert_line --index 6 "';"
	run -64 anon-hash -f pgdump -c u.a --key-file "$KEY" "$DATA/pgdump-quoting.in"
}

@test "csv dialects: -d ';', --quote, and --no-header with --schema" {
	printf 'a;b\n1;"x;y"\n2;plain\n' > "$BATS_TEST_TMPDIR/semi.csv"
	run -0 bash -c "anon-hash -d ';' < '$BATS_TEST_TMPDIR/semi.csv' | cmp - '$BATS_TEST_TMPDIR/semi.csv'"
	run -0 anon-hash -d ';' -c b --key-file "$KEY" "$BATS_TEST_TMPDIR/semi.csv"
	[ "${lines[1]}" = "1;$(python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash hash-hmac-sha256 "" sha256 'x;y')" ]
	printf "1,'a,b'\n" > "$BATS_TEST_TMPDIR/q.csv"
	run -0 anon-hash --no-header --schema id,v --quote "'" -c v --key-file "$KEY" "$BATS_TEST_TMPDIR/q.csv"
	[ "${lines[0]}" = "1,$(python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash hash-hmac-sha256 "" sha256 'a,b')" ]
	run -64 anon-hash --schema id,v "$BATS_TEST_TMPDIR/q.csv"
}

@test "random bytes in any format end in exit 0 or 65, never a crash" {
	python3 - "$BATS_TEST_TMPDIR" <<-'EOF'
	import random, sys
	random.seed(7)
	alphabet = b'ab,"\t\n\r\\N.;x\xc3\xa9\xff' + b'COPY t (a) FROM stdin;\n'
	for i in range(120):
	    n = random.randrange(0, 300)
	    data = bytes(random.choice(alphabet) for _ in range(n))
	    if i % 4 == 3:
	        data = b'COPY t (a, b) FROM stdin;\n' + data
	    open(f"{sys.argv[1]}/r{i}", "wb").write(data)
	EOF
	for f in "$BATS_TEST_TMPDIR"/r*; do
		for fmt in csv tsv copy pgdump; do
			rc=0
			anon-hash -q -f "$fmt" --on-error skip < "$f" > /dev/null 2>&1 || rc=$?
			# a bad header line stays fatal under skip: the columns would be unknown
			[ "$rc" -eq 0 ] || [ "$rc" -eq 65 ] || { echo "$fmt $f: exit $rc"; return 1; }
			rc=0
			anon-hash -f "$fmt" < "$f" > /dev/null 2>&1 || rc=$?
			[ "$rc" -eq 0 ] || [ "$rc" -eq 65 ] || { echo "$fmt $f: exit $rc"; return 1; }
		done
	done
}

@test "pgdump: INSERT statements of tables nothing selects draw one warning and pass through" {
	run --separate-stderr -0 bash -c "printf 'INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n' | anon-hash -f pgdump"
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "anon-hash: -:1: INSERT statements pass through unchanged (no column of their tables is selected)" ]
}

@test "csv: an unquoted \\. line ends the data, as COPY FROM STDIN reads it; it and what follows pass" {
	run --separate-stderr -0 bash -c "printf 'v\nx\n\\\\.\ny\n' | anon-hash -c v --key-file '$KEY'"
	assert_line --index 0 'v'
	assert_line --index 1 --regexp '^[0-9a-f]{64}$'
	assert_line --index 2 '\.'
	assert_line --index 3 'y'
}

@test "a header name that reads as the --null marker is still a name" {
	run --separate-stderr -0 bash -c "printf 'id\tNULL\n1\tx\n' | anon-hash -f copy --header --null NULL -c NULL --key-file '$KEY'"
	assert_line --index 0 $'id\tNULL'
	assert_line --index 1 --regexp $'^1\t[0-9a-f]{64}$'
}
