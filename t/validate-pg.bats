#!/usr/bin/env bats
# anon-validate against a real PostgreSQL server: a gate that fails mid-pipeline makes the
# load through psql --single-transaction -v ON_ERROR_STOP=1 commit nothing, and a gate that
# passes lets every row through.

load helper

setup_file() {
	pg_start
	sql -c "CREATE DATABASE shop"
	sql -d shop <<-'EOF'
	CREATE TABLE users (id int PRIMARY KEY, email text, phone text, name text);
	INSERT INTO users SELECT i, 'user' || i || '@example.com', '+1 415-555-' || lpad(i::text, 4, '0'),
	  'Person ' || i FROM generate_series(1, 500) i;
	CREATE TABLE orders (id int PRIMARY KEY, user_id int, total numeric(10,2), card text);
	INSERT INTO orders SELECT i, i % 500 + 1, i * 1.25, NULL FROM generate_series(1, 2000) i;
	CREATE SCHEMA crm;
	CREATE TABLE crm.notes (id int, body text);
	INSERT INTO crm.notes VALUES (1, 'called back'), (2, 'left a message');
	CREATE TABLE users_anon (LIKE users);
	EOF
}

teardown_file() {
	pg_stop
}

setup() {
	export ANON_KEY_FILE=$(test_key)
	T=$BATS_TEST_TMPDIR
	sql -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS shop_dev" -c "CREATE DATABASE shop_dev"
	sql -d shop -c "TRUNCATE users_anon"
}

# The tables restored into shop_dev, and their rows: "schema.table:rows" a line.
restored() {
	rows -d shop_dev -c "SELECT schemaname || '.' || relname || ':' || n_live_tup FROM pg_stat_user_tables ORDER BY 1" 2>/dev/null
	rows -d shop_dev -c "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'crm')"
}

# bats test_tags=pg
@test "--policy: a dump with a column the policy lacks fails before that table's first row, and the restore loads nothing" {
	pg_dump -d shop > "$T/shop.sql"
	anon-validate -f pgdump --policy-init "$T/shop.sql" | sed -e 's/ TODO$/ keep/' |
		grep -v '^public.users.phone ' > "$T/policy"
	# psql stops at the rollback line (exit 3); anon-validate's own status is in the verdict
	run --separate-stderr -3 bash -c "set -o pipefail; pg_dump -d shop |
		anon-validate -f pgdump --pass --policy '$T/policy' --verdict '$T/v.json' |
		tee '$T/out.sql' | psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d shop_dev -f -"
	[[ "$stderr" == *"does not list 'phone' of public.users"* ]]
	[[ "$stderr" == *"anon-validate failed (exit 1)"* ]]
	# the tables before users passed (crm.notes, public.orders), none of users' rows did
	grep -q '^COPY public.orders ' "$T/out.sql"
	run -1 grep -q '^COPY public.users ' "$T/out.sql"
	run -1 grep -q '@example.com' "$T/out.sql"
	[ "$(tail -n 1 "$T/out.sql")" = "DO \$anon_abort\$ BEGIN RAISE EXCEPTION 'anon: anon-validate failed (exit 1): this dump is incomplete; nothing of it may be restored'; END \$anon_abort\$;" ]
	[ "$(restored)" = 0 ]
	[ "$(jq -c '[.checks[] | select(.check == "policy") | [.table, .passed, .unlisted]]' "$T/v.json")" = '[["crm.notes",true,[]],["public.orders",true,[]],["public.users",false,["phone"]]]' ]
	[ "$(jq -c '[.complete, .exit_code]' "$T/v.json")" = '[false,1]' ]
}

# bats test_tags=pg
@test "--policy: with every column listed, the restore loads every table" {
	pg_dump -d shop > "$T/shop.sql"
	anon-validate -f pgdump --policy-init "$T/shop.sql" | sed -e 's/ TODO$/ keep/' \
		-e 's/^public\.users\.email keep$/public.users.email hash:email/' > "$T/policy"
	run --separate-stderr -0 bash -c "set -o pipefail; pg_dump -d shop |
		anon-hash -f pgdump -c public.users.email=email |
		anon-validate -f pgdump --pass --policy '$T/policy' --pii email --verdict '$T/v.json' |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d shop_dev -f -"
	[ "$(rows -d shop_dev -c 'SELECT count(*) FROM users')" = 500 ]
	[ "$(rows -d shop_dev -c 'SELECT count(*) FROM orders')" = 2000 ]
	[ "$(rows -d shop_dev -c "SELECT count(*) FROM users WHERE email LIKE 'user%'")" = 0 ]
	[ "$(jq -c '[.passed, .complete, .rows]' "$T/v.json")" = '[true,true,2502]' ]
}

# bats test_tags=pg
@test "--pass with a failing PII check: COPY FROM STDIN (csv) loads no row" {
	run --separate-stderr -1 bash -c "set -o pipefail; psql -X -c 'COPY users TO STDOUT (FORMAT csv, HEADER)' -d shop |
		anon-validate --pass --pii email,phone --verdict '$T/v.json' |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d shop -c 'COPY users_anon FROM STDIN (FORMAT csv, HEADER)'"
	[[ "$stderr" == *"unterminated CSV quoted field"* ]]
	[ "$(rows -d shop -c 'SELECT count(*) FROM users_anon')" = 0 ]
	[ "$(jq -c '[.checks[] | select(.check == "pii") | [.kind, .hits]]' "$T/v.json")" = '[["email",500],["phone",500]]' ]
}

# bats test_tags=pg
@test "--pass in a COPY text pipeline: after anon-hash and anon-mask the gate passes and every row loads" {
	run --separate-stderr -0 bash -c "set -o pipefail; psql -X -d shop -c 'COPY users TO STDOUT' |
		anon-hash -f copy --schema id,email,phone,name -c email=email |
		anon-mask -f copy --schema id,email,phone,name -c phone=phone |
		anon-validate -f copy --schema id,email,phone,name --pass --pii all --unique id --require email --verdict '$T/v.json' |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d shop -c 'COPY users_anon FROM STDIN'"
	[ "$(rows -d shop -c 'SELECT count(*) FROM users_anon')" = 500 ]
	[ "$(jq -r .passed "$T/v.json")" = true ]
	# and the same gate on the raw table: exit 1, nothing loaded
	run --separate-stderr -1 bash -c "set -o pipefail; psql -X -d shop -c 'COPY users TO STDOUT' |
		anon-validate -f copy --schema id,email,phone,name --pass --pii all --verdict '$T/v.json' |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d shop -c 'TRUNCATE users_anon' -c 'COPY users_anon FROM STDIN'"
	[[ "$stderr" == *"end-of-copy marker corrupt"* ]]
	[ "$(rows -d shop -c 'SELECT count(*) FROM users_anon')" = 500 ]
}
