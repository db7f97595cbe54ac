#!/usr/bin/env bats
# anon-mask: every rule in every format, Unicode, retention, patterns, --where, fakes.
load helper

# cell FMT VALUE: how a cell holding VALUE (or NULL for "\N") is written in FMT.
cell() {
	if [ "$2" = '\N' ] && [ "$1" = csv ]; then
		printf ''
	else
		printf '%s' "$2"
	fi
}

# table FMT CELL: column v of three rows (CELL, a NULL, an empty string) in format FMT.
table() {
	local c
	c=$(cell "$1" "$2")
	case $1 in
	csv) printf 'id,v\n1,%s\n2,\n3,""\n' "$c" ;;
	tsv) printf 'id\tv\n1\t%s\n2\t\\N\n3\t\n' "$c" ;;
	copy) printf '1\t%s\n2\t\\N\n3\t\n' "$c" ;;
	pgdump)
		printf "SET client_encoding = 'UTF8';\n\n"
		printf 'COPY public.t (id, v) FROM stdin;\n1\t%s\n2\t\\N\n3\t\n\\.\n\n' "$c"
		printf 'SELECT 1;\n'
		;;
	esac
}

# The options that name column v in FMT.
colopt() {
	case $1 in
	csv | tsv) echo "-c v=$2" ;;
	copy) echo "--schema id,v -c v=$2" ;;
	pgdump) echo "-c t.v=$2" ;;
	esac
}

# rule | input | output (\N: NULL)
RULES='redact|Zoë Dupont|***
redact:[removed]|Zoë Dupont|[removed]
null|Zoë Dupont|\N
const:n/a|Zoë Dupont|n/a
label|Zoë Dupont|<V>
first:1|Zoë Dupont|Z*********
last:4|4111111111111111|************1111
partial:2,2|Dupont|Du**nt
email|john.doe@example.com|********@example.com
email:domain|zoë@exämple.fr|***@exämple.fr
email:tld|john@mail.example.org|****@************.org
phone|+44 20 7946 0958|+44 ** **** 0958
card|4111 1111 1111 1111|**** **** **** 1111
card:bin|4111-1111-1111-1111|4111-11**-****-1111
regex:[0-9]+|ref 123 and 45|ref *** and **
regex:(\w+)@|mail john@host now|mail ****@host now
keep:[0-9]{4}$|ID-2024-0042|********0042'

# every_rule FMT: each rule masks the value, keeps the NULL and the empty string.
every_rule() {
	local fmt=$1 rule in want
	while IFS='|' read -r rule in want; do
		run --separate-stderr bash -c "$(declare -f cell table); table $fmt \"\$1\" |
			anon-mask -f $fmt $(colopt "$fmt" "'$rule'")" _ "$in"
		if [ "$status" -ne 0 ] || [ "$output" != "$(table "$fmt" "$want")" ]; then
			echo "format $fmt, rule $rule: status $status, stderr: $stderr"
			diff <(table "$fmt" "$want") <(printf '%s\n' "$output") || true
			return 1
		fi
	done <<<"$RULES"
}

@test "every rule in csv, with NULL and empty" {
	every_rule csv
}

@test "every rule in tsv, with NULL and empty" {
	every_rule tsv
}

@test "every rule in copy, with NULL and empty" {
	every_rule copy
}

@test "every rule in pgdump, with NULL and empty; the rest of the dump passes through" {
	every_rule pgdump
}

@test "fake rules in every format keep NULL and empty" {
	for fmt in csv tsv copy pgdump; do
		run --separate-stderr bash -c "$(declare -f cell table); table $fmt 'Zoë Dupont' |
			anon-mask --key-file $(test_key) -f $fmt $(colopt $fmt fake:city)"
		assert_success
		want=$(table "$fmt" '@CITY@')
		# Only the first row's value changed, to an entry of the dictionary.
		city=$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$output") | sed -n 's/^> 1[,\t]//p')
		[ -n "$city" ]
		grep -qFx "$city" "$TOP/data/fake/city.txt"
		[ "$output" = "${want/@CITY@/$city}" ]
	done
}

