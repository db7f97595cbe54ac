#!/usr/bin/env bats
# pg.bats: round trips through a real PostgreSQL server of our own (COPY text, COPY csv,
# pg_dump), with the hashed column checked in SQL against pgcrypto's HMAC.
# bats file_tags=pg

load helper

setup_file() {
	pg_start
	sql <<-'EOF'
	CREATE EXTENSION pgcrypto;
	CREATE TABLE src (id int PRIMARY KEY, email text, note text, amount numeric(12,2),
	                  born date, tags text[], doc json, "Odd, ""name""" text);
	INSERT INTO src VALUES
	 (1, 'alice@example.com', E'tab\there', 12.50, '1980-01-02', '{a,b}', '{"k": "v"}', 'x'),
	 (2, NULL, '', NULL, NULL, NULL, NULL, NULL),
	 (3, '', E'back\\slash and \\N', -0.01, '2000-02-29', '{}', '[]', ''),
	 (4, 'zoë@exämple.org', E'line1\nline2\r\nend', 1e6, '1999-12-31', '{"x,y","q\"q"}', '{"a": [1, 2]}', '李'),
	 (5, E'weird\\.', E'\\.', 0, '2024-07-15', '{NULL}', 'null', E'\b\f\v\x07'),
	 (6, E'a\tb', '"quoted", with commas', 3.14, '1970-01-01', '{" "}', '"s"', 'end');
	CREATE TABLE dst (LIKE src);
	EOF
	export SUBKEY=$(python3 "$TOP/t/oracle.py" subkey "$(cat "$(test_key)")" anon-hash hash-hmac-sha256)
}

teardown_file() {
	pg_stop
}

setup() {
	KEY=$(test_key)
	sql -c "TRUNCATE dst"
}

# Every untouched column equal, and email equal to pgcrypto's HMAC under the subkey.
check_dst() {
	run -0 sql -tA -c "
	SELECT count(*) FROM src s JOIN dst d USING (id)
	WHERE s.note IS NOT DISTINCT FROM d.note AND s.amount IS NOT DISTINCT FROM d.amount
	  AND s.born IS NOT DISTINCT FROM d.born AND s.tags IS NOT DISTINCT FROM d.tags
	  AND s.doc::text IS NOT DISTINCT FROM d.doc::text
	  AND s.\"Odd, \"\"name\"\"\" IS NOT DISTINCT FROM d.\"Odd, \"\"name\"\"\"
	  AND (s.email IS NULL AND d.email IS NULL OR s.email = '' AND d.email = ''
	       OR d.email = encode(hmac(convert_to(s.email, 'UTF8'), decode('$SUBKEY', 'hex'), 'sha256'), 'hex'))"
	assert_output 6
}

@test "COPY text: TO STDOUT | anon-hash -f copy | FROM STDIN" {
	sql -c "COPY src TO STDOUT" |
		anon-hash -f copy --schema id,email,note,amount,born,tags,doc,odd -c email --key-file "$KEY" |
		sql -c "COPY dst FROM STDIN"
	check_dst
}

@test "COPY csv with a header: NULL and empty string survive" {
	sql -c "COPY src TO STDOUT (FORMAT csv, HEADER)" |
		anon-hash -f csv -c email --key-file "$KEY" |
		sql -c "COPY dst FROM STDIN (FORMAT csv, HEADER)"
	check_dst
	run -0 sql -tA -c "SELECT count(*) FROM dst WHERE email IS NULL"
	assert_output 1
	run -0 sql -tA -c "SELECT count(*) FROM dst WHERE email = ''"
	assert_output 1
}

@test "a pipeline that selects nothing gives PostgreSQL's bytes back" {
	sql -c "COPY src TO STDOUT" > "$BATS_TEST_TMPDIR/a.copy"
	run -0 bash -c "anon-hash -f copy < '$BATS_TEST_TMPDIR/a.copy' | cmp - '$BATS_TEST_TMPDIR/a.copy'"
	sql -c "COPY src TO STDOUT (FORMAT csv, HEADER)" > "$BATS_TEST_TMPDIR/a.csv"
	run -0 bash -c "anon-hash < '$BATS_TEST_TMPDIR/a.csv' | cmp - '$BATS_TEST_TMPDIR/a.csv'"
}

@test "pg_dump | anon-hash -f pgdump | psql restores, hashed as asked" {
	sql -c "DROP DATABASE IF EXISTS restored" -c "CREATE DATABASE restored"
	pg_dump --no-owner postgres |
		anon-hash -f pgdump -c public.src.email --key-file "$KEY" > "$BATS_TEST_TMPDIR/dump.sql"
	run -0 sql -d restored -f "$BATS_TEST_TMPDIR/dump.sql"
	# the restored copy of src has its email hashed and every other column intact
	sql -d restored -c "COPY src TO STDOUT" | sql -c "COPY dst FROM STDIN"
	check_dst
}
