#!/usr/bin/env bats
# anon-mask against a real PostgreSQL server: masked rows are loaded back, by COPY text, by
# COPY csv and through pg_dump, and read out again.
load helper

setup_file() {
	pg_start
	sql <<-'EOF'
	CREATE TABLE users (id int PRIMARY KEY, email text, phone text, name text, card text,
			    notes text);
	INSERT INTO users VALUES
	  (1, 'john.doe@example.com', '+1 555-123-4567', 'Zoë Dupont', '4111 1111 1111 1111',
	   E'line1\nline2'),
	  (2, NULL, NULL, NULL, NULL, NULL),
	  (3, '', '', '', '', ''),
	  (4, '山田@例え.jp', '+81 3-1234-5678', '山田太郎', '5555555555554444', E'tab\there');
	CREATE TABLE users_anon (LIKE users);
	CREATE TABLE users_csv (LIKE users);
	CREATE DATABASE restored;
	CREATE DATABASE quoted_restored;
	CREATE TABLE quoted (id int PRIMARY KEY, "E-MAIL" text, "A""B" text, "Mixed Case" text,
			     plain text);
	INSERT INTO quoted VALUES (1, 'zoe@example.com', 'secret', 'x', 'y'), (2, NULL, '', 'x', 'y');
	CREATE TABLE quoted_csv (LIKE quoted);
	EOF
}

teardown_file() {
	pg_stop
}

# bats test_tags=pg
@test "pg: COPY text out, masked, COPY back in" {
	sql -c 'COPY users TO STDOUT' |
		anon-mask -f copy --schema id,email,phone,name,card,notes -c email=email \
			-c phone=phone -c name=first:1 -c card=card -c notes=first:2 |
		sql -c 'COPY users_anon FROM STDIN'
	run rows -c 'SELECT * FROM users_anon ORDER BY id'
	assert_success
	assert_output - <<-'EOF'
	1|********@example.com|+1 ***-***-4567|Z*********|**** **** **** 1111|li*********
	2|(null)|(null)|(null)|(null)|(null)
	3|||||
	4|**@例え.jp|+81 *-****-5678|山***|************4444|ta******
	EOF
}

# bats test_tags=pg
@test "pg: COPY csv with header keeps NULL apart from the empty string" {
	sql -c 'COPY users TO STDOUT WITH (FORMAT csv, HEADER)' |
		anon-mask -f csv -c email=email:tld -c 'phone=regex:\d' -c name=null -c card=card:bin \
			-c notes=label |
		sql -c 'COPY users_csv FROM STDIN WITH (FORMAT csv, HEADER)'
	run rows -c 'SELECT * FROM users_csv ORDER BY id'
	assert_success
	assert_output - <<-'EOF'
	1|********@*******.com|+* ***-***-****|(null)|4111 11** **** 1111|<NOTES>
	2|(null)|(null)|(null)|(null)|(null)
	3|||||
	4|**@**.jp|+** *-****-****|(null)|555555******4444|<NOTES>
	EOF
	run rows -c "SELECT count(*) FROM users_csv WHERE email = '' AND card = '' AND notes = ''"
	assert_output 1
}

# bats test_tags=pg
@test "pg: pg_dump through anon-mask restores into a fresh database" {
	pg_dump -t users |
		anon-mask -f pgdump --key-file "$(test_key)" -c public.users.email=email \
			-c users.name=fake:full_name -c users.card=card -c users.notes=redact |
		sql -d restored >/dev/null
	fake=$(printf 'n\nZoë Dupont\n' | anon-mask --key-file "$(test_key)" -c n=fake:full_name |
		sed 1d)
	[ -n "$fake" ]
	run rows -d restored -c 'SELECT * FROM users WHERE id < 4 ORDER BY id'
	assert_success
	assert_output - <<-EOF
	1|********@example.com|+1 555-123-4567|$fake|**** **** **** 1111|***
	2|(null)|(null)|(null)|(null)|(null)
	3|||||
	EOF
	run rows -d restored -c 'SELECT email, phone, card, notes FROM users WHERE id = 4'
	assert_output '**@例え.jp|+81 3-1234-5678|************4444|***'
	# Row 4's name is another fake from the dictionaries.
	run rows -d restored -c 'SELECT name FROM users WHERE id = 4'
	[ "$output" != "$fake" ]
	grep -qFx "${output%% *}" "$TOP/data/fake/first_name.txt"
	grep -qFx "${output#* }" "$TOP/data/fake/last_name.txt"
}

# bats test_tags=pg
@test "pg: label gives the decoded names of quoted columns, through pg_dump and a restore" {
	pg_dump -t quoted >"$BATS_TEST_TMPDIR/quoted.sql"
	grep -qF 'COPY public.quoted (id, "E-MAIL", "A""B", "Mixed Case", plain) FROM stdin;' \
		"$BATS_TEST_TMPDIR/quoted.sql"
	set -o pipefail
	anon-mask -f pgdump -c 'quoted."E-MAIL"=label' -c 'public.quoted."A""B"=label' \
		-c 'quoted."Mixed Case"=label' -c public.quoted.plain=label \
		"$BATS_TEST_TMPDIR/quoted.sql" |
		sql -d quoted_restored --single-transaction -v ON_ERROR_STOP=1 -f - >/dev/null
	run rows -d quoted_restored -c 'SELECT * FROM quoted ORDER BY id'
	assert_success
	assert_output - <<-'EOF'
	1|<E-MAIL>|<A"B>|<MIXED CASE>|<PLAIN>
	2|(null)||<MIXED CASE>|<PLAIN>
	EOF
}

# bats test_tags=pg
@test "pg: label gives the decoded names of a CSV header's quoted columns" {
	sql -c 'COPY quoted TO STDOUT WITH (FORMAT csv, HEADER)' >"$BATS_TEST_TMPDIR/quoted.csv"
	run head -n 1 "$BATS_TEST_TMPDIR/quoted.csv"
	assert_output 'id,E-MAIL,"A""B",Mixed Case,plain'
	set -o pipefail
	anon-mask -c E-MAIL=label -c 3=label -c '"Mixed Case"=label' "$BATS_TEST_TMPDIR/quoted.csv" |
		sql --single-transaction -v ON_ERROR_STOP=1 \
			-c 'COPY quoted_csv FROM STDIN WITH (FORMAT csv, HEADER)'
	run rows -c 'SELECT * FROM quoted_csv ORDER BY id'
	assert_success
	assert_output - <<-'EOF'
	1|<E-MAIL>|<A"B>|<MIXED CASE>|y
	2|(null)||<MIXED CASE>|y
	EOF
}
