#!/usr/bin/env bats
# token-vault.bats: anon-token --mode vault on its embedded SQLite vault: round trips in every
# format, one token per value across columns, tables, runs, processes and --jobs, token
# shapes and their limits, crash safety under kill -9, concurrent processes, TTL and purge,
# statistics, and a vault file that holds no value in clear.

load helper

setup_file() {
	python3 - "$BATS_FILE_TMPDIR" <<'PY'
import random, sys
d = sys.argv[1]
# 8 overlapping value sets for 8 processes at once
for p in range(1, 9):
    random.seed(p)
    with open("%s/c%d.csv" % (d, p), "w") as f:
        f.write("id,v,w\n")
        for i in range(6000):
            f.write("%d,val%d,val%d\n" % (i, random.randrange(9000), random.randrange(9000)))
# the crash input: 200k rows, every value new to a fresh vault
with open("%s/crash.csv" % d, "w") as f:
    f.write("id,v\n")
    for i in range(200000):
        f.write("%d,value-%d\n" % (i, i))
PY
}

setup() {
	export ANON_KEY_FILE=$(test_key)
	unset ANON_TOKEN_VAULT
	V=$BATS_TEST_TMPDIR/vault.db
	IN=$BATS_TEST_TMPDIR/in.csv
	printf 'id,email,name\n1,alice@example.com,Zoë\n2,bob@example.org,Bob\n3,alice@example.com,Al\n' > "$IN"
}

# vault_sql DB SQL: one line of results (| between fields), through Python's sqlite3
vault_sql() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for r in c.execute(sys.argv[2]): print("|".join(map(str, r)))' "$@"
}

# pairs VALUES TOKENS COLUMN: "value,token" lines of column COLUMN (1-based) of two CSVs of
# the same rows, header left out
pairs() {
	paste -d, <(tail -n +2 "$1" | cut -d, -f"$3") <(tail -n +2 "$2" | cut -d, -f"$3")
}

# roundtrip FILE OPTIONS...: tokenize FILE into the vault, then detokenize: the same bytes
roundtrip() {
	local f=$1
	shift
	anon-token --mode vault --vault "$V" "$@" "$f" > "$BATS_TEST_TMPDIR/tok"
	run -1 cmp -s "$BATS_TEST_TMPDIR/tok" "$f"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' -D ${*@Q} '$BATS_TEST_TMPDIR/tok' | cmp - '$f'"
}

@test "vault: tokenize then detokenize is the identity in csv, tsv, copy and pgdump" {
	roundtrip "$DATA/csv-basic.in" -c email -c name
	roundtrip "$DATA/tsv-basic.in" -f tsv -c email -c note
	roundtrip "$DATA/copy-basic.in" -f copy --schema id,email,x,note -c email -c x
	roundtrip "$DATA/pgdump-basic.in" -f pgdump -c public.users.email -c public.users.note \
		-c 'public."Weird Name"."first name"'
	run -0 grep -c 'tok_' "$BATS_TEST_TMPDIR/tok"
	roundtrip "$BATS_FILE_TMPDIR/c1.csv" -c v=vault:digits,keep-length -c w=vault:alnum,length=5
}

@test "vault: one value, one token across columns, tables and runs; --domain and context= separate" {
	run -0 anon-token --mode vault --vault "$V" -c email -c name "$IN"
	first=$output
	[[ "${lines[1]}" =~ ^1,tok_[A-Z2-7]{26},tok_[A-Z2-7]{26}$ ]]
	assert_equal "$(echo "${lines[1]}" | cut -d, -f2)" "$(echo "${lines[3]}" | cut -d, -f2)"
	[ "$(echo "${lines[1]}" | cut -d, -f2)" != "$(echo "${lines[2]}" | cut -d, -f2)" ]
	run -0 anon-token --mode vault --vault "$V" -c email -c name "$IN"
	assert_equal "$output" "$first"
	# another table, another column: the same token
	run -0 anon-token --mode vault --vault "sqlite:$V" -c who <(printf 'who\nalice@example.com\n')
	assert_equal "${lines[1]}" "$(echo "$first" | sed -n 2p | cut -d, -f2)"
	run -0 anon-token --mode vault --vault "$V" -c who=context=x <(printf 'who\nalice@example.com\n')
	[ "${lines[1]}" != "$(echo "$first" | sed -n 2p | cut -d, -f2)" ]
	run -0 anon-token --mode vault --vault "$V" --domain other -c who <(printf 'who\nalice@example.com\n')
	[ "${lines[1]}" != "$(echo "$first" | sed -n 2p | cut -d, -f2)" ]
	# a token opens in its own domain only
	tok=${lines[1]}
	run -0 anon-token --mode vault --vault "$V" -D --domain other -c who <(printf 'who\n%s\n' "$tok")
	assert_equal "${lines[1]}" alice@example.com
	run -65 anon-token --mode vault --vault "$V" -D -c who <(printf 'who\n%s\n' "$tok")
}

