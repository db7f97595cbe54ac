#!/usr/bin/env bats
# man-examples.bats: every manual page renders cleanly, and every command of every EXAMPLES
# section runs as written against the bundled sample (demo/sample.csv, demo/demo.key), so an
# example that does not work fails make check.
#
# t/tool/man-examples.py takes the examples out of the mdoc source (.Bd -literal displays and
# .Dl lines of EXAMPLES). Each runs with bash -e -o pipefail in a directory of its own that
# holds the inputs the examples name, all made from the sample:
#   anon.key                              demo/demo.key (mode 0600)
#   users.csv cards.csv people.csv in.csv big.csv   demo/sample.csv
#   orders.csv                            id,user_id,total: 20 orders of the sample's people
#   stays.csv samples.csv                 patient,admitted / patient,taken: the sample's ids
#   tokens.csv                            id,token: upper-case hex tokens
#   audit.jsonl                           records of a pipeline run "nightly-42" and a failure
# An example that names no key of its own (no --key-file, no ANON_KEY) gets
# ANON_KEY_FILE=anon.key, as a reader who followed KEYS in anon(7) has. HOME is the example's
# directory, so no ~/.psqlrc is read.
#
# Examples that run psql or pg_dump need a server: they run only in the test tagged pg, on a
# throwaway server whose databases are made again before each example from the sample, as
# the page that shows the example describes them (see fixture below). Such an example fails
# when it exits non-zero or when psql printed an ERROR (psql without ON_ERROR_STOP exits 0).
# A transcript ("$ command" then its output) must print that output exactly; the audit record
# that anon-audit(5) shows must have the members, in the order, of the record its command writes.

load helper

