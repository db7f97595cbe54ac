#!/usr/bin/env bats
# noise.bats: anon-noise from the command line: generalization rules, the noise grid and
# scale, the seeded mode, per-entity date shifts, NULL handling, errors and the audit record.

load helper

PEOPLE="$BATS_TEST_DIRNAME/data/noise-people.csv"

setup() {
	KEY=$(test_key)
}

# bats-assert 2.0 (Debian 12) has no assert_stderr
stderr_has() {
	[[ "$stderr" == *"$1"* ]] || { echo "stderr lacks '$1': $stderr"; return 1; }
}
stderr_lacks() {
	[[ "$stderr" != *"$1"* ]] || { echo "stderr has '$1': $stderr"; return 1; }
}

# column N (1-based) of every data row of a CSV without quotes
col() {
	tail -n +2 | cut -d, -f"$1"
}

@test "bucket with labels, round, truncate month and hour" {
	run -0 anon-noise -c age=bucket:10,label -c score=round:0.5 -c dob=truncate:month \
		-c ts=truncate:hour "$PEOPLE"
	assert_output - <<'EOF'
id,age,score,dob,ts
1,30-39,12.50,1980-03-01,2024-07-15 13:00:00.000+02
2,90-99,-7.5,1950-12-01,2024-01-01T00:00:00Z
3,-10--1,0.00,2000-02-01,1999-12-31 23:00:00
4,,"",,""
5,80-89,100.0,0001-01-01,2024-02-29 00:00
EOF
}

@test "topcode, bottomcode, truncate year and day" {
	run -0 anon-noise -c age=topcode:90 -c score=bottomcode:0 -c dob=truncate:year \
		-c ts=truncate:day "$PEOPLE"
	assert_output - <<'EOF'
id,age,score,dob,ts
1,34,12.26,1980-01-01,2024-07-15 00:00:00.000+02
2,90,0.0,1950-01-01,2024-01-01T00:00:00Z
3,-5,0.05,2000-01-01,1999-12-31 00:00:00
4,,"",,""
5,89,100,0001-01-01,2024-02-29 00:00
EOF
}

@test "round ties to even, bucket floors negatives, date limits" {
	run -0 anon-noise -c age=round:10 -c score=bucket:5 -c dob=topcode:1999-12-31 \
		-c ts=bottomcode:2000-01-01 "$PEOPLE"
	assert_output - <<'EOF'
id,age,score,dob,ts
1,30,10.00,1980-03-04,2024-07-15 13:45:12.123+02
2,100,-10.0,1950-12-31,2024-01-01T00:00:00Z
3,0,0.00,1999-12-31,2000-01-01 00:00:00
4,,"",,""
5,90,100,0001-01-01,2024-02-29 00:30
EOF
}

@test "HIPAA ages: topcode:90 turns every age over 89 into 90" {
	printf 'age\n89\n90\n91\n120\n' | anon-noise -c age=topcode:90 > "$BATS_TEST_TMPDIR/o"
	run cat "$BATS_TEST_TMPDIR/o"
	assert_output "$(printf 'age\n89\n90\n90\n90')"
}

@test "number rules on a date, and date rules on a number, are data errors naming line and column" {
	run --separate-stderr -65 anon-noise -c dob=round:10 "$PEOPLE"
	stderr_has ':2:4 (dob)'
	stderr_has 'expects a number'
	stderr_lacks '1980-03-04'
	run --separate-stderr -65 anon-noise -c age=truncate:year "$PEOPLE"
	stderr_has ':2:2 (age)'
	stderr_lacks '34'
	run --separate-stderr -65 anon-noise -c age=bucket:10 -c score=laplace:scale=1 \
		-c dob=laplace:scale=1 -c ts=laplace:scale=1 - <<'EOF'
id,age,score,dob,ts
1,12,1.5,2020-01-01,2020-01-01 10:00
2,13,1.5,2020-13-01,2020-01-01 10:00
EOF
	stderr_has ':3:4 (dob): not a valid date'
}

@test "invalid numbers are a data error with line and column, never the value" {
	printf 'id,salary\n1,100.5\n2,12abc\n' > "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -65 anon-noise --seed 1 -c salary=laplace:scale=10 "$BATS_TEST_TMPDIR/in.csv"
	stderr_has ':3:2 (salary): not a number'
	stderr_lacks '12abc'
	# --on-error keep passes the row through unchanged
	run --separate-stderr -0 anon-noise --seed 1 --on-error keep -c salary=laplace:scale=10 \
		"$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 2 '2,12abc'
}

