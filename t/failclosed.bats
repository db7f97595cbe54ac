#!/usr/bin/env bats
# failclosed.bats: the "fail closed" promise (DESIGN.md, "Fail closed"): personal data does
# not reach the copy by mistake. Every case checks what reached the target (a PostgreSQL
# table, a restored database, or stdout when nothing may be written), the exit status and
# stderr; the clear value $SENTINEL must never show up in the target or in a diagnostic.
#
# The rollback lines a failing tool writes last (unless --no-rollback):
#   copy, tsv  \.anon: TOOL failed (exit N): this output is incomplete; do not load it
#   csv        "\.anon: TOOL failed (exit N): this output is incomplete; do not load it
#   pgdump     [\. when inside a COPY block]
#              \set ON_ERROR_STOP on
#              DO $anon_abort$ BEGIN RAISE EXCEPTION 'anon: TOOL failed (exit N): this dump is incomplete; nothing of it may be restored'; END $anon_abort$;
#
# Tests tagged pg need a PostgreSQL server of their own (pg_start); without one they skip and
# the others still run.

load helper

SENTINEL=sentinel.person@example.com

setup_file() {
	pg_bindir >/dev/null || return 0
	pg_start
	export SRC="$BATS_FILE_TMPDIR"
	# 100,000 people; row 50,000 holds the sentinel, the only email without a digit (so
	# anon-hash -c email=digits fails there), and the only non-ASCII name.
	sql <<-'EOF'
	CREATE EXTENSION pgcrypto;
	CREATE TABLE people (id int PRIMARY KEY, email text, name text);
	INSERT INTO people
	  SELECT i, CASE WHEN i = 50000 THEN 'sentinel.person@example.com' ELSE 'user' || i || '@example.com' END,
	            CASE WHEN i = 50000 THEN 'Zoé' ELSE 'Name ' || i END
	  FROM generate_series(1, 100000) i;
	CREATE TABLE people_dst (LIKE people);
	-- values holding the COPY delimiter '|'
	CREATE TABLE pipes (id int PRIMARY KEY, email text, note text);
	INSERT INTO pipes VALUES (1, 'a|b@example.com', 'x|y'), (2, 'sentinel.person|x@example.com', 'plain'),
	  (3, NULL, '|'), (4, '', E'back\\slash|'), (5, 'sentinel.person@example.com', E'tab\there|');
	CREATE TABLE pipes_dst (LIKE pipes);
	CREATE TABLE dup_dst (id int, email text, name text, email2 text);
	CREATE TABLE onerr_dst (id int, a text, b text);
	-- a dump whose failing table comes first by name
	CREATE DATABASE dumpsrc;
	CREATE DATABASE shop;
	CREATE DATABASE weird;
	EOF
	sql -d dumpsrc <<-'EOF'
	CREATE TABLE a_people (id int PRIMARY KEY, email text, name text);
	INSERT INTO a_people
	  SELECT i, CASE WHEN i = 50000 THEN 'sentinel.person@example.com' ELSE 'user' || i || '@example.com' END,
	            CASE WHEN i = 50000 THEN 'Zoé' ELSE 'Name ' || i END
	  FROM generate_series(1, 100000) i;
	CREATE TABLE b_other (id int PRIMARY KEY, note text);
	INSERT INTO b_other VALUES (1, 'note 1'), (2, 'note 2');
	EOF
	# orders sorts before users: its data passes first
	sql -d shop <<-'EOF'
	CREATE TABLE orders (id int PRIMARY KEY, note text);
	INSERT INTO orders VALUES (1, 'order 1'), (2, 'order 2');
	CREATE TABLE users (id int PRIMARY KEY, email text, name text);
	INSERT INTO users VALUES (1, 'sentinel.person@example.com', 'Sentinel Person'),
	                         (2, 'second.person@example.com', 'Second Person');
	EOF
	# a table name holding a double quote and a newline: pg_dump writes its COPY statement on
	# two lines. zz_users comes after it.
	sql -d weird <<-'EOF'
	CREATE TABLE "we""ird
	name" (email text);
	INSERT INTO "we""ird
	name" VALUES ('sentinel.person@example.com');
	CREATE TABLE zz_users (id int PRIMARY KEY, email text);
	INSERT INTO zz_users VALUES (1, 'sentinel.person@example.com'), (2, 'second.person@example.com');
	EOF
	local order='COPY (SELECT * FROM people ORDER BY id) TO STDOUT'
	sql -c "$order" > "$SRC/people.copy"
	sql -c "$order (FORMAT csv, HEADER)" > "$SRC/people.csv"
	sql -c "$order (FORMAT text, HEADER)" > "$SRC/people.tsv"
	# the same rows in LATIN1: 'Zoé' is then not UTF-8, which anon-mask refuses (exit 65)
	PGCLIENTENCODING=LATIN1 sql -c "$order" > "$SRC/people.latin1.copy"
	sql -c "COPY pipes TO STDOUT (DELIMITER '|')" > "$SRC/pipes.copy"
	sql -c "COPY users TO STDOUT (FORMAT binary)" -d shop > "$SRC/users.bin"
	pg_dump --no-owner dumpsrc > "$SRC/dumpsrc.sql"
	pg_dump --no-owner shop > "$SRC/shop.sql"
	pg_dump --no-owner --inserts shop > "$SRC/shop.inserts.sql"
	pg_dump --no-owner --column-inserts shop > "$SRC/shop.colinserts.sql"
	pg_dump --no-owner --inserts -t orders shop > "$SRC/orders.inserts.sql"
	pg_dump --no-owner -Fc shop > "$SRC/shop.fc"
	pg_dump --no-owner -Fc -Z0 shop > "$SRC/shop.fc0"
	pg_dump --no-owner -Ft shop > "$SRC/shop.tar"
	pg_dump --no-owner weird > "$SRC/weird.sql"
	SUBKEY=$(python3 "$TOP/t/oracle.py" subkey "$(cat "$(test_key)")" anon-hash hash-hmac-sha256)
	export SUBKEY
}

