#!/usr/bin/env bats
# pgdata.bats: real PostgreSQL data as PostgreSQL writes it (COPY TO STDOUT in its variants,
# pg_dump of partitioned and awkward schemas) through the core, mostly with anon-hash, and
# each result loaded back into the server with psql --single-transaction -v ON_ERROR_STOP=1
# and checked in typed columns. A hashed value is checked against pgcrypto's HMAC under the
# subkey t/oracle.py derives (SQL function h below), never against anon's own output.
#
# Tests tagged pg need a PostgreSQL server of their own (pg_start); without one they skip and
# the others still run.

load helper

setup_file() {
	pg_bindir >/dev/null || return 0
	pg_start
	SUBKEY=$(python3 "$TOP/t/oracle.py" subkey "$(cat "$(test_key)")" anon-hash hash-hmac-sha256)
	export SUBKEY
	sql <<-EOF
	CREATE EXTENSION pgcrypto;
	-- h(v): the hex HMAC anon-hash gives v by default; hashed(s, d): d is what anon-hash
	-- makes of s (NULL stays NULL, empty stays empty)
	CREATE FUNCTION h(v text) RETURNS text LANGUAGE sql IMMUTABLE
	  AS \$\$ SELECT encode(hmac(convert_to(v, 'UTF8'), decode('$SUBKEY', 'hex'), 'sha256'), 'hex') \$\$;
	CREATE FUNCTION hashed(s text, d text) RETURNS bool LANGUAGE sql IMMUTABLE
	  AS \$\$ SELECT s IS NULL AND d IS NULL OR s = '' AND d = '' OR d = h(s) \$\$;
	EOF
	sql <<-'EOF'
	CREATE TABLE hdr (id int, email text, "Full Name" text, note text);
	INSERT INTO hdr VALUES (1, 'alice@example.com', 'Alice Martin', 'n1'),
	  (2, NULL, '', E'tab\there'), (3, '', 'Zoë Müller', E'back\\slash \\N'),
	  (4, 'zoë@exämple.org', NULL, NULL), (5, E'line\nbreak', E'\\.', 'end');
	-- column names COPY TO escapes in its header line
	CREATE TABLE hdr2 (id int, "a b" text, "x	y" text, "\N" text, "é" text, "back\slash" text,
	                   "x=y" text);
	INSERT INTO hdr2 VALUES (1, 'a', 'b', 'c', 'd', 'e', 'f'), (2, NULL, E'tab\tv', '', 'é', E'\\', 'z');
	CREATE TABLE nm (id int, email text, note text);
	INSERT INTO nm VALUES (1, 'a@example.com', 'n1'), (2, NULL, 'x'), (3, '', E'\\N'),
	  (4, 'b@example.org', NULL), (5, NULL, NULL), (6, 'c@example.net', '');
	-- the same with the string 'NULL' as a value (PostgreSQL quotes it in CSV)
	CREATE TABLE nmq (id int, email text, note text);
	INSERT INTO nmq SELECT * FROM nm;
	INSERT INTO nmq VALUES (7, 'NULL', 'NULL'), (8, 'NULL', NULL);
	CREATE TABLE eod (id int, email text);
	INSERT INTO eod VALUES (1, 'a@example.com'), (2, E'\\.'), (3, NULL), (4, 'b@example.org');
	CREATE TABLE eod1 (v text);
	INSERT INTO eod1 VALUES ('x'), (E'\\.'), ('y');
	CREATE TABLE quotes (id int, place text, height text, note text);
	CREATE TABLE xy (id int, "x=y" text, z text);
	INSERT INTO xy VALUES (1, 'a@example.com', 'q'), (2, NULL, ''), (3, 'x=y', 'z');
	CREATE TABLE pipes (id int, a text, b text);
	INSERT INTO pipes VALUES (1, 'x|y', '|'), (2, NULL, E'back\\slash|'), (3, '', E'a\\|b'),
	  (4, E'tab\t|', 'plain');
	CREATE TABLE bs (id int, a text);
	CREATE DATABASE part;
	CREATE DATABASE rj;
	CREATE DATABASE awk;
	EOF
	for t in hdr hdr2 nm nmq eod eod1 quotes xy pipes; do
		sql -c "CREATE TABLE ${t}_dst (LIKE $t)"
	done
	# events: by range of date, one range itself a list-partitioned table, and a table that
	# was made on its own and attached later; other is not part of it
	sql -d part <<-'EOF'
	CREATE TABLE events (id int, at date, email text) PARTITION BY RANGE (at);
	CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
	CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
	  PARTITION BY LIST (id);
	CREATE TABLE events_2024_odd PARTITION OF events_2024 FOR VALUES IN (1, 3, 5, 7);
	CREATE TABLE events_2024_rest PARTITION OF events_2024 DEFAULT;
	CREATE TABLE events_old (id int, at date, email text);
	ALTER TABLE events ATTACH PARTITION events_old FOR VALUES FROM (MINVALUE) TO ('2023-01-01');
	CREATE TABLE other (id int, email text);
	INSERT INTO events VALUES (1, '2022-05-01', 'old@example.com'), (2, '2023-02-01', 'a@example.com'),
	  (3, '2024-03-01', 'b@example.com'), (4, '2024-04-01', 'c@example.com'),
	  (5, '2024-05-01', NULL), (6, '2023-12-31', '');
	INSERT INTO other VALUES (1, 'keep@example.com');
	EOF
	# rejects: anon-hash -c X.phone=digits fails on a value without digits
	sql -d rj <<-'EOF'
	CREATE TABLE a (id int, phone text);
	CREATE TABLE b (id int, phone text, note text);
	CREATE TABLE c (id int, phone text);
	INSERT INTO a VALUES (1, '555-1234'), (2, 'none'), (3, NULL), (4, 'n/a'), (5, '12');
	INSERT INTO b VALUES (1, 'x', E'tab\tin'), (2, '+1 (415) 555', 'ok'), (3, '', E'back\\slash'),
	  (4, 'ask', E'line\nbreak');
	INSERT INTO c VALUES (1, '1'), (2, '2');
	EOF
	# quoted identifiers of every kind, arrays, json, bytea, emoji, infinity, no columns
	sql -d awk <<-'EOF'
	CREATE EXTENSION pgcrypto;
	CREATE SCHEMA "My Schema";
	CREATE TABLE "My Schema"."Odd.Table ""q""" (id int, "Mixed Case" text, "a.b" text,
	  "with ""quote""" text, arr text[], j json, jb jsonb, by bytea, ts timestamptz, d date, e text,
	  n int[]);
	INSERT INTO "My Schema"."Odd.Table ""q""" VALUES
	 (1, 'Alice@Example.com', 'x.y', 'q"q', '{"a,b","c\"d",NULL}', '{"k":"v\n"}',
	  '{"z":[1,2,{"é":null}]}', '\xdeadbeef00', 'infinity', 'infinity', '😀 emoji 👍🏽', '{{1,2},{3,4}}'),
	 (2, NULL, '', E'tab\there', '{}', 'null', '"s"', '\x', '-infinity', '-infinity', E'line\nbreak', NULL),
	 (3, 'b@x.org', NULL, '\N', '{NULL}', '[]', '{}', NULL, '2024-02-29 12:00:00+00', '2024-02-29',
	  E'\\.', '{}'),
	 (4, '李小龙', 'ø', '', '{"\\\\"}', '{"a":"\u00e9"}', '{"b": "\\\\"}', '\x00ff', 'epoch', 'epoch',
	  E'\b\f\v\x07', '{-1}');
	CREATE TABLE z ();
	INSERT INTO z DEFAULT VALUES;
	INSERT INTO z DEFAULT VALUES;
	CREATE TABLE "UPPER" ("ID" int, "E-mail" text);
	INSERT INTO "UPPER" VALUES (1, 'u@example.com'), (2, 'v@example.com');
	EOF
	# f(v): what anon-hash makes of v, in the source database (for the awkward schema tests)
	sql -d awk -c "CREATE FUNCTION f(v text) RETURNS text LANGUAGE sql IMMUTABLE AS \$\$
	  SELECT CASE WHEN v = '' THEN '' ELSE
	    encode(hmac(convert_to(v, 'UTF8'), decode('$SUBKEY', 'hex'), 'sha256'), 'hex') END \$\$"
}

