#!/usr/bin/env bats
# anon-fpe: the published FF1/FF3-1 vectors through the command line, both directions; rules,
# round trips, Luhn, range permutations, domain limits, tweaks, keys and the audit record.

load helper

setup() {
	KEY=$(test_key)
	export ANON_KEY_FILE=$KEY
	export -f luhn
}

# The published vectors: $ANON_VECTORS, else the copy in t/data/vectors (see its README.md).
# They are part of the tree, so a missing file is a failure, not a skip.
vectors() {
	VEC=${ANON_VECTORS:-$TOP/t/data/vectors}
	assert_file_exists "$VEC/fpe-public.tsv"
}

# cli_vectors FILE: run every row of a vector file through anon-fpe --key-raw, encrypting
# the plaintext and decrypting the ciphertext; prints one line per failure. TSV carries the
# values, so a backslash in an alphabet is written \\.
cli_vectors() {
	local line n=0 bad=0 f alg key tweak alpha pt ct got args
	while IFS= read -r line; do
		n=$((n + 1))
		[ "$n" -eq 1 ] && continue
		mapfile -t -d $'\t' f < <(printf '%s' "$line")
		alg=${f[0]} key=${f[1]} tweak=${f[2]} alpha=${f[4]} pt=${f[5]} ct=${f[6]}
		args=(--key-raw -f tsv --no-header --algo "${alg,,}")
		[ -n "$tweak" ] && args+=(--tweak "$tweak")
		got=$(printf '%s\n' "$pt" | sed 's/\\/\\\\/g' |
			ANON_KEY=$key ANON_KEY_FILE= anon-fpe "${args[@]}" -c "1=alphabet:$alpha" |
			sed 's/\\\\/\\/g')
		if [ "$got" != "$ct" ]; then
			echo "line $n: encrypt gave '$got'"
			bad=$((bad + 1))
		fi
		got=$(printf '%s\n' "$ct" | sed 's/\\/\\\\/g' |
			ANON_KEY=$key ANON_KEY_FILE= anon-fpe "${args[@]}" -D -c "1=alphabet:$alpha" |
			sed 's/\\\\/\\/g')
		if [ "$got" != "$pt" ]; then
			echo "line $n: decrypt gave '$got'"
			bad=$((bad + 1))
		fi
	done < "$1"
	echo "$((n - 1)) rows, $bad failures"
}

# Luhn check of every line of stdin: prints "valid" or "invalid" per line.
luhn() {
	awk '{ s = 0; k = 0
	       for (i = length($0); i > 0; i--) { c = substr($0, i, 1)
	         if (c !~ /[0-9]/) continue
	         d = c + 0; if (k++ % 2) { d *= 2; if (d > 9) d -= 9 }; s += d }
	       print (s % 10 == 0 ? "valid" : "invalid") }'
}

# --- the standard's vectors ----------------------------------------------------------------

@test "every vector of fpe-public.tsv, both directions, through --key-raw, --tweak and alphabet:" {
	vectors
	run -0 cli_vectors "$VEC/fpe-public.tsv"
	assert_output "20 rows, 0 failures"
}

@test "the ubiq, Bouncy Castle, str4d and mysto vectors (Unicode and punctuation alphabets, 1804 symbols)" {
	vectors
	assert_file_exists "$VEC/fpe-full/ff1-other.tsv"
	assert_file_exists "$VEC/fpe-full/ff3-1-other.tsv"
	run -0 cli_vectors "$VEC/fpe-full/ff1-other.tsv"
	assert_output "31 rows, 0 failures"
	run -0 cli_vectors "$VEC/fpe-full/ff3-1-other.tsv"
	assert_output "21 rows, 0 failures"
}

@test "the NIST FF1 sample 1 with digits, the named alphabet" {
	run -0 bash -c "echo 0123456789 | ANON_KEY=2B7E151628AED2A6ABF7158809CF4F3C ANON_KEY_FILE= anon-fpe --key-raw -f csv --no-header -c 1=digits"
	assert_output 2433477484
}

@test "Wycheproof small domains (radix^n < 10^6) are refused with exit 65" {
	vectors
	f="$VEC/fpe-full/extra/ff1-wycheproof-small-domain.tsv"
	assert_file_exists "$f"
	n=0
	while IFS=$'\t' read -r alg key tweak radix alpha pt ct; do
		[ "$alg" = FF1 ] || continue
		n=$((n + 1))
		run -65 --separate-stderr bash -c "printf '%s\n' '$pt' | ANON_KEY=$key ANON_KEY_FILE= anon-fpe --key-raw --tweak '$tweak' -f csv --no-header -c '1=alphabet:$alpha'"
		[[ "$stderr" == *"domain too small"* ]]
	done < "$f"
	[ "$n" -eq 66 ]
}