@test "characters are code points: accents, CJK, emoji" {
	run --separate-stderr anon-mask -c name=first:1 -c city=last:1 -c note=partial:1,1 \
		"$DATA/mask-unicode.csv"
	assert_success
	assert_output "$(cat "$DATA/mask-unicode.out")"
}

@test "--mask-char takes any one UTF-8 character" {
	run --separate-stderr anon-mask --mask-char '•' -c name=first:1 "$DATA/mask-unicode.csv"
	assert_success
	assert_line --index 1 '1,Z••,Paris,café au lait'
	assert_line --index 3 '3,東••,東京都,絵文字😀テスト'
	run --separate-stderr anon-mask --mask-char '😀' -c name=last:1 "$DATA/mask-unicode.csv"
	assert_line --index 1 '1,😀😀ë,Paris,café au lait'
	run -64 --separate-stderr anon-mask --mask-char ab -c name=first:1 "$DATA/mask-unicode.csv"
	assert_output ''
	run -64 --separate-stderr anon-mask --mask-char '' -c name "$DATA/mask-unicode.csv"
	run -64 --separate-stderr anon-mask --mask-char $'\xff' -c name "$DATA/mask-unicode.csv"
}

@test "retention: email domain and TLD, phone country code, card with and without separators" {
	run --separate-stderr anon-mask -c email=email -c email_tld=email:tld -c phone=phone \
		-c card=card -c card_bin=card:bin "$DATA/mask-retention.csv"
	assert_success
	assert_output "$(cat "$DATA/mask-retention.out")"
}

@test "regex masks each match, or only its groups; keep masks the rest" {
	printf 'n\nABC-123-XYZ\nid 42 and 7\nnone here\n' >"$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr anon-mask -c 'n=regex:\d' "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'n\nABC-***-XYZ\nid ** and *\nnone here'
	run --separate-stderr anon-mask -c 'n=regex:^(\w)\w*-(\d+)' "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'n\n*BC-***-XYZ\nid 42 and 7\nnone here'
	run --separate-stderr anon-mask -c 'n=keep:[A-Z]{3}$' "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'n\n********XYZ\n***********\n*********'
	run --separate-stderr anon-mask -c 'n=keep:^(\w+)' "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'n\nABC********\nid*********\nnone*****'
}

@test "a bad pattern is a usage error with PCRE2's message and offset, not the pattern" {
	run -64 --separate-stderr anon-mask -c 'email=regex:secret(x' "$DATA/mask-retention.csv"
	assert_output ''
	[[ $stderr == *"-c email: bad pattern at offset 8: missing closing parenthesis"* ]]
	[[ $stderr != *secret* ]]
	run -64 --separate-stderr anon-mask --where 'phone~[z-a]' -c email "$DATA/mask-retention.csv"
	[[ $stderr == *"--where phone: bad pattern at offset 3: range out of order"* ]]
	run -64 --separate-stderr anon-mask -c 'email=keep:' "$DATA/mask-retention.csv"
}

@test "--where masks only matching rows, and repeated --where means AND" {
	run --separate-stderr anon-mask --where 'country~^(FR|DE)$' -c email=redact \
		"$DATA/mask-where.csv"
	assert_success
	assert_output "$(cat "$DATA/mask-where-1.out")"
	run --separate-stderr anon-mask --where 'country~^(FR|DE)$' --where 'age~^[3-9]\d$' \
		-c email=redact -c name=first:1 "$DATA/mask-where.csv"
	assert_success
	assert_output "$(cat "$DATA/mask-where-2.out")"
}

@test "--where: a NULL never matches; an unknown column is a usage error" {
	run --separate-stderr anon-mask --where 'country~.*' -c email=redact "$DATA/mask-where.csv"
	# row 5 has a NULL country: it is not masked
	assert_line --index 5 '5,Eve,,ana@example.com,51'
	assert_line --index 1 '1,Zoë,FR,***,34'
	run -64 --separate-stderr anon-mask --where 'nosuch~x' -c email "$DATA/mask-where.csv"
	[[ $stderr == *"'nosuch' not found"* ]]
	run -64 --separate-stderr anon-mask --where 'country' -c email "$DATA/mask-where.csv"
}

