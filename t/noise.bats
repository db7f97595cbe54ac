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
		# 0001-01-01 may be noised into BC, which PostgreSQL holds and date(1) does not
		[[ "$dob" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}( BC)?$ ]]
		[[ "$dob" == *BC ]] || date -d "$dob" >/dev/null
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
	# no value of the data in the record (its run time, which may read 1.50 s, left out)
	run bash -c "jq 'del(.seconds, .time, .run_id)' '$BATS_TEST_TMPDIR/a.json' | grep -c '2024-0\|1\.50\|2\.25'"
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

# --- PostgreSQL's data as it is: special values, BC dates, wide numerics, entities per table --

# day NAME...: proleptic Gregorian day numbers of YYYY-MM-DD[ BC] dates (1 BC is year 0), by
# Python's calendar moved by whole 400-year cycles: not the tool's arithmetic.
days() {
	python3 - "$@" <<'PY'
import sys, datetime as dt
for s in sys.argv[1:]:
    y, m, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
    if s.endswith(' BC'):
        y = 1 - y
    k = (400 - y) // 400 + 1 if y < 1 else 0
    print(dt.date(y + 400 * k, m, d).toordinal() - 146097 * k)
PY
}

@test "special values pass every rule unchanged, byte for byte, and are counted per column" {
	cat > "$BATS_TEST_TMPDIR/in.csv" <<'EOF2'
id,d,ts,n,m
1,infinity,-infinity,NaN,Infinity
2,2024-07-15,2024-07-15 10:11:12+02,12.50,7
3,-infinity,infinity,-Infinity,NaN
EOF2
	run --separate-stderr -0 anon-noise --audit "$BATS_TEST_TMPDIR/a.json" -c d=truncate:year \
		-c ts=truncate:hour -c n=round:1 -c m=topcode:5 "$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 1 '1,infinity,-infinity,NaN,Infinity'
	assert_line --index 2 '2,2024-01-01,2024-07-15 10:00:00+02,12.00,5'
	assert_line --index 3 '3,-infinity,infinity,-Infinity,NaN'
	run -0 jq -c '[.columns[] | .params.special_values]' "$BATS_TEST_TMPDIR/a.json"
	assert_output '[2,2,2,2]'
	run -0 jq -c '[.columns[] | .changed]' "$BATS_TEST_TMPDIR/a.json"
	assert_output '[1,1,1,1]'
	# the noise rules too, dates and numbers, also when a special value comes first
	run --separate-stderr -0 anon-noise --seed 3 -c d=laplace:epsilon=1,sensitivity=10 \
		-c ts=dateshift:days=30 -c n=laplace:scale=1 -c m=gaussian:sigma=2 \
		"$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 1 '1,infinity,-infinity,NaN,Infinity'
	assert_line --index 3 '3,-infinity,infinity,-Infinity,NaN'
	# the grid comes from 12.50, not from NaN: two decimals
	[[ "$(echo "${lines[2]}" | cut -d, -f4)" =~ ^-?[0-9]+\.[0-9]{2}$ ]]
	# COPY text, in any case and with a sign, and --jobs
	printf '1\tInfinity\tinfinity\n2\t+inf\tINFINITY\n3\tnan\t-Infinity\n' > "$BATS_TEST_TMPDIR/in.copy"
	run -0 anon-noise -f copy --jobs 2 --schema id,n,d -c n=bucket:10 -c d=truncate:month \
		"$BATS_TEST_TMPDIR/in.copy"
	assert_output "$(cat "$BATS_TEST_TMPDIR/in.copy")"
	# a lookalike is still not a number
	printf 'n\nInfinityx\n' > "$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr -65 anon-noise -c n=round:10 "$BATS_TEST_TMPDIR/bad.csv"
	stderr_has ':2:1 (n): not a number'
}