teardown_file() {
	pg_stop
}

setup() {
	KEY=$(test_key)
	KEYHEX=$(cat "$KEY")
	T=$BATS_TEST_TMPDIR
	if [ -n "${PG_DIR:-}" ]; then
		sql -c "TRUNCATE people_dst, pipes_dst, dup_dst, onerr_dst"
	fi
}

need_pg() {
	[ -n "${PG_DIR:-}" ] || skip "PostgreSQL server binaries not installed"
}

# --- helpers ------------------------------------------------------------------------------

# The hex HMAC anon-hash gives a value by default, from the independent oracle.
hmac_of() {
	python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash hash-hmac-sha256 "" sha256 "$1"
}

# The clear value is in none of the files.
refute_clear() {
	local f
	for f; do
		[ -e "$f" ] || { echo "no file $f" >&2; return 1; }
		if grep -aqF -- "$SENTINEL" "$f"; then
			echo "the clear value reached $f" >&2
			return 1
		fi
	done
}

# The clear value is not in the string (stderr of a run).
refute_clear_in() {
	if [[ "$1" == *"$SENTINEL"* ]]; then
		echo "the clear value is in a diagnostic: $1" >&2
		return 1
	fi
}

rollback_copy() { # TOOL CODE
	printf '%s' '\.anon: '"$1"' failed (exit '"$2"'): this output is incomplete; do not load it'
}
rollback_csv() {
	printf '%s' '"\.anon: '"$1"' failed (exit '"$2"'): this output is incomplete; do not load it'
}
rollback_dump() {
	printf '%s' "DO \$anon_abort\$ BEGIN RAISE EXCEPTION 'anon: $1 failed (exit $2): this dump is incomplete; nothing of it may be restored'; END \$anon_abort\$;"
}

# A run refused before any of its input passed writes its rollback line alone: an empty
# stream would load as zero rows and let the rest of the loading transaction commit.
assert_only_rollback() { # OUTPUT FORMAT TOOL CODE
	case $2 in
	csv) assert_equal "$1" "$(rollback_csv "$3" "$4")" ;;
	pgdump) assert_equal "$1" "$(printf '%s\n%s' '\set ON_ERROR_STOP on' "$(rollback_dump "$3" "$4")")" ;;
	*) assert_equal "$1" "$(rollback_copy "$3" "$4")" ;;
	esac
}

# The dump in FILE ends with the pgdump rollback of TOOL with CODE (outside a COPY block):
# \set ON_ERROR_STOP on first, except inside pg_dump's \restrict block, where psql refuses
# meta-commands (pg_dump 15.14 and later write one around the whole script).
assert_dump_rollback() { # FILE TOOL CODE
	assert_equal "$(tail -n 1 "$1")" "$(rollback_dump "$2" "$3")"
	if grep -E '^\\(un)?restrict ' "$1" | tail -n 1 | grep -q '^\\restrict '; then
		[ "$(tail -n 2 "$1" | head -n 1)" != '\set ON_ERROR_STOP on' ]
	else
		assert_equal "$(tail -n 2 "$1" | head -n 1)" '\set ON_ERROR_STOP on'
	fi
}

# pipe_into_psql IN TOOL ARGS... -- PSQL-ARGS...
#   TOOL ARGS < IN | tee $T/out | psql --single-transaction -v ON_ERROR_STOP=1 PSQL-ARGS
# under pipefail. Sets pipe_rc (the pipeline's status), tool_rc and psql_rc; the tool's
# stderr is in $T/tool.err, psql's output in $T/psql.out and $T/psql.err.
pipe_into_psql() {
	run -0 bash -c '
		set -o pipefail
		t=$1 in=$2; shift 2
		tool=()
		while [ "$1" != -- ]; do tool+=("$1"); shift; done
		shift
		"${tool[@]}" <"$in" 2>"$t/tool.err" | tee "$t/out" |
			psql -X -q --single-transaction -v ON_ERROR_STOP=1 "$@" >"$t/psql.out" 2>"$t/psql.err"
		echo "$? ${PIPESTATUS[*]}"' _ "$T" "$@"
	read -r pipe_rc tool_rc _ psql_rc <<<"$output"
}

fresh_db() {
	sql -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}

# Tables in the database outside the catalogs.
ntables() {
	rows -d "$1" -c "SELECT count(*) FROM information_schema.tables
	                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
}

