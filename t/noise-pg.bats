#!/usr/bin/env bats
# anon-noise against a real PostgreSQL server: noised and generalized values still load into
# their typed columns (integer, numeric(12,2), date, timestamp, timestamptz), by COPY text and
# through pg_dump.
load helper

setup_file() {
	pg_start
	sql <<-'EOF'
	SET timezone = 'UTC';
	CREATE TABLE p (id int PRIMARY KEY, age int, salary numeric(12,2), dob date,
			seen timestamp(3), paid timestamptz);
	INSERT INTO p VALUES
	  (1, 34, 52345.67, '1980-03-04', '2024-07-15 13:45:12.123', '2024-07-15 13:45:12+02'),
	  (2, 95, -10.50, '1950-12-31', '2024-01-01 00:00:00', '2024-01-01 00:00:00+00'),
	  (3, NULL, NULL, NULL, NULL, NULL),
	  (4, 0, 0.00, '2000-02-29', '1999-12-31 23:59:59.999', '1999-12-31 23:59:59.5-05');
	CREATE TABLE p_anon (LIKE p);
	CREATE DATABASE restored;
	EOF
}

teardown_file() {
	pg_stop
}

# The server writes timestamptz in its zone (UTC here), and truncation works on the text as
# written: 1999-12-31 23:59:59.5-05 comes out as 2000-01-01 04:59:59.5+00, in January.
# bats test_tags=pg
@test "pg: generalized COPY text loads back with the exact values" {
	sql -c 'COPY p TO STDOUT' |
		anon-noise -f copy --schema id,age,salary,dob,seen,paid -c age=topcode:90 \
			-c salary=bucket:1000 -c dob=truncate:year -c seen=truncate:hour \
			-c paid=truncate:month |
		sql -c 'COPY p_anon FROM STDIN'
	run rows -c "SET timezone = 'UTC'" -c 'SELECT * FROM p_anon ORDER BY id'
	assert_success
	assert_output - <<-'EOF'
	1|34|52000.00|1980-01-01|2024-07-15 13:00:00|2024-07-01 00:00:00+00
	2|90|-1000.00|1950-01-01|2024-01-01 00:00:00|2024-01-01 00:00:00+00
	3|(null)|(null)|(null)|(null)|(null)
	4|0|0.00|2000-01-01|1999-12-31 23:00:00|2000-01-01 00:00:00+00
	EOF
}

# bats test_tags=pg
@test "pg: noised values and shifted dates load through pg_dump" {
	pg_dump -t p --no-owner postgres |
		anon-noise -f pgdump --key-file "$(test_key)" --entity p.id --seed 4 \
			-c p.age=laplace:epsilon=1,clamp=0..120 \
			-c p.salary=gaussian:epsilon=1,delta=0.000001,sensitivity=1000 \
			-c p.dob=dateshift:days=30 -c p.seen=dateshift:days=30 \
			-c p.paid=laplace:epsilon=0.1,sensitivity=1 2>/dev/null |
		sql -d restored
	run rows -d restored -c 'SELECT count(*), count(age), count(dob) FROM p'
	assert_output '4|3|3'
	# the same person's dates moved by the same number of days
	run rows -d restored -c 'SELECT dob, seen FROM p WHERE id = 1'
	IFS='|' read -r dob seen <<<"$output"
	shift_dob=$(( ($(date -ud "$dob" +%s) - $(date -ud 1980-03-04 +%s)) / 86400 ))
	shift_seen=$(( ($(date -ud "${seen%% *}" +%s) - $(date -ud 2024-07-15 +%s)) / 86400 ))
	[ "$shift_dob" -eq "$shift_seen" ]
	[ "$shift_dob" -ge -30 ]
	[ "$shift_dob" -le 30 ]
	[ "${seen#* }" = "13:45:12.123" ]
}