@test "--where works in pgdump, before or after -f" {
	dump=$(printf 'COPY public.u (id, cc, mail) FROM stdin;\n1\tFR\ta@b.fr\n2\tUS\tc@d.us\n\\.\n')
	want=$(printf 'COPY public.u (id, cc, mail) FROM stdin;\n1\tFR\t*@b.fr\n2\tUS\tc@d.us\n\\.\n')
	run --separate-stderr anon-mask --where 'u.cc~FR' -f pgdump -c u.mail=email <<<"$dump"
	assert_success
	assert_output "$want"
	run --separate-stderr anon-mask -f pgdump --where 'public.u.cc~FR' -c u.mail=email <<<"$dump"
	assert_output "$want"
}

@test "--on-mismatch: mask (default), keep, null" {
	printf 'e\nnot-an-email\na@b.org\n' >"$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr anon-mask -c e=email "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'e\n************\n*@b.org'
	run --separate-stderr anon-mask --on-mismatch keep -c e=email "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'e\nnot-an-email\n*@b.org'
	run --separate-stderr anon-mask --on-mismatch null -c e=email "$BATS_TEST_TMPDIR/in.csv"
	assert_output $'e\n\n*@b.org'
	run --separate-stderr anon-mask -f copy --on-mismatch null -c 1=email <<<'nothing'
	assert_output '\N'
	run -64 --separate-stderr anon-mask --on-mismatch maybe -c e=email "$BATS_TEST_TMPDIR/in.csv"
}

@test "--fixed-length hides how long the masked part was" {
	printf 'n,e\nAl,al@x.org\nAlexandrina,alexandrina@x.org\n' >"$BATS_TEST_TMPDIR/in.csv"
	run --separate-stderr anon-mask --fixed-length 6 -c n=first:1 -c e=email \
		"$BATS_TEST_TMPDIR/in.csv"
	assert_output $'n,e\nA******,******@x.org\nA******,******@x.org'
	run -64 --separate-stderr anon-mask --fixed-length -1 -c n "$BATS_TEST_TMPDIR/in.csv"
	run -64 --separate-stderr anon-mask --fixed-length x -c n "$BATS_TEST_TMPDIR/in.csv"
}

@test "values with escapes are masked as decoded text (copy, tsv, csv)" {
	run --separate-stderr anon-mask -f copy -c 1=first:1 <<<$'a\\tb\\\\c'
	assert_output 'a****'
	run --separate-stderr anon-mask -f copy -c 1=first:2 <<<$'a\\tb\\\\c'
	assert_output 'a\t***'
	run --separate-stderr anon-mask -f tsv -c v=last:1 <<<$'v\nx\\ny'
	assert_output $'v\n**y'
	run --separate-stderr anon-mask -c v=first:1 <<<$'v\n"a,""b"\n'
	assert_output $'v\na***'
	run --separate-stderr anon-mask -c v=first:3 <<<$'v\n"a,""b"\n'
	assert_output $'v\n"a,""*"'
}

@test "invalid UTF-8 in a masked field is exit 65 with line and column, never the value" {
	printf 'id,name\n1,ok\n2,Zo\xc3\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run -65 --separate-stderr anon-mask -c name=first:1 "$BATS_TEST_TMPDIR/bad.csv"
	[[ $stderr == *"bad.csv:3:2 (name): invalid UTF-8"* ]]
	[[ $stderr != *Zo* ]]
	# A rule that never reads the value does not care.
	run --separate-stderr anon-mask -c name=redact "$BATS_TEST_TMPDIR/bad.csv"
	assert_success
	assert_output $'id,name\n1,***\n2,***'
}