@test "vault: token shapes fit their columns" {
	printf 'card,code,name\n4111111111111111,AB-12,Zoë Ünïcödé\n0123456789,x,李小龍\n' > "$BATS_TEST_TMPDIR/s.csv"
	run -0 anon-token --mode vault --vault "$V" -c card=vault:digits,keep-length \
		-c code=vault:alnum,keep-length -c name=vault:base32,keep-length "$BATS_TEST_TMPDIR/s.csv"
	[[ "${lines[1]}" =~ ^[1-9][0-9]{15},[0-9a-zA-Z]{5},[A-Z2-7]{11}$ ]]
	[[ "${lines[2]}" =~ ^[0-9]{10},[0-9a-zA-Z],[A-Z2-7]{3}$ ]]
	run -0 anon-token --mode vault --vault "$V" --token-format digits --length 18 --prefix '' -c card "$BATS_TEST_TMPDIR/s.csv"
	[[ "${lines[1]}" =~ ^[1-9][0-9]{17},AB-12, ]]
	run -0 anon-token --mode vault --vault "$V" -c card=vault:alnum,prefix=c- "$BATS_TEST_TMPDIR/s.csv"
	[[ "${lines[1]}" =~ ^c-[0-9a-zA-Z]{22},AB-12, ]]
}

@test "vault: one batch of values of many lengths: each token keeps its value's length and leading 0" {
	python3 - "$BATS_TEST_TMPDIR/mix.csv" <<'PY'
import random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write("d\n")
    for i in range(20000):
        n = random.randrange(4, 13)
        lead = "0" if random.random() < 0.2 else str(random.randrange(1, 10))
        f.write(lead + "".join(random.choice("0123456789") for _ in range(n - 1)) + "\n")
PY
	anon-token --mode vault --vault "$V" -c d=vault:digits,keep-length "$BATS_TEST_TMPDIR/mix.csv" > "$BATS_TEST_TMPDIR/tok.csv"
	run -0 python3 - "$BATS_TEST_TMPDIR/mix.csv" "$BATS_TEST_TMPDIR/tok.csv" <<'PY'
import sys
vals = open(sys.argv[1]).read().split("\n")[1:-1]
toks = open(sys.argv[2]).read().split("\n")[1:-1]
assert len(vals) == len(toks) == 20000, (len(vals), len(toks))
bad = [i for i, (v, t) in enumerate(zip(vals, toks))
       if len(t) != len(v) or not t.isdigit() or (t[0] == "0" and v[0] != "0")]
m = {}
for v, t in zip(vals, toks):
    m.setdefault(v, set()).add(t)
back = {}
for v, ts in m.items():
    for t in ts:
        back.setdefault(t, set()).add(v)
print(len(bad), max(len(ts) for ts in m.values()), max(len(vs) for vs in back.values()))
PY
	# no token of the wrong shape; one token a value; one value a token
	assert_output "0 1 1"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' -D -c d=vault:digits,keep-length '$BATS_TEST_TMPDIR/tok.csv' | cmp - '$BATS_TEST_TMPDIR/mix.csv'"
}

@test "vault: very short keep-length values run out of tokens: exit 65, or NULL when asked" {
	# one-digit values without a leading 0 have 9 tokens (1-9) between them
	printf '%s\n' d 1 2 3 4 5 6 7 8 9 > "$BATS_TEST_TMPDIR/nine.csv"
	run -0 anon-token --mode vault --vault "$V" -c d=vault:digits,keep-length "$BATS_TEST_TMPDIR/nine.csv"
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | sort -u | tr -d '\n')" 123456789
	run --separate-stderr -65 anon-token --mode vault --vault "$V" -c d=vault:digits,keep-length <(printf 'd\n1\nA\n')
	[[ "$stderr" == *":3:1 (d): no free token of this length"* ]]
	run -0 anon-token -q --mode vault --vault "$V" --on-error null -c d=vault:digits,keep-length <(printf 'd\nA\n1\n')
	[[ "$output" =~ ^d$'\n'$'\n'[1-9]$ ]]
}

