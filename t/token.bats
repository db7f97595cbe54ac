#!/usr/bin/env bats
# token.bats: anon-token's keyed and siv tokens, checked against an oracle that shares no
# code with it (Python's hmac, and the cryptography package's AES-SIV for siv), their round
# trips in every format, joins, --domain and contexts, tampered tokens, --jobs, usage.
# The vault mode has t/token-vault.bats (SQLite) and t/token-pg.bats (PostgreSQL).

load helper

setup_file() {
	# the oracle: the key derivation of t/oracle.py (RFC 5869), then anon-token's streams and
	# alphabets as anon-token(1) describes them
	cat > "$BATS_FILE_TMPDIR/oracle.py" <<'PY'
import base64, hashlib, hmac, sys

def hkdf(key, info, length):
    prk = hmac.new(b"\0" * 32, key, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]

def subkey(keyhex, purpose, domain, length):
    info = b"anon-token\0" + purpose.encode() + b"\0" + domain.encode()
    return hkdf(bytes.fromhex(keyhex), info, length)

def stream(k, context, value):
    first = hmac.new(k, context + b"\0" + value, hashlib.sha256).digest()
    yield from first
    i = 1
    while True:
        yield from hmac.new(k, first + i.to_bytes(4, "big"), hashlib.sha256).digest()
        i += 1

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

def body(fmt, n, s):
    out = []
    if fmt == "base32":
        acc = bits = 0
        while len(out) < n:
            if bits < 5:
                acc, bits = (acc << 8) | next(s), bits + 8
            bits -= 5
            out.append(B32[(acc >> bits) & 31])
            acc &= (1 << bits) - 1
    elif fmt == "digits":
        while len(out) < n:
            c = next(s)
            if c < 250 and (out or c % 10):
                out.append(str(c % 10))
    else:
        while len(out) < n:
            c = next(s)
            if c < 248:
                out.append(ALNUM[c % 62])
    return "".join(out)

cmd, keyhex, domain, context = sys.argv[1:5]
if cmd == "keyed":
    fmt, n, prefix, value = sys.argv[5:9]
    k = subkey(keyhex, "keyed", domain, 32)
    print(prefix + body(fmt, int(n), stream(k, context.encode(), value.encode())))
else:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    prefix, value = sys.argv[5:7]
    ad = [context.encode()] if context else None
    sealed = AESSIV(subkey(keyhex, "siv", domain, 64)).encrypt(value.encode(), ad)
    print(prefix + base64.urlsafe_b64encode(sealed).decode().rstrip("="))
PY
	# many rows, repeated values, across chunk boundaries (4096 rows, 256 KiB)
	python3 - "$BATS_FILE_TMPDIR/many.csv" <<'PY'
import random, sys
random.seed(11)
with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
    f.write("id,email,user_id,note\n")
    for i in range(30000):
        u = random.randrange(5000)
        note = random.choice(['"a, b"', '"two\nlines"', "", '""', "Zoë", '"say ""hi"""'])
        f.write("%d,u%d@example.com,%d,%s\n" % (i, u, u, note))
PY
}

setup() {
	KEY=$(test_key)
	KEYHEX=$(cat "$KEY")
	export ANON_KEY_FILE=$KEY
	IN=$BATS_TEST_TMPDIR/in.csv
	printf 'id,email,name\n42,alice@example.com,Zoë\n7,bob@example.org,Bob\n' > "$IN"
	MANY=$BATS_FILE_TMPDIR/many.csv
}

# keyed DOMAIN CONTEXT FORMAT LENGTH PREFIX VALUE; siv DOMAIN CONTEXT PREFIX VALUE
keyed() { python3 "$BATS_FILE_TMPDIR/oracle.py" keyed "$KEYHEX" "$@"; }
siv() { python3 "$BATS_FILE_TMPDIR/oracle.py" siv "$KEYHEX" "$@"; }
need_siv_oracle() {
	python3 -c 'from cryptography.hazmat.primitives.ciphers.aead import AESSIV' 2>/dev/null ||
		skip "python3-cryptography is not installed (the AES-SIV oracle)"
}

field() { # ROW(0-based output line) COLUMN(1-based)
	echo "${lines[$1]}" | cut -d, -f"$2"
}

@test "keyed (the default): tok_ and 26 base32 characters of an HMAC-SHA256" {
	run -0 anon-token -c email "$IN"
	assert_equal "$(field 1 2)" "$(keyed "" "" base32 26 tok_ alice@example.com)"
	assert_equal "$(field 2 2)" "$(keyed "" "" base32 26 tok_ bob@example.org)"
	[[ "$(field 1 2)" =~ ^tok_[A-Z2-7]{26}$ ]]
	assert_equal "$(field 1 3)" "Zoë"
}