# Restore FILE into a fresh database DB the safe way; sets restore_rc.
restore() { # DB FILE
	fresh_db "$1"
	restore_rc=0
	psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d "$1" -f "$2" >"$T/restore.out" 2>"$T/restore.err" ||
		restore_rc=$?
}

count_dst() {
	rows -c "SELECT count(*) FROM ${1:-people_dst}"
}

# --- A. a failure after output began ends it with a line PostgreSQL refuses ---------------

# bats test_tags=pg
@test "A copy: a data error at row 50,000 of 100,000 leaves the target table empty" {
	need_pg
	pipe_into_psql "$SRC/people.copy" anon-hash -f copy --schema id,email,name -c email=digits --key-file "$KEY" \
		-- -c "COPY people_dst FROM STDIN"
	assert_equal "$tool_rc" 65
	[ "$psql_rc" -ne 0 ]
	[ "$pipe_rc" -ne 0 ]
	run -0 count_dst
	assert_output 0
	assert_equal "$(tail -n 1 "$T/out")" "$(rollback_copy anon-hash 65)"
	# the complete rows before the error went out, then the rollback line
	run -0 bash -c "tail -n 2 '$T/out' | head -n 1"
	assert_output --regexp $'^49999\tuser[0-9]{5}@example\\.com\tName 49999$'
	assert_file_contains "$T/psql.err" 'end-of-copy marker corrupt'
	run -0 cat "$T/tool.err"
	assert_output --partial 'digits rule: the value has no digits'
	refute_clear "$T/out" "$T/tool.err"
}

# bats test_tags=pg
@test "A tsv: a data error at row 50,000 leaves the target table empty" {
	need_pg
	pipe_into_psql "$SRC/people.tsv" anon-hash -f tsv -c email=digits --key-file "$KEY" \
		-- -c "COPY people_dst FROM STDIN (FORMAT text, HEADER)"
	assert_equal "$tool_rc" 65
	[ "$psql_rc" -ne 0 ]
	[ "$pipe_rc" -ne 0 ]
	run -0 count_dst
	assert_output 0
	assert_equal "$(tail -n 1 "$T/out")" "$(rollback_copy anon-hash 65)"
	assert_file_contains "$T/psql.err" 'end-of-copy marker corrupt'
	refute_clear "$T/out" "$T/tool.err"
}

# bats test_tags=pg
@test "A csv: a data error at row 50,000 leaves the target table empty" {
	need_pg
	pipe_into_psql "$SRC/people.csv" anon-hash -f csv -c email=digits --key-file "$KEY" \
		-- -c "COPY people_dst FROM STDIN WITH (FORMAT csv, HEADER)"
	assert_equal "$tool_rc" 65
	[ "$psql_rc" -ne 0 ]
	[ "$pipe_rc" -ne 0 ]
	run -0 count_dst
	assert_output 0
	assert_equal "$(tail -n 1 "$T/out")" "$(rollback_csv anon-hash 65)"
	run -0 bash -c "tail -n 2 '$T/out' | head -n 1"
	assert_output --regexp '^49999,user[0-9]{5}@example\.com,Name 49999$'
	assert_file_contains "$T/psql.err" 'unterminated CSV quoted field'
	refute_clear "$T/out" "$T/tool.err"
}

# bats test_tags=pg
@test "A pgdump: a data error in the first table's COPY block restores nothing at all" {
	need_pg
	fresh_db target_a
	pipe_into_psql "$SRC/dumpsrc.sql" anon-hash -f pgdump -c public.a_people.email=digits --key-file "$KEY" \
		-- -d target_a -f -
	assert_equal "$tool_rc" 65
	[ "$psql_rc" -ne 0 ]
	[ "$pipe_rc" -ne 0 ]
	# neither a_people nor b_other (which came later in the dump) exists
	run -0 ntables target_a
	assert_output 0
	assert_dump_rollback "$T/out" anon-hash 65
	# inside a COPY block: its end marker first, after the last complete row (and no \set
	# line: pg_dump's \restrict block is still open there)
	assert_equal "$(tail -n 2 "$T/out" | head -n 1)" '\.'
	run -0 bash -c "tail -n 3 '$T/out' | head -n 1"
	assert_output --regexp $'^49999\tuser[0-9]{5}@example\\.com\tName 49999$'
	run -1 grep -q 'COPY public.b_other' "$T/out"
	refute_clear "$T/out" "$T/tool.err"
}

# bats test_tags=pg
@test "A --no-rollback: the output ends with the last complete row" {
	need_pg
	local fmt in
	for fmt in copy tsv csv pgdump; do
		case $fmt in
		copy) in=$SRC/people.copy; set -- --schema id,email,name -c email=digits ;;
		tsv) in=$SRC/people.tsv; set -- -c email=digits ;;
		csv) in=$SRC/people.csv; set -- -c email=digits ;;
		pgdump) in=$SRC/dumpsrc.sql; set -- -c public.a_people.email=digits ;;
		esac
		run --separate-stderr -65 bash -c 'f=$1 k=$2 in=$3 out=$4; shift 4
			anon-hash -f "$f" --no-rollback --key-file "$k" "$@" < "$in" > "$out"' \
			_ "$fmt" "$KEY" "$in" "$T/$fmt.out" "$@"
		refute_clear_in "$stderr"
		run -0 tail -n 1 "$T/$fmt.out"
		assert_output --regexp $'^49999[,\t]user[0-9]{5}@example\\.com[,\t]Name 49999$'
		run -1 grep -aE -e '^"?\\\.anon:' -e 'anon_abort' -e '^\\set ON_ERROR_STOP' "$T/$fmt.out"
		refute_clear "$T/$fmt.out"
	done
	# what --no-rollback gives up: psql then loads the rows before the error
	run -0 bash -c "psql -X -q --single-transaction -v ON_ERROR_STOP=1 -c 'COPY people_dst FROM STDIN' < '$T/copy.out'"
	run -0 count_dst
	assert_output 49999
}