@test "raw keys of other sizes than 16, 24 or 32 bytes are exit 78" {
	for hex in 00112233445566778899aabbccddeeff0011223344 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 0011223344556677; do
		run -78 --separate-stderr bash -c "echo 0123456789 | ANON_KEY=$hex ANON_KEY_FILE= anon-fpe --key-raw -f csv --no-header -c 1"
	done
	run -78 --separate-stderr bash -c "echo 0123456789 | ANON_KEY=2B7E151628AED2A6ABF7158809CF4F3C ANON_KEY_FILE= anon-fpe --key-raw --key-bits 256 -f csv --no-header -c 1"
}

# --- cards, separators, NULLs ----------------------------------------------------------------

@test "a card keeps its length and dashes, and decrypts back" {
	printf 'id,card\n1,4111-1111-1111-1111\n2,5500 0000 0000 0004\n' > "$BATS_TEST_TMPDIR/in.csv"
	run -0 anon-fpe -c card "$BATS_TEST_TMPDIR/in.csv"
	assert_line --index 0 'id,card'
	assert_line --regexp --index 1 '^1,[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}$'
	assert_line --regexp --index 2 '^2,[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$'
	refute_line --index 1 '1,4111-1111-1111-1111'
	run -0 bash -c "anon-fpe -c card '$BATS_TEST_TMPDIR/in.csv' | anon-fpe -D -c card | cmp - '$BATS_TEST_TMPDIR/in.csv'"
}

@test "NULL stays NULL and an empty string stays empty, in csv and copy" {
	run -0 bash -c "printf 'id,card\n1,\n2,\"\"\n3,12345678\n' | anon-fpe -c card"
	assert_line --index 1 '1,'
	assert_line --index 2 '2,""'
	run -0 bash -c "printf '1\t\\\\N\n2\t\n' | anon-fpe -f copy --schema id,card -c card"
	assert_output $'1\t\\N\n2\t'
}

@test "the other columns and the quoting of untouched fields are byte for byte" {
	printf 'id,card,note\n1,4111111111111111,"a, ""quoted"" note"\r\n' > "$BATS_TEST_TMPDIR/in.csv"
	run -0 bash -c "anon-fpe -c card '$BATS_TEST_TMPDIR/in.csv' | tail -n 1 | od -c | grep -c '\\\\r'"
	run -0 bash -c "anon-fpe -c card '$BATS_TEST_TMPDIR/in.csv' | tail -n 1 | cut -d, -f3-"
	assert_output $'"a, ""quoted"" note"\r'
}

@test "pgdump: table.column selects a COPY column" {
	printf 'SET x = 1;\nCOPY public.cards (id, number) FROM stdin;\n1\t4111111111111111\n\\.\nSELECT 1;\n' > "$BATS_TEST_TMPDIR/d.sql"
	run -0 bash -c "anon-fpe -f pgdump -c cards.number=luhn '$BATS_TEST_TMPDIR/d.sql' | anon-fpe -f pgdump -D -c cards.number=luhn | cmp - '$BATS_TEST_TMPDIR/d.sql'"
	run -0 bash -c "anon-fpe -f pgdump -c cards.number=luhn '$BATS_TEST_TMPDIR/d.sql' | sed -n 3p | cut -f2 | luhn"
	assert_output valid
}

# --- round trips of every alphabet -------------------------------------------------------------

@test "random values of every alphabet and many lengths round trip, in both algorithms" {
	python3 - "$BATS_TEST_TMPDIR" <<'EOF'
import random, sys
random.seed(7)
alpha = {
    "digits": "0123456789", "hex": "0123456789abcdef", "lower": "abcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "alpha": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "alnum": "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψω",
}
for name, a in alpha.items():
    with open(f"{sys.argv[1]}/{name}.csv", "w", encoding="utf-8") as f:
        f.write("v\n")
        for n in range(6, 33):
            for _ in range(8):
                s = "".join(random.choice(a) for _ in range(n))
                if n % 3 == 0:
                    s = s[:3] + "-" + s[3:]
                f.write(s + "\n")
EOF
	for algo in ff1 ff3-1; do
		for name in digits hex lower upper alpha alnum; do
			run -0 bash -c "anon-fpe --algo $algo -c v=$name '$BATS_TEST_TMPDIR/$name.csv' | anon-fpe --algo $algo -D -c v=$name | cmp - '$BATS_TEST_TMPDIR/$name.csv'"
			run -0 bash -c "anon-fpe --algo $algo -c v=$name '$BATS_TEST_TMPDIR/$name.csv' | cmp -s - '$BATS_TEST_TMPDIR/$name.csv' || echo differs"
			assert_output differs
		done
		run -0 bash -c "anon-fpe --algo $algo -c v=alphabet:αβγδεζηθικλμνξοπρστυφχψω '$BATS_TEST_TMPDIR/greek.csv' | anon-fpe --algo $algo -D -c v=alphabet:αβγδεζηθικλμνξοπρστυφχψω | cmp - '$BATS_TEST_TMPDIR/greek.csv'"
	done
}