@test "bad rules are usage errors naming the column" {
	for r in first first:x partial:1 email:host card:amex phone:1 fake:dog bogus const; do
		run -64 --separate-stderr anon-mask -c "name=$r" "$DATA/mask-unicode.csv"
		[[ $stderr == *"-c name: "* ]] || { echo "rule $r: $stderr"; return 1; }
	done
}

@test "a column with no rule is redacted; no column at all is the identity" {
	run --separate-stderr anon-mask -c name "$DATA/mask-unicode.csv"
	assert_line --index 1 '1,***,Paris,café au lait'
	run --separate-stderr anon-mask "$DATA/mask-unicode.csv"
	assert_output "$(cat "$DATA/mask-unicode.csv")"
}

@test "no key is needed unless a fake: rule is present; then it is exit 78" {
	run --separate-stderr anon-mask -c name=first:1 "$DATA/mask-unicode.csv"
	assert_success
	run -78 --separate-stderr anon-mask -c name=fake:first_name "$DATA/mask-unicode.csv"
	assert_output '"\.anon: anon-mask failed (exit 78): this output is incomplete; do not load it'
	[[ $stderr == *"no key"* ]]
}

@test "fake: deterministic across runs and columns, and within its dictionary" {
	printf 'a,b\nZoë Dupont,x\nx,Zoë Dupont\nJohn Smith,John Smith\n' >"$BATS_TEST_TMPDIR/in.csv"
	for kind in first_name last_name full_name email city company street; do
		run --separate-stderr anon-mask --key-file "$(test_key)" -c "a=fake:$kind" \
			-c "b=fake:$kind" "$BATS_TEST_TMPDIR/in.csv"
		assert_success
		first=$output
		run --separate-stderr anon-mask --key-file "$(test_key)" -c "a=fake:$kind" \
			-c "b=fake:$kind" "$BATS_TEST_TMPDIR/in.csv"
		[ "$output" = "$first" ]
		mapfile -t rows <<<"$output"
		IFS=, read -r a1 b1 <<<"${rows[1]}"
		IFS=, read -r a2 b2 <<<"${rows[2]}"
		IFS=, read -r a3 b3 <<<"${rows[3]}"
		[ "$a1" = "$b2" ] && [ "$b1" = "$a2" ] && [ "$a3" = "$b3" ] && [ "$a1" != "$a3" ] ||
			{ echo "$kind: $output"; return 1; }
		for v in "$a1" "$a3"; do
			case $kind in
			first_name | last_name | city | company) grep -qFx "$v" "$TOP/data/fake/$kind.txt" ;;
			full_name)
				grep -qFx "${v%% *}" "$TOP/data/fake/first_name.txt"
				grep -qFx "${v#* }" "$TOP/data/fake/last_name.txt"
				;;
			street)
				[[ ${v%% *} =~ ^[1-9][0-9]{0,3}$ ]]
				grep -qFx "${v#* }" "$TOP/data/fake/street.txt"
				;;
			email) [[ $v =~ ^[a-z]+\.[a-z]+@example\.(com|net|org)$ ]] ;;
			esac || { echo "$kind: $v not from its dictionary"; return 1; }
		done
	done
}

@test "fake: another --domain or key gives other fakes" {
	printf 'a\nv1\nv2\nv3\nv4\n' >"$BATS_TEST_TMPDIR/in.csv"
	run anon-mask --key-file "$(test_key)" -c a=fake:full_name "$BATS_TEST_TMPDIR/in.csv"
	base=$output
	run anon-mask --key-file "$(test_key)" --domain other -c a=fake:full_name \
		"$BATS_TEST_TMPDIR/in.csv"
	assert_success
	[ "$output" != "$base" ]
	ANON_KEY=$(printf '%064d' 7) run anon-mask -c a=fake:full_name "$BATS_TEST_TMPDIR/in.csv"
	assert_success
	[ "$output" != "$base" ]
}