# bats test_tags=pg
@test "A pipeline: anon-mask fails, anon-hash after it exits 65 and rolls back too" {
	need_pg
	run -0 bash -c '
		set -o pipefail
		t=$1 k=$2 in=$3
		anon-mask -f copy --schema id,email,name -c name=first:1 <"$in" 2>"$t/mask.err" |
			anon-hash -f copy --schema id,email,name -c email --key-file "$k" 2>"$t/hash.err" |
			tee "$t/out" |
			PGCLIENTENCODING=LATIN1 psql -X -q --single-transaction -v ON_ERROR_STOP=1 \
				-c "COPY people_dst FROM STDIN" 2>"$t/psql.err"
		echo "$? ${PIPESTATUS[*]}"' _ "$T" "$KEY" "$SRC/people.latin1.copy"
	read -r pipe_rc mask_rc hash_rc _ psql_rc <<<"$output"
	assert_equal "$mask_rc" 65
	assert_equal "$hash_rc" 65
	[ "$psql_rc" -ne 0 ]
	[ "$pipe_rc" -ne 0 ]
	run -0 count_dst
	assert_output 0
	# the second stage's own rollback line ends what reached psql
	assert_equal "$(tail -n 1 "$T/out")" "$(rollback_copy anon-hash 65)"
	run -0 cat "$T/mask.err"
	assert_output --partial 'invalid UTF-8'
	run -0 cat "$T/hash.err"
	assert_output --partial 'an earlier stage'
	assert_file_contains "$T/psql.err" 'end-of-copy marker corrupt'
	refute_clear "$T/out" "$T/mask.err" "$T/hash.err"
}

# bats test_tags=pg
@test "A pipeline of pgdump stages: the second exits 65 and the restore loads nothing" {
	need_pg
	fresh_db target_a2
	run -0 bash -c '
		set -o pipefail
		t=$1 k=$2 in=$3
		anon-hash -f pgdump -c public.a_people.email=digits --key-file "$k" <"$in" 2>"$t/hash.err" |
			anon-mask -f pgdump -c public.b_other.note=redact 2>"$t/mask.err" |
			tee "$t/out" |
			psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d target_a2 -f - >"$t/psql.out" 2>"$t/psql.err"
		echo "$? ${PIPESTATUS[*]}"' _ "$T" "$KEY" "$SRC/dumpsrc.sql"
	read -r pipe_rc hash_rc mask_rc _ psql_rc <<<"$output"
	assert_equal "$hash_rc" 65
	assert_equal "$mask_rc" 65
	[ "$psql_rc" -ne 0 ]
	[ "$pipe_rc" -ne 0 ]
	run -0 ntables target_a2
	assert_output 0
	assert_equal "$(tail -n 1 "$T/out")" "$(rollback_dump anon-mask 65)"
	run -0 cat "$T/mask.err"
	assert_output --partial 'an earlier stage'
	refute_clear "$T/out" "$T/hash.err" "$T/mask.err"
}

# --- B. what cannot be read is refused at first sight --------------------------------------

# bats test_tags=pg
@test "B pg_dump -Fc, -Fc -Z0 and -Ft archives: exit 65 at byte 0, only the rollback line written, pg_dump -Fp named" {
	need_pg
	local f fmt
	for f in shop.fc shop.fc0 shop.tar; do
		for fmt in pgdump copy; do
			if [ "$fmt" = copy ]; then
				set -- --schema id,email,name -c email
			else
				set -- -c public.users.email
			fi
			run --separate-stderr -65 anon-hash -f "$fmt" "$@" --key-file "$KEY" < "$SRC/$f"
			assert_only_rollback "$output" "$fmt" anon-hash 65
			[[ "$stderr" == *"pg_dump -Fp"* ]]
			refute_clear_in "$stderr"
		done
		# refused whatever is selected: nothing selected still is not a pass-through
		run --separate-stderr -65 anon-hash -f pgdump < "$SRC/$f"
		assert_only_rollback "$output" pgdump anon-hash 65
		[[ "$stderr" == *"pg_dump -Fp"* ]]
	done
	# at first sight: the tool stops reading long before the end of its input
	run -0 bash -c 'f=$1 k=$2
		{ cat "$f"; head -c 20000000 /dev/zero; } | anon-hash -f pgdump -c public.users.email --key-file "$k" >/dev/null 2>&1
		echo "${PIPESTATUS[*]}"' _ "$SRC/shop.fc" "$KEY"
	# the producer met a closed pipe (141, or 1 where SIGPIPE is ignored)
	read -r producer_rc tool_rc <<<"$output"
	assert_equal "$tool_rc" 65
	[ "$producer_rc" -ne 0 ]
}