@test "NULL and empty pass through in csv and copy" {
	printf '1,,x\n2,"",y\n3,5,z\n' > "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -0 anon-noise --no-header --seed 3 -c 2=laplace:scale=1 "$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 0 '1,,x'
	assert_line --index 1 '2,"",y'
	[[ "${lines[2]}" =~ ^3,-?[0-9]+,z$ ]]
	printf '1\t\\N\n2\t\n3\t2024-05-06\n' > "$BATS_TEST_TMPDIR/in.copy"
	run -0 anon-noise -f copy --schema id,d -c d=truncate:year "$BATS_TEST_TMPDIR/in.copy"
	assert_output "$(printf '1\t\\N\n2\t\n3\t2024-01-01')"
}

@test "usage errors: unknown rule, bad parameters, missing rule" {
	run --separate-stderr -64 anon-noise -c age=fuzz "$PEOPLE"
	stderr_has "column 'age': unknown rule"
	run --separate-stderr -64 anon-noise -c age=laplace:epsilon=0,sensitivity=1 "$PEOPLE"
	stderr_has 'epsilon must be a positive'
	run -64 anon-noise -c age=laplace:epsilon=1 "$PEOPLE"
	run -64 anon-noise -c age=gaussian:epsilon=1,delta=2,sensitivity=1 "$PEOPLE"
	run -64 anon-noise -c age=laplace:scale=1,clamp=9..1 "$PEOPLE"
	run -64 anon-noise -c age=bucket:0 "$PEOPLE"
	run -64 anon-noise -c age=truncate:week "$PEOPLE"
	run -64 anon-noise -c age "$PEOPLE"
	run -64 anon-noise --seed x -c age=round:5 "$PEOPLE"
	run -64 anon-noise -c nosuch=round:5 "$PEOPLE"
	run -64 anon-noise --entity id -c age=round:5 "$PEOPLE"
}