@test "BC dates: truncated and coded in their era, shifted across 1 BC / 1 AD with the same shift" {
	run -0 anon-noise -c d=truncate:year -c t=truncate:hour - <<'EOF2'
d,t
0044-03-15 BC,0044-03-15 12:34:56+00:09:21 BC
0001-02-29 BC,0001-12-31 23:59:59.5 BC
EOF2
	assert_line --index 1 '0044-01-01 BC,0044-03-15 12:00:00+00:09:21 BC'
	assert_line --index 2 '0001-01-01 BC,0001-12-31 23:00:00.0 BC'
	run --separate-stderr -65 anon-noise -c d=truncate:year - <<'EOF2'
d
4714-11-24 BC
EOF2
	stderr_has ':2:1 (d): truncated date out of range'
	run -0 anon-noise -c d=bottomcode:0001-01-01 -c t=topcode:0100-01-01\ BC - <<'EOF2'
d,t
0044-03-15 BC,0001-01-01
0044-03-15,0200-06-30 12:00:00 BC
EOF2
	assert_line --index 1 '0001-01-01,0100-01-01 BC'
	assert_line --index 2 '0044-03-15,0200-06-30 12:00:00 BC'
	# one person's dates on both sides of the year 1, and the days around it
	cat > "$BATS_TEST_TMPDIR/in.csv" <<'EOF2'
p,d
A,0001-01-01
A,0001-12-31 BC
A,0002-01-01 BC
A,0010-06-15
A,0010-06-15 BC
A,2020-01-01
EOF2
	for key in "$KEY" other; do
		if [ "$key" = other ]; then
			key="$BATS_TEST_TMPDIR/k2"
			printf '%064x\n' 7 > "$key"
			chmod 600 "$key"
		fi
		run -0 anon-noise --key-file "$key" --entity p -c d=dateshift:days=3650 \
			"$BATS_TEST_TMPDIR/in.csv"
		mapfile -t before < <(tail -n +2 "$BATS_TEST_TMPDIR/in.csv" | cut -d, -f2)
		mapfile -t after < <(printf '%s\n' "${lines[@]:1}" | cut -d, -f2)
		mapfile -t b < <(days "${before[@]}")
		mapfile -t a < <(days "${after[@]}")
		for i in 0 1 2 3 4 5; do
			[ $(( a[i] - b[i] )) -eq $(( a[0] - b[0] )) ]
			[[ "${after[i]}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}( BC)?$ ]]
		done
		[ $(( a[0] - b[0] )) -ne 0 ]
	done
	# 1 BC is a leap year, 2 BC is not; there is no year 0
	run --separate-stderr -65 anon-noise -c d=truncate:day - <<'EOF2'
d
0002-02-29 BC
EOF2
	stderr_has ':2:1 (d): not a valid date'
	run --separate-stderr -65 anon-noise -c d=truncate:day - <<'EOF2'
d
0000-06-01
EOF2
	stderr_has ':2:1 (d): not a valid date'
}

@test "numbers beyond 64 bits: exact up to 38 significant digits, then out of range naming the limit" {
	cat > "$BATS_TEST_TMPDIR/in.csv" <<'EOF2'
id,n
1,123456789012345678.123456789012
2,-123456789012345678.123456789012
3,9223372036854775808
4,99999999999999999999999999999999999400
EOF2
	run -0 anon-noise -c n=round:1000 "$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 1 '1,123456789012346000.000000000000'
	assert_line --index 2 '2,-123456789012346000.000000000000'
	assert_line --index 3 '3,9223372036854776000'
	assert_line --index 4 '4,99999999999999999999999999999999999000'
	run -0 anon-noise -c n=bucket:0.5,label -c id=topcode:2 - < <(head -4 "$BATS_TEST_TMPDIR/in.csv")
	assert_line --index 1 '1,123456789012345678.000000000000-123456789012345678.499999999999'
	assert_line --index 3 '2,9223372036854775808.0-9223372036854775808.4'
	# 38 digits and the step's decimal are 39
	run --separate-stderr -65 anon-noise -c n=bucket:0.5 "$BATS_TEST_TMPDIR/in.csv"
	stderr_has ':5:2 (n): number out of range: at most 38 significant digits'
	# noise keeps numeric(30,12)'s 12 decimals, and every bigint fits
	run --separate-stderr -0 anon-noise --seed 1 -c n=laplace:epsilon=1,sensitivity=1000 \
		- < <(head -4 "$BATS_TEST_TMPDIR/in.csv")
	[[ "$(echo "${lines[1]}" | cut -d, -f2)" =~ ^1234567890123[0-9]{5}\.[0-9]{12}$ ]]
	# 39 digits: a data error with line and column, never the value
	printf 'id,n\n1,5\n2,1234567890123456789012345678901234567890\n' > "$BATS_TEST_TMPDIR/big.csv"
	run --separate-stderr -65 anon-noise -c n=round:10 "$BATS_TEST_TMPDIR/big.csv"
	stderr_has ':3:2 (n): number out of range: at most 38 significant digits'
	stderr_lacks '12345678901234567890'
	run --separate-stderr -65 anon-noise --seed 1 -c n=laplace:scale=1 "$BATS_TEST_TMPDIR/big.csv"
	stderr_has ':3:2 (n): number out of range: at most 38 significant digits'
	printf 'n\n0.000000000000000000000000000000000000001\n' > "$BATS_TEST_TMPDIR/fine.csv"
	run --separate-stderr -65 anon-noise -c n=round:1 "$BATS_TEST_TMPDIR/fine.csv"
	stderr_has ':2:1 (n): number out of range: at most 38 decimals'
}

@test "a grid too fine for the parameters falls back to one they fit, with a warning, never exit 65" {
	printf 'n\n123456789012345678.123456789012\n1.5\n' > "$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr -0 anon-noise --seed 2 --audit "$BATS_TEST_TMPDIR/a.json" \
		-c n=gaussian:sigma=1000 "$BATS_TEST_TMPDIR/in.csv"
	stderr_has "column 'n': its first value has 12 decimals"
	stderr_has 'the noise is on 4 decimals'
	[[ "${lines[1]}" =~ ^-?[0-9]+\.[0-9]{4}$ ]]
	[[ "${lines[2]}" =~ ^-?[0-9]+\.[0-9]{4}$ ]]
	run -0 jq -c '.columns[0].params | [.decimals, .sigma_units]' "$BATS_TEST_TMPDIR/a.json"
	assert_output '[4,10000000]'
	# -q silences the warning, not the fallback
	run --separate-stderr -0 anon-noise -q --seed 2 -c n=gaussian:sigma=1000 "$BATS_TEST_TMPDIR/in.csv"
	[ -z "$stderr" ]
	# what no grid can hold is a usage error before any row, whatever the data
	run --separate-stderr -64 anon-noise -c n=laplace:epsilon=1,clamp=0.2..0.8 "$BATS_TEST_TMPDIR/in.csv"
	stderr_has 'holds no whole number: give decimals=N'
	[ -z "$output" ]
	run --separate-stderr -64 anon-noise -c n=gaussian:sigma=100000000 "$BATS_TEST_TMPDIR/in.csv"
	stderr_has 'sigma too large'
	run --separate-stderr -64 anon-noise -c n=laplace:scale=100,decimals=18 "$BATS_TEST_TMPDIR/in.csv"
	stderr_has 'decimals=18'
}

@test "usage errors name what is wrong and list the choices" {
	run --separate-stderr -64 anon-noise -c age=fuzz "$PEOPLE"
	stderr_has "column 'age': unknown rule 'fuzz' (the rules are laplace, gaussian, dateshift, round, bucket, topcode, bottomcode or truncate)"
	run --separate-stderr -64 anon-noise -c age=laplace:scale=1,bogus=1 "$PEOPLE"
	stderr_has "laplace: unknown parameter 'bogus' (laplace takes epsilon, sensitivity, clamp, scale, decimals)"
	run --separate-stderr -64 anon-noise -c age=gaussian:sigma=1,scale=2 "$PEOPLE"
	stderr_has "gaussian: unknown parameter 'scale' (gaussian takes epsilon, delta, sensitivity, clamp, sigma, decimals)"
	run --separate-stderr -64 anon-noise -c dob=dateshift:days=5,epsilon=1 "$PEOPLE"
	stderr_has "dateshift: unknown parameter 'epsilon' (dateshift takes days, group)"
	run --separate-stderr -64 anon-noise -c dob=truncate:week "$PEOPLE"
	stderr_has "truncate: unknown unit 'week' (year, month, day or hour)"
	run --separate-stderr -64 anon-noise -c age=bucket:10,lbl "$PEOPLE"
	stderr_has "bucket: unknown argument 'lbl'"
	run --separate-stderr -64 anon-noise -c age=laplace:epsilon=x,sensitivity=1 "$PEOPLE"
	stderr_has "epsilon must be a positive decimal number (at most 18 digits), not 'x'"
	run --separate-stderr -64 anon-noise -c age=laplace:epsilon=1,epsilon=2,sensitivity=1 "$PEOPLE"
	stderr_has 'epsilon is given twice'
	run --separate-stderr -64 anon-noise -c age=laplace:scale=1,decimals=40 "$PEOPLE"
	stderr_has 'decimals must be an integer from 0 to 38'
	run --separate-stderr -64 anon-noise --seed x -c age=round:5 "$PEOPLE"
	stderr_has "--seed takes a non-negative integer, not 'x'"
	# none of these wrote a row
	[ -z "$output" ]
}

@test "--help lists every rule with its parameters, and the tool's options before the common ones" {
	run -0 anon-noise --help
	for rule in laplace gaussian dateshift round bucket topcode bottomcode truncate; do
		assert_output --partial "  $rule:"
	done
	for p in epsilon= sensitivity= clamp=LO..HI scale= delta= sigma= decimals= days= group= \
		label year\|month\|day\|hour; do
		assert_output --partial "$p"
	done
	assert_output --partial '--entity COLUMN'
	assert_output --partial '--entity TABLE.COLUMN'
	assert_output --partial '--seed N'
	assert_output --partial 'NaN, Infinity, -Infinity, infinity'
	assert_output --partial '38 significant digits'
	# the tool's part comes first
	[[ "$output" == *"--seed N"*"common options:"* ]]
}

# A dump as pg_dump writes it (plain format), the entity named differently in each table.
shop_dump() {
	cat <<'EOF2'
--
-- PostgreSQL database dump
--

SET client_encoding = 'UTF8';

COPY public.audit (seq, at) FROM stdin;
7	2020-01-01 00:00:00
\.

COPY public.orders (oid, user_id, placed) FROM stdin;
10	1	2021-05-05 12:00:00
11	2	-infinity
12	1	2022-01-01 00:00:00
13	2	0001-01-02 00:00:00
\.

COPY public.users (id, born) FROM stdin;
1	1980-01-01
2	0001-01-01
\.

EOF2
}

@test "--entity TABLE.COLUMN per table: one shift per entity across a dump's tables" {
	shop_dump | grep -v audit > "$BATS_TEST_TMPDIR/shop.sql"
	anon-noise -f pgdump --key-file "$KEY" --audit "$BATS_TEST_TMPDIR/a.json" \
		--entity public.users.id --entity orders.user_id \
		-c users.born=dateshift:days=400 -c orders.placed=dateshift:days=400 \
		"$BATS_TEST_TMPDIR/shop.sql" > "$BATS_TEST_TMPDIR/two.sql"
	out=$(cat "$BATS_TEST_TMPDIR/two.sql")
	field() { awk -F'\t' -v k="$1" -v t="$2" -v c="$3" '
		/^COPY / { tab = $0 ~ t } /^\\\./ { tab = 0 } tab && $1 == k { print $c }' <<<"$out"; }
	# the same users move by the same number of days in both tables (NULLs aside)
	s1=$(( $(days "$(field 1 users 2)") - $(days 1980-01-01) ))
	o10=$(field 10 orders 3); o12=$(field 12 orders 3)
	[ $(( $(days "${o10%% *}") - $(days 2021-05-05) )) -eq "$s1" ]
	[ $(( $(days "${o12%% *}") - $(days 2022-01-01) )) -eq "$s1" ]
	[ "${o10#* }" = 12:00:00 ]
	s2=$(( $(days "$(field 2 users 2)") - $(days 0001-01-01) ))
	o13=$(field 13 orders 3)
	[ $(( $(days "${o13%% *}") - $(days 0001-01-02) )) -eq "$s2" ]
	[ "$(field 11 orders 3)" = -infinity ]
	# the same entity value gives the same shift with one --entity per table or one for all
	shop_dump | grep -v audit | sed 's/(oid, user_id, placed)/(oid, id, placed)/' |
		anon-noise -f pgdump --key-file "$KEY" --entity id -c born=dateshift:days=400 \
			-c placed=dateshift:days=400 > "$BATS_TEST_TMPDIR/one.sql"
	diff <(grep -v '^COPY' "$BATS_TEST_TMPDIR/two.sql") <(grep -v '^COPY' "$BATS_TEST_TMPDIR/one.sql")
	run -0 jq -c '.noise.entity' "$BATS_TEST_TMPDIR/a.json"
	assert_output '["public.users.id","orders.user_id"]'
}

@test "--entity: a table with per-entity dates but no entity column stops the run at its COPY" {
	shop_dump > "$BATS_TEST_TMPDIR/shop.sql"
	# audit has no column any --entity names: refused at its COPY line, before its rows
	run --separate-stderr -64 anon-noise -f pgdump --key-file "$KEY" --entity users.id \
		--entity orders.user_id -c placed=dateshift:days=10 -c public.audit.at=dateshift:days=10 \
		"$BATS_TEST_TMPDIR/shop.sql"
	stderr_has "table public.audit: 'public.audit.at' is shifted per entity, but no --entity names a column of this table (users.id, orders.user_id): add --entity public.audit.COLUMN"
	stderr_has ':7: the table is refused'
	refute_output --partial '2020-01-01'
	refute_output --partial 'COPY public.orders'
	assert_line --index -1 --partial 'RAISE EXCEPTION'
	# --on-error does not let its dates out unshifted
	run --separate-stderr -64 anon-noise -f pgdump --key-file "$KEY" --on-error keep \
		--entity users.id -c at=dateshift:days=10 "$BATS_TEST_TMPDIR/shop.sql"
	refute_output --partial '2020-01-01'
	# a table with a column of the name the entity has in another table: still refused at
	# its COPY line (lib resolves --entity per table, partitions included)
	sed 's/(seq, at)/(id, at)/' "$BATS_TEST_TMPDIR/shop.sql" > "$BATS_TEST_TMPDIR/shop2.sql"
	run --separate-stderr -64 anon-noise -f pgdump --key-file "$KEY" --entity users.id \
		-c at=dateshift:days=10 -c born=dateshift:days=10 "$BATS_TEST_TMPDIR/shop2.sql"
	stderr_has "table public.audit: 'at' is shifted per entity, but no --entity names a column of this table (users.id): add --entity public.audit.COLUMN"
	stderr_has ':7: the table is refused'
	refute_output --partial '2020-01-01'
	refute_output --partial 'COPY public.users'
	# two --entity naming one table
	run --separate-stderr -64 anon-noise -f pgdump --key-file "$KEY" --entity orders.oid \
		--entity orders.user_id -c placed=dateshift:days=10 "$BATS_TEST_TMPDIR/shop.sql"
	stderr_has 'table public.orders: --entity orders.oid and --entity orders.user_id both name one of its columns: give one per table'
	# an --entity that names nothing, as -c would
	run --separate-stderr -64 anon-noise -f pgdump --key-file "$KEY" --entity orders.user_id \
		--entity nosuch.id -c placed=dateshift:days=10 "$BATS_TEST_TMPDIR/shop.sql"
	stderr_has "column 'nosuch.id' names no column"
	# a table without per-entity dates needs no entity column
	run --separate-stderr -0 anon-noise -f pgdump --key-file "$KEY" --entity orders.user_id \
		-c placed=dateshift:days=10 -c audit.at=truncate:year "$BATS_TEST_TMPDIR/shop.sql"
	assert_output --partial $'7\t2020-01-01 00:00:00'
	# csv: one entity column per table
	run --separate-stderr -64 anon-noise --key-file "$KEY" --entity pid --entity id \
		-c d=dateshift:days=3 - <<'EOF2'
id,pid,d
1,A,2020-01-01
EOF2
	stderr_has '--entity is given 2 times (pid, id)'
	[[ "$output" != *2020* ]]
}

@test "the EXAMPLES of anon-noise(1) on files run as written" {
	cd "$BATS_TEST_TMPDIR"
	printf '%064x\n' 1 > anon.key
	chmod 600 anon.key
	printf 'id,salary,age,dob\n1,52345.67,34,1980-03-04\n2,-10.50,95,0044-03-15 BC\n' > people.csv
	printf 'patient,admitted\nP1,2024-01-10\nP2,2024-02-20\n' > stays.csv
	printf 'patient,taken\nP1,2024-01-10\n' > samples.csv
	mapfile -d '' blocks < <(examples "$TOP/man/man1/anon-noise.1")
	[ "${#blocks[@]}" -eq 4 ]
	run --separate-stderr -0 bash -eo pipefail -c "${blocks[0]}"
	assert_line --index 0 'id,salary,age,dob'
	[[ "${lines[1]}" =~ ^1,-?[0-9]+\.[0-9]{2},30-39,1980-01-01$ ]]
	[[ "${lines[2]}" =~ ^2,-?[0-9]+\.[0-9]{2},90-99,"0044-01-01 BC"$ ]]
	run --separate-stderr -0 bash -eo pipefail -c "${blocks[1]}"
	# P1's admission and sample, taken the same day, moved the same way in both files
	[ "${#lines[@]}" -eq 5 ]
	[ "$(echo "${lines[1]}" | cut -d, -f2)" = "$(echo "${lines[4]}" | cut -d, -f2)" ]
	# the dump examples run in t/noise-pgdata.bats, against a server
}