# bats test_tags=pg
@test "B binary COPY: exit 65 at byte 0, only the rollback line written, FORMAT text or csv named" {
	need_pg
	local fmt
	head -c 11 "$SRC/users.bin" | cmp - <(printf 'PGCOPY\n\377\r\n\0')
	for fmt in copy pgdump; do
		if [ "$fmt" = copy ]; then
			set -- --schema id,email,name -c email
		else
			set -- -c public.users.email
		fi
		run --separate-stderr -65 anon-hash -f "$fmt" "$@" --key-file "$KEY" < "$SRC/users.bin"
		assert_only_rollback "$output" "$fmt" anon-hash 65
		[[ "$stderr" == *"FORMAT text"* || "$stderr" == *"FORMAT csv"* ]]
		refute_clear_in "$stderr"
	done
	run -0 bash -c 'f=$1 k=$2
		{ cat "$f"; head -c 20000000 /dev/zero; } | anon-hash -f copy --schema id,email,name -c email --key-file "$k" >/dev/null 2>&1
		echo "${PIPESTATUS[*]}"' _ "$SRC/users.bin" "$KEY"
	# the producer met a closed pipe (141, or 1 where SIGPIPE is ignored)
	read -r producer_rc tool_rc <<<"$output"
	assert_equal "$tool_rc" 65
	[ "$producer_rc" -ne 0 ]
}

# --- C. pg_dump --inserts and --column-inserts ----------------------------------------------

# bats test_tags=pg
@test "C --inserts and --column-inserts: a selected table is exit 65 at its first INSERT" {
	need_pg
	local f
	for f in shop.inserts.sql shop.colinserts.sql; do
		run --separate-stderr -65 bash -c "anon-hash -f pgdump -c public.users.email --key-file '$KEY' < '$SRC/$f' > '$T/out'"
		refute_clear_in "$stderr"
		refute_clear "$T/out"
		# nothing of users: not even its first INSERT
		run -1 grep -q '^INSERT INTO public\.users' "$T/out"
		# orders came first and passed; the rollback line ends the output
		run -0 grep -c '^INSERT INTO public\.orders' "$T/out"
		assert_output 2
		assert_dump_rollback "$T/out" anon-hash 65
		restore target_c "$T/out"
		[ "$restore_rc" -ne 0 ]
		run -0 ntables target_c
		assert_output 0
	done
}

# bats test_tags=pg
@test "C --inserts with no INSERT table selected: no -c passes through, a spec naming no table is 64" {
	need_pg
	# nothing selected: the identity, with the warning
	run --separate-stderr -0 bash -c "anon-hash -f pgdump < '$SRC/shop.inserts.sql' > '$T/out'"
	cmp "$T/out" "$SRC/shop.inserts.sql"
	[[ "$stderr" == *"INSERT statements pass through unchanged"* ]]
	# only orders in the dump, users.email asked for: not a data error, a usage error at the end
	run --separate-stderr -64 bash -c "anon-hash -f pgdump -c public.users.email --key-file '$KEY' < '$SRC/orders.inserts.sql' > '$T/out'"
	[[ "$stderr" == *"public.users.email"* ]]
	refute_clear_in "$stderr"
	assert_dump_rollback "$T/out" anon-hash 64
	restore target_c2 "$T/out"
	[ "$restore_rc" -ne 0 ]
	run -0 ntables target_c2
	assert_output 0
}

# --- D. a mistyped column in a dump ------------------------------------------------------------

# bats test_tags=pg
@test "D pgdump: users exists but has no column emial: exit 64 at its COPY header, before its rows" {
	need_pg
	run --separate-stderr -64 bash -c "anon-hash -f pgdump -c public.users.emial --key-file '$KEY' < '$SRC/shop.sql' > '$T/out'"
	[[ "$stderr" == *emial* ]]
	refute_clear_in "$stderr"
	refute_clear "$T/out"
	run -1 grep -qF 'second.person@example.com' "$T/out"
	assert_dump_rollback "$T/out" anon-hash 64
	restore target_d "$T/out"
	[ "$restore_rc" -ne 0 ]
	run -0 ntables target_d
	assert_output 0
}

# bats test_tags=pg
@test "D pgdump: a spec naming no table of the dump is exit 64 at the end, and restores nothing" {
	need_pg
	run --separate-stderr -64 bash -c "anon-hash -f pgdump -c public.nosuch.email --key-file '$KEY' < '$SRC/shop.sql' > '$T/out'"
	[[ "$stderr" == *"public.nosuch.email"* ]]
	refute_clear_in "$stderr"
	assert_dump_rollback "$T/out" anon-hash 64
	restore target_d2 "$T/out"
	[ "$restore_rc" -ne 0 ]
	run -0 ntables target_d2
	assert_output 0
	# the same through one pipeline
	fresh_db target_d3
	pipe_into_psql "$SRC/shop.sql" anon-hash -f pgdump -c public.nosuch.email --key-file "$KEY" -- -d target_d3 -f -
	assert_equal "$tool_rc" 64
	[ "$psql_rc" -ne 0 ]
	run -0 ntables target_d3
	assert_output 0
}

# --- E. a CSV header that holds a name twice ----------------------------------------------------