@test "alnum is 0-9a-zA-Z: digits-only values stay digits" {
	run -0 bash -c "printf 'v\n0123456789\n' | anon-fpe -c v=alnum | tail -n 1"
	refute_output 0123456789
	[ "${#output}" -eq 10 ]
}

@test "characters outside the alphabet stay in place" {
	run -0 bash -c "printf 'v\nAB-12.34/56 z\n' | anon-fpe -c v=digits | tail -n 1"
	assert_output --regexp '^AB-[0-9]{2}\.[0-9]{2}/[0-9]{2} z$'
}

@test "hex reads either case and keeps an upper-case value upper case" {
	run -0 bash -c "printf 'v\nDEADBEEF\n' | anon-fpe -c v=hex | tail -n 1"
	assert_output --regexp '^[0-9A-F]{8}$'
	run -0 bash -c "printf 'v\nDEADBEEF\n' | anon-fpe -c v=hex | anon-fpe -D -c v=hex | tail -n 1"
	assert_output DEADBEEF
}

# --- Luhn ------------------------------------------------------------------------------------

@test "luhn: Luhn-valid cards stay valid and decrypt back" {
	printf 'card\n4111111111111111\n5500000000000004\n340000000000009\n6011000000000004\n4012888888881881\n378282246310005\n' > "$BATS_TEST_TMPDIR/cards.csv"
	run -0 bash -c "anon-fpe -c card=luhn '$BATS_TEST_TMPDIR/cards.csv' | tail -n +2 | luhn | sort -u"
	assert_output valid
	run -0 bash -c "anon-fpe -c card=luhn '$BATS_TEST_TMPDIR/cards.csv' | anon-fpe -D -c card=luhn | cmp - '$BATS_TEST_TMPDIR/cards.csv'"
}

@test "luhn-fail: no output passes the Luhn check; valid cards decrypt back" {
	printf 'card\n4111111111111111\n5500000000000004\n340000000000009\n6011000000000004\n4012888888881881\n378282246310005\n' > "$BATS_TEST_TMPDIR/cards.csv"
	run -0 bash -c "anon-fpe -c card=luhn-fail '$BATS_TEST_TMPDIR/cards.csv' | tail -n +2 | luhn | sort -u"
	assert_output invalid
	run -0 bash -c "anon-fpe -c card=luhn-fail '$BATS_TEST_TMPDIR/cards.csv' | anon-fpe -D -c card=luhn-fail | cmp - '$BATS_TEST_TMPDIR/cards.csv'"
}

@test "luhn on many random valid numbers" {
	python3 - > "$BATS_TEST_TMPDIR/cards.csv" <<'EOF'
import random
random.seed(3)
print("card")
for _ in range(500):
    n = random.randint(13, 19)
    d = [random.randint(0, 9) for _ in range(n - 1)]
    s = sum(x if i % 2 else (2 * x - 9 if 2 * x > 9 else 2 * x) for i, x in enumerate(reversed(d)))
    print("".join(map(str, d)) + str((10 - s % 10) % 10))
EOF
	run -0 bash -c "anon-fpe -c card=luhn '$BATS_TEST_TMPDIR/cards.csv' | tail -n +2 | luhn | sort | uniq -c"
	assert_output --regexp '^ *500 valid$'
	run -0 bash -c "anon-fpe -c card=luhn-fail '$BATS_TEST_TMPDIR/cards.csv' | tail -n +2 | luhn | sort | uniq -c"
	assert_output --regexp '^ *500 invalid$'
}

# --- range -----------------------------------------------------------------------------------

@test "range:0..999999 is a permutation: every value appears exactly once" {
	seq 0 999999 > "$BATS_TEST_TMPDIR/ids"
	run -0 bash -c "anon-fpe -f csv --no-header -c 1=range:0..999999 '$BATS_TEST_TMPDIR/ids' | sort -n | cmp - '$BATS_TEST_TMPDIR/ids'"
	run -0 bash -c "anon-fpe -f csv --no-header -c 1=range:0..999999 '$BATS_TEST_TMPDIR/ids' | cmp -s - '$BATS_TEST_TMPDIR/ids' || echo shuffled"
	assert_output shuffled
}

@test "range on a small range (1..1000) is a permutation and decrypts back" {
	seq 1 1000 > "$BATS_TEST_TMPDIR/ids"
	run -0 bash -c "anon-fpe -f csv --no-header -c 1=range:1..1000 '$BATS_TEST_TMPDIR/ids' | sort -n | cmp - '$BATS_TEST_TMPDIR/ids'"
	run -0 bash -c "anon-fpe -f csv --no-header -c 1=range:1..1000 '$BATS_TEST_TMPDIR/ids' | anon-fpe -D -f csv --no-header -c 1=range:1..1000 | cmp - '$BATS_TEST_TMPDIR/ids'"
}