@test "vault: 8 processes at once over overlapping values: one token per value, all detokenize" {
	local d=$BATS_FILE_TMPDIR pids=() p
	for p in 1 2 3 4 5 6 7 8; do
		jobs=1
		[ $((p % 3)) -eq 0 ] && jobs=2
		anon-token --mode vault --vault "$V" --jobs "$jobs" -c v -c w "$d/c$p.csv" > "$BATS_TEST_TMPDIR/o$p.csv" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	for p in 1 2 3 4 5 6 7 8; do
		pairs "$d/c$p.csv" "$BATS_TEST_TMPDIR/o$p.csv" 2
		pairs "$d/c$p.csv" "$BATS_TEST_TMPDIR/o$p.csv" 3
	done | sort -u > "$BATS_TEST_TMPDIR/pairs"
	values=$(cut -d, -f1 "$BATS_TEST_TMPDIR/pairs" | sort -u | wc -l)
	run -0 bash -c "set -o pipefail; cut -d, -f1 '$BATS_TEST_TMPDIR/pairs' | uniq -d | wc -l"
	assert_output 0
	run -0 bash -c "set -o pipefail; cut -d, -f2 '$BATS_TEST_TMPDIR/pairs' | sort -u | wc -l"
	assert_output "$values"
	run -0 vault_sql "$V" "SELECT count(*), count(DISTINCT token), count(DISTINCT fp) FROM anon_token_vault"
	assert_output "$values|$values|$values"
	run -0 bash -c "set -o pipefail; anon-token --vault '$V' --vault-stats | jq .tokens"
	assert_output "$values"
	for p in 1 2 3 4 5 6 7 8; do
		run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' -D -c v -c w '$BATS_TEST_TMPDIR/o$p.csv' | cmp - '$d/c$p.csv'"
	done
}

@test "vault: kill -9 at 20 random moments of a 200k-row run: every token that left detokenizes" {
	local i d pid got=$BATS_TEST_TMPDIR/got
	# five namespaces (--domain), each killed four times: every run makes new tokens, and
	# the later runs of a namespace go on from what the killed ones committed
	for i in $(seq 0 19); do
		d=$((i % 5))
		anon-token --mode vault --vault "$V" --domain "crash-$d" -c v "$BATS_FILE_TMPDIR/crash.csv" > "$BATS_TEST_TMPDIR/part" &
		pid=$!
		sleep "$((RANDOM % 10 / 10)).$((RANDOM % 10))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		# the last line may be cut in the middle
		head -n -1 "$BATS_TEST_TMPDIR/part" | tail -n +2 >> "$got.$d"
	done
	for d in 0 1 2 3 4; do
		echo "namespace $d: $(wc -l < "$got.$d") rows out" >&3
		sort -u "$got.$d" > "$got.u"
		# one token per value, whatever run it came from
		run -0 bash -c "set -o pipefail; cut -d, -f1 '$got.u' | uniq -d | wc -l"
		assert_output 0
		# every token detokenizes, to its own row's value
		run -0 bash -c "set -o pipefail; (echo id,v; cat '$got.u') | anon-token --mode vault --vault '$V' --domain crash-$d -D -c v | tail -n +2 | awk -F, '\$2 != \"value-\" \$1' | wc -l"
		assert_output 0
	done
	run -0 vault_sql "$V" "SELECT count(*) = count(DISTINCT token) FROM anon_token_vault"
	assert_output 1
}

@test "vault: --jobs 4 and --jobs 1 give the same tokens and the same vault" {
	local f=$BATS_FILE_TMPDIR/c2.csv
	anon-token --mode vault --vault "$V" --jobs 4 -c v -c w "$f" > "$BATS_TEST_TMPDIR/j4.csv"
	n=$(vault_sql "$V" "SELECT count(*) FROM anon_token_vault")
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' --jobs 1 -c v -c w '$f' | cmp - '$BATS_TEST_TMPDIR/j4.csv'"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' --jobs 3 --cache 4096 -c v -c w '$f' | cmp - '$BATS_TEST_TMPDIR/j4.csv'"
	run -0 vault_sql "$V" "SELECT count(*) FROM anon_token_vault"
	assert_output "$n"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' --jobs 4 -D -c v -c w '$BATS_TEST_TMPDIR/j4.csv' | cmp - '$f'"
	# a fresh vault filled by one worker, read back by four
	anon-token --mode vault --vault "$V.1" -c v -c w "$f" > "$BATS_TEST_TMPDIR/j1.csv"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V.1' --jobs 4 -D -c v -c w '$BATS_TEST_TMPDIR/j1.csv' | cmp - '$f'"
}