@test "E csv header id,email,name,email: -c email is 64 naming columns 2 and 4; -c 4 works" {
	run --separate-stderr -64 anon-hash -c email --key-file "$KEY" < "$DATA/failclosed/dup-header.csv"
	assert_only_rollback "$output" csv anon-hash 64
	[[ "$stderr" == *email* ]]
	[[ "$stderr" =~ (^|[^0-9])2([^0-9]|$) ]]
	[[ "$stderr" =~ (^|[^0-9])4([^0-9]|$) ]]
	refute_clear_in "$stderr"
	run --separate-stderr -0 anon-hash -c 4 --key-file "$KEY" < "$DATA/failclosed/dup-header.csv"
	assert_line --index 0 'id,email,name,email'
	assert_line --index 1 "1,keep.me@example.org,Ann,$(hmac_of "$SENTINEL")"
	assert_line --index 2 "2,other@example.org,Bob,$(hmac_of second.person@example.com)"
	refute_output --partial "$SENTINEL"
}

# bats test_tags=pg
@test "E csv with a duplicated name, by number: what loads into PostgreSQL is hashed" {
	need_pg
	pipe_into_psql "$DATA/failclosed/dup-header.csv" anon-hash -c 4 --key-file "$KEY" \
		-- -c "COPY dup_dst FROM STDIN (FORMAT csv, HEADER)"
	assert_equal "$tool_rc" 0
	assert_equal "$psql_rc" 0
	run -0 rows -c "SELECT count(*) FROM dup_dst WHERE email2 = '$SENTINEL' OR email = '$SENTINEL'"
	assert_output 0
	run -0 rows -c "SELECT email, email2 FROM dup_dst WHERE id = 1"
	assert_output "keep.me@example.org|$(hmac_of "$SENTINEL")"
}

# --- F. COPY with another delimiter ------------------------------------------------------------

# bats test_tags=pg
@test "F copy -d '|': an escaped \\| stays inside its value, and the hashed rows load back" {
	need_pg
	# PostgreSQL escapes the delimiter inside values
	grep -qF 'sentinel.person\|x@example.com' "$SRC/pipes.copy"
	pipe_into_psql "$SRC/pipes.copy" anon-hash -f copy -d '|' --schema id,email,note -c email --key-file "$KEY" \
		-- -c "COPY pipes_dst FROM STDIN (DELIMITER '|')"
	assert_equal "$tool_rc" 0
	assert_equal "$psql_rc" 0
	run -1 grep -aqF 'sentinel' "$T/out"
	run -0 count_dst pipes_dst
	assert_output 5
	# every email is the HMAC of the whole clear value (NULL and '' kept), every note intact
	run -0 rows -c "
	SELECT count(*) FROM pipes s JOIN pipes_dst d USING (id)
	WHERE s.note IS NOT DISTINCT FROM d.note
	  AND (s.email IS NULL AND d.email IS NULL OR s.email = '' AND d.email = ''
	       OR d.email = encode(hmac(convert_to(s.email, 'UTF8'), decode('$SUBKEY', 'hex'), 'sha256'), 'hex'))"
	assert_output 5
	run -0 rows -c "SELECT count(*) FROM pipes_dst WHERE email LIKE '%sentinel%'"
	assert_output 0
}

# --- G. --on-error keep and null ----------------------------------------------------------------

onerr_input() { # FMT FILE: row 2's a has no digits, row 3 is ragged, both hold the sentinel
	if [ "$1" = csv ]; then
		printf 'id,a,b\n1,12,alice@example.com\n2,abc,%s\n3,7,%s,extra\n4,34,bob@example.com\n' \
			"$SENTINEL" "$SENTINEL" > "$2"
	else
		printf '1\t12\talice@example.com\n2\tabc\t%s\n3\t7\t%s\textra\n4\t34\tbob@example.com\n' \
			"$SENTINEL" "$SENTINEL" > "$2"
	fi
}

# The audit record: one line, one ragged row rejected, column a's failing field counted.
check_onerr_audit() { # FILE MODE(kept|nulled)
	refute_clear "$1"
	run -0 python3 - "$1" "$2" <<-'EOF'
	import json, sys
	lines = open(sys.argv[1]).read().splitlines()
	assert len(lines) == 1, lines
	r = json.loads(lines[0])
	assert r["rows_rejected"] == 1, r["rows_rejected"]
	cols = {c["name"]: c for c in r["columns"]}
	assert cols["a"][sys.argv[2]] == 1, cols["a"]
	assert cols["b"].get(sys.argv[2], 0) == 0, cols["b"]
	assert cols["b"]["changed"] == 3, cols["b"]
	EOF
}