@test "range with negative bounds, and values outside the range are data errors" {
	run -0 bash -c "seq -50 49 | anon-fpe -f csv --no-header -c 1=range:-50..49 | sort -n | tr '\n' ' '"
	assert_output "$(seq -50 49 | tr '\n' ' ')"
	run -65 --separate-stderr bash -c "printf '5\n100\n' | anon-fpe -f csv --no-header -c 1=range:0..99"
	[[ "$stderr" == *'-:2:1: value outside the range'* ]]
	run -64 --separate-stderr anon-fpe -c 1=range:9..1 /dev/null
}

@test "a foreign key joins after range: equal ids give equal outputs across files" {
	run -0 bash -c "printf 'id\n42\n7\n' | anon-fpe -c id=range:1..100000000 | tail -n +2 | sort"
	a=$output
	run -0 bash -c "printf 'user_id,x\n7,a\n42,b\n' | anon-fpe -c user_id=range:1..100000000 | tail -n +2 | cut -d, -f1 | sort"
	[ "$output" = "$a" ]
}

# --- domain limits ---------------------------------------------------------------------------

@test "too small: 5 digits is exit 65 with line and column, and never the value" {
	run -65 --separate-stderr bash -c "printf 'id,code\n1,123456\n2,12-345\n' | anon-fpe -c code"
	[[ "$stderr" == *'-:3:2 (code): domain too small'* ]]
	[[ "$stderr" != *"12-345"* ]]
	[[ "$stderr" != *"12345"* ]]
}

@test "too small with --on-error keep and skip" {
	run -0 --separate-stderr bash -c "printf 'id,code\n1,123456\n2,12345\n' | anon-fpe --on-error keep -c code"
	assert_line --index 2 '2,12345'
	run -0 --separate-stderr bash -c "printf 'id,code\n1,123456\n2,12345\n' | anon-fpe --on-error skip -c code | wc -l"
	assert_output 2
}

@test "too long: FF3-1 takes 56 digits, not 57; a 4-symbol alnum value is enough" {
	d56=$(printf '%056d' 7)
	run -0 bash -c "echo $d56 | anon-fpe --algo ff3-1 -f csv --no-header -c 1"
	run -65 --separate-stderr bash -c "echo 1$d56 | anon-fpe --algo ff3-1 -f csv --no-header -c 1"
	[[ "$stderr" == *'too long for FF3-1'* ]]
	run -0 bash -c "echo abcd | anon-fpe -f csv --no-header -c 1=alnum"
	run -65 --separate-stderr bash -c "echo abc | anon-fpe -f csv --no-header -c 1=alnum"
}

# --- tweaks ----------------------------------------------------------------------------------

@test "--tweak changes the ciphertext; decrypt needs the same tweak" {
	run -0 bash -c "echo 4111111111111111 | anon-fpe -f csv --no-header -c 1"
	a=$output
	run -0 bash -c "echo 4111111111111111 | anon-fpe --tweak 0a0b -f csv --no-header -c 1"
	[ "$output" != "$a" ]
	run -0 bash -c "echo 4111111111111111 | anon-fpe --tweak 0a0b -f csv --no-header -c 1 | anon-fpe -D --tweak 0a0b -f csv --no-header -c 1"
	assert_output 4111111111111111
}

@test "--tweak-column binds a value to another column; decrypt with the same column" {
	printf 'customer,card\nc1,4111111111111111\nc2,4111111111111111\nc1,4111111111111111\n' > "$BATS_TEST_TMPDIR/in.csv"
	run -0 bash -c "anon-fpe --tweak-column customer -c card '$BATS_TEST_TMPDIR/in.csv' | tail -n +2 | cut -d, -f2"
	[ "${lines[0]}" != "${lines[1]}" ]
	[ "${lines[0]}" = "${lines[2]}" ]
	run -0 bash -c "anon-fpe --tweak-column customer -c card '$BATS_TEST_TMPDIR/in.csv' | anon-fpe -D --tweak-column customer -c card | cmp - '$BATS_TEST_TMPDIR/in.csv'"
	run -0 bash -c "anon-fpe --algo ff3-1 --tweak-column customer -c card '$BATS_TEST_TMPDIR/in.csv' | anon-fpe --algo ff3-1 -D --tweak-column customer -c card | cmp - '$BATS_TEST_TMPDIR/in.csv'"
}

@test "tweak errors are usage errors" {
	run -64 --separate-stderr anon-fpe --algo ff3-1 --tweak 00112233 -c 1 /dev/null
	[[ "$stderr" == *'7 bytes'* ]]
	run -64 --separate-stderr anon-fpe --tweak 0g -c 1 /dev/null
	run -64 --separate-stderr anon-fpe --tweak 00 --tweak-column a -c 1 /dev/null
	run -64 --separate-stderr anon-fpe --tweak-column card -c card /dev/null
	run -64 --separate-stderr bash -c "printf 'a,b\n1,2\n' | anon-fpe --tweak-column nosuch -c a"
}

# --- rules, options, keys --------------------------------------------------------------------

