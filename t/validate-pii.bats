#!/usr/bin/env bats
# anon-validate's detectors through the command line: a planted corpus of every kind is found
# whole, decoys are not, and what anon-hash, anon-mask, anon-fpe (and anon-token, when built)
# write for the bench workload raises no hit in the columns they transformed.

load helper

setup_file() {
	local g="$TOP/build/opt/bench/gen"
	[ -x "$g" ] || make -C "$TOP" build/opt/bench/gen > /dev/null
	"$g" -n 100000 -s 42 > "$BATS_FILE_TMPDIR/gen.csv"
}

setup() {
	export ANON_KEY_FILE=$(test_key)
	T=$BATS_TEST_TMPDIR
	GEN=$BATS_FILE_TMPDIR/gen.csv
}

# hits KIND: the hits of one kind in the verdict in $output
hits() {
	jq -r ".checks[] | select(.kind == \"$1\") | .hits" <<< "$output"
}

planted() {
	cat <<-'EOF'
	kind,value
	email,alice.martin@example.com
	email,bob+news@mail.co.uk
	email,Zoe.Mueller@Example.DE
	email,"write to first_last99@sub.domain.example.net, please"
	email,x%y@uni-heidelberg.de
	phone,+1 201-555-0123
	phone,+44 20 7946 0958
	phone,+33 1 70 36 80 00
	phone,+49 (0)30 901820
	phone,(201) 555-0123
	phone,201.555.0123
	phone,1-800-555-0199
	phone,020 7946 0958
	phone,0044 20 7946 0958
	phone,"call 07700 900123 after 5"
	card,4111111111111111
	card,4111 1111 1111 1111
	card,5500-0000-0000-0004
	card,3782 822463 10005
	card,6011000000000004
	card,2223000048400011
	card,30569309025904
	card,"paid with 4012 8888 8888 1881, exp 12/25"
	ssn,123-45-6789
	ssn,078-05-1120
	ssn,219 09 9999
	ssn,"SSN 536-42-1234."
	iban,DE89370400440532013000
	iban,GB82 WEST 1234 5698 7654 32
	iban,FR1420041010050500013M02606
	iban,NL91ABNA0417164300
	iban,"IBAN CH9300762011623852957 (CHF)"
	ip,192.168.1.10
	ip,8.8.8.8
	ip,10.0.0.1:8080
	ip,2001:db8::1
	ip,fe80::1ff:fe23:4567:890a
	ip,"from ::ffff:192.0.2.128 at noon"
	EOF
}

decoys() {
	cat <<-'EOF'
	what,value
	luhn-invalid card,4111111111111112
	luhn-invalid card,4111 1111 1111 1112
	luhn-invalid card,5500-0000-0000-0005
	luhn-valid but no issuer,9780306406157
	luhn-valid but no issuer,8888888888888888
	isbn,978-3-16-148410-0
	isbn,0-306-40615-2
	isbn,ISBN 0306406152
	date,2023-01-15
	date,15.01.2023
	date,01/15/2023
	timestamp,2023-01-15 10:30:00
	timestamp,2024-07-15 13:45:12.5+02
	order number,ORD-2024-000123
	order number,#100234
	order number,INV-0042-7781
	order number,A-10023-77
	zip,02134-5678
	amount,"1,234,567.89"
	version,1.2.3
	version,v2.10.4
	version,10.0.19041.1264
	version,3.11.0-rc1
	version,v1.2.3.4
	version,4.19.0-21-amd64
	not an address,256.1.1.1
	not an address,00:1A:2B:3C:4D:5E
	not an address,std::vector
	not an iban,DE89370400440532013001
	not an iban,XX89370400440532013000
	not an ssn,666-12-3456
	not an ssn,123-00-4567
	not an email,user@localhost
	uuid,550e8400-e29b-41d4-a716-446655440000
	uuid,12345678-1234-1234-1234-123456789012
	hash,50dbbc3613ec4bdc7fa100506d300933fcd1d6993ac6a844569cc6cbf7d10333@gmail.com
	hash,7W7OOTETCSIJHFUDJHNPLUPQRO7CHFL32DXJ44YFU6LM6R5HSY6Q
	hash,W8HLTad8vjIwDgcz60n6ErPw1uMdkGnIyq5P6EFiK_c
	token,tok_Q2hhbmdlTWU1234
	mask,+1 ***-***-0123
	mask,**** **** **** 1111
	mask,**********@gmail.com
	EOF
}