PAGES=("$TOP"/man/man*/*.[0-9])

setup_file() {
	export EX="$BATS_FILE_TMPDIR/examples" INPUTS="$BATS_FILE_TMPDIR/inputs"
	mkdir -p "$EX" "$INPUTS"
	python3 "$TOP/t/tool/man-examples.py" "$EX" "${PAGES[@]}" > "$EX/index.tsv"
	make_inputs "$INPUTS"
	if pg_bindir >/dev/null; then
		pg_start
	fi
}

teardown_file() {
	pg_stop
}

make_inputs() { # DIR
	local d=$1 f i
	cp "$TOP/demo/demo.key" "$d/anon.key"
	chmod 600 "$d/anon.key"
	for f in users cards people in big; do
		cp "$TOP/demo/sample.csv" "$d/$f.csv"
	done
	{
		echo id,user_id,total
		for i in $(seq 1 20); do echo "$i,$((i % 8 + 1)),$i.50"; done
	} > "$d/orders.csv"
	printf '%s\n' patient,admitted 1,2024-01-15 2,2024-02-29 1,2024-03-01 7,2023-12-31 > "$d/stays.csv"
	printf '%s\n' patient,taken 1,2024-01-16 7,2024-01-02 2,2024-03-10 > "$d/samples.csv"
	printf '%s\n' id,token 1,DEADBEEF00 2,0123456789ABCDEF 3,00000000 4,FFFFF > "$d/tokens.csv"
	(
		cd "$d"
		export ANON_KEY_FILE=anon.key ANON_AUDIT=audit.jsonl ANON_RUN_ID=nightly-42
		anon-mask -c phone=last:4 users.csv | anon-hash -c email=email > /dev/null
		anon-hash -c email=digits users.csv > /dev/null 2>&1 || true
	)
}

# The index lines of the examples: ID KIND PG WHERE TITLE.
examples() {
	cat "$EX/index.tsv"
}

# fixture PAGE: the databases the examples of PAGE read and write, made again from the
# sample: users and orders with the columns that page's examples name (keys hashed to int64
# are bigint, as anon-hash(1) says they must be), cards, the *_anon tables the examples load,
# and the empty databases they restore into. PGDATABASE is shop. orders has 20 orders of the
# sample's people, and two more: one placed at infinity with a NaN total, one placed BC.
fixture() { # PAGE
	local users orders="id, user_id, total"
	case $1 in
	anon.7) users="id, email, phone, name" ;;
	anon-hash.1)
		users="id::bigint AS id, email, name"
		orders="id::bigint AS id, user_id::bigint AS user_id, total" ;;
	anon-mask.1) users="id, email, phone, name, card" ;;
	anon-fpe.1) users="id, email" orders="id, user_id" ;;
	anon-noise.1) users="id, email, dob AS born" orders="id, user_id, placed, total" ;;
	anon-token.1) users="id, email, phone, name" ;;
	*) return 1 ;;
	esac
	local db
	for db in shop shop_dev dev clinic clinic_dev; do
		sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	done
	local load_sample="CREATE TEMP TABLE sample (id int, email text, phone text, name text, age int,
	    card text, dob date, salary numeric(12,2), notes text);
	  COPY sample FROM STDIN (FORMAT csv, HEADER)"
	sql -d shop -c "$load_sample" -c "
	  CREATE TABLE users AS SELECT $users FROM sample;
	  ALTER TABLE users ADD PRIMARY KEY (id);
	  CREATE TABLE users_anon (LIKE users);
	  CREATE TEMP TABLE all_orders AS
	    SELECT i AS id, i % 8 + 1 AS user_id, date '2024-01-01' + i AS placed,
	           (i + 0.5)::numeric(30,12) AS total
	    FROM generate_series(1, 20) i;
	  INSERT INTO all_orders VALUES (21, 1, 'infinity', 'NaN'), (22, 2, '0044-03-15 BC', 1.25);
	  CREATE TABLE orders AS SELECT $orders FROM all_orders;
	  CREATE TABLE orders_anon (LIKE orders);
	  CREATE TABLE cards AS SELECT id, card AS number FROM sample;" < "$TOP/demo/sample.csv"
	sql -d dev -c "$load_sample" -c "CREATE TABLE users AS SELECT $users FROM sample WHERE false" \
		< "$TOP/demo/sample.csv"
	sql -d clinic -c "$load_sample" -c "
	  CREATE TABLE patients AS SELECT id, name, dob AS birth, age FROM sample" < "$TOP/demo/sample.csv"
}

# run_example ID: run the example in a fresh directory of inputs. Sets ex_rc and ex_dir; its
# stdout and stderr are in $ex_dir/.stdout and $ex_dir/.stderr.
run_example() { # ID
	local id=$1 keyenv=()
	ex_dir=$(mktemp -d "$BATS_TEST_TMPDIR/$id.XXXXXX")
	cp -p "$INPUTS"/* "$ex_dir/"
	grep -qE 'ANON_KEY|--key-file' "$EX/$id.sh" || keyenv=("ANON_KEY_FILE=$ex_dir/anon.key")
	ex_rc=0
	(cd "$ex_dir" && env HOME="$ex_dir" PGDATABASE=shop "${keyenv[@]}" \
		timeout 120 bash -e -o pipefail "$EX/$id.sh" >"$ex_dir/.stdout" 2>"$ex_dir/.stderr") ||
		ex_rc=$?
}

# check_example ID KIND PG WHERE TITLE: run it and append what went wrong, if anything, to
# fails.
check_example() {
	local id=$1 kind=$2 pg=$3 where=$4 title=$5 what=""
	if [ "$kind" = bad ]; then
		fails+=("$where: cannot be read as commands: $title")
		return 0
	fi
	run_example "$id"
	if [ "$ex_rc" -ne 0 ]; then
		what="exit $ex_rc"
	elif grep -qE '(^|: )(ERROR|FATAL): ' "$ex_dir/.stderr"; then
		what="psql printed an error"
	elif [ "$kind" = transcript ] && ! cmp -s "$EX/$id.out" "$ex_dir/.stdout"; then
		what="printed $(head -c 200 "$ex_dir/.stdout" | tr '\n' ' '), the page shows $(tr '\n' ' ' < "$EX/$id.out")"
	elif [ "$kind" = record ]; then
		what=$(check_record "$id")
	elif [ "$pg" = 1 ]; then
		what=$(check_loaded "$id")
	fi
	if [ -n "$what" ]; then
		fails+=("$where ($title): $what; stderr: $(head -c 600 "$ex_dir/.stderr" | tr '\n' ' ')")
	fi
	return 0
}

# The record the page shows against the last one its command wrote: the same members in the
# same order, and the same description of the run.
check_record() { # ID
	local shown="$EX/$1.json" written="$ex_dir/audit.jsonl"
	local shape='[paths | map(tostring) | join(".")]'
	local run='{tool, format, input, status, exit_code, on_error, jobs, algorithm, length,
	            columns: [.columns[] | {name, rule, params}]}'
	[ -s "$written" ] || { echo "the command wrote no audit record"; return 0; }
	[ "$(jq -c "$shape" "$shown")" = "$(tail -n 1 "$written" | jq -c "$shape")" ] ||
		{ echo "its members differ from those of the record the command writes"; return 0; }
	[ "$(jq -c "$run" "$shown")" = "$(tail -n 1 "$written" | jq -c "$run")" ] ||
		echo "it describes another run than its command's"
	return 0
}

# What an example loads arrived: the table of each "psql ... COPY t FROM STDIN" has rows, and
# each database a dump is restored into ("psql -d db -f -", "psql db") has tables.
check_loaded() { # ID
	local line db t
	while IFS= read -r line; do
		line=${line##*psql }
		db=shop
		[[ $line =~ -d\ ([A-Za-z_]+) ]] && db=${BASH_REMATCH[1]}
		if [[ $line =~ COPY\ ([A-Za-z_]+)\ FROM\ STDIN ]]; then
			t=${BASH_REMATCH[1]}
			[ "$(rows -d "$db" -c "SELECT count(*) > 0 FROM $t")" = t ] || echo "$db.$t is empty"
		elif [[ $line =~ -f\ -$ ]] || [[ $line =~ ^([A-Za-z_]+)$ ]]; then
			[[ $line =~ ^([A-Za-z_]+)$ ]] && db=${BASH_REMATCH[1]}
			[ "$(rows -d "$db" -c "SELECT count(*) > 0 FROM pg_tables WHERE schemaname = 'public'")" = t ] ||
				echo "nothing was restored into $db"
		fi
	done < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$EX/$1.sh" | grep -E '(^|[|])[[:space:]]*psql ' | grep -v 'TO STDOUT')
	return 0
}

report() {
	if [ "${#fails[@]}" -gt 0 ]; then
		printf 'example failed: %s\n' "${fails[@]}" >&2
	fi
}

@test "every manual page renders with mandoc -Tascii, without a message" {
	local p
	for p in "${PAGES[@]}"; do
		run --separate-stderr -0 mandoc -Tascii -Wwarning "$p"
		assert_equal "$stderr" ""
		[ -n "$output" ]
	done
}

@test "no rendered line shows a raw macro, a roff escape or broken quoting" {
	local p bad=()
	for p in "${PAGES[@]}"; do
		# a line that starts with a macro; \( \& \* \[ printed as they are; a word closed by
		# two quotes, as .Qq A No or Qq B renders ("A or "B""); a doubled quote inside a
		# word (t."A""B") is SQL
		while IFS= read -r line; do
			bad+=("${p##*/}: $line")
		done < <(mandoc -Tascii "$p" | sed 's/.\x08//g' |
			grep -nE '^[[:space:]]*\.[A-Za-z]{2}([[:space:]]|$)|\\[(&*[]|[[:alnum:]]""([]),.;:[:space:]]|$)')
	done
	[ "${#bad[@]}" -eq 0 ] || printf 'badly rendered: %s\n' "${bad[@]}" >&2
	assert_equal "${#bad[@]}" 0
}

@test "every page has an EXAMPLES section with examples" {
	local p
	for p in "${PAGES[@]}"; do
		run -0 grep -c "^${p##*/}\.[0-9]*"$'\t' "$EX/index.tsv"
		[ "$output" -ge 1 ]
	done
}

@test "every example that needs no server runs as written" {
	local id kind pg where title fails=()
	while IFS=$'\t' read -r id kind pg where title; do
		[ "$pg" = 1 ] && continue
		check_example "$id" "$kind" "$pg" "$where" "$title"
	done < <(examples)
	report
	assert_equal "${#fails[@]}" 0
}

# bats test_tags=pg
@test "every example that needs PostgreSQL runs as written" {
	[ -n "${PG_DIR:-}" ] || skip "PostgreSQL server binaries not installed"
	local id kind pg where title page fails=()
	while IFS=$'\t' read -r id kind pg where title; do
		[ "$pg" = 1 ] || continue
		page=${where%%:*}
		if ! fixture "$page"; then
			fails+=("$where: no stand-in databases for the examples of $page")
			continue
		fi
		check_example "$id" "$kind" "$pg" "$where" "$title"
	done < <(examples)
	report
	assert_equal "${#fails[@]}" 0
}