# bats test_tags=pg
@test "G --on-error keep: only the failing field is kept; a ragged row goes to --rejects only" {
	need_pg
	local fmt in h1 h2 h4 load schema
	h1=$(hmac_of alice@example.com)
	h2=$(hmac_of "$SENTINEL")
	h4=$(hmac_of bob@example.com)
	for fmt in csv copy; do
		in=$T/in.$fmt
		onerr_input "$fmt" "$in"
		schema=
		[ "$fmt" = csv ] || schema=--schema=id,a,b
		rm -f "$T/rej" "$T/audit.jsonl"
		run --separate-stderr -0 anon-hash -f "$fmt" $schema --on-error keep --rejects "$T/rej" \
			--audit "$T/audit.jsonl" -c a=digits -c b --key-file "$KEY" "$in"
		if [ "$fmt" = csv ]; then
			[ "${#lines[@]}" -eq 4 ]
			assert_line --index 0 'id,a,b'
			assert_line --index 1 --regexp "^1,[0-9]{2},$h1\$"
			assert_line --index 2 "2,abc,$h2"
			assert_line --index 3 --regexp "^4,[0-9]{2},$h4\$"
			load="COPY onerr_dst FROM STDIN (FORMAT csv, HEADER)"
		else
			[ "${#lines[@]}" -eq 3 ]
			assert_line --index 0 --regexp $'^1\t[0-9]{2}\t'"$h1\$"
			assert_line --index 1 $'2\tabc\t'"$h2"
			assert_line --index 2 --regexp $'^4\t[0-9]{2}\t'"$h4\$"
			load="COPY onerr_dst FROM STDIN"
		fi
		refute_output --partial "$SENTINEL"
		refute_clear_in "$stderr"
		# the ragged row, as it was read, is in the rejects file
		if [ "$fmt" = csv ]; then
			grep -qFx "3,7,$SENTINEL,extra" "$T/rej"
		else
			grep -qFx $'3\t7\t'"$SENTINEL"$'\textra' "$T/rej"
		fi
		check_onerr_audit "$T/audit.jsonl" kept
		# what reaches PostgreSQL
		sql -c "TRUNCATE onerr_dst"
		anon-hash -f "$fmt" $schema --on-error keep -q -c a=digits -c b --key-file "$KEY" "$in" |
			sql -c "$load"
		run -0 rows -c "SELECT count(*) FROM onerr_dst"
		assert_output 3
		run -0 rows -c "SELECT count(*) FROM onerr_dst WHERE b LIKE '%sentinel%' OR id = 3"
		assert_output 0
		run -0 rows -c "SELECT a FROM onerr_dst WHERE id = 2"
		assert_output abc
	done
}

# bats test_tags=pg
@test "G --on-error null: the failing field becomes NULL, the others are transformed" {
	need_pg
	local fmt in h2 load schema
	h2=$(hmac_of "$SENTINEL")
	for fmt in csv copy; do
		in=$T/in.$fmt
		onerr_input "$fmt" "$in"
		schema=
		[ "$fmt" = csv ] || schema=--schema=id,a,b
		rm -f "$T/rej" "$T/audit.jsonl"
		run --separate-stderr -0 anon-hash -f "$fmt" $schema --on-error null --rejects "$T/rej" \
			--audit "$T/audit.jsonl" -c a=digits -c b --key-file "$KEY" "$in"
		if [ "$fmt" = csv ]; then
			[ "${#lines[@]}" -eq 4 ]
			assert_line --index 2 "2,,$h2"
			load="COPY onerr_dst FROM STDIN (FORMAT csv, HEADER)"
		else
			[ "${#lines[@]}" -eq 3 ]
			assert_line --index 1 $'2\t\\N\t'"$h2"
			load="COPY onerr_dst FROM STDIN"
		fi
		refute_output --partial "$SENTINEL"
		refute_clear_in "$stderr"
		if [ "$fmt" = csv ]; then
			grep -qFx "3,7,$SENTINEL,extra" "$T/rej"
		else
			grep -qFx $'3\t7\t'"$SENTINEL"$'\textra' "$T/rej"
		fi
		check_onerr_audit "$T/audit.jsonl" nulled
		sql -c "TRUNCATE onerr_dst"
		anon-hash -f "$fmt" $schema --on-error null -q -c a=digits -c b --key-file "$KEY" "$in" |
			sql -c "$load"
		run -0 rows -c "SELECT count(*) FROM onerr_dst"
		assert_output 3
		run -0 rows -c "SELECT count(*) FROM onerr_dst WHERE b LIKE '%sentinel%' OR id = 3"
		assert_output 0
		run -0 rows -c "SELECT count(*) FROM onerr_dst WHERE id = 2 AND a IS NULL AND b = '$h2'"
		assert_output 1
	done
}

# --- H. a COPY statement on two lines ------------------------------------------------------------

# bats test_tags=pg
@test "H pgdump: -c email hashes the table whose name holds a newline, and restores" {
	need_pg
	# pg_dump writes that table's COPY statement on two lines
	grep -qxF 'COPY public."we""ird' "$SRC/weird.sql"
	run --separate-stderr -0 bash -c "anon-hash -f pgdump -c email --key-file '$KEY' < '$SRC/weird.sql' > '$T/out'"
	refute_clear_in "$stderr"
	refute_clear "$T/out"
	restore target_h "$T/out"
	assert_equal "$restore_rc" 0
	run -0 rows -d target_h -c "SELECT email FROM public.\"we\"\"ird
name\""
	assert_output "$(hmac_of "$SENTINEL")"
	run -0 rows -d target_h -c "SELECT email FROM zz_users ORDER BY id"
	assert_line --index 0 "$(hmac_of "$SENTINEL")"
	assert_line --index 1 "$(hmac_of second.person@example.com)"
}

