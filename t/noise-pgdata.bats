#!/usr/bin/env bats
# noise-pgdata.bats: anon-noise on PostgreSQL's data as it is, through a real pg_dump and back
# with psql --single-transaction -v ON_ERROR_STOP=1: infinity, -infinity, NaN and Infinity
# (kept), BC dates (truncated and shifted in their era, across the year 1), numeric(30,12)
# and values past 64 bits, and an entity named differently in each table
# (--entity public.users.id --entity public.orders.user_id).  PostgreSQL itself is the
# oracle: the loaded values are checked in their typed columns against its own date_trunc,
# round, floor and date arithmetic on the originals.
load helper

setup_file() {
	pg_start
	export PGTZ=UTC
	sql <<-'EOF'
	CREATE TABLE h (id int PRIMARY KEY, pid int, d date, ts timestamp(3), tz timestamptz,
			amount numeric(30,12), score numeric, big numeric(38,0));
	INSERT INTO h VALUES
	  (1, 1, 'infinity', '-infinity', 'infinity', 'NaN', 'Infinity', 9223372036854775808),
	  (2, 1, '-infinity', 'infinity', '-infinity', 123456789012345678.123456789012,
	   '-Infinity', -9223372036854775809),
	  (3, 2, '0044-03-15 BC', '0044-03-15 12:34:56.789 BC', '0044-03-15 12:34:56+00 BC',
	   -0.000000000001, 'NaN', 0),
	  (4, 2, '0001-01-01', '0001-12-31 23:59:59 BC', '0001-01-01 00:00:00+00', 0, 1.5, NULL),
	  (5, 3, '2024-07-15', '2024-07-15 13:45:12.123', '2024-07-15 13:45:12+00',
	   52345.670000000000, 42, 1),
	  (6, 3, NULL, NULL, NULL, NULL, NULL, NULL);
	CREATE TABLE users (id int PRIMARY KEY, born date);
	CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users, placed timestamp);
	INSERT INTO users VALUES (1, '1980-01-01'), (2, '0001-01-01'), (3, '0044-03-15 BC'),
	  (4, '2000-02-29');
	INSERT INTO orders VALUES (10, 1, '2021-05-05 12:00'), (11, 2, '0001-01-02 08:30'),
	  (12, 1, '2022-01-01 00:00'), (13, 3, '0044-03-16 00:00 BC'), (14, 4, 'infinity'),
	  (15, 4, '2000-03-01 23:59:59');
	CREATE TABLE events (seq int, at timestamp);
	INSERT INTO events VALUES (1, '2020-01-01 10:00');
	CREATE TABLE wide (id int, v numeric);
	INSERT INTO wide VALUES (1, 5), (2, 1234567890123456789012345678901234567890);
	EOF
	for db in gen noised shop2 refused wide; do
		sql -c "CREATE DATABASE $db"
	done
}

teardown_file() {
	pg_stop
}

# What the loading side runs: nothing commits unless everything does.
restore() {
	psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d "$1" -f - >/dev/null
}

# orig DB TABLE: the original rows of TABLE beside the loaded ones, as TABLE_orig in DB.
orig() {
	sql -d "$1" -c "CREATE TABLE $2_orig AS SELECT * FROM $2 WITH NO DATA"
	sql -c "COPY $2 TO STDOUT" | sql -d "$1" -c "COPY $2_orig FROM STDIN"
}

# bats test_tags=pg
@test "pg: generalized through pg_dump, special values kept, BC dates truncated in their era" {
	set -o pipefail
	pg_dump -t h --no-owner postgres |
		anon-noise -f pgdump --audit "$BATS_TEST_TMPDIR/a.json" -c h.d=truncate:year \
			-c h.ts=truncate:hour -c h.tz=truncate:month -c h.amount=round:0.01 \
			-c h.score=bucket:10 -c h.big=round:1000 |
		restore gen
	run rows -d gen -c 'SELECT id, d, ts, tz, amount, score, big FROM h ORDER BY id'
	assert_success
	assert_output - <<-'EOF'
	1|infinity|-infinity|infinity|NaN|Infinity|9223372036854776000
	2|-infinity|infinity|-infinity|123456789012345678.120000000000|-Infinity|-9223372036854776000
	3|0044-01-01 BC|0044-03-15 12:00:00 BC|0044-03-01 00:00:00+00 BC|0.000000000000|NaN|0
	4|0001-01-01|0001-12-31 23:00:00 BC|0001-01-01 00:00:00+00|0.000000000000|0.0|(null)
	5|2024-01-01|2024-07-15 13:00:00|2024-07-01 00:00:00+00|52345.670000000000|40|0
	6|(null)|(null)|(null)|(null)|(null)|(null)
	EOF
	# and PostgreSQL's own functions on the originals agree, row for row
	orig gen h
	run rows -d gen -c "SELECT count(*) FROM h JOIN h_orig o USING (id) WHERE
		h.d = date_trunc('year', o.d::timestamp)::date AND h.ts = date_trunc('hour', o.ts) AND
		h.tz = date_trunc('month', o.tz) AND h.amount = round(o.amount, 2) AND
		h.score = floor(o.score / 10) * 10 AND h.big = round(o.big, -3)"
	assert_output 4
	run -0 jq -c '[.columns[] | .params.special_values]' "$BATS_TEST_TMPDIR/a.json"
	assert_output '[2,2,2,1,3,0]'
}