@test "every detector finds every planted value of its kind, and only of its kind" {
	planted > "$T/planted.csv"
	run --separate-stderr -1 anon-validate --pii all --pii-columns value "$T/planted.csv"
	local k
	for k in email phone card ssn iban ip; do
		echo "kind $k"
		[ "$(hits "$k")" = "$(grep -c "^$k," "$T/planted.csv")" ]
	done
	# each hit on the lines of its kind
	for k in email phone card ssn iban ip; do
		[ "$(jq -c ".checks[] | select(.kind == \"$k\") | .rows" <<< "$output")" = "$(grep -n "^$k," "$T/planted.csv" | cut -d: -f1 | jq -sc .)" ]
	done
	# one kind at a time
	run --separate-stderr -1 anon-validate --pii iban --pii-columns value "$T/planted.csv"
	[ "$(jq -c '[.checks[] | select(.check == "pii") | .kind]' <<< "$output")" = '["iban"]' ]
	[ "$(hits iban)" = 5 ]
}

@test "no detector fires on decoys: card-like numbers, ISBNs, dates, order numbers, versions, hashes" {
	decoys > "$T/decoys.csv"
	run --separate-stderr -0 anon-validate --pii all "$T/decoys.csv"
	[ "$(jq '[.checks[] | select(.check == "pii") | .hits] | add' <<< "$output")" = 0 ]
	[ "$(jq '.rows' <<< "$output")" = "$(($(wc -l < "$T/decoys.csv") - 1))" ]
}

@test "the bench workload as generated: every address, phone number and card is found" {
	run --separate-stderr -1 anon-validate --pii all "$GEN"
	local emails phones cards
	emails=$(awk -F, 'NR > 1 && $2 ~ /@/' "$GEN" | wc -l)
	[ "$(jq -r '.checks[] | select(.kind == "email") | .columns[] | select(.column == "email") | .hits' <<< "$output")" = "$emails" ]
	[ "$(jq -r '.checks[] | select(.kind == "phone") | [.columns[].column] | join(",")' <<< "$output")" = phone ]
	[ "$(jq -r '.checks[] | select(.kind == "card") | [.columns[].column] | join(",")' <<< "$output")" = card ]
	[ "$(hits ssn)" = 0 ]
	[ "$(hits iban)" = 0 ]
	[ "$(hits ip)" = 0 ]
	phones=$(jq -r '.checks[] | select(.kind == "phone") | .hits' <<< "$output")
	cards=$(jq -r '.checks[] | select(.kind == "card") | .hits' <<< "$output")
	[ "$phones" -gt 90000 ]
	[ "$cards" -gt 90000 ]
}

@test "anon-hash output (hex, base32, base64url, email, uuid) raises no hit in the columns it hashed" {
	[ -x "$TOP/bin/anon-hash" ] || skip "bin/anon-hash is missing"
	anon-hash -c email=email -c phone=hex -c card=base32 -c name=base64url -c notes=hex -c dob=uuid "$GEN" > "$T/h1.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card,name,notes,dob "$T/h1.csv"
	# a hex hash cut to 16 digits is all digits once in 2,000 values, and is then a card number
	# as much as any: --length 20 and up never is (20 digits are too many for a card)
	anon-hash -c email=hex -c phone=base64url -c notes=base32 --length 20 "$GEN" > "$T/h2.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,notes "$T/h2.csv"
	anon-hash --algo blake2b -c email=base32 -c phone=base32 -c card=hex "$GEN" > "$T/h3.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card "$T/h3.csv"
	# the columns left alone still raise theirs
	run --separate-stderr -1 anon-validate --pii all "$T/h2.csv"
	[ "$(jq -r '[.checks[] | .columns[]?.column] | unique | join(",")' <<< "$output")" = card ]
}

@test "anon-mask output (card, email, phone) raises no hit in the columns it masked" {
	[ -x "$TOP/bin/anon-mask" ] || skip "bin/anon-mask is missing"
	anon-mask -c email=email -c phone=phone -c card=card "$GEN" > "$T/m1.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card "$T/m1.csv"
	anon-mask -c email=email:tld -c phone=phone -c card=card:bin "$GEN" > "$T/m2.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card "$T/m2.csv"
	anon-mask --mask-char X -c email=email:domain -c phone=last:4 -c card=card "$GEN" > "$T/m3.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card "$T/m3.csv"
}

@test "anon-fpe luhn-fail on cards raises no card hit; luhn, by design, does" {
	[ -x "$TOP/bin/anon-fpe" ] || skip "bin/anon-fpe is missing"
	anon-fpe -c card=luhn-fail "$GEN" > "$T/f1.csv"
	run --separate-stderr -0 anon-validate --pii all --pii-columns card "$T/f1.csv"
	anon-fpe -c card=luhn "$GEN" > "$T/f2.csv"
	run --separate-stderr -1 anon-validate --pii card --pii-columns card "$T/f2.csv"
	[ "$(hits card)" -gt 1000 ]
}

@test "anon-token output raises no hit in the columns it tokenized (when anon-token is built)" {
	[ -x "$TOP/bin/anon-token" ] || skip "bin/anon-token is not built yet"
	anon-token -c email -c phone -c card -c name "$GEN" > "$T/t.csv" ||
		skip "anon-token -c COL did not run: its command line may differ"
	run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card,name "$T/t.csv"
	local m
	for m in "--mode siv" "--token-format digits" "--token-format alnum"; do
		echo "anon-token $m"
		# shellcheck disable=SC2086 # two words
		anon-token $m -c email -c phone -c card -c name "$GEN" > "$T/t.csv"
		run --separate-stderr -0 anon-validate --pii all --pii-columns email,phone,card,name "$T/t.csv"
	done
}