@test "laplace keeps the column's format: integers, fixed decimals, dates with their time" {
	run --separate-stderr -0 anon-noise --seed 5 -c age=laplace:epsilon=1,sensitivity=1 -c score=laplace:scale=3 \
		-c dob=laplace:epsilon=0.1,sensitivity=1 -c ts=gaussian:sigma=4 "$PEOPLE"
	[ "${#lines[@]}" -eq 6 ]
	for i in 1 2 3 5; do
		IFS=, read -r id age score dob ts <<<"${lines[$i]}"
		[[ "$age" =~ ^-?[0-9]+$ ]]
		[[ "$score" =~ ^-?[0-9]+\.[0-9]{2}$ ]]   # the first value had 2 decimals
		[[ "$dob" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]
		date -d "$dob" >/dev/null
	done
	[[ "${lines[1]}" =~ \ 13:45:12\.123\+02$ ]]
	[[ "${lines[2]}" =~ T00:00:00Z$ ]]
	assert_line --index 4 '4,,"",,""'
	# decimals= fixes the grid whatever the input looks like
	printf 'v\n1\n2.5\n3.125\n' | anon-noise --seed 1 -c v=laplace:scale=1,decimals=1 > "$BATS_TEST_TMPDIR/o" 2>/dev/null
	run -0 col 1 < "$BATS_TEST_TMPDIR/o"
	for l in "${lines[@]}"; do [[ "$l" =~ ^-?[0-9]+\.[0-9]$ ]]; done
}

@test "--seed: loud warning, reproducible output, audit marks the run not private" {
	run --separate-stderr -0 anon-noise --seed 42 --audit "$BATS_TEST_TMPDIR/a.json" \
		-c score=laplace:epsilon=1,sensitivity=1 "$PEOPLE"
	stderr_has 'WARNING: --seed'
	stderr_has 'NOT private'
	first=$output
	run --separate-stderr -0 anon-noise --seed 42 -c score=laplace:epsilon=1,sensitivity=1 "$PEOPLE"
	[ "$output" = "$first" ]
	run --separate-stderr -0 anon-noise --seed 43 -c score=laplace:epsilon=1,sensitivity=1 "$PEOPLE"
	[ "$output" != "$first" ]
	run -0 jq -r '.noise.rng, .noise.private' "$BATS_TEST_TMPDIR/a.json"
	assert_output "$(printf 'seeded-insecure\nfalse')"
}

@test "without --seed the noise comes from the OpenSSL generator and differs run to run" {
	seq 1 200 | sed '1i v' > "$BATS_TEST_TMPDIR/in.csv"
	a=$(anon-noise --audit "$BATS_TEST_TMPDIR/a.json" -c v=laplace:scale=1000 "$BATS_TEST_TMPDIR/in.csv")
	b=$(anon-noise -c v=laplace:scale=1000 "$BATS_TEST_TMPDIR/in.csv")
	[ "$a" != "$b" ]
	run -0 jq -r '.noise.rng, .noise.private' "$BATS_TEST_TMPDIR/a.json"
	assert_output "$(printf 'secure\ntrue')"
}

@test "clamp bounds the input before the noise" {
	printf 'v\n-50\n500\n42\n' > "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -0 anon-noise --seed 9 -c v=laplace:scale=0.001,clamp=0..100,decimals=3 "$BATS_TEST_TMPDIR/in.csv"
	python3 - "${lines[1]}" "${lines[2]}" "${lines[3]}" <<'EOF'
import sys
lo, hi, mid = (float(x) for x in sys.argv[1:])
assert abs(lo - 0) < 0.05 and abs(hi - 100) < 0.05 and abs(mid - 42) < 0.05, sys.argv
EOF
}

@test "audit: mechanism, effective epsilon <= requested, scale, grid, per-row sum, utility" {
	printf 'a,b,c\n1.50,7,2024-01-01\n2.25,8,2024-02-01\n' > "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -0 anon-noise --seed 1 --audit "$BATS_TEST_TMPDIR/a.json" \
		-c a=laplace:epsilon=0.3,sensitivity=1 -c b=laplace:epsilon=0.5,clamp=0..10 \
		-c c=gaussian:epsilon=1,delta=0.000001,sensitivity=2 "$BATS_TEST_TMPDIR/in.csv"
	run -0 jq -c '.columns[0].params | [.mechanism, .grid, .decimals, .sensitivity_units, .scale_units, .scale, .mode]' "$BATS_TEST_TMPDIR/a.json"
	# 1 at 2 decimals is 100 units, +1 for rounding; T = ceil(101 / 0.3) = 337
	assert_output '["discrete_laplace","0.01",2,101,337,"3.37","metric"]'
	run -0 jq -r '.columns[0].params.epsilon <= 0.3, .columns[1].params.epsilon, .columns[1].params.mode' "$BATS_TEST_TMPDIR/a.json"
	assert_output "$(printf 'true\n0.5\nbounded')"
	run -0 jq -r '.columns[2].params | .mechanism, .grid, .sigma_units, (.delta <= 0.000001)' "$BATS_TEST_TMPDIR/a.json"
	assert_output "$(printf 'discrete_gaussian\n1 day\n10\ntrue')"
	run -0 jq -r '(.noise.epsilon_per_row - (.columns | map(.params.epsilon) | add) | fabs < 1e-12), .noise.delta_per_row > 0' "$BATS_TEST_TMPDIR/a.json"
	assert_output "$(printf 'true\ntrue')"
	run -0 jq -r '.columns[0].params.utility | .values, (.histogram.input | length), (.histogram.input | add), (.histogram.output | add), (.mean_abs_error >= 0)' "$BATS_TEST_TMPDIR/a.json"
	assert_output "$(printf '2\n20\n2\n2\ntrue')"
	# no value of the data in the record
	run grep -c '2024-0\|1\.50\|2\.25' "$BATS_TEST_TMPDIR/a.json"
	assert_output 0
}

@test "dateshift: one shift per entity, intervals kept, across tables, formats and runs" {
	printf 'pid,admit,discharge\nA,2020-01-10,2020-01-15 08:30:00+01\nB,2020-01-10,2020-01-11 00:00:00+01\nA,2021-06-01,2021-06-03 12:00:00+01\n' > "$BATS_TEST_TMPDIR/visits.csv"
	run -0 anon-noise --key-file "$KEY" --entity pid -c admit=dateshift:days=100 \
		-c discharge=dateshift:days=100 "$BATS_TEST_TMPDIR/visits.csv"
	python3 - "${lines[@]}" <<'EOF'
import sys, datetime as dt
rows = [l.split(',') for l in sys.argv[2:]]
d = lambda s: dt.date.fromisoformat(s[:10])
orig = {('A',0): ('2020-01-10','2020-01-15'), ('B',1): ('2020-01-10','2020-01-11'), ('A',2): ('2021-06-01','2021-06-03')}
shifts = {}
for i, (pid, a, b) in enumerate(rows):
    oa, ob = orig[(pid, i)]
    sa, sb = (d(a) - d(oa)).days, (d(b) - d(ob)).days
    assert sa == sb, (i, sa, sb)
    assert -100 <= sa <= 100
    shifts.setdefault(pid, set()).add(sa)
assert len(shifts['A']) == 1, shifts
assert rows[0][2].endswith(' 08:30:00+01')
EOF
	a_shift=${lines[1]}
	# the same person in another table, in COPY format with the columns in another order
	printf '2020-01-10\tA\n' > "$BATS_TEST_TMPDIR/other.copy"
	run -0 anon-noise -f copy --schema d,who --key-file "$KEY" --entity who -c d=dateshift:days=100 \
		"$BATS_TEST_TMPDIR/other.copy"
	[ "${output%%$'\t'*}" = "$(echo "$a_shift" | cut -d, -f2)" ]
	# a different key moves people differently (over 20 people, at least one differs)
	seq 1 20 | awk 'BEGIN{print "p,d"} {print "p" $1 ",2020-06-15"}' > "$BATS_TEST_TMPDIR/many.csv"
	x=$(anon-noise --key-file "$KEY" --entity p -c d=dateshift:days=365 "$BATS_TEST_TMPDIR/many.csv")
	openssl rand -hex 32 > "$BATS_TEST_TMPDIR/k2"; chmod 600 "$BATS_TEST_TMPDIR/k2"
	y=$(anon-noise --key-file "$BATS_TEST_TMPDIR/k2" --entity p -c d=dateshift:days=365 "$BATS_TEST_TMPDIR/many.csv")
	[ "$x" != "$y" ]
	# and entities differ from one another
	[ "$(echo "$x" | tail -n +2 | cut -d, -f2 | sort -u | wc -l)" -gt 10 ]
	# --domain gives another, independent set of shifts
	z=$(anon-noise --key-file "$KEY" --domain other --entity p -c d=dateshift:days=365 "$BATS_TEST_TMPDIR/many.csv")
	[ "$x" != "$z" ]
}

@test "dateshift: needs a key, and an entity value" {
	printf 'pid,d\nA,2020-01-10\n,2020-01-11\n' > "$BATS_TEST_TMPDIR/in.csv"
	run -78 anon-noise --entity pid -c d=dateshift:days=10 "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -65 anon-noise --key-file "$KEY" --entity pid -c d=dateshift:days=10 \
		"$BATS_TEST_TMPDIR/in.csv"
	stderr_has ':3:2 (d): the entity column is NULL or empty'
	run --separate-stderr -65 anon-noise --key-file "$KEY" --entity pid -c d=dateshift:days=10 - <<'EOF'
pid,d
A,9999-12-30
B,9999-12-30
C,9999-12-30
D,9999-12-30
EOF
	stderr_has 'shifted date out of range'
}

@test "dateshift without --entity draws each value independently within the range" {
	seq 1 300 | awk 'BEGIN{print "d"} {print "2020-06-15"}' > "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -0 anon-noise --seed 2 -c d=dateshift:days=3 "$BATS_TEST_TMPDIR/in.csv"
	[ "$(printf '%s\n' "${lines[@]:1}" | sort -u | tr '\n' ' ')" = "2020-06-12 2020-06-13 2020-06-14 2020-06-15 2020-06-16 2020-06-17 2020-06-18 " ]
}

@test "--jobs: seeded output and the audit's totals do not depend on the number of workers" {
	awk 'BEGIN { print "id,v,d"; for (i = 1; i <= 200000; i++)
		printf "%d,%d.%02d,20%02d-%02d-15\n", i, i % 9973, i % 100, i % 30, i % 12 + 1 }' \
		> "$BATS_TEST_TMPDIR/in.csv"
	for j in 1 3; do
		anon-noise -q --seed 7 --jobs "$j" --audit "$BATS_TEST_TMPDIR/a$j.json" \
			-c v=laplace:epsilon=1,sensitivity=10,decimals=2 -c d=dateshift:days=30 \
			-c id=gaussian:sigma=5,decimals=0 "$BATS_TEST_TMPDIR/in.csv" > "$BATS_TEST_TMPDIR/o$j"
	done
	cmp "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o3"
	for j in 1 3; do
		run -0 jq -c '[.columns[].params.utility | .values, (.histogram.input | add),
			(.histogram.output | add)] | unique' "$BATS_TEST_TMPDIR/a$j.json"
		assert_output '[200000]'
	done
}

@test "--jobs: a grid taken from the first value is the same whatever the number of workers" {
	# the first non-empty value sets the grid: chunks go in input order until it is known
	python3 -c 'import sys; sys.stdout.write("v\n" + "\n".join(["", "1.250"] + ["%d.5" % i for i in range(200000)]) + "\n")' > "$BATS_TEST_TMPDIR/g.csv"
	anon-noise --seed 1 -c v=laplace:scale=1 "$BATS_TEST_TMPDIR/g.csv" > "$BATS_TEST_TMPDIR/g1"
	anon-noise --seed 1 --jobs 3 -c v=laplace:scale=1 "$BATS_TEST_TMPDIR/g.csv" > "$BATS_TEST_TMPDIR/g3"
	cmp "$BATS_TEST_TMPDIR/g1" "$BATS_TEST_TMPDIR/g3"
	# three decimals, from the first value
	run -0 sed -n 4p "$BATS_TEST_TMPDIR/g3"
	assert_output --regexp '^-?[0-9]+\.[0-9]{3}$'
}