# bats test_tags=pg
@test "pg: noised and shifted per entity through pg_dump: specials kept, one shift per person across the year 1" {
	set -o pipefail
	pg_dump -t h --no-owner postgres |
		anon-noise -f pgdump -q --key-file "$(test_key)" --entity h.pid \
			-c h.d=dateshift:days=3650 -c h.ts=dateshift:days=3650 \
			-c h.tz=dateshift:days=3650 -c h.amount=laplace:epsilon=1,sensitivity=100 \
			-c h.score=laplace:scale=5,decimals=1 -c h.big=gaussian:sigma=1000 |
		restore noised
	run rows -d noised -c 'SELECT id, d, ts, tz, score FROM h WHERE id <= 2 ORDER BY id'
	assert_output - <<-'EOF'
	1|infinity|-infinity|infinity|Infinity
	2|-infinity|infinity|-infinity|-Infinity
	EOF
	run rows -d noised -c 'SELECT amount FROM h WHERE id = 1'
	assert_output NaN
	orig noised h
	# the NaN score of row 3 is kept; every finite value moved, within its type
	run rows -d noised -c "SELECT score FROM h WHERE id = 3"
	assert_output NaN
	run rows -d noised -c "SELECT count(*) FROM h JOIN h_orig o USING (id)
		WHERE h.amount <> o.amount AND scale(h.amount) = 12"
	assert_output 4
	# one shift per person, the same in date, timestamp and timestamptz, time of day kept
	run rows -d noised -c "
		WITH s AS (
		  SELECT o.pid, h.d - o.d AS days FROM h JOIN h_orig o USING (id) WHERE isfinite(o.d)
		  UNION ALL SELECT o.pid, h.ts::date - o.ts::date FROM h JOIN h_orig o USING (id)
		    WHERE isfinite(o.ts) AND h.ts::time = o.ts::time
		  UNION ALL SELECT o.pid, h.tz::date - o.tz::date FROM h JOIN h_orig o USING (id)
		    WHERE isfinite(o.tz) AND h.tz::time = o.tz::time)
		SELECT pid, count(*), count(DISTINCT days), bool_and(abs(days) <= 3650), min(days) <> 0
		FROM s GROUP BY pid ORDER BY pid"
	assert_output - <<-'EOF'
	2|6|1|t|t
	3|3|1|t|t
	EOF
	# row 4 has 0001-01-01 and 0001-12-31 BC, a day apart: whichever way the shift goes, one
	# of them crossed the year 1, and PostgreSQL counts the days across it
	run rows -d noised -c "SELECT ((h.d < '0001-01-01') <> (o.d < '0001-01-01')) <>
		((h.ts < '0001-01-01') <> (o.ts < '0001-01-01')), h.d - h.ts::date
		FROM h JOIN h_orig o USING (id) WHERE id = 4"
	assert_output 't|1'
}

# bats test_tags=pg
@test "pg: --entity public.users.id --entity public.orders.user_id: one shift per person in both tables" {
	set -o pipefail
	pg_dump -t users -t orders --no-owner postgres |
		anon-noise -f pgdump --key-file "$(test_key)" --audit "$BATS_TEST_TMPDIR/a.json" \
			--entity public.users.id --entity public.orders.user_id \
			-c public.users.born=dateshift:days=1000 \
			-c public.orders.placed=dateshift:days=1000 |
		restore shop2
	orig shop2 users
	orig shop2 orders
	run rows -d shop2 -c "
		SELECT u.id, count(*), count(DISTINCT (o.placed::date - oo.placed::date) - (u.born - uo.born)),
		       bool_and(o.placed::time = oo.placed::time), min(u.born - uo.born) <> 0
		FROM users u JOIN users_orig uo USING (id)
		JOIN orders o ON o.user_id = u.id JOIN orders_orig oo ON oo.id = o.id
		WHERE isfinite(oo.placed) GROUP BY u.id ORDER BY u.id"
	assert_output - <<-'EOF'
	1|2|1|t|t
	2|1|1|t|t
	3|1|1|t|t
	4|1|1|t|t
	EOF
	run rows -d shop2 -c "SELECT placed FROM orders WHERE id = 14"
	assert_output infinity
	# people move independently of one another
	run rows -d shop2 -c "SELECT count(DISTINCT u.born - uo.born) > 1 FROM users u JOIN users_orig uo USING (id)"
	assert_output t
	# BC dates shift in their era: 0044-03-15 BC and 0044-03-16 BC stay a day apart
	run rows -d shop2 -c "SELECT o.placed::date - u.born FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 3"
	assert_output 1
	run -0 jq -c '.noise.entity, [.columns[].params.per_entity]' "$BATS_TEST_TMPDIR/a.json"
	assert_output - <<-'EOF'
	["public.users.id","public.orders.user_id"]
	[true,true]
	EOF
}