@test "keyed: digits and alnum, a length past one MAC block, another prefix" {
	run -0 anon-token -c email --token-format digits -c name=alnum,length=70,prefix=n: "$IN"
	assert_equal "$(field 1 2)" "$(keyed "" "" digits 39 tok_ alice@example.com)"
	assert_equal "$(field 1 3)" "$(keyed "" "" alnum 70 n: Zoë)"
	run -0 anon-token -c email --length 8 --prefix '' -q "$IN"
	assert_equal "$(field 1 2)" "$(keyed "" "" base32 8 "" alice@example.com)"
	run -0 anon-token -c email=digits,length=80,prefix= "$IN"
	assert_equal "$(field 2 2)" "$(keyed "" "" digits 80 "" bob@example.org)"
	[[ "$(field 2 2)" =~ ^[1-9][0-9]{79}$ ]]
}

@test "keyed: context= and --domain give other tokens, as the oracle says" {
	run -0 anon-token -c email=context=people --domain crm "$IN"
	assert_equal "$(field 1 2)" "$(keyed crm people base32 26 tok_ alice@example.com)"
	run -0 anon-token -c email --context people "$IN"
	assert_equal "$(field 1 2)" "$(keyed "" people base32 26 tok_ alice@example.com)"
	[ "$(field 1 2)" != "$(keyed "" "" base32 26 tok_ alice@example.com)" ]
}

@test "keyed tokens join two tables after tokenization" {
	printf 'user_id,name\n1,a\n2,b\n3,c\n' > "$BATS_TEST_TMPDIR/users.csv"
	printf 'order_id,user_id\n10,2\n11,1\n12,2\n' > "$BATS_TEST_TMPDIR/orders.csv"
	anon-token -c user_id "$BATS_TEST_TMPDIR/users.csv" | tail -n +2 | sort -t, -k1,1 > "$BATS_TEST_TMPDIR/u"
	anon-token -c user_id "$BATS_TEST_TMPDIR/orders.csv" | tail -n +2 | sort -t, -k2,2 > "$BATS_TEST_TMPDIR/o"
	run -0 join -t, -1 2 -2 1 -o 1.1,2.2 "$BATS_TEST_TMPDIR/o" "$BATS_TEST_TMPDIR/u"
	assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" "10,b 11,a 12,b "
}

@test "keyed: a short --length warns with the odds; -q silences it" {
	run --separate-stderr -0 anon-token -c email --length 10 "$IN"
	[[ "$stderr" == *"10 base32 characters hold 50 bits"* ]]
	run --separate-stderr -0 anon-token -q -c email --length 10 "$IN"
	assert_equal "$stderr" ""
}

@test "siv: tok_ and base64url of AES-256-SIV (RFC 5297), as the cryptography package seals" {
	need_siv_oracle
	run -0 anon-token --mode siv -c email -c name "$IN"
	assert_equal "$(field 1 2)" "$(siv "" "" tok_ alice@example.com)"
	assert_equal "$(field 1 3)" "$(siv "" "" tok_ Zoë)"
	[[ "$(field 2 2)" =~ ^tok_[A-Za-z0-9_-]+$ ]]
}

@test "siv: the context is the associated data; --domain is the key" {
	need_siv_oracle
	run -0 anon-token -c email=siv:context=crm,prefix=s_ --domain eu "$IN"
	assert_equal "$(field 1 2)" "$(siv eu crm s_ alice@example.com)"
	run -0 anon-token -D -c e=siv:context=crm,prefix=s_ --domain eu <(printf 'e\n%s\n' "$(siv eu crm s_ a,b)")
	assert_equal "${lines[1]}" '"a,b"'
}

