#!/usr/bin/env bats
# The EXAMPLES of anon-mask(1) run as written, in order, in one directory, against a
# throwaway PostgreSQL server holding the tables they name; then their results are checked.
load helper

setup_file() {
	pg_start
	sql <<-'EOF'
	CREATE TABLE users (id int PRIMARY KEY, email text, phone text, name text, card text);
	INSERT INTO users VALUES
	  (1, 'john.doe@example.com', '+1 555-123-4567', 'Zoë Dupont', '4111 1111 1111 1111'),
	  (2, NULL, NULL, NULL, NULL);
	CREATE DATABASE dev;
	CREATE DATABASE shop;
	CREATE DATABASE shop_dev;
	EOF
	sql -d dev -c 'CREATE TABLE users (id int PRIMARY KEY, email text, phone text, name text, card text)'
	sql -d shop <<-'EOF'
	CREATE TABLE users (id int PRIMARY KEY, name text, email text);
	INSERT INTO users VALUES (1, 'Zoë Dupont', 'zoe@mail.example.org'), (2, 'Al', NULL);
	EOF
}

teardown_file() {
	pg_stop
}

# bats test_tags=pg
@test "the EXAMPLES of anon-mask(1) run as written and do what they say" {
	mapfile -d '' blocks < <(examples "$TOP/man/man1/anon-mask.1")
	[ "${#blocks[@]}" -eq 4 ]
	cd "$BATS_TEST_TMPDIR"
	cp "$(test_key)" anon.key
	printf 'id,name,email\n1,Zoë,zoe@example.com\n2,B\xffb,bob@example.com\n3,Al,al@x.org\n' >users.csv

	# 1: a table masked on its way to another database
	run -0 bash -e -o pipefail -c "${blocks[0]}"
	run -0 rows -d dev -c 'SELECT * FROM users ORDER BY id'
	assert_output - <<-'EOF'
	1|********@example.com|+1 ***-***-4567|Z*********|4111 11** **** 1111
	2|(null)|(null)|(null)|(null)
	EOF

	# 2: a dump with fakes and masked emails, restored whole, with its audit record
	run -0 bash -e -o pipefail -c "${blocks[1]}"
	run -0 rows -d shop_dev -c 'SELECT id, email FROM users ORDER BY id'
	assert_output $'1|***@************.org\n2|(null)'
	run -0 rows -d shop_dev -c "SELECT count(*) FROM users WHERE name IN ('Zoë Dupont', 'Al')"
	assert_output 0
	assert_file_exists audit.jsonl
	run -0 grep -c '"tool":"anon-mask"' audit.jsonl
	assert_output 1

	# 3: invalid UTF-8 becomes NULL, its row goes to bad.csv (mode 0600)
	run -0 bash -e -o pipefail -c "${blocks[2]}"
	run -0 cat users_masked.csv
	assert_output $'id,name,email\n1,Z**,***@example.com\n2,,***@example.com\n3,A*,**@x.org'
	run -0 stat -c %a bad.csv
	assert_output 600
	run -0 grep -c 'bob@example.com' bad.csv
	assert_output 1

	# 4: a label from the header's decoded name, selected by number
	split_transcript "${blocks[3]}" want.txt >cmd.sh
	run -0 bash -e -o pipefail cmd.sh
	assert_output "$(cat want.txt)"
	assert_line --index 1 '1,<E-MAIL>'
}