@test "bad rules are usage errors" {
	run -64 --separate-stderr anon-fpe -c 1=bogus /dev/null
	[[ "$stderr" == *"unknown"* ]]
	run -64 --separate-stderr anon-fpe -c 1=alphabet:abca /dev/null
	[[ "$stderr" == *"duplicate"* ]]
	run -64 --separate-stderr anon-fpe -c 1=alphabet:a /dev/null
	run -64 --separate-stderr anon-fpe --match '\d+' -c 1 /dev/null
	[[ "$stderr" == *'capture group'* ]]
	run -64 --separate-stderr anon-fpe --algo ff2 -c 1 /dev/null
	run -64 --separate-stderr anon-fpe --key-bits 512 -c 1 /dev/null
}

@test "--match: only the capture groups are encrypted" {
	run -0 bash -c "printf 'card\n4111-1111-1111-1234\n' | anon-fpe --match '^([0-9-]+)-[0-9]{4}\$' -c card | tail -n 1"
	assert_output --regexp '^[0-9]{4}-[0-9]{4}-[0-9]{4}-1234$'
	run -0 bash -c "printf 'card\n4111-1111-1111-1234\n' | anon-fpe --match '^([0-9-]+)-[0-9]{4}\$' -c card | anon-fpe -D --match '^([0-9-]+)-[0-9]{4}\$' -c card | tail -n 1"
	assert_output 4111-1111-1111-1234
	run -0 bash -c "printf 'iban\nDE89370400440532013000\n' | anon-fpe --match '^[A-Z]{2}[0-9]{2}([0-9]+)\$' -c iban | tail -n 1"
	assert_output --regexp '^DE89[0-9]{18}$'
	run -65 --separate-stderr bash -c "printf 'card\nnone here\n' | anon-fpe --match '^([0-9]+)\$' -c card"
	[[ "$stderr" == *'does not match'* ]]
}

@test "keys: derived by default (--key-bits, --domain change the output), no key is exit 78" {
	run -0 bash -c "echo 4111111111111111 | anon-fpe -f csv --no-header -c 1"
	a=$output
	run -0 bash -c "echo 4111111111111111 | anon-fpe --key-bits 128 -f csv --no-header -c 1"
	b=$output
	run -0 bash -c "echo 4111111111111111 | anon-fpe --domain shop -f csv --no-header -c 1"
	c=$output
	run -0 bash -c "echo 4111111111111111 | anon-fpe --algo ff3-1 -f csv --no-header -c 1"
	d=$output
	[ "$a" != "$b" ]
	[ "$a" != "$c" ]
	[ "$a" != "$d" ]
	[ "$b" != "$c" ]
	run -0 bash -c "echo 4111111111111111 | anon-fpe --key-bits 128 -f csv --no-header -c 1 | anon-fpe -D --key-bits 128 -f csv --no-header -c 1"
	assert_output 4111111111111111
	run -78 --separate-stderr bash -c "echo 4111111111111111 | ANON_KEY_FILE= anon-fpe -f csv --no-header -c 1"
}

# --- audit -----------------------------------------------------------------------------------

@test "the audit record names algorithm, alphabet, radix, tweak source and key, never data" {
	printf 'customer,card\nsecret-customer-7,4111111111111111\n' > "$BATS_TEST_TMPDIR/in.csv"
	anon-fpe --audit "$BATS_TEST_TMPDIR/a.jsonl" --tweak-column customer -c card=luhn "$BATS_TEST_TMPDIR/in.csv" > /dev/null
	ANON_KEY=2B7E151628AED2A6ABF7158809CF4F3C ANON_KEY_FILE= anon-fpe --audit "$BATS_TEST_TMPDIR/a.jsonl" --algo ff3-1 --key-raw --tweak 00112233445566 -c card=alphabet:0123456789 "$BATS_TEST_TMPDIR/in.csv" > /dev/null
	run -0 python3 - "$BATS_TEST_TMPDIR/a.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
p = recs[0]["columns"][0]["params"]
assert p["algorithm"] == "FF1" and p["rule"] == "luhn" and p["alphabet"] == "0123456789", p
assert p["radix"] == 10 and p["tweak"] == "column" and p["tweak_column"] == "customer", p
assert p["key"] == "derived" and p["key_bits"] == 256 and p["direction"] == "encrypt", p
q = recs[-1]["columns"][0]["params"]
assert q["algorithm"] == "FF3-1" and q["key"] == "raw" and q["key_bits"] == 128, q
assert q["tweak"] == "fixed" and q["tweak_hex"] == "00112233445566", q
text = open(sys.argv[1]).read()
assert "secret-customer" not in text and "4111111111111111" not in text
print("ok")
EOF
	assert_output ok
}

# --- regressions and independent checks of the derivations -----------------------------------

FPE_CITY='AaBbCcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZzÄäÖöÜüßΑαΒβΓγΔδΕεΖζΗηΘθΙιΚκΛλΜμΝνΞξΟοΠπΡρΣσςΤτΥυΦφΧχΨψΩωήί'

