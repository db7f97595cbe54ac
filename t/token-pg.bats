#!/usr/bin/env bats
# token-pg.bats: anon-token's vault in a PostgreSQL table, on a throwaway server: round trips,
# processes at once (one token per value, the table made once), what the table holds, TTL and
# statistics, and output loaded into PostgreSQL with the safe form, then read back.

load helper

setup_file() {
	pg_start
	python3 - "$BATS_FILE_TMPDIR" <<'PY'
import random, sys
d = sys.argv[1]
for p in range(1, 5):
    random.seed(100 + p)
    vals = ["val%d" % random.randrange(8000) for _ in range(8000)]
    if p % 2 == 0:
        vals.reverse()  # the same values in the other order: inserts cross
    with open("%s/p%d.csv" % (d, p), "w") as f:
        f.write("id,v\n")
        for i, v in enumerate(vals):
            f.write("%d,%s\n" % (i, v))
PY
}

teardown_file() {
	pg_stop
}

setup() {
	export ANON_KEY_FILE=$(test_key)
	IN=$BATS_TEST_TMPDIR/in.csv
	printf 'id,email,name\n1,alice@example.com,Zoë\n2,bob@example.org,"Dias, Bruno"\n3,alice@example.com,\n' > "$IN"
	sql -c "CREATE DATABASE vault_$BATS_TEST_NUMBER" 2>/dev/null || true
	PGV="postgres:dbname=vault_$BATS_TEST_NUMBER"
}

# bats test_tags=pg
@test "postgres vault: tokenize then detokenize is the identity; a token is the same in every run" {
	anon-token --mode vault --vault "$PGV" -c email -c name "$IN" > "$BATS_TEST_TMPDIR/t.csv"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$PGV' -D -c email -c name '$BATS_TEST_TMPDIR/t.csv' | cmp - '$IN'"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$PGV' -c email -c name '$IN' | cmp - '$BATS_TEST_TMPDIR/t.csv'"
	cols=(-c public.users.email -c public.users.note -c 'public."Weird Name"."first name"')
	anon-token -f pgdump --mode vault --vault "$PGV" "${cols[@]}" "$DATA/pgdump-basic.in" > "$BATS_TEST_TMPDIR/dump.sql"
	run -0 bash -c "set -o pipefail; anon-token -f pgdump --mode vault --vault '$PGV' -D ${cols[*]@Q} '$BATS_TEST_TMPDIR/dump.sql' | cmp - '$DATA/pgdump-basic.in'"
	# a libpq URI names the same vault
	uri="postgresql:///vault_$BATS_TEST_NUMBER?host=$PGHOST&port=$PGPORT"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$uri' -c email -c name '$IN' | cmp - '$BATS_TEST_TMPDIR/t.csv'"
}

# bats test_tags=pg
@test "postgres vault: the table holds fingerprints, tokens and sealed values, no value in clear" {
	printf 'a\nSENTINEL-77e1-value\n' > "$BATS_TEST_TMPDIR/s.csv"
	anon-token --mode vault --vault "$PGV" -c a "$BATS_TEST_TMPDIR/s.csv" > "$BATS_TEST_TMPDIR/t.csv"
	db=vault_$BATS_TEST_NUMBER
	run -0 rows -d "$db" -c "SELECT length(ns), length(fp), length(ct), token FROM anon_token_vault"
	assert_output "8|16|35|$(sed -n 2p "$BATS_TEST_TMPDIR/t.csv")"
	run -0 rows -d "$db" -c "SELECT count(*) FROM anon_token_vault WHERE position('\\x53454e54494e454c'::bytea IN ct || fp || ns) > 0 OR token LIKE '%SENTINEL%'"
	assert_output 0
	run -0 rows -d "$db" -c "SELECT string_agg(conname || ':' || pg_get_constraintdef(oid), ' ' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'anon_token_vault'::regclass"
	assert_output "anon_token_vault_ns_fp_key:UNIQUE (ns, fp) anon_token_vault_ns_token_key:UNIQUE (ns, token)"
}