@test "vault: the vault file holds no value in clear, and only its owner may read it" {
	printf 'a,b\nSENTINEL-a7f3-one,SENTINEL-a7f3-two\nSENTINEL-a7f3-one,plain\n' > "$BATS_TEST_TMPDIR/s.csv"
	anon-token --mode vault --vault "$V" -c a <(printf 'a\nfirst\n') > /dev/null
	# a reader keeps the write-ahead log from being folded in and removed
	python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute("SELECT count(*) FROM anon_token_vault").fetchall()
print("open", flush=True); time.sleep(5)' "$V" > "$BATS_TEST_TMPDIR/holder" &
	holder=$!
	for i in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/holder" ] && break
		sleep 0.1
	done
	anon-token --mode vault --vault "$V" -c a -c b=vault:digits,keep-length "$BATS_TEST_TMPDIR/s.csv" > "$BATS_TEST_TMPDIR/t.csv"
	[ -s "$V-wal" ]
	run -1 grep -a -l -e SENTINEL -e a7f3 "$V" "$V-wal"
	kill "$holder"
	wait "$holder" || true
	run -1 grep -a -l -e SENTINEL -e a7f3 "$V"*
	run -0 stat -c %a "$V"
	assert_output 600
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' -D -c a -c b '$BATS_TEST_TMPDIR/t.csv' | cmp - '$BATS_TEST_TMPDIR/s.csv'"
}

@test "vault: --ttl, expired tokens, a new token after expiry, --purge-expired, --vault-stats" {
	anon-token --mode vault --vault "$V" --ttl 1s -c email "$IN" > "$BATS_TEST_TMPDIR/t1.csv"
	anon-token --mode vault --vault "$V" -c name "$IN" > /dev/null
	run -0 bash -c "set -o pipefail; anon-token --vault '$V' --vault-stats | jq -c '[.vault, .tokens, .with_ttl, (.namespaces | length)]'"
	assert_output '["sqlite",5,2,1]'
	sleep 2
	run -0 bash -c "set -o pipefail; anon-token --vault '$V' --vault-stats | jq -c '[.tokens, .expired]'"
	assert_output '[5,2]'
	run --separate-stderr -65 anon-token --mode vault --vault "$V" -D -c email "$BATS_TEST_TMPDIR/t1.csv"
	[[ "$stderr" == *"the token has expired"* ]]
	anon-token --mode vault --vault "$V" -c email "$IN" > "$BATS_TEST_TMPDIR/t2.csv"
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/t1.csv")" != "$(sed -n 2p "$BATS_TEST_TMPDIR/t2.csv")" ]
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' -D -c email '$BATS_TEST_TMPDIR/t2.csv' | cmp - '$IN'"
	anon-token --mode vault --vault "$V" --ttl 1s -c x <(printf 'x\nshort-lived\n') > /dev/null
	sleep 2
	run -0 anon-token --vault "$V" --purge-expired
	assert_output '{"vault":"sqlite","purged":1}'
	run -0 bash -c "set -o pipefail; anon-token --vault '$V' --vault-stats | jq -c '[.tokens, .with_ttl, .expired]'"
	assert_output '[5,0,0]'
}

@test "vault: --vault-stats and --purge-expired read no input, and make no vault" {
	run -0 timeout 10 bash -c "anon-token --vault '$V.x' --vault-stats < <(sleep 30 2>/dev/null) 2>/dev/null; echo \$?"
	assert_output 78
	[ ! -e "$V.x" ]
	anon-token --mode vault --vault "$V" -c email "$IN" > /dev/null
	run -0 timeout 10 bash -c "set -o pipefail; anon-token --vault '$V' --vault-stats < <(sleep 30 2>/dev/null) | jq .tokens"
	assert_output 2
	run -0 timeout 10 bash -c "set -o pipefail; anon-token --vault '$V' --purge-expired --vault-stats < <(sleep 30 2>/dev/null) | jq -c '[.purged, .tokens]'"
	assert_output '[0,2]'
}