@test "ciphertexts do not change between versions (t/data/fpe-rules.out), and decrypt back" {
	rules=(-c card=luhn -c phone -c token=hex -c code=alnum -c "city=alphabet:$FPE_CITY"
		-c id=range:1..1000000 --tweak-column customer)
	run -0 bash -c 'anon-fpe "$@" "$0" | cmp - "${0%.csv}.out"' "$DATA/fpe-rules.csv" "${rules[@]}"
	run -0 bash -c 'anon-fpe -D "$@" "$0" | cmp - "${0%.out}.csv"' "$DATA/fpe-rules.out" "${rules[@]}"
}

@test "the derived AES key is HKDF-SHA256(key, 'anon-fpe' 0 'fpe-ALGO-aesBITS' 0 domain), per an independent oracle" {
	keyhex=$(cat "$KEY")
	for case in "ff1 256 " "ff1 128 shop" "ff3-1 192 " "ff3-1 256 shop"; do
		read -r algo bits domain <<< "$case"
		sub=$(python3 "$TOP/t/oracle.py" subkey "$keyhex" anon-fpe "fpe-$algo-aes$bits" "$domain")
		sub=${sub:0:$((bits / 4))}
		run -0 bash -c "echo 4111111111111111 | anon-fpe --algo $algo --key-bits $bits ${domain:+--domain $domain} -f csv --no-header -c 1"
		derived=$output
		run -0 bash -c "echo 4111111111111111 | ANON_KEY=$sub ANON_KEY_FILE= anon-fpe --algo $algo --key-raw -f csv --no-header -c 1"
		[ "$output" = "$derived" ]
	done
}

@test "--tweak-column uses SHA-256('anon-fpe tweak v1' 0, 1, value) truncated to 8 (FF1) or 7 (FF3-1) bytes" {
	for algo in ff1:16 ff3-1:14; do
		hexlen=${algo#*:} algo=${algo%:*}
		tw=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(b"anon-fpe tweak v1\0\1" + sys.argv[1].encode()).hexdigest()[:int(sys.argv[2])])' "cüstomer 7" "$hexlen")
		run -0 bash -c "printf 'c,card\ncüstomer 7,4111111111111111\n' | anon-fpe --algo $algo --tweak-column c -c card | tail -n 1 | cut -d, -f2"
		a=$output
		run -0 bash -c "echo 4111111111111111 | anon-fpe --algo $algo --tweak $tw -f csv --no-header -c 1"
		[ "$output" = "$a" ]
	done
}

@test "invalid UTF-8 under a non-ASCII alphabet is a data error; under an ASCII one it stays in place" {
	run -65 --separate-stderr bash -c "printf 'v\nαβγ\xffδεζ\n' | anon-fpe -c 'v=alphabet:αβγδεζηθικλμ'"
	[[ "$stderr" == *'-:2:1 (v): invalid UTF-8'* ]]
	run -0 bash -c "printf 'v\n12\xff3456\n' | anon-fpe -c v | tail -n 1 | od -An -tx1 | tr -d ' \n' | cut -c5-6"
	assert_output ff
}

@test "pgdump: a dump that is not UTF8 refuses a non-ASCII alphabet, not digits" {
	printf "SET client_encoding = 'LATIN1';\nCOPY t (a) FROM stdin;\n1234567\n\\\\.\n" > "$BATS_TEST_TMPDIR/l1.sql"
	run -0 anon-fpe -f pgdump -c t.a --key-file "$(test_key)" "$BATS_TEST_TMPDIR/l1.sql"
	run --separate-stderr -65 anon-fpe -f pgdump -c 't.a=alphabet:0123456789é' --key-file "$(test_key)" "$BATS_TEST_TMPDIR/l1.sql"
	[[ "$stderr" == *"client_encoding is not UTF8"* ]]
}

# --- hex case: exact round trips ---------------------------------------------------------------

# hexvals FILE SYMBOLS: a header and 3000 random values of 5 to 11 SYMBOLS (seeded).
hexvals() {
	python3 - "$1" "$2" <<'EOF'
import random, sys
random.seed(11)
with open(sys.argv[1], "w") as f:
    f.write("v\n")
    for _ in range(3000):
        f.write("".join(random.choice(sys.argv[2]) for _ in range(random.randint(5, 11))) + "\n")
EOF
}

@test "hex:upper and hex:lower decrypt exactly, ciphertexts without letters included" {
	for c in upper:0123456789ABCDEF lower:0123456789abcdef upper:0123456789 lower:0123456789; do
		rule=hex:${c%%:*}
		hexvals "$BATS_TEST_TMPDIR/in.csv" "${c#*:}"
		anon-fpe -c "v=$rule" "$BATS_TEST_TMPDIR/in.csv" >"$BATS_TEST_TMPDIR/enc.csv"
		# some ciphertexts have no letter: the case comes from the rule, not from them
		run -0 bash -c "tail -n +2 '$BATS_TEST_TMPDIR/enc.csv' | grep -c '^[0-9]*\$'"
		[ "$output" -gt 10 ]
		run -0 bash -c "anon-fpe -D -c v=$rule '$BATS_TEST_TMPDIR/enc.csv' | cmp - '$BATS_TEST_TMPDIR/in.csv'"
		# the output is in the rule's case
		run -0 bash -c "tail -n +2 '$BATS_TEST_TMPDIR/enc.csv' | grep -c '[$([ "${c%%:*}" = upper ] && echo a-f || echo A-F)]' || true"
		assert_output 0
	done
}

