#!/usr/bin/env bats
# hash.bats: anon-hash's algorithms and encodings, checked against t/oracle.py.

load helper

setup() {
	KEY=$(test_key)
	KEYHEX=$(cat "$KEY")
	IN="$BATS_TEST_TMPDIR/in.csv"
	printf 'id,email,phone\n42,alice@example.com,+1 (555) 010-2030\n7,bob@example.org,0044 20 7946 0000\n' > "$IN"
}

oracle() { # ALGO PURPOSE VALUE
	python3 "$TOP/t/oracle.py" hmac "$KEYHEX" anon-hash "$2" "" "$1" "$3"
}

field() { # ROW(0-based output line) COLUMN(1-based)
	echo "${lines[$1]}" | cut -d, -f"$2"
}

@test "hex (default) is the HMAC-SHA-256 of the value under the derived key" {
	run -0 anon-hash -c email --key-file "$KEY" "$IN"
	[ "$(field 1 2)" = "$(oracle sha256 hash-hmac-sha256 alice@example.com)" ]
}

@test "--algo hmac-sha512 and blake2b" {
	run -0 anon-hash --algo hmac-sha512 -c email --key-file "$KEY" "$IN"
	[ "$(field 1 2)" = "$(oracle sha512 hash-hmac-sha512 alice@example.com)" ]
	run -0 anon-hash --algo blake2b -c email --key-file "$KEY" "$IN"
	[ "$(field 1 2)" = "$(oracle blake2b hash-blake2b alice@example.com)" ]
	run -64 anon-hash --algo md5 -c email --key-file "$KEY" "$IN"
}

@test "base64url and base32 encode the same MAC" {
	mac=$(oracle sha256 hash-hmac-sha256 alice@example.com)
	run -0 anon-hash -c email=base64url --key-file "$KEY" "$IN"
	want=$(python3 -c "import base64; print(base64.urlsafe_b64encode(bytes.fromhex('$mac')).decode().rstrip('='))")
	[ "$(field 1 2)" = "$want" ]
	run -0 anon-hash -c email=base32 --key-file "$KEY" "$IN"
	want=$(python3 -c "import base64; print(base64.b32encode(bytes.fromhex('$mac')).decode().rstrip('='))")
	[ "$(field 1 2)" = "$want" ]
}

@test "--length truncates text encodings" {
	run -0 anon-hash --length 12 -c email -c id=base32 --key-file "$KEY" "$IN"
	[ "$(field 1 2)" = "$(oracle sha256 hash-hmac-sha256 alice@example.com | cut -c1-12)" ]
	[ "$(field 1 1 | wc -c)" -eq 13 ]
	run -64 anon-hash --length 0 -c email --key-file "$KEY" "$IN"
}

@test "int64 is a non-negative 63-bit integer from the MAC's first 8 bytes" {
	run -0 anon-hash -c id=int64 --key-file "$KEY" "$IN"
	mac=$(oracle sha256 hash-hmac-sha256 42)
	[ "$(field 1 1)" = "$(python3 -c "print(int('${mac:0:16}', 16) >> 1)")" ]
	[[ "$(field 2 1)" =~ ^[0-9]+$ ]]
}

@test "digits keeps the digit count and the separators, with no leading zero" {
	run -0 anon-hash -c phone=digits --key-file "$KEY" "$IN"
	[[ "$(field 1 3)" =~ ^\+[1-9]\ \([0-9]{3}\)\ [0-9]{3}-[0-9]{4}$ ]]
	[[ "$(field 2 3)" =~ ^[0-9]{4}\ [0-9]{2}\ [0-9]{4}\ [0-9]{4}$ ]]
	[ "$(field 1 3)" != "+1 (555) 010-2030" ]
}

@test "digits: many ids keep their length and almost never collide" {
	seq 100000 999999 | awk 'NR%9==0' | sed '1i id' > "$BATS_TEST_TMPDIR/ids.csv"
	run -0 bash -c "anon-hash -c id=digits --key-file '$KEY' '$BATS_TEST_TMPDIR/ids.csv' | tail -n +2 | awk 'length(\$0)!=6 || /^0/' | wc -l"
	assert_output 0
}

@test "uuid is a well-formed version 8 UUID" {
	run -0 anon-hash -c email=uuid --key-file "$KEY" "$IN"
	[[ "$(field 1 2)" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
}

@test "email hashes the local part and keeps the domain" {
	run -0 anon-hash -c email=email --key-file "$KEY" "$IN"
	[ "$(field 1 2)" = "$(oracle sha256 hash-hmac-sha256 alice@example.com)@example.com" ]
	[[ "$(field 2 2)" =~ ^[0-9a-f]{64}@example\.org$ ]]
	# no '@': the whole value is hashed, nothing of it is kept
	run -0 bash -c "printf 'e\nnot-an-address\n' | anon-hash -c e=email --key-file '$KEY'"
	[[ "${lines[1]}" =~ ^[0-9a-f]{64}$ ]]
}

@test "an unknown rule is exit 64" {
	run --separate-stderr -64 anon-hash -c email=rot13 --key-file "$KEY" "$IN"
	[[ "$stderr" == *"unknown rule 'rot13'"* ]]
}

@test "NULL and empty are kept by every encoding" {
	for enc in hex base64url base32 int64 digits uuid email; do
		run -0 bash -c "printf 'a,b\n,\"\"\n' | anon-hash -c a=$enc -c b=$enc --key-file '$KEY'"
		[ "${lines[1]}" = ',""' ]
	done
}

@test "a join key hashed in two tables still joins" {
	printf 'user_id,name\n1,a\n2,b\n' > "$BATS_TEST_TMPDIR/users.csv"
	printf 'order_id,user_id\n10,2\n11,1\n' > "$BATS_TEST_TMPDIR/orders.csv"
	u=$(anon-hash -c user_id=int64 --key-file "$KEY" "$BATS_TEST_TMPDIR/users.csv" | sed -n 3p | cut -d, -f1)
	o=$(anon-hash -c user_id=int64 --key-file "$KEY" "$BATS_TEST_TMPDIR/orders.csv" | sed -n 2p | cut -d, -f2)
	[ "$u" = "$o" ]
}

@test "the audit record names the algorithm and each column's encoding" {
	run -0 anon-hash --algo blake2b -c email=email --length 20 --key-file "$KEY" --audit "$BATS_TEST_TMPDIR/a.jsonl" "$IN"
	run -0 python3 -c "
import json; r = json.loads(open('$BATS_TEST_TMPDIR/a.jsonl').read())
assert r['algorithm'] == 'blake2b' and r['length'] == 20
assert r['columns'][0]['params'] == {'encoding': 'email'}
assert r['columns'][0]['changed'] == 2"
}

@test "--help lists every rule and the tool's own options" {
	run -0 anon-hash --help
	for r in hex base64url base32 int64 digits uuid email; do
		assert_line --regexp "^  $r "
	done
	assert_line --partial -- '--algo ALGO'
	assert_line --partial -- '--length N'
}