@test "vault: detokenizing a token it does not hold is exit 65, or NULL with --on-error null" {
	anon-token --mode vault --vault "$V" -c email "$IN" > "$BATS_TEST_TMPDIR/t.csv"
	run --separate-stderr -65 anon-token --mode vault --vault "$V" -D -c e <(printf 'e\ntok_NOTAVAULTTOKEN\n')
	[[ "$stderr" == *"not in the vault"* ]]
	[[ "$stderr" != *NOTAVAULTTOKEN* ]]
	run -0 anon-token -q --mode vault --vault "$V" -D --on-error null -c e <(printf 'e\ntok_NOTAVAULTTOKEN\n%s\n' "$(sed -n 2p "$BATS_TEST_TMPDIR/t.csv" | cut -d, -f2)")
	assert_equal "$output" "$(printf 'e\n\nalice@example.com')"
	# another key finds nothing of this one
	printf '%064d\n' 7 > "$BATS_TEST_TMPDIR/other.key"
	chmod 600 "$BATS_TEST_TMPDIR/other.key"
	run -65 anon-token --key-file "$BATS_TEST_TMPDIR/other.key" --mode vault --vault "$V" -D -c email "$BATS_TEST_TMPDIR/t.csv"
	# bytes that are no text are no token: a data error, the vault is not asked
	run -0 anon-token -q --mode vault --vault "$V" -D --on-error null -c e <(printf 'e\n\xff\xfe\n')
	assert_equal "$output" "$(printf 'e\n')"
	# detokenizing makes no vault
	run -78 anon-token --mode vault --vault "$V.none" -D -c email "$BATS_TEST_TMPDIR/t.csv"
	[ ! -e "$V.none" ]
}

@test "vault: a file that is not a vault is refused with exit 78" {
	vault_sql "$BATS_TEST_TMPDIR/other.db" "CREATE TABLE t(x)"
	run --separate-stderr -78 anon-token --mode vault --vault "$BATS_TEST_TMPDIR/other.db" -c email "$IN"
	[[ "$stderr" == *"not an anon-token vault"* ]]
	printf 'not a database at all, just some text that is long enough...........................%.0s' 1 2 3 4 5 6 7 8 9 > "$BATS_TEST_TMPDIR/text.db"
	run -78 anon-token --mode vault --vault "$BATS_TEST_TMPDIR/text.db" -c email "$IN"
	run -78 anon-token --mode vault --vault "$BATS_TEST_TMPDIR" -c email "$IN"
}

@test "vault: ANON_TOKEN_VAULT names the vault; the audit record counts what the vault did" {
	ANON_TOKEN_VAULT=$V anon-token --mode vault -c email -c name --audit "$BATS_TEST_TMPDIR/a.jsonl" "$IN" > /dev/null
	ANON_TOKEN_VAULT=$V anon-token --mode vault -c email -c name --audit "$BATS_TEST_TMPDIR/a.jsonl" "$IN" > /dev/null
	run -0 jq -c '.vault | [.backend, .tokens_created, .cache_hits, .snapshot]' "$BATS_TEST_TMPDIR/a.jsonl"
	assert_equal "${lines[0]}" '["sqlite",5,0,0]'
	assert_equal "${lines[1]}" '["sqlite",0,5,5]'
	run -1 grep -e alice -e "$V" "$BATS_TEST_TMPDIR/a.jsonl"
}

@test "vault: without the snapshot (--cache smaller than the vault) lookups give the same tokens" {
	local f=$BATS_FILE_TMPDIR/c3.csv
	anon-token --mode vault --vault "$V" -c v -c w "$f" > "$BATS_TEST_TMPDIR/a.csv"
	run -0 bash -c "set -o pipefail; anon-token --mode vault --vault '$V' --cache 4096 -c v -c w --audit '$BATS_TEST_TMPDIR/a.jsonl' '$f' | cmp - '$BATS_TEST_TMPDIR/a.csv'"
	run -0 jq -c '.vault | [.snapshot, .tokens_created, .lookups_found > 0]' "$BATS_TEST_TMPDIR/a.jsonl"
	assert_output '[0,0,true]'
}