# bats test_tags=pg
@test "H pgdump: a spec quoting the newline name never lets the clear value through with exit 0" {
	need_pg
	# zz_users holds the sentinel too: select it as well, so no clear value is left at all
	run --separate-stderr bash -c "anon-hash -f pgdump -c 'public.\"we\"\"ird
name\".email' -c public.zz_users.email --key-file '$KEY' < '$SRC/weird.sql' > '$T/out'"
	refute_clear_in "$stderr"
	restore target_h2 "$T/out"
	if [ "$status" -eq 0 ]; then
		refute_clear "$T/out"
		assert_equal "$restore_rc" 0
		run -0 rows -d target_h2 -c "SELECT email FROM public.\"we\"\"ird
name\""
		assert_output "$(hmac_of "$SENTINEL")"
	else
		# refused: then nothing of it may load
		[ "$restore_rc" -ne 0 ]
		run -0 ntables target_h2
		assert_output 0
	fi
}

# bats test_tags=pg
@test "H pgdump: after a two-line COPY statement the next table's columns are still found" {
	need_pg
	run --separate-stderr -0 bash -c "anon-hash -f pgdump -c public.zz_users.email --key-file '$KEY' < '$SRC/weird.sql' > '$T/out'"
	restore target_h3 "$T/out"
	assert_equal "$restore_rc" 0
	run -0 rows -d target_h3 -c "SELECT count(*) FROM zz_users WHERE email LIKE '%@%'"
	assert_output 0
	run -0 rows -d target_h3 -c "SELECT email FROM zz_users WHERE id = 1"
	assert_output "$(hmac_of "$SENTINEL")"
}

# --- I. diagnostics never print data ----------------------------------------------------------

@test "I a headerless file read with a header: the error shows none of its first row" {
	run --separate-stderr -65 anon-hash -c 1 --key-file "$KEY" < "$DATA/failclosed/headerless-unterminated.csv"
	[[ "$stderr" != *555-1234* ]]
	refute_clear_in "$stderr"
	assert_only_rollback "$output" csv anon-hash 65
	# a first row of data taken for the header: a later error does not print it as a name
	run --separate-stderr -65 anon-hash -c 2 --key-file "$KEY" < "$DATA/failclosed/headerless-short.csv"
	[[ "$stderr" != *555-1234* ]]
	refute_clear_in "$stderr"
}

@test "I a column name with control characters is printed escaped or not at all" {
	# row 3 is short: the error names column 2
	run --separate-stderr -65 anon-hash < "$DATA/failclosed/ctrl-header.csv"
	[[ "$stderr" != *$'\e'* ]]
	refute_clear_in "$stderr"
	# the digits rule fails on row 2's value: the error names column 2
	run --separate-stderr -65 anon-hash -c 2=digits --key-file "$KEY" < "$DATA/failclosed/ctrl-header.csv"
	[[ "$stderr" != *$'\e'* ]]
	[[ "$stderr" == *"no digits"* ]]
	refute_clear_in "$stderr"
	refute_output --partial "$SENTINEL"
}

# --- J. the audit record ----------------------------------------------------------------------

@test "J an audit file that cannot be opened is exit 74 before any row is read or written" {
	python3 -c 'import sys; sys.stdout.write("id,email\n" + "".join("%d,user%d@example.com\n" % (i, i) for i in range(1, 100001)) + "0,sentinel.person@example.com\n")' > "$T/big.csv"
	run --separate-stderr -0 bash -c 'in=$1 k=$2 out=$3
		cat "$in" | anon-hash -c email --key-file "$k" --audit /nonexistent/dir/a.jsonl > "$out"
		echo "${PIPESTATUS[*]}"' _ "$T/big.csv" "$KEY" "$T/out"
	# the tool stopped before reading its input through: cat met a closed pipe (141, or 1
	# where SIGPIPE is ignored)
	read -r cat_rc tool_rc <<<"$output"
	assert_equal "$tool_rc" 74
	[ "$cat_rc" -ne 0 ]
	[ ! -s "$T/out" ]
	[[ "$stderr" == *"/nonexistent/dir/a.jsonl"* ]]
	refute_clear_in "$stderr"
	run --separate-stderr -74 anon-hash -c email --key-file "$KEY" --audit /nonexistent/dir/a.jsonl "$T/big.csv"
	assert_equal "$output" ""
}

@test "J a run ended by a closed pipe still appends its record, quietly" {
	python3 -c 'import sys; sys.stdout.write("a,b\n" + "1,x2\n"*400000)' > "$T/big.csv"
	run -0 bash -c 'in=$1 k=$2 t=$3
		anon-hash -c b --key-file "$k" --audit "$t/audit.jsonl" < "$in" 2>"$t/err" | head -n 1' _ "$T/big.csv" "$KEY" "$T"
	assert_output 'a,b'
	[ ! -s "$T/err" ]
	run -0 python3 - "$T/audit.jsonl" <<-'EOF'
	import json, sys
	lines = open(sys.argv[1]).read().splitlines()
	assert len(lines) == 1, lines
	r = json.loads(lines[0])
	assert r["tool"] == "anon-hash", r["tool"]
	assert r["status"] != "ok", r["status"]
	EOF
	grep -c '"tool":"anon-hash"' "$T/audit.jsonl"
}