@test "siv: tokenize then detokenize is the identity in csv, tsv, copy and pgdump" {
	run -0 bash -c "set -o pipefail; anon-token --mode siv -c email -c name '$DATA/csv-basic.in' | anon-token --mode siv -D -c email -c name | cmp - '$DATA/csv-basic.in'"
	run -0 bash -c "set -o pipefail; anon-token -f tsv --mode siv -c email -c note '$DATA/tsv-basic.in' | anon-token -f tsv --mode siv -D -c email -c note | cmp - '$DATA/tsv-basic.in'"
	run -0 bash -c "set -o pipefail; anon-token -f copy --schema id,email,x,note --mode siv -c email -c x '$DATA/copy-basic.in' | anon-token -f copy --schema id,email,x,note --mode siv -D -c email -c x | cmp - '$DATA/copy-basic.in'"
	cols=(-c public.users.email -c public.users.note -c 'public."Weird Name"."first name"')
	anon-token -f pgdump --mode siv "${cols[@]}" "$DATA/pgdump-basic.in" > "$BATS_TEST_TMPDIR/dump.sql"
	run -0 grep -c 'tok_' "$BATS_TEST_TMPDIR/dump.sql"
	run -0 bash -c "set -o pipefail; anon-token -f pgdump --mode siv -D ${cols[*]@Q} '$BATS_TEST_TMPDIR/dump.sql' | cmp - '$DATA/pgdump-basic.in'"
	run -0 bash -c "set -o pipefail; anon-token --mode siv -c email -c note '$MANY' | anon-token --mode siv -D -c email -c note | cmp - '$MANY'"
}

@test "siv and keyed: one value, one token across columns, tables and runs" {
	for mode in keyed siv; do
		a=$(anon-token --mode "$mode" -c email -c user_id "$MANY" | sed -n 2p)
		b=$(printf 'x,y\n1,%s\n' "$(sed -n 2p "$MANY" | cut -d, -f2)" | anon-token --mode "$mode" -c y | tail -n 1)
		[ "$(echo "$a" | cut -d, -f2)" = "${b#*,}" ]
		c=$(anon-token --mode "$mode" -c email -c user_id "$MANY" | sed -n 2p)
		[ "$a" = "$c" ]
	done
}

@test "siv and keyed: --domain and context= separate tokens" {
	for mode in keyed siv; do
		base=$(anon-token --mode "$mode" -c email "$IN" | sed -n 2p)
		dom=$(anon-token --mode "$mode" --domain other -c email "$IN" | sed -n 2p)
		ctx=$(anon-token --mode "$mode" -c email=context=x "$IN" | sed -n 2p)
		[ "$base" != "$dom" ]
		[ "$base" != "$ctx" ]
		[ "$dom" != "$ctx" ]
	done
}

@test "siv: a tampered token is refused with exit 65" {
	tok=$(anon-token --mode siv -c email "$IN" | sed -n 2p | cut -d, -f2)
	last=${tok: -1}
	other=A
	[ "$last" = A ] && other=B
	run -0 anon-token --mode siv -D -c e <(printf 'e\n%s\n' "$tok")
	assert_equal "${lines[1]}" alice@example.com
	run --separate-stderr -65 anon-token --mode siv -D -c e <(printf 'e\n%s\n' "${tok%?}$other")
	[[ "$stderr" == *"does not authenticate"* ]]
	run -65 anon-token --mode siv -D -c e <(printf 'e\n%s\n' "${tok:0:20}")
	run -65 anon-token --mode siv -D -c e <(printf 'e\n%s\n' "x${tok}")
	run -65 anon-token --mode siv -D -c e <(printf 'e\n%s\n' "${tok}=")
	run -65 anon-token --mode siv -D --domain other -c e <(printf 'e\n%s\n' "$tok")
	run -65 anon-token --mode siv -D -c e=siv:context=x <(printf 'e\n%s\n' "$tok")
}

@test "siv: --on-error null makes a token that does not open NULL, the others still open" {
	tok=$(anon-token --mode siv -c email "$IN" | sed -n 2p | cut -d, -f2)
	run -0 anon-token -q --mode siv -D --on-error null -c e <(printf 'e\ntok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n%s\n' "$tok")
	assert_equal "$output" "$(printf 'e\n\nalice@example.com')"
}

@test "keyed and siv: --jobs 4 gives the bytes of --jobs 1, both ways" {
	for mode in keyed siv; do
		run -0 bash -c "set -o pipefail; anon-token --mode $mode -c email -c user_id -c note '$MANY' | md5sum"
		one=$output
		run -0 bash -c "set -o pipefail; anon-token --mode $mode --jobs 4 -c email -c user_id -c note '$MANY' | md5sum"
		assert_equal "$output" "$one"
	done
	anon-token --mode siv --jobs 4 -c email -c note "$MANY" > "$BATS_TEST_TMPDIR/t.csv"
	run -0 bash -c "set -o pipefail; anon-token --mode siv -D --jobs 3 -c email -c note '$BATS_TEST_TMPDIR/t.csv' | cmp - '$MANY'"
}