@test "hex and hex:upper share their numerals; plain hex decrypts a ciphertext without letters to lower case" {
	hexvals "$BATS_TEST_TMPDIR/in.csv" 0123456789ABCDEF
	anon-fpe -c v=hex:upper "$BATS_TEST_TMPDIR/in.csv" >"$BATS_TEST_TMPDIR/enc.csv"
	# plain hex writes the same ciphertexts, in lower case where the value has no letter
	run -0 bash -c "anon-fpe -c v=hex '$BATS_TEST_TMPDIR/in.csv' | tr a-f A-F | cmp - '$BATS_TEST_TMPDIR/enc.csv'"
	n=$(tail -n +2 "$BATS_TEST_TMPDIR/enc.csv" | grep -c '^[0-9]*$')
	[ "$n" -gt 10 ]
	# plain hex reads the hex:upper ciphertexts back, but those without letters in lower case
	run -0 bash -c "anon-fpe -D -c v=hex '$BATS_TEST_TMPDIR/enc.csv' | tr a-f A-F | cmp - '$BATS_TEST_TMPDIR/in.csv'"
	run -0 bash -c "anon-fpe -D -c v=hex '$BATS_TEST_TMPDIR/enc.csv' | diff - '$BATS_TEST_TMPDIR/in.csv' | grep -c '^>' || true"
	[ "$output" -gt 0 ]
	[ "$output" -le "$n" ]
	# and which ones: exactly the rows whose ciphertext is digits only, and whose value is not
	run -0 bash -c "paste -d, '$BATS_TEST_TMPDIR/enc.csv' '$BATS_TEST_TMPDIR/in.csv' | tail -n +2 | grep -c '^[0-9]*,.*[A-F]' || true"
	want=$output
	run -0 bash -c "anon-fpe -D -c v=hex '$BATS_TEST_TMPDIR/enc.csv' | diff - '$BATS_TEST_TMPDIR/in.csv' | grep -c '^>' || true"
	assert_output "$want"
}

@test "plain hex: lower-case values and digits round trip; mixed case is a data error" {
	hexvals "$BATS_TEST_TMPDIR/in.csv" 0123456789abcdef
	run -0 bash -c "anon-fpe -c v=hex '$BATS_TEST_TMPDIR/in.csv' | anon-fpe -D -c v=hex | cmp - '$BATS_TEST_TMPDIR/in.csv'"
	run -65 --separate-stderr bash -c "printf 'v\nDEADbeef\n' | anon-fpe -c v=hex"
	[[ $stderr == *'-:2:1 (v): hex: upper- and lower-case letters in one value'* ]]
	[[ $stderr != *DEAD* ]]
	run -0 --separate-stderr bash -c "printf 'v\nDEADbeef\nDEADBEEF\n' | anon-fpe --on-error null -c v=hex"
	assert_output --regexp $'^v\n\n[0-9A-F]{8}$'
}

@test "hex:upper refuses a lower-case letter and hex:lower an upper-case one, in both directions" {
	run -65 --separate-stderr bash -c "printf 'v\n46febfed\n' | anon-fpe -c v=hex:upper"
	[[ $stderr == *'-:2:1 (v): hex:upper: a lower-case hex letter'* ]]
	run -65 --separate-stderr bash -c "printf 'v\n46FEBFED\n' | anon-fpe -D -c v=hex:lower"
	[[ $stderr == *'-:2:1 (v): hex:lower: an upper-case hex letter'* ]]
	# letters past f are not hex digits: they stay, in either case
	run -0 --separate-stderr bash -c "printf 'v\nix-XYZ-46FEBFED\n' | anon-fpe -c v=hex:upper | anon-fpe -D -c v=hex:upper"
	assert_line --index 1 'ix-XYZ-46FEBFED'
	run -0 --separate-stderr bash -c "printf 'v\n46FEBFED\n' | anon-fpe --audit '$BATS_TEST_TMPDIR/a.json' -c v=hex:upper"
	run -0 python3 -c 'import json,sys; p = json.loads(open(sys.argv[1]).read().splitlines()[-1])["columns"][0]["params"]; print(p["rule"], p["alphabet"])' "$BATS_TEST_TMPDIR/a.json"
	assert_output 'hex:upper 0123456789ABCDEF'
}

# --- --help, messages, and nothing selected ----------------------------------------------------