teardown_file() {
	pg_stop
}

setup() {
	KEY=$(test_key)
	KEYHEX=$(cat "$KEY")
	T=$BATS_TEST_TMPDIR
	export ANON_KEY_FILE=$KEY
	if [ -n "${PG_DIR:-}" ]; then
		sql -c "TRUNCATE hdr_dst, hdr2_dst, nm_dst, nmq_dst, eod_dst, eod1_dst, quotes_dst, xy_dst, pipes_dst"
	fi
}

need_pg() {
	[ -n "${PG_DIR:-}" ] || skip "PostgreSQL server binaries not installed"
}

# psql as a load must be run: one transaction, stop at the first error.
load_psql() {
	psql -X -q --single-transaction -v ON_ERROR_STOP=1 "$@"
}

# The hex HMAC anon-hash gives a value by default, from the independent oracle.
hmac_of() {
	python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash hash-hmac-sha256 "" sha256 "$1"
}

fresh_db() {
	sql -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}

# --- COPY text with a header line (PostgreSQL 15) ------------------------------------------

# bats test_tags=pg
@test "COPY TO STDOUT WITH (HEADER): -f copy --header selects by name and passes the header through" {
	need_pg
	sql -c "COPY hdr TO STDOUT WITH (HEADER)" > "$T/in"
	anon-hash -f copy --header -c email -c '"Full Name"' < "$T/in" > "$T/out"
	assert_equal "$(head -n 1 "$T/out")" "$(head -n 1 "$T/in")"
	assert_equal "$(head -n 1 "$T/out")" $'id\temail\tFull Name\tnote'
	# HEADER MATCH: PostgreSQL checks the names of the header line against the table
	load_psql -c "COPY hdr_dst FROM STDIN WITH (HEADER MATCH)" < "$T/out"
	run -0 rows -c "SELECT count(*) FROM hdr s JOIN hdr_dst d USING (id)
	  WHERE hashed(s.email, d.email) AND hashed(s.\"Full Name\", d.\"Full Name\")
	    AND s.note IS NOT DISTINCT FROM d.note"
	assert_output 5
	run -0 rows -c "SELECT count(*) FROM hdr_dst WHERE email IS NULL OR \"Full Name\" IS NULL"
	assert_output 2
}

# bats test_tags=pg
@test "COPY header names that COPY TO escapes (a tab, a backslash, \\N) are selected by their names" {
	need_pg
	sql -c "COPY hdr2 TO STDOUT WITH (HEADER)" > "$T/in"
	assert_equal "$(head -n 1 "$T/in")" $'id\ta b\tx\\ty\t\\\\N\t\u00e9\tback\\\\slash\tx=y'
	local col
	for col in 'a b' $'x\ty' '\N' 'é' 'back\slash' '"x=y"'; do
		sql -c "TRUNCATE hdr2_dst"
		anon-hash -f copy --header -c "$col" < "$T/in" > "$T/out"
		cmp <(head -n 1 "$T/out") <(head -n 1 "$T/in")
		load_psql -c "COPY hdr2_dst FROM STDIN WITH (HEADER MATCH)" < "$T/out"
		local ident=${col//\"/}
		ident=\"${ident//\"/\"\"}\"
		run -0 rows -c "SELECT count(*) FROM hdr2 s JOIN hdr2_dst d USING (id) WHERE hashed(s.$ident, d.$ident)"
		assert_output 2
	done
}

# --- custom NULL markers -------------------------------------------------------------------

# bats test_tags=pg
@test "COPY text WITH (NULL 'NULL'): --null NULL keeps NULLs NULL, unhashed" {
	need_pg
	sql -c "COPY nm TO STDOUT WITH (NULL 'NULL')" > "$T/in"
	run -0 grep -c $'^2\tNULL\tx$' "$T/in"
	anon-hash -f copy --schema id,email,note --null NULL -c email -c note < "$T/in" > "$T/out"
	# the NULL rows come out as they went in
	run -0 grep -c $'^5\tNULL\tNULL$' "$T/out"
	load_psql -c "COPY nm_dst FROM STDIN WITH (NULL 'NULL')" < "$T/out"
	run -0 rows -c "SELECT count(*) FROM nm s JOIN nm_dst d USING (id)
	  WHERE hashed(s.email, d.email) AND hashed(s.note, d.note)"
	assert_output 6
	run -0 rows -c "SELECT count(*) FILTER (WHERE email IS NULL), count(*) FILTER (WHERE note IS NULL) FROM nm_dst"
	assert_output '2|2'
	# without --null the marker would have been hashed as a value: nothing NULL any more
	sql -c "TRUNCATE nm_dst"
	anon-hash -f copy --schema id,email,note -c email -c note < "$T/in" |
		load_psql -c "COPY nm_dst FROM STDIN WITH (NULL 'NULL')"
	run -0 rows -c "SELECT count(*) FROM nm_dst WHERE email IS NULL OR note IS NULL"
	assert_output 0
}

# bats test_tags=pg
@test "COPY csv WITH (NULL 'NULL'): NULLs stay NULL, the string 'NULL' (quoted) stays a value" {
	need_pg
	sql -c "COPY nmq TO STDOUT WITH (FORMAT csv, HEADER, NULL 'NULL')" > "$T/in"
	run -0 grep -c '^7,"NULL","NULL"$' "$T/in"
	run -0 grep -c '^5,NULL,NULL$' "$T/in"
	anon-hash --null NULL -c email -c note < "$T/in" > "$T/out"
	run -0 grep -c '^5,NULL,NULL$' "$T/out"
	load_psql -c "COPY nmq_dst FROM STDIN WITH (FORMAT csv, HEADER, NULL 'NULL')" < "$T/out"
	run -0 rows -c "SELECT count(*) FROM nmq s JOIN nmq_dst d USING (id)
	  WHERE hashed(s.email, d.email) AND hashed(s.note, d.note)"
	assert_output 8
	run -0 rows -c "SELECT (SELECT count(*) FILTER (WHERE email IS NULL) || '|' || count(*) FILTER (WHERE note IS NULL) FROM nmq),
	                       (SELECT count(*) FILTER (WHERE email IS NULL) || '|' || count(*) FILTER (WHERE note IS NULL) FROM nmq_dst)"
	assert_output '2|3|2|3'
	# the string 'NULL' was hashed like any other value
	run -0 rows -c "SELECT email = h('NULL') FROM nmq_dst WHERE id = 7"
	assert_output t
	# an empty string, unquoted under NULL 'NULL', stays an empty string
	run -0 rows -c "SELECT count(*) FROM nmq_dst WHERE email = '' OR note = ''"
	assert_output 2
}

# --- the end-of-data line \. ---------------------------------------------------------------

# bats test_tags=pg
@test "COPY text: the \\. line and whatever follows pass through unchanged, with or without -c" {
	need_pg
	{
		sql -c "COPY eod TO STDOUT"
		printf '%s\n' '\.' "INSERT INTO eod_dst VALUES (99, 'after@example.com');" $'bad\trow\twith\tfields\\'
	} > "$T/in"
	anon-hash -f copy --schema id,email < "$T/in" > "$T/pass"
	cmp "$T/pass" "$T/in"
	anon-hash -f copy --schema id,email -c email < "$T/in" > "$T/out"
	cmp <(sed -n '/^\\\.$/,$p' "$T/out") <(sed -n '/^\\\.$/,$p' "$T/in")
	cmp <(sed -n '/^\\\.$/,$p' "$T/out") <(sed -n '/^\\\.$/,$p' "$T/pass")
	run -0 sed -n '/^\\\.$/,$p' "$T/out"
	assert_line --index 1 "INSERT INTO eod_dst VALUES (99, 'after@example.com');"
	# as a psql script: the rows before \. are hashed, the statement after it runs as it was
	{ echo 'COPY eod_dst FROM stdin;'; sed '$d' "$T/out"; } > "$T/script.sql"
	load_psql -f "$T/script.sql"
	run -0 rows -c "SELECT count(*) FROM eod s JOIN eod_dst d USING (id) WHERE hashed(s.email, d.email)"
	assert_output 4
	run -0 rows -c "SELECT email FROM eod_dst WHERE id = 99"
	assert_output after@example.com
}

# bats test_tags=pg
@test "COPY text: the value \\. alone on its line (PostgreSQL writes \\\\.) is a row, not the end" {
	need_pg
	sql -c "COPY eod1 TO STDOUT" > "$T/in"
	run -0 grep -cxF '\\.' "$T/in"
	anon-hash -f copy --schema v -c v < "$T/in" > "$T/out"
	load_psql -c "COPY eod1_dst FROM STDIN" < "$T/out"
	run -0 rows -c "SELECT count(*) FROM eod1_dst d WHERE d.v IN (SELECT h(v) FROM eod1)"
	assert_output 3
}

# --- a quote inside an unquoted CSV field --------------------------------------------------

# Spreadsheet CSV (PostgreSQL would have quoted these fields).
write_quotes_csv() {
	printf '%s\n' 'id,place,height,note' \
		"1,37°36'37.8\"N 121°2'17.9\"W,5'11\",plain" \
		"2,\"quoted, \"\"x\"\"\",6'0\",x\"y" \
		"3,nowhere,\"6'2\"\"\",\"\"" > "$1"
}

# bats test_tags=pg
@test "CSV: a quote inside an unquoted field is taken literally and quoted when transformed" {
	need_pg
	write_quotes_csv "$T/in"
	# untouched: byte for byte, also when another column is transformed
	anon-hash < "$T/in" > "$T/pass"
	cmp "$T/pass" "$T/in"
	run -0 anon-hash -c id < "$T/in"
	assert_line --index 1 "$(hmac_of 1),37°36'37.8\"N 121°2'17.9\"W,5'11\",plain"
	assert_line --index 2 "$(hmac_of 2),\"quoted, \"\"x\"\"\",6'0\",x\"y"
	# transformed: a value that keeps its quote is quoted, the quote doubled; PostgreSQL loads
	# exactly the literal values
	anon-mask -c place=first:12 < "$T/in" | anon-hash -c height -c note > "$T/out"
	run -0 sed -n 2p "$T/out"
	assert_output --regexp '^1,"37°36'"'"'37\.8""N\*+",[0-9a-f]{64},[0-9a-f]{64}$'
	load_psql -c "COPY quotes_dst FROM STDIN (FORMAT csv, HEADER)" < "$T/out"
	run -0 rows -c "SELECT count(*) FROM quotes_dst"
	assert_output 3
	run -0 rows -c "SELECT place FROM quotes_dst WHERE id = 1"
	assert_output "37°36'37.8\"N*************"
	run -0 rows -c "SELECT count(*) FROM quotes_dst d JOIN (VALUES (1, '5''11\"', 'plain'),
	  (2, '6''0\"', 'x\"y'), (3, '6''2\"', '')) AS s (id, height, note) USING (id)
	  WHERE d.height = h(s.height) AND hashed(s.note, d.note)"
	assert_output 3
}

@test "CSV: --csv-strict refuses a quote inside an unquoted field (exit 65)" {
	write_quotes_csv "$T/in"
	run -65 --separate-stderr anon-hash --csv-strict -c id --key-file "$KEY" "$T/in"
	assert_equal "$stderr" "anon-hash: $T/in:2:2 (place): quote inside unquoted field"
	assert_output --partial '"\.anon: anon-hash failed (exit 65)'
	run -65 --separate-stderr anon-hash --csv-strict "$T/in"
}

# --- Excel's sep= line ---------------------------------------------------------------------

@test "CSV: Excel's sep=; first line passes through and sets the delimiter" {
	printf 'sep=;\r\nid;email;note\r\n1;a@example.com;"x;y"\r\n2;b@example.org;z\r\n' > "$T/in"
	anon-hash < "$T/in" > "$T/pass"
	cmp "$T/pass" "$T/in"
	anon-hash -c email < "$T/in" > "$T/out"
	printf 'sep=;\r\nid;email;note\r\n1;%s;"x;y"\r\n2;%s;z\r\n' \
		"$(hmac_of a@example.com)" "$(hmac_of b@example.org)" > "$T/expected"
	cmp "$T/out" "$T/expected"
	anon-hash -c 2 < "$T/in" > "$T/out2"
	cmp "$T/out2" "$T/expected"
	run -0 bash -c "printf 'sep=|\nid|note\n1|x,y\n' | anon-hash -c note"
	assert_output "$(printf 'sep=|\nid|note\n1|%s' "$(hmac_of x,y)")"
}

# --- column names holding '=' ----------------------------------------------------------------

# bats test_tags=pg
@test "a column named x=y: -c '\"x=y\"' in csv, tsv and copy --schema, loaded back" {
	need_pg
	sql -c 'COPY xy TO STDOUT (FORMAT csv, HEADER)' > "$T/in.csv"
	sql -c 'COPY xy TO STDOUT (HEADER)' > "$T/in.tsv"
	sql -c 'COPY xy TO STDOUT' > "$T/in.copy"
	anon-hash -c '"x=y"' < "$T/in.csv" | load_psql -c 'COPY xy_dst FROM STDIN (FORMAT csv, HEADER MATCH)'
	anon-hash -f tsv -c '"x=y"' < "$T/in.tsv" | load_psql -c 'COPY xy_dst FROM STDIN (HEADER MATCH)'
	anon-hash -f copy --schema 'id,x=y,z' -c '"x=y"' < "$T/in.copy" | load_psql -c 'COPY xy_dst FROM STDIN'
	run -0 rows -c 'SELECT count(*) FROM xy s JOIN xy_dst d USING (id) WHERE hashed(s."x=y", d."x=y") AND s.z = d.z'
	assert_output 9
	# with a rule after the quoted name
	run -0 anon-hash -c '"x=y"=email' < "$T/in.csv"
	assert_line --index 1 "1,$(hmac_of a@example.com)@example.com,q"
	# unquoted, x=y is column x with rule y
	run -64 --separate-stderr anon-hash -c x=y < "$T/in.csv"
	assert_equal "$stderr" "anon-hash: column 'x': unknown rule 'y' (hex, base64url, base32, int64, digits, uuid, email)"
}

# bats test_tags=pg
@test "pgdump: -c 'public.xy.\"x=y\"' hashes the column named x=y, and the dump restores" {
	need_pg
	pg_dump --no-owner -t xy postgres > "$T/dump.sql"
	run -0 grep -c '^COPY public.xy (id, "x=y", z) FROM stdin;$' "$T/dump.sql"
	anon-hash -f pgdump -c 'public.xy."x=y"' < "$T/dump.sql" > "$T/out.sql"
	fresh_db xyr
	load_psql -d xyr -f "$T/out.sql"
	sql -d xyr -c 'COPY xy TO STDOUT' | sql -c 'COPY xy_dst FROM STDIN'
	run -0 rows -c 'SELECT count(*) FROM xy s JOIN xy_dst d USING (id) WHERE hashed(s."x=y", d."x=y") AND s.z = d.z'
	assert_output 3
}

# --- COPY text with DELIMITER '|' ------------------------------------------------------------

# bats test_tags=pg
@test "COPY text with -d '|': values holding | (written \\|) pass and hash, and load back" {
	need_pg
	sql -c "COPY pipes TO STDOUT (DELIMITER '|')" > "$T/in"
	run -0 grep -cF '1|x\|y|\|' "$T/in"
	anon-hash -f copy -d '|' --schema id,a,b < "$T/in" > "$T/pass"
	cmp "$T/pass" "$T/in"
	anon-hash -f copy -d '|' --schema id,a,b -c a < "$T/in" > "$T/out"
	load_psql -c "COPY pipes_dst FROM STDIN (DELIMITER '|')" < "$T/out"
	run -0 rows -c "SELECT count(*) FROM pipes s JOIN pipes_dst d USING (id) WHERE hashed(s.a, d.a) AND s.b = d.b"
	assert_output 4
	run -0 rows -c "SELECT a = h('x|y') FROM pipes_dst WHERE id = 1"
	assert_output t
}

# --- a lone backslash at the end of a COPY text line -----------------------------------------

# bats test_tags=pg
@test "COPY text: a lone trailing backslash is exit 65, and PostgreSQL rejects the line too" {
	need_pg
	printf '1\tabc\\\n2\tdef\n' > "$T/in"
	run -65 --separate-stderr anon-hash -f copy --schema id,a -c a "$T/in"
	assert_equal "$stderr" "anon-hash: $T/in:1:2 (a): a backslash at the end of the line (PostgreSQL would take it for a line break inside the value; write that as \\n)"
	assert_output '\.anon: anon-hash failed (exit 65): this output is incomplete; do not load it'
	run -65 anon-hash -f copy --schema id,a "$T/in"
	run -1 --separate-stderr load_psql -c "COPY bs FROM STDIN" < "$T/in"
	assert_equal "$(rows -c 'SELECT count(*) FROM bs')" 0
	# PostgreSQL 15 reads backslash-newline as a newline inside the value, which runs the
	# line into the next: here one field too many
	assert_equal "$(printf '%s\n' "$stderr" | head -n 1)" 'ERROR:  extra data after last expected column'
	# on the last line PostgreSQL 15 would load 'abc' and a newline; anon refuses it all the same
	printf '1\tabc\\\n' > "$T/last"
	run -65 --separate-stderr anon-hash -f copy --schema id,a -c a "$T/last"
	assert_equal "$stderr" "anon-hash: $T/last:1:2 (a): a backslash at the end of the line (PostgreSQL would take it for a line break inside the value; write that as \\n)"
}

# --- partitioned tables ----------------------------------------------------------------------

# bats test_tags=pg
@test "pgdump: -c public.events.email (the partitioned parent) hashes every partition's rows" {
	need_pg
	pg_dump --no-owner part > "$T/dump.sql"
	# the dump holds no COPY of events itself, only of its partitions, attached to it
	run -1 grep -c '^COPY public.events ' "$T/dump.sql"
	assert_output 0
	run -0 grep -cE '^ALTER TABLE ONLY public.events(_2024)? ATTACH PARTITION' "$T/dump.sql"
	assert_output 5
	anon-hash -f pgdump -c public.events.email --audit "$T/audit.jsonl" < "$T/dump.sql" > "$T/out.sql"
	# the audit record names every partition the spec reached, and not the other table
	run -0 jq -r '.columns[0].resolved[] | "\(.table) \(.number) \(.header)"' "$T/audit.jsonl"
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" \
	    "public.events_2023 3 email public.events_2024_odd 3 email public.events_2024_rest 3 email public.events_old 3 email "
	fresh_db part_r
	load_psql -d part_r -f "$T/out.sql" > /dev/null
	# every partition, the sub-partitions of events_2024 included, holds hashed values only
	run -0 rows -d part_r -c "SELECT tableoid::regclass || ':' || id || ':' || coalesce(email, '(null)')
	                          FROM events ORDER BY id"
	assert_line --index 0 "events_old:1:$(hmac_of old@example.com)"
	assert_line --index 1 "events_2023:2:$(hmac_of a@example.com)"
	assert_line --index 2 "events_2024_odd:3:$(hmac_of b@example.com)"
	assert_line --index 3 "events_2024_rest:4:$(hmac_of c@example.com)"
	assert_line --index 4 "events_2024_odd:5:(null)"
	assert_line --index 5 "events_2023:6:"
	assert_equal "${#lines[@]}" 6
	run -0 rows -d part_r -c "SELECT email FROM other"
	assert_output keep@example.com
}

# bats test_tags=pg
@test "pgdump: a spec naming a mid-level partition hashes its partitions and no others" {
	need_pg
	pg_dump --no-owner part > "$T/dump.sql"
	anon-hash -f pgdump -c public.events_2024.email < "$T/dump.sql" > "$T/out.sql"
	fresh_db part_r
	load_psql -d part_r -f "$T/out.sql" > /dev/null
	run -0 rows -d part_r -c "SELECT id || ':' || coalesce(email, '(null)') FROM events ORDER BY id"
	assert_line --index 0 "1:old@example.com"
	assert_line --index 1 "2:a@example.com"
	assert_line --index 2 "3:$(hmac_of b@example.com)"
	assert_line --index 3 "4:$(hmac_of c@example.com)"
}

# bats test_tags=pg
@test "pgdump: -c public.events.nosuch is exit 64 at the first partition's COPY header" {
	need_pg
	pg_dump --no-owner part > "$T/dump.sql"
	local first
	first=$(grep -n '^COPY ' "$T/dump.sql" | head -n 1)
	assert_equal "${first#*:}" 'COPY public.events_2023 (id, at, email) FROM stdin;'
	run -64 --separate-stderr anon-hash -f pgdump -c public.events.nosuch --key-file "$KEY" "$T/dump.sql"
	assert_equal "$stderr" "anon-hash: $T/dump.sql:${first%%:*}: column 'public.events.nosuch': table public.events_2023 has no such column (it has 3)"
	# nothing of the first COPY block went out; the restore loads nothing
	printf '%s\n' "$output" > "$T/out.sql"
	run -1 grep -c '^COPY ' "$T/out.sql"
	assert_output 0
	fresh_db part_r
	run -3 load_psql -d part_r -f "$T/out.sql"
	run -0 rows -d part_r -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	assert_output 0
}

# --- pgdump --rejects: a loadable script -----------------------------------------------------

# bats test_tags=pg
@test "pgdump --on-error skip --rejects FILE: each table's rejects under its COPY statement, loadable" {
	need_pg
	pg_dump --no-owner rj > "$T/dump.sql"
	run -0 --separate-stderr anon-hash -f pgdump -c a.phone=digits -c b.phone=digits -c c.phone=digits \
		--on-error skip --rejects "$T/rejects.sql" "$T/dump.sql"
	printf '%s\n' "$output" > "$T/out.sql"
	assert_equal "$(printf '%s\n' "$stderr" | tail -n 1)" 'anon-hash: 4 rows rejected'
	run -0 grep -E '^(COPY|\\\.$)' "$T/rejects.sql"
	assert_output "$(printf '%s\n' 'COPY public.a (id, phone) FROM stdin;' '\.' \
		'COPY public.b (id, phone, note) FROM stdin;' '\.')"
	# the rejects load into a fresh database that has the schema
	fresh_db rj_rej
	pg_dump --no-owner --schema-only rj | load_psql -d rj_rej -f - > /dev/null
	load_psql -d rj_rej -f "$T/rejects.sql"
	run -0 rows -d rj_rej -c "SELECT (SELECT string_agg(id || ':' || phone, ',' ORDER BY id) FROM a),
	                                 (SELECT string_agg(id || ':' || phone || ':' || note, ',' ORDER BY id) FROM b),
	                                 (SELECT count(*) FROM c)"
	assert_output "$(printf '2:none,4:n/a|1:x:tab\tin,4:ask:line\nbreak|0')"
	# and the rest restores: together the two hold every row
	fresh_db rj_out
	load_psql -d rj_out -f "$T/out.sql" > /dev/null
	run -0 rows -d rj_out -c "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c)"
	assert_output '3|2|2'
}

# --- an awkward schema end to end -------------------------------------------------------------

# bats test_tags=pg
@test "awkward schema: a passthrough of the real pg_dump is byte-identical" {
	need_pg
	pg_dump --no-owner awk > "$T/dump.sql"
	run -0 grep -c '^COPY public.z  FROM stdin;$' "$T/dump.sql"
	run -0 grep -c '^COPY "My Schema"."Odd.Table ""q""" (id, "Mixed Case", "a.b", "with ""quote""", ' "$T/dump.sql"
	anon-hash -f pgdump < "$T/dump.sql" > "$T/out.sql"
	cmp "$T/out.sql" "$T/dump.sql"
	# a stage that selects a column of another table changes no byte of these
	anon-hash -f pgdump -c 'public."UPPER"."E-mail"' < "$T/dump.sql" > "$T/out2.sql"
	run -0 bash -c "diff '$T/dump.sql' '$T/out2.sql' | grep -c '^[<>]'"
	assert_output 4
}

# bats test_tags=pg
@test "awkward schema: hashing columns with quoted names restores cleanly, the rest intact" {
	need_pg
	pg_dump --no-owner awk > "$T/dump.sql"
	local tbl='"My Schema"."Odd.Table ""q"""'
	anon-hash -f pgdump -c "$tbl.\"Mixed Case\"" -c "$tbl.\"with \"\"quote\"\"\"" -c "$tbl.e" \
		-c 'public."UPPER"."E-mail"=email' < "$T/dump.sql" > "$T/out.sql"
	fresh_db awk_r
	load_psql -d awk_r -f "$T/out.sql" > /dev/null
	local keep="SELECT id, \"a.b\", arr, j, jb, by, ts, d, n FROM $tbl ORDER BY id"
	cmp <(sql -d awk -c "COPY ($keep) TO STDOUT") <(sql -d awk_r -c "COPY ($keep) TO STDOUT")
	local hashes="SELECT id, \"Mixed Case\", \"with \"\"quote\"\"\", e FROM $tbl ORDER BY id"
	local expect="SELECT id, f(\"Mixed Case\"), f(\"with \"\"quote\"\"\"), f(e) FROM $tbl ORDER BY id"
	cmp <(sql -d awk -c "COPY ($expect) TO STDOUT") <(sql -d awk_r -c "COPY ($hashes) TO STDOUT")
	run -0 rows -d awk_r -c "SELECT count(*) FROM z"
	assert_output 2
	run -0 rows -d awk_r -c 'SELECT string_agg("ID" || $$:$$ || "E-mail", $$,$$ ORDER BY "ID") FROM "UPPER"'
	assert_output "1:$(hmac_of u@example.com)@example.com,2:$(hmac_of v@example.com)@example.com"
	# the infinities, the emoji and the bytea came back as they were
	run -0 rows -d awk_r -c "SELECT ts, d, encode(by, 'hex') FROM $tbl WHERE id = 1"
	assert_output 'infinity|infinity|deadbeef00'
}

# bats test_tags=pg
@test "awkward schema: a table without columns (COPY public.z  FROM stdin;) cannot be selected" {
	need_pg
	pg_dump --no-owner awk > "$T/dump.sql"
	local line
	line=$(grep -n '^COPY public.z  FROM stdin;$' "$T/dump.sql")
	run -64 --separate-stderr anon-hash -f pgdump -c z.x --key-file "$KEY" "$T/dump.sql"
	assert_equal "$stderr" "anon-hash: $T/dump.sql:${line%%:*}: column 'z.x': table public.z has no such column (it has 0)"
}

# --- small ones ------------------------------------------------------------------------------

@test "ANON_FORMAT=bogus with -f csv works: -f wins" {
	run -0 bash -c "printf 'a,b\n1,2\n' | ANON_FORMAT=bogus anon-hash -f csv -c b"
	assert_output "$(printf 'a,b\n1,%s' "$(hmac_of 2)")"
	run -64 --separate-stderr bash -c "printf 'a,b\n1,2\n' | ANON_FORMAT=bogus anon-hash -c b"
	assert_equal "${stderr_lines[0]}" 'anon-hash: ANON_FORMAT: unknown format (csv, tsv, copy, pgdump)'
	assert_equal "$output" ""
}

@test "a one-column input: 'the input has 1 column' (singular)" {
	run -64 --separate-stderr bash -c "printf 'a\n1\n' | anon-hash -c nosuch"
	assert_equal "$stderr" "anon-hash: -:1: column 'nosuch' not found: the input has 1 column (names or numbers 1..1)"
	run -64 --separate-stderr bash -c "printf 'a,b\n1,2\n' | anon-hash -c nosuch"
	assert_equal "$stderr" "anon-hash: -:1: column 'nosuch' not found: the input has 2 columns (names or numbers 1..2)"
}

@test "an unknown -c on empty input (header mode) is exit 64" {
	local f
	for f in csv tsv; do
		run -64 --separate-stderr anon-hash -f "$f" -c nosuch < /dev/null
		assert_equal "$stderr" "anon-hash: column 'nosuch' not found: the input is empty (no header)"
	done
	run -64 --separate-stderr anon-hash -f copy --header -c nosuch < /dev/null
	assert_equal "$stderr" "anon-hash: column 'nosuch' not found: the input is empty (no header)"
	run -64 --separate-stderr anon-hash -c nosuch --audit "$T/audit.jsonl" < /dev/null
	run -0 jq -r '.exit_code' "$T/audit.jsonl"
	assert_output 64
}

@test "writing to /dev/full is exit 74, and the audit counts no row as written" {
	printf 'a,b\n1,2\n3,4\n' > "$T/in"
	run -74 --separate-stderr bash -c "anon-hash -c b --audit '$T/audit.jsonl' '$T/in' > /dev/full"
	assert_equal "$stderr" 'anon-hash: stdout: write: No space left on device'
	run -0 jq -c '{rows_in, rows_out, bytes_out, exit_code, status}' "$T/audit.jsonl"
	assert_output '{"rows_in":2,"rows_out":0,"bytes_out":0,"exit_code":74,"status":"error"}'
}

@test "a write that fails part way (file size limit): rows_out is not more than the rows written" {
	{ echo a,b; seq 1 200000 | sed 's/^/x,/'; } > "$T/in"
	run -74 --separate-stderr bash -c "trap '' XFSZ; ulimit -f 100; anon-hash -c b --audit '$T/audit.jsonl' '$T/in' > '$T/out'"
	assert_equal "$stderr" 'anon-hash: stdout: write: File too large'
	local written out
	written=$(($(wc -l < "$T/out") - 1)) # complete data rows: lines ended by a newline, less the header
	out=$(jq -r .rows_out "$T/audit.jsonl")
	[ "$written" -gt 0 ]
	[ "$out" -le "$written" ]
	assert_equal "$(jq -r .bytes_out "$T/audit.jsonl")" "$(wc -c < "$T/out")"
}

@test "key messages: empty file, ANON_KEY not hex, 16 and 33 bytes, one rule" {
	local rule="a key is 32 bytes: 64 hex digits or 32 raw bytes ('openssl rand -hex 32 > anon.key'); anon-fpe --key-raw also takes 16 or 24"
	unset ANON_KEY_FILE
	: > "$T/empty.key"
	chmod 600 "$T/empty.key"
	run -78 --separate-stderr anon-hash -c a --key-file "$T/empty.key" < /dev/null
	assert_equal "$stderr" "anon-hash: $T/empty.key: key file is empty"
	run -78 --separate-stderr env ANON_KEY=not-hex anon-hash -c a < /dev/null
	assert_equal "$stderr" "anon-hash: ANON_KEY must be hex: $rule"
	# 16 bytes: as hex in a file, raw in a file, and in ANON_KEY
	printf '%s\n' 000102030405060708090a0b0c0d0e0f > "$T/k16.hex"
	printf 'ABCDEFGHIJKLMNOP' > "$T/k16.raw"
	chmod 600 "$T/k16.hex" "$T/k16.raw"
	run -78 --separate-stderr anon-hash -c a --key-file "$T/k16.hex" < /dev/null
	assert_equal "$stderr" "anon-hash: the key has 16 bytes: $rule"
	run -78 --separate-stderr anon-hash -c a --key-file "$T/k16.raw" < /dev/null
	assert_equal "$stderr" "anon-hash: the key has 16 bytes: $rule"
	run -78 --separate-stderr env ANON_KEY=000102030405060708090a0b0c0d0e0f anon-hash -c a < /dev/null
	assert_equal "$stderr" "anon-hash: the key has 16 bytes: $rule"
	# 33 bytes, raw and as hex
	printf 'ghijklmnopqrstuvwxyzGHIJKLMNOPQRS' > "$T/k33.raw"
	printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 > "$T/k33.hex"
	chmod 600 "$T/k33.raw" "$T/k33.hex"
	run -78 --separate-stderr anon-hash -c a --key-file "$T/k33.raw" < /dev/null
	assert_equal "$stderr" "anon-hash: $T/k33.raw: 33 bytes: $rule"
	run -78 --separate-stderr anon-hash -c a --key-file "$T/k33.hex" < /dev/null
	assert_equal "$stderr" "anon-hash: $T/k33.hex: 66 hex digits: $rule"
}