@test "fake: dictionaries from ANON_DATADIR, and their SHA-256 in the audit record" {
	mkdir -p "$BATS_TEST_TMPDIR/share/fake"
	printf '# test list\nAlpha\nBeta\n' >"$BATS_TEST_TMPDIR/share/fake/city.txt"
	printf 'a\nx\ny\nz\n' >"$BATS_TEST_TMPDIR/in.csv"
	ANON_DATADIR=$BATS_TEST_TMPDIR/share run --separate-stderr anon-mask \
		--key-file "$(test_key)" --audit "$BATS_TEST_TMPDIR/audit.json" -c a=fake:city \
		"$BATS_TEST_TMPDIR/in.csv"
	assert_success
	for v in $(sed 1d <<<"$output"); do [[ $v == Alpha || $v == Beta ]]; done
	sum=$(sha256sum "$BATS_TEST_TMPDIR/share/fake/city.txt" | cut -d' ' -f1)
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["columns"][0]["params"]["dictionaries_sha256"]["city"] == sys.argv[2], r' \
		"$BATS_TEST_TMPDIR/audit.json" "$sum"
	# Without the one it needs, a clear configuration error.
	ANON_DATADIR=$BATS_TEST_TMPDIR/share run -78 --separate-stderr anon-mask \
		--key-file "$(test_key)" -c a=fake:company "$BATS_TEST_TMPDIR/in.csv"
	[[ $stderr == *"company.txt"* ]]
}

@test "the audit record names rules, mismatches and --where figures, never values" {
	run --separate-stderr anon-mask --audit "$BATS_TEST_TMPDIR/a.json" --where 'country~FR' \
		-c email=email -c name=first:1 "$DATA/mask-where.csv"
	assert_success
	python3 - "$BATS_TEST_TMPDIR/a.json" <<-'EOF'
	import json, sys
	r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
	assert r["tool"] == "anon-mask", r
	m = r["mask"]
	assert m["on_mismatch"] == "mask" and m["mask_char"] == "*" and m["where_columns"] == 1, m
	assert m["outside_where"] > 0 and m["mismatched"]["email"] == 1, m
	assert r["columns"][0]["params"] == {"rule": "email", "keep": "domain"}, r["columns"]
	EOF
	run grep -c -e 'zoe@' -e 'Zoë' "$BATS_TEST_TMPDIR/a.json"
	assert_output 0
}

@test "pgdump: a dump that is not UTF8 refuses character rules, allows byte rules" {
	run --separate-stderr -65 anon-mask -f pgdump -c t.a=first:1 "$DATA/pgdump-latin1.in"
	[[ "$stderr" == *"pgdump-latin1.in:3:1 (a): the dump's client_encoding is not UTF8"* ]]
	run -0 anon-mask -f pgdump -c t.a=redact "$DATA/pgdump-latin1.in"
	assert_line --index 2 $'***\tdef'
	run -0 bash -c "sed 's/LATIN1/UTF8/' '$DATA/pgdump-latin1.in' | anon-mask -f pgdump -c t.a=first:1"
	assert_line --index 2 $'a**\tdef'
}

# --- label takes the column's name as the input spells it ------------------------------------

@test "label in a dump: the decoded column name, not its SQL quoting" {
	printf 'SET client_encoding = '"'"'UTF8'"'"';\nCOPY public.t (id, "E-MAIL", "A""B", "x.y", plain) FROM stdin;\n1\ta\tb\tc\td\n\\.\n' \
		>"$BATS_TEST_TMPDIR/q.sql"
	run -0 --separate-stderr anon-mask -f pgdump -c 't."E-MAIL"=label' \
		-c 'public.t."A""B"=label' -c 't."x.y"=label' -c 'public."t".plain=label' \
		"$BATS_TEST_TMPDIR/q.sql"
	assert_line --index 2 $'1\t<E-MAIL>\t<A"B>\t<X.Y>\t<PLAIN>'
	assert_line --index 1 'COPY public.t (id, "E-MAIL", "A""B", "x.y", plain) FROM stdin;'
}