# bats test_tags=pg
@test "postgres vault: 4 processes at once on a new vault: one token per value, all detokenize" {
	local d=$BATS_FILE_TMPDIR pids=() p
	for p in 1 2 3 4; do
		anon-token --mode vault --vault "$PGV" --jobs "$((p % 2 + 1))" -c v "$d/p$p.csv" > "$BATS_TEST_TMPDIR/o$p.csv" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	for p in 1 2 3 4; do
		paste -d, <(tail -n +2 "$d/p$p.csv" | cut -d, -f2) <(tail -n +2 "$BATS_TEST_TMPDIR/o$p.csv" | cut -d, -f2)
	done | sort -u > "$BATS_TEST_TMPDIR/pairs"
	values=$(cut -d, -f1 "$BATS_TEST_TMPDIR/pairs" | sort -u | wc -l)
	run -0 bash -c "set -o pipefail; cut -d, -f1 '$BATS_TEST_TMPDIR/pairs' | uniq -d | wc -l"
	assert_output 0
	run -0 rows -d "vault_$BATS_TEST_NUMBER" -c "SELECT count(*), count(DISTINCT token), count(DISTINCT fp) FROM anon_token_vault"
	assert_output "$values|$values|$values"
	for p in 1 2 3 4; do
		run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$PGV' --jobs 2 -D -c v '$BATS_TEST_TMPDIR/o$p.csv' | cmp - '$d/p$p.csv'"
	done
}

# bats test_tags=pg
@test "postgres vault: --ttl, --vault-stats and --purge-expired" {
	anon-token --mode vault --vault "$PGV" --ttl 1s -c email "$IN" > "$BATS_TEST_TMPDIR/t.csv"
	anon-token --mode vault --vault "$PGV" -c name "$IN" > /dev/null
	run -0 bash -c "set -o pipefail; anon-token --vault '$PGV' --vault-stats | jq -c '[.vault, .tokens, .with_ttl]'"
	assert_output '["postgres",4,2]'
	sleep 2
	run -65 anon-token --mode vault --vault "$PGV" -D -c email "$BATS_TEST_TMPDIR/t.csv"
	run -0 anon-token --vault "$PGV" --purge-expired
	assert_output '{"vault":"postgres","purged":2}'
	run -0 bash -c "set -o pipefail; anon-token --vault '$PGV' --vault-stats | jq -c '[.tokens, .expired, .namespaces[0].tokens]'"
	assert_output '[2,0,2]'
}

# bats test_tags=pg
@test "postgres vault: output loaded with the safe form, read back through -D" {
	db=vault_$BATS_TEST_NUMBER
	sql -d "$db" -c "CREATE TABLE users (id int, email text, name text); CREATE TABLE users_tok (LIKE users)"
	sql -d "$db" -c "COPY users FROM STDIN (FORMAT csv, HEADER)" < "$IN"
	run -0 bash -c "set -o pipefail
psql -X -d $db -c 'COPY users TO STDOUT' \
  | anon-token -f copy --schema id,email,name --mode vault --vault '$PGV' -c email \
  | psql -X -q --single-transaction -v ON_ERROR_STOP=1 -d $db -c 'COPY users_tok FROM STDIN'"
	run -0 rows -d "$db" -c "SELECT count(*), count(DISTINCT email) FROM users_tok WHERE email LIKE 'tok\\_%'"
	assert_output "3|2"
	run -0 bash -c "set -o pipefail; psql -X -d $db -c 'COPY (SELECT * FROM users_tok ORDER BY id) TO STDOUT' | anon-token -f copy --schema id,email,name --mode vault --vault '$PGV' -D -c email"
	assert_output "$(psql -X -d "$db" -c 'COPY (SELECT * FROM users ORDER BY id) TO STDOUT')"
}

# bats test_tags=pg
@test "postgres vault: a server that is not there is exit 78, before any output" {
	run --separate-stderr -78 anon-token --mode vault --vault "postgres:host=$PGHOST port=1 dbname=x connect_timeout=2" -c email "$IN"
	[[ "$stderr" == *"cannot connect"* ]]
	assert_equal "$output" ""
	run -78 anon-token --vault "postgres:dbname=vault_$BATS_TEST_NUMBER" --vault-stats
}