# bats test_tags=pg
@test "pg: a table with per-entity dates but no entity column: exit 64 at its COPY, nothing loads" {
	run --separate-stderr bash -c 'set -o pipefail; pg_dump -t users -t orders -t events --no-owner postgres |
		anon-noise -f pgdump --key-file "$1" --entity public.users.id \
			--entity public.orders.user_id -c born=dateshift:days=30 \
			-c placed=dateshift:days=30 -c public.events.at=dateshift:days=30 |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d refused -f - >/dev/null' _ "$(test_key)"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"table public.events: 'public.events.at' is shifted per entity, but no --entity names a column of this table"* ]]
	[[ "$stderr" == *"the table is refused"* ]]
	[[ "$stderr" == *"anon-noise failed (exit 64)"* ]]
	run rows -d refused -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	assert_output 0
	# and anon-noise itself says 64, whatever --on-error says
	pg_dump -t events --no-owner postgres > "$BATS_TEST_TMPDIR/events.sql"
	run --separate-stderr -64 anon-noise -f pgdump --key-file "$(test_key)" --on-error keep \
		--entity public.users.id -c at=dateshift:days=30 "$BATS_TEST_TMPDIR/events.sql"
	refute_output --partial '2020-01-01 10:00:00'
}

# bats test_tags=pg
@test "pg: a numeric past 38 significant digits is exit 65 naming line and column, nothing loads" {
	run --separate-stderr bash -c 'set -o pipefail; pg_dump -t wide --no-owner postgres |
		anon-noise -f pgdump -c wide.v=round:10 |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d wide -f - >/dev/null'
	[ "$status" -ne 0 ]
	[[ "$stderr" =~ :[0-9]+:2\ \(v\):\ number\ out\ of\ range:\ at\ most\ 38\ significant\ digits ]]
	[[ "$stderr" != *12345678901234567890* ]]
	run rows -d wide -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	assert_output 0
}

# bats test_tags=pg
@test "pg: the dump EXAMPLES of anon-noise(1) run as written" {
	sql <<-'EOF'
	CREATE DATABASE clinic;
	CREATE DATABASE clinic_dev;
	CREATE DATABASE shop;
	CREATE DATABASE shop_dev;
	EOF
	sql -d clinic <<-'EOF'
	CREATE TABLE patients (id int PRIMARY KEY, birth date, age int);
	INSERT INTO patients VALUES (1, '1931-05-06', 93), (2, '1990-12-31', 34),
	  (3, '0044-03-15 BC', 89), (4, 'infinity', NULL);
	EOF
	sql -d shop <<-'EOF'
	CREATE TABLE users (id int PRIMARY KEY, born date);
	CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users, placed timestamp,
			     total numeric(30,12));
	INSERT INTO users VALUES (1, '1980-01-01'), (2, '0001-01-01');
	INSERT INTO orders VALUES (10, 1, '2021-05-05 12:00', 123456789012.345678901234),
	  (11, 2, '0001-01-02 08:30', 'NaN'), (12, 1, '-infinity', 0.5);
	EOF
	cd "$BATS_TEST_TMPDIR"
	cp "$(test_key)" anon.key
	mapfile -d '' blocks < <(examples "$TOP/man/man1/anon-noise.1")
	run --separate-stderr bash -e -c "${blocks[2]}"
	assert_success
	run rows -d clinic_dev -c 'SELECT id, birth, age FROM patients ORDER BY id'
	assert_output - <<-'EOF'
	1|1931-01-01|90
	2|1990-01-01|34
	3|0044-01-01 BC|89
	4|infinity|(null)
	EOF
	run --separate-stderr bash -e -c "${blocks[3]}"
	assert_success
	# each user's order stays as many days from their birth as it was
	run rows -d shop_dev -c "SELECT o.id, o.placed::date - u.born, o.placed::time, scale(o.total)
		FROM orders o JOIN users u ON u.id = o.user_id WHERE isfinite(o.placed) ORDER BY o.id"
	assert_output - <<-EOF
	10|$(( ($(date -ud 2021-05-05 +%s) - $(date -ud 1980-01-01 +%s)) / 86400 ))|12:00:00|12
	11|1|08:30:00|(null)
	EOF
	run rows -d shop_dev -c "SELECT placed, total FROM orders WHERE id IN (11, 12) ORDER BY id"
	assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2} 08:30:00( BC)?\|NaN$'
	assert_line --index 1 --regexp '^-infinity\|-?[0-9]+\.[0-9]{2}0{10}$'
	run rows -d shop_dev -c "SELECT born <> '1980-01-01' FROM users WHERE id = 1"
	assert_output t
}