@test "label in a CSV: the header's decoded name, selected by name, quoted name or number" {
	printf 'id,"E-MAIL","A""B",users.email,n\n1,a,b,c,d\n' >"$BATS_TEST_TMPDIR/q.csv"
	run -0 --separate-stderr anon-mask -c E-MAIL=label -c '"A""B"=label' \
		-c users.email=label -c 5=label "$BATS_TEST_TMPDIR/q.csv"
	assert_output $'id,"E-MAIL","A""B",users.email,n\n1,<E-MAIL>,"<A""B>",<USERS.EMAIL>,<N>'
	run -0 --separate-stderr anon-mask --jobs 3 -c 2=label -c '3=label' "$BATS_TEST_TMPDIR/q.csv"
	assert_line --index 1 '1,<E-MAIL>,"<A""B>",c,d'
	# a header may name a column "2": the name wins over the number, as in selection
	run -0 --separate-stderr bash -c "printf 'x,2\n1,a\n' | anon-mask -c 2=label"
	assert_output $'x,2\n1,<2>'
	run -0 --separate-stderr bash -c "printf 'x,2\n1,a\n' | anon-mask -c 1=label"
	assert_output $'x,2\n<X>,a'
}

@test "label with --schema takes its names; headerless input without names, the number" {
	run -0 --separate-stderr bash -c "printf '1\tz@x.org\n' | anon-mask -f copy --schema id,Mail -c 2=label"
	assert_output $'1\t<MAIL>'
	run -0 --separate-stderr bash -c "printf '1,z@x.org\n' | anon-mask --no-header -c 2=label"
	assert_output '1,<2>'
	run -0 --separate-stderr bash -c "printf 'id\tmail\n1\tz@x.org\n' | anon-mask -f tsv -c mail=label"
	assert_line --index 1 $'1\t<MAIL>'
}

# --- --help, and messages that name what is wrong ----------------------------------------------

@test "--help lists every rule and the tool's options before the common options" {
	run -0 --separate-stderr anon-mask --help
	rules=$(sed -n '/^rules/,/^options:/p' <<<"$output")
	for r in 'redact[:TEXT]' null const:TEXT label first:N last:N partial:F,L \
		'email[:domain|tld]' phone 'card[:bin]' regex:PATTERN keep:PATTERN fake:KIND; do
		grep -qF -- "  $r" <<<"$rules" || { echo "rule $r not in --help"; return 1; }
	done
	for k in first_name last_name full_name email city company street; do
		grep -qw -- "$k" <<<"$rules" || { echo "fake kind $k not in --help"; return 1; }
	done
	opts=$(sed -n '/^options:/,/^common options:/p' <<<"$output")
	for o in --mask-char --fixed-length --where --on-mismatch; do
		grep -qF -- "$o" <<<"$opts" || { echo "option $o not in --help"; return 1; }
	done
	assert_line --index 2 --regexp '^rules '
	assert_line 'common options:'
}

@test "an unknown rule, parameter or fake kind is named with the choices, exit 64 before any output" {
	run -64 --separate-stderr anon-mask -c name=fake:name "$DATA/mask-unicode.csv"
	assert_output ''
	[[ $stderr == *'-c name: fake: unknown kind "name" (first_name, last_name, full_name, email, city, company, street)'* ]]
	run -64 --separate-stderr anon-mask -c name=bogus:1 "$DATA/mask-unicode.csv"
	[[ $stderr == *'-c name: unknown rule "bogus" (redact[:TEXT], null, const:TEXT, label,'*'fake:KIND)'* ]]
	run -64 --separate-stderr anon-mask -c name=email:host "$DATA/mask-unicode.csv"
	[[ $stderr == *'-c name: email: unknown parameter "host" (domain, tld)'* ]]
	run -64 --separate-stderr anon-mask -c name=card:amex "$DATA/mask-unicode.csv"
	[[ $stderr == *'-c name: card: unknown parameter "amex" (bin)'* ]]
	run -64 --separate-stderr anon-mask -c name=label:x "$DATA/mask-unicode.csv"
	[[ $stderr == *'-c name: label: unknown parameter "x" (label takes none)'* ]]
	run -64 --separate-stderr anon-mask -c name=first:x "$DATA/mask-unicode.csv"
	[[ $stderr == *'-c name: first: "x" is not a count: first:N'* ]]
	# in a dump too, where the first row of the table would come much later
	run -64 --separate-stderr anon-mask -f pgdump -c users.email=fake:nick "$DATA/pgdump-basic.in"
	assert_output ''
}