@test "--help lists every rule and the tool's options before the common options" {
	run -0 --separate-stderr anon-fpe --help
	rules=$(sed -n '/^rules/,/^options:/p' <<<"$output")
	for r in digits hex hex:lower hex:upper lower upper alpha alnum alphabet:CHARS luhn \
		luhn-fail range:LO..HI; do
		grep -qE -- "^  (.*, )?$r( |,)" <<<"$rules" || { echo "rule $r not in --help"; return 1; }
	done
	opts=$(sed -n '/^options:/,/^common options:/p' <<<"$output")
	for o in -D --decrypt --algo --key-bits --key-raw --tweak --tweak-column --match; do
		grep -qF -- "$o" <<<"$opts" || { echo "option $o not in --help"; return 1; }
	done
	assert_line --index 3 --regexp '^rules '
	assert_line 'common options:'
}

@test "an unknown rule or parameter is named with the choices, exit 64 before any output or key" {
	run -64 --separate-stderr anon-fpe -c card=bogus:1 "$DATA/fpe-rules.csv"
	assert_output ''
	[[ $stderr == *"column 'card': unknown rule \"bogus\" (digits, hex[:lower|upper], lower, upper, alpha, alnum, alphabet:CHARS, luhn, luhn-fail, range:LO..HI)"* ]]
	run -64 --separate-stderr anon-fpe -c token=hex:UPPER "$DATA/fpe-rules.csv"
	[[ $stderr == *"column 'token': hex: unknown parameter \"UPPER\" (lower, upper)"* ]]
	run -64 --separate-stderr anon-fpe -c card=luhn:16 "$DATA/fpe-rules.csv"
	[[ $stderr == *"column 'card': luhn: unknown parameter \"16\" (luhn takes none)"* ]]
	run -64 --separate-stderr anon-fpe -c card=alphabet "$DATA/fpe-rules.csv"
	[[ $stderr == *"column 'card': alphabet needs its characters: alphabet:CHARS"* ]]
	run -64 --separate-stderr anon-fpe -c id=range "$DATA/fpe-rules.csv"
	[[ $stderr == *"column 'id': range needs its bounds: range:LO..HI"* ]]
	# a dump's tables come much later: still refused before anything is written
	run -64 --separate-stderr anon-fpe -f pgdump -c users.id=range:9..1 "$DATA/pgdump-basic.in"
	assert_output ''
	[[ $stderr == *'HI must be greater than LO'* ]]
	run -64 --separate-stderr anon-fpe --match '([0-9]' "$DATA/fpe-rules.csv"
	[[ $stderr == *'--match: invalid regular expression'* ]]
}

@test "every rule the unknown-rule message offers is in --help" {
	run -64 --separate-stderr anon-fpe -c card=bogus "$DATA/fpe-rules.csv"
	list=${stderr#*(}
	list=${list%%)*}
	run -0 --separate-stderr anon-fpe --help
	mapfile -t offered < <(sed 's/, /\n/g' <<<"$list")
	[ "${#offered[@]}" -eq 10 ]
	for r in "${offered[@]}"; do
		grep -qE -- "^  (.*, )?${r%%[*}( |,)" <<<"$output" || { echo "$r not in --help"; return 1; }
	done
}

@test "no -c is the identity in every format with no key, whatever the options" {
	unset ANON_KEY_FILE
	for f in csv-basic.in:csv tsv-basic.in:tsv copy-basic.in:copy pgdump-basic.in:pgdump \
		pgdump-quoting.in:pgdump fpe-rules.csv:csv; do
		run -0 bash -c "anon-fpe -f ${f#*:} '$DATA/${f%:*}' | cmp - '$DATA/${f%:*}'"
	done
	run -0 bash -c "anon-fpe -D --algo ff3-1 --key-raw --key-bits 128 --tweak 00112233445566 --match '(.*)' --jobs 3 '$DATA/fpe-rules.csv' | cmp - '$DATA/fpe-rules.csv'"
	run -0 bash -c "anon-fpe --tweak-column customer '$DATA/fpe-rules.csv' | cmp - '$DATA/fpe-rules.csv'"
	run -0 --separate-stderr bash -c "anon-fpe --audit '$BATS_TEST_TMPDIR/a.json' '$DATA/fpe-rules.csv' >/dev/null"
	assert_file_exists "$BATS_TEST_TMPDIR/a.json"
	# a column needs the key, as before
	run -78 --separate-stderr anon-fpe -c card "$DATA/fpe-rules.csv"
}

@test "pgdump: a table with a column to encrypt but no --tweak-column is exit 64 at its COPY header" {
	printf 'COPY public.a (x, y) FROM stdin;\n123456789\tq\n\\.\n' > "$BATS_TEST_TMPDIR/d.sql"
	run --separate-stderr -64 anon-fpe -f pgdump -c public.a.x --tweak-column y2 --key-file "$(test_key)" "$BATS_TEST_TMPDIR/d.sql"
	[[ "$stderr" == *"table public.a has column 'public.a.x' to encrypt but no --tweak-column 'y2'"* ]]
	[[ "$output" != *123456789* ]]
}