@test "NULL stays NULL and empty stays empty, in every mode and both ways" {
	printf 'a,b\n,""\n' > "$BATS_TEST_TMPDIR/n.csv"
	for rule in keyed siv vault vault:digits,keep-length; do
		run -0 anon-token --vault "$BATS_TEST_TMPDIR/v.db" -c "a=$rule" -c "b=$rule" "$BATS_TEST_TMPDIR/n.csv"
		assert_equal "${lines[1]}" ',""'
	done
	for rule in siv vault; do
		run -0 anon-token -D --vault "$BATS_TEST_TMPDIR/v.db" -c "a=$rule" -c "b=$rule" "$BATS_TEST_TMPDIR/n.csv"
		assert_equal "${lines[1]}" ',""'
	done
	run -0 bash -c "set -o pipefail; printf '1\t\\\\N\t\n' | anon-token -f copy --mode siv -c 2 -c 3"
	assert_equal "$output" "$(printf '1\t\\N\t')"
}

@test "usage errors are exit 64, before any output" {
	run --separate-stderr -64 anon-token -D -c email "$IN"
	[[ "$stderr" == *"keyed tokens cannot be reversed"* ]]
	assert_equal "$output" ""
	run -64 anon-token -c email=siv:length=10 "$IN"
	run -64 anon-token -c email=siv:digits "$IN"
	run -64 anon-token --mode siv --length 10 -c email "$IN"
	run -64 anon-token -c email=keyed:keep-length "$IN"
	run -64 anon-token -c email=vault:keep-length,prefix=x --vault "$BATS_TEST_TMPDIR/v.db" "$IN"
	run -64 anon-token --mode rot13 -c email "$IN"
	run -64 anon-token --token-format hex -c email "$IN"
	run -64 anon-token --length 0 -c email "$IN"
	run -64 anon-token --length 257 -c email "$IN"
	run -64 anon-token -c email=keyed:colour=red "$IN"
	run -64 anon-token -c email=keyed:length=3, "$IN"
	run --separate-stderr -64 env -u ANON_TOKEN_VAULT anon-token --mode vault -c email "$IN"
	[[ "$stderr" == *"need --vault"* ]]
	run -64 anon-token --ttl 30d -c email "$IN"
	run -64 anon-token --ttl 30y --mode vault --vault "$BATS_TEST_TMPDIR/v.db" -c email "$IN"
	run -64 anon-token --cache 10 --mode vault --vault "$BATS_TEST_TMPDIR/v.db" -c email "$IN"
	run -64 anon-token --vault-sync off --mode vault --vault "$BATS_TEST_TMPDIR/v.db" -c email "$IN"
	run -64 anon-token --vault "$BATS_TEST_TMPDIR/v.db" --vault-stats -c email
	run -64 anon-token --vault-stats
}

@test "no key is exit 78; nothing selected needs none" {
	run -78 env -u ANON_KEY_FILE anon-token -c email "$IN"
	run -0 env -u ANON_KEY_FILE anon-token "$IN"
	run -0 cmp <(anon-token "$IN") "$IN"
}

@test "a message names the line and column, never the value" {
	run --separate-stderr -65 anon-token --mode siv -D -c e <(printf 'e\ntok_SECRETSENTINEL\n')
	[[ "$stderr" == *":2:1 (e):"* ]]
	[[ "$stderr" != *SENTINEL* ]]
	run --separate-stderr -65 anon-token --mode siv -D -c e <(printf 'e\nSECRETSENTINEL\n')
	[[ "$stderr" != *SENTINEL* ]]
}

@test "the audit record names each column's mode and shape, and the direction" {
	run -0 anon-token -c email -c name=siv:context=n --audit "$BATS_TEST_TMPDIR/a.jsonl" "$IN"
	run -0 jq -c '[.direction, .columns[0].params, .columns[1].params]' "$BATS_TEST_TMPDIR/a.jsonl"
	assert_output '["tokenize",{"context":null,"format":"base32","length":26,"mode":"keyed","prefix":"tok_"},{"context":"n","format":"base64url","mode":"siv","prefix":"tok_"}]'
	run -0 jq -r '.columns[0].changed' "$BATS_TEST_TMPDIR/a.jsonl"
	assert_output 2
}

@test "--help lists the rules and the tool's options" {
	run -0 anon-token --help
	[[ "$output" == *"keep-length"* ]]
	[[ "$output" == *"--vault-stats"* ]]
	[[ "$output" == *"common options:"* ]]
}