@test "every rule the unknown-rule message offers is in --help" {
	run -64 --separate-stderr anon-mask -c name=bogus "$DATA/mask-unicode.csv"
	list=${stderr#*(}
	list=${list%%)*}
	run -0 --separate-stderr anon-mask --help
	mapfile -t offered < <(sed 's/, /\n/g' <<<"$list")
	[ "${#offered[@]}" -eq 13 ]
	for r in "${offered[@]}"; do
		grep -qF -- "  $r" <<<"$output" || { echo "$r not in --help"; return 1; }
	done
}

# --- nothing selected: the identity, no key --------------------------------------------------

@test "no -c is the identity in every format, with no key" {
	for f in csv-basic.in:csv tsv-basic.in:tsv copy-basic.in:copy pgdump-basic.in:pgdump \
		pgdump-quoting.in:pgdump mask-unicode.csv:csv; do
		run -0 bash -c "anon-mask -f ${f#*:} '$DATA/${f%:*}' | cmp - '$DATA/${f%:*}'"
	done
	run -0 bash -c "anon-mask --mask-char • --fixed-length 3 --on-mismatch null --jobs 3 '$DATA/mask-where.csv' | cmp - '$DATA/mask-where.csv'"
	run -0 bash -c "anon-mask --where 'country~FR' '$DATA/mask-where.csv' | cmp - '$DATA/mask-where.csv'"
	run -0 bash -c "anon-mask -f pgdump --where 'users.email~x' '$DATA/pgdump-basic.in' | cmp - '$DATA/pgdump-basic.in'"
}

# --- --where names a column some table has ---------------------------------------------------

@test "--where naming no column is exit 64: at the header, at the COPY, or at the end of a dump" {
	run -64 --separate-stderr anon-mask --where 'nosuch~x' -c email "$DATA/mask-where.csv"
	assert_output '"\.anon: anon-mask failed (exit 64): this output is incomplete; do not load it'
	[[ $stderr == *"mask-where.csv:1: column 'nosuch' not found"* ]]
	dump=$(printf 'COPY public.u (id, cc, mail) FROM stdin;\n1\tFR\ta@b.fr\n\\.\nSELECT 1;\n')
	# the table exists and has no such column: refused at its COPY, before its rows
	run -64 --separate-stderr anon-mask -f pgdump --where 'u.country~FR' -c u.mail=email <<<"$dump"
	[[ $stderr == *"-:1: column 'u.country': table public.u has no such column (it has 3)"* ]]
	refute_output --partial 'a@b.fr'
	assert_line --index 0 '\set ON_ERROR_STOP on'
	assert_line --regexp '^DO \$anon_abort\$ BEGIN RAISE EXCEPTION'
	# no table has it: refused at the end of the dump, with the rollback line
	run -64 --separate-stderr anon-mask -f pgdump --where 'orders.cc~FR' -c u.mail=email <<<"$dump"
	[[ $stderr == *"column 'orders.cc' names no column of any COPY block of the dump"* ]]
	assert_line --regexp '^DO \$anon_abort\$ BEGIN RAISE EXCEPTION'
	run -64 --separate-stderr anon-mask -f pgdump --where 'country~FR' -c u.mail=email <<<"$dump"
	[[ $stderr == *"column 'country' names no column of any COPY block of the dump"* ]]
	# with nothing selected too: the condition still names a column that does not exist
	run -64 --separate-stderr anon-mask -f pgdump --where 'u.country~FR' <<<"$dump"
	run -0 --separate-stderr anon-mask -f pgdump --where 'cc~FR' -c u.mail=email <<<"$dump"
	assert_line --index 1 $'1\tFR\t*@b.fr'
}
