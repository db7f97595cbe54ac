#!/usr/bin/env bats
# anon-validate: every check failing and passing with its exit status, the verdict and the
# audit record, --pass, --policy, --suggest, the formats, and --jobs.

load helper

setup_file() {
	local g="$TOP/build/opt/bench/gen"
	[ -x "$g" ] || make -C "$TOP" build/opt/bench/gen > /dev/null
	"$g" -n 20000 -s 42 > "$BATS_FILE_TMPDIR/gen.csv"
	"$g" -n 100000 -s 42 > "$BATS_FILE_TMPDIR/gen100k.csv"
}

setup() {
	KEY=$(test_key)
	export ANON_KEY_FILE=$KEY
	T=$BATS_TEST_TMPDIR
	GEN=$BATS_FILE_TMPDIR/gen.csv
	SAMPLE=$TOP/demo/sample.csv
	cat > "$T/people.csv" <<-'EOF'
	id,email,age,born,zip,sex,diagnosis,active,ref
	1,ann@example.com,34,1990-01-01,12345,F,flu,t,550e8400-e29b-41d4-a716-446655440000
	2,,41,1983-02-30,12345,F,cold,yes,550e8400-e29b-41d4-a716-44665544000
	3,bob@example.com,200,1983-02-28,12345,M,flu,maybe,550e8400-e29b-41d4-a716-446655440001
	2,cy@x,x,2001-13-01,12346,M,flu,0,550e8400-e29b-41d4-a716-446655440002
	5,"",-1,,12346,M,,f,
	EOF
}

# jqv FILTER: the filter on the verdict in $output (a run without --separate-stderr mixes in
# messages: tests use --separate-stderr).
jqv() {
	jq -r "$1" <<< "$output"
}

# The one check entry of the verdict that matches a jq condition, compact.
entry() {
	jq -c "[.checks[] | select($1)] | if length == 1 then .[0] else error(\"\(length) entries\") end" <<< "$output"
}

@test "a bare run looks for every kind of personal data, and exits 1 on the sample" {
	run --separate-stderr -1 anon-validate "$SAMPLE"
	[ "$(jqv .passed)" = false ]
	[ "$(jqv .complete)" = true ]
	[ "$(jqv .exit_code)" = 1 ]
	[ "$(jqv '[.checks[] | select(.check == "pii") | .kind] | join(",")')" = email,phone,card,ssn,iban,ip ]
	[ "$(entry '.kind == "email"')" = '{"check":"pii","passed":false,"kind":"email","columns_scanned":9,"hits":6,"rows":[2,3,4,8,9,10],"columns":[{"table":null,"column":"email","number":2,"hits":6,"rows":[2,3,4,8,9,10]}]}' ]
	[ "$(jqv '[.checks[] | select(.kind == "card") | .columns[].column] | join(",")')" = card ]
	[ "$(jqv '.checks[] | select(.kind == "phone") | .hits')" = 6 ]
}

@test "the verdict and the messages hold row numbers and column names, never a value" {
	run --separate-stderr -1 anon-validate --require email --type email=email --deny-list /dev/stdin "$SAMPLE" <<< "alice.martin@example.com"
	[[ "$output$stderr" != *example* ]]
	[[ "$output$stderr" != *4111* ]]
	[[ "$output$stderr" != *555* ]]
	[ "$(entry '.check == "deny-list"' | jq -c '.columns[] | {column, rows}')" = '{"column":"email","rows":[2]}' ]
}

@test "--require: NULL and empty fail, with their lines; a full column passes" {
	run --separate-stderr -1 anon-validate --require id,email "$T/people.csv"
	[ "$(entry '.column == "email"')" = '{"check":"require","table":null,"passed":false,"column":"email","failures":2,"rows":[3,6]}' ]
	[ "$(entry '.column == "id"' | jq .passed)" = true ]
	run --separate-stderr -0 anon-validate --require id,zip "$T/people.csv"
	[ "$(jqv .passed)" = true ]
	[ "$(jqv .checks_failed)" = 0 ]
}

@test "--type: each type fails on what PostgreSQL would refuse, NULL aside" {
	run --separate-stderr -1 anon-validate --type age=int --type born=date --type active=bool --type ref=uuid --type email=email --type zip=numeric --type id=text "$T/people.csv"
	[ "$(entry '.column == "age"' | jq -c '[.type, .failures, .rows]')" = '["int",1,[5]]' ]
	[ "$(entry '.column == "born"' | jq -c '[.type, .failures, .rows]')" = '["date",2,[3,5]]' ]
	[ "$(entry '.column == "active"' | jq -c '[.type, .failures, .rows]')" = '["bool",1,[4]]' ]
	[ "$(entry '.column == "ref"' | jq -c '[.type, .failures, .rows]')" = '["uuid",1,[3]]' ]
	[ "$(entry '.column == "email"' | jq -c '[.type, .failures, .rows]')" = '["email",2,[5,6]]' ]
	[ "$(entry '.column == "zip"' | jq .passed)" = true ]
	[ "$(entry '.column == "id"' | jq .passed)" = true ]
	run --separate-stderr -0 anon-validate --type age=int --type dob=date --type salary=numeric --type id=int "$GEN"
	run --separate-stderr -1 anon-validate --type dob=timestamp --type notes=int "$GEN"
	[ "$(entry '.column == "dob"' | jq .passed)" = true ]
	[ "$(entry '.column == "notes"' | jq .passed)" = false ]
}

@test "--range: decimal and date bounds, exactly, either end open" {
	run --separate-stderr -1 anon-validate --range age=0..120 --range born=1900-01-01..2000-12-31 --range zip=12345.. "$T/people.csv"
	[ "$(entry '.column == "age"' | jq -c '[.min, .max, .failures, .rows]')" = '["0","120",3,[4,5,6]]' ]
	[ "$(entry '.column == "born"' | jq -c '[.failures, .rows]')" = '[2,[3,5]]' ]
	[ "$(entry '.column == "zip"' | jq .passed)" = true ]
	run --separate-stderr -0 anon-validate --range age=0..99 --range salary=18000..250000 --range dob=1925-01-01..2006-12-31 "$GEN"
	run --separate-stderr -1 anon-validate --range salary=..100000 "$GEN"
	run -64 anon-validate --range age=10..1 "$GEN"
	[[ "$output" == *"the lower bound is above the upper bound"* ]]
}

@test "--unique: later occurrences are the duplicates; NULLs never are; several columns together" {
	run --separate-stderr -1 anon-validate --unique id "$T/people.csv"
	[ "$(entry '.check == "unique"')" = '{"check":"unique","table":null,"passed":false,"columns":["id"],"values":5,"distinct":4,"duplicates":1,"rows":[5]}' ]
	run --separate-stderr -0 anon-validate --unique id,email --unique ref "$T/people.csv"
	[ "$(entry '.columns == ["ref"]' | jq -c '[.values, .distinct]')" = '[4,4]' ]
	run --separate-stderr -0 anon-validate --unique id "$GEN"
	run --separate-stderr -1 anon-validate --unique email "$GEN"
	[ "$(entry '.check == "unique"' | jq '.duplicates == .values - .distinct')" = true ]
}

@test "--unique and --deny-list hash with the key: without one, exit 78" {
	unset ANON_KEY_FILE
	run -78 anon-validate --unique id "$T/people.csv"
	[[ "$output" == *"no key"* ]]
}

@test "--k-anon and --l-div: figures of a small table computed by hand" {
	# classes of (zip, sex): 12345/F rows 2,3; 12345/M row 4; 12346/M rows 5,6
	run --separate-stderr -1 anon-validate --k-anon zip,sex:2 --l-div diagnosis:2 "$T/people.csv"
	[ "$(entry '.check == "k-anonymity"')" = '{"check":"k-anonymity","table":null,"passed":false,"columns":["zip","sex"],"k":2,"rows_checked":5,"classes":3,"min_k":1,"classes_below_k":1,"rows_below_k":1,"rows":[4]}' ]
	# diagnoses: 12345/F flu, cold (2); 12345/M flu (1); 12346/M flu and a NULL (1)
	[ "$(entry '.check == "l-diversity"')" = '{"check":"l-diversity","table":null,"passed":false,"columns":["zip","sex"],"column":"diagnosis","l":2,"min_l":1,"classes_below_l":2,"rows_below_l":3,"rows":[4,5]}' ]
	run --separate-stderr -0 anon-validate --k-anon zip:2 "$T/people.csv"
	[ "$(entry '.check == "k-anonymity"' | jq -c '[.classes, .min_k]')" = '[2,2]' ]
	run --separate-stderr -1 anon-validate --k-anon zip:3 "$T/people.csv"
	[ "$(entry '.check == "k-anonymity"' | jq -c '[.rows_below_k, .rows]')" = '[2,[5]]' ]
	run -64 anon-validate --l-div diagnosis:2 "$T/people.csv"
}

@test "--deny-list: an original value left in is found, as a field and as words of a field" {
	printf '%s\n' 'Alice.Martin@Example.com' 'Bruno Dias' '+44 20 7946 0958' > "$T/deny"
	run --separate-stderr -1 anon-validate --deny-list "$T/deny" "$SAMPLE"
	[ "$(entry '.check == "deny-list"' | jq -c '[.values, .hits, [.columns[] | [.column, .rows]]]')" = '[3,3,[["email",[2]],["phone",[7]],["name",[3]]]]' ]
	printf 'id,note\n1,"wrote to <alice.martin@example.com>, twice"\n2,met bruno dias.\n3,nothing\n' > "$T/notes.csv"
	run --separate-stderr -1 anon-validate --deny-list "$T/deny" "$T/notes.csv"
	[ "$(entry '.check == "deny-list"' | jq -c '.rows')" = '[2,3]' ]
	anon-hash -c email=email -c name -c phone "$SAMPLE" > "$T/hashed.csv"
	run --separate-stderr -0 anon-validate --deny-list "$T/deny" "$T/hashed.csv"
	printf '\n\n' > "$T/empty"
	run -78 anon-validate --deny-list "$T/empty" "$SAMPLE"
}

@test "--expect-columns: the same columns pass; a new one fails at the table's start, before its rows" {
	run --separate-stderr -0 anon-validate --expect-columns id,email,phone,name,age,card,dob,salary,notes --require id "$SAMPLE"
	run --separate-stderr -1 anon-validate --expect-columns id,email,phone,name,age,card,dob,salary --require id "$SAMPLE"
	[ "$(entry '.check == "expect-columns"' | jq -c '[.passed, .missing, .unexpected]')" = '[false,[],["notes"]]' ]
	[ "$(jqv '.tables[0].rows')" = 0 ]
	[ "$(jqv .complete)" = false ]
	[[ "$stderr" == *"has 'notes', which --expect-columns does not name"* ]]
	run --separate-stderr -1 anon-validate --expect-columns email,id,phone,name,age,card,dob,salary,notes "$SAMPLE"
	[ "$(entry '.check == "expect-columns"' | jq -c '[.order, .missing, .unexpected]')" = '[false,[],[]]' ]
	run --separate-stderr -1 anon-validate --expect-columns id,email,phone,name,age,card,dob,salary,notes,ssn "$SAMPLE"
	[ "$(entry '.check == "expect-columns"' | jq -c .missing)" = '["ssn"]' ]
}

@test "--policy: every column listed passes; an unlisted or TODO column fails before any row" {
	run -0 anon-validate --policy-init "$SAMPLE"
	[ "${lines[4]}" = "id TODO" ]
	[ "$(grep -c ' TODO$' <<< "$output")" = 9 ]
	printf '%s\n' "$output" > "$T/policy"
	run --separate-stderr -1 anon-validate --policy "$T/policy" "$SAMPLE"
	[ "$(entry '.check == "policy"' | jq -c '[.passed, (.unreviewed | length), .unlisted]')" = '[false,9,[]]' ]
	sed -e 's/ TODO$/ keep/' -e 's/^email .*/email hash:email  # anon-hash -c email=email/' "$T/policy" | grep -v '^notes' > "$T/policy2"
	run --separate-stderr -1 anon-validate --pass --policy "$T/policy2" "$SAMPLE"
	[[ "$stderr" == *"does not list 'notes' of the input"* ]]
	[ "${lines[0]}" = '"\.anon: anon-validate failed (exit 1): this output is incomplete; do not load it' ]
	[ "${#lines[@]}" = 1 ]
	echo 'notes mask:regex:\d' >> "$T/policy2"
	run --separate-stderr -0 anon-validate --policy "$T/policy2" "$SAMPLE"
	[ "$(entry '.check == "policy"' | jq -c '[.passed, .columns]')" = '[true,9]' ]
	printf 'email\n' > "$T/bad"
	run -78 anon-validate --policy "$T/bad" "$SAMPLE"
	[[ "$output" == *"bad:1: 'email' has no rule"* ]]
	printf 'email keep\nemail keep\n' > "$T/bad"
	run -78 anon-validate --policy "$T/bad" "$SAMPLE"
	run -66 anon-validate --policy "$T/none" "$SAMPLE"
}

@test "structure: a malformed row stops the run (65) or, with --on-error skip, fails the check (1)" {
	printf 'a,b\n1,2\n3\n4,"x\n' > "$T/bad.csv"
	run --separate-stderr -65 anon-validate --require a "$T/bad.csv"
	[ "$(entry '.check == "structure"')" = '{"check":"structure","passed":false,"tables":1,"rows":2,"malformed":1}' ]
	[ "$(jqv .complete)" = false ]
	[[ "$stderr" == *"bad.csv:3:2 (b): row has 1 field, expected 2"* ]]
	run --separate-stderr -1 anon-validate --require a --on-error skip "$T/bad.csv"
	[ "$(entry '.check == "structure"')" = '{"check":"structure","passed":false,"tables":1,"rows":3,"malformed":2}' ]
	[ "$(jqv .complete)" = true ]
	[ "$(entry '.check == "require"' | jq .passed)" = true ]
	run --separate-stderr -1 anon-validate < /dev/null
	[ "$(entry '.check == "structure"' | jq -c '[.passed, .tables]')" = '[false,0]' ]
	[[ "$stderr" == *"holds no table"* ]]
}

@test "--pass: the input byte for byte when the checks pass; the rollback line when one fails" {
	anon-hash -c email=email "$SAMPLE" > "$T/in.csv"
	printf 'x,y\r\n"a\nb",\r\n"",c' > "$T/odd.csv"
	run --separate-stderr -0 anon-validate --pass --pii email --require id "$T/in.csv"
	cmp <(printf '%s\n' "$output") "$T/in.csv"
	[ "$(jq -r .passed <<< "$stderr")" = true ]
	anon-validate --pass --verdict "$T/v.json" "$T/odd.csv" > "$T/odd.out"
	cmp "$T/odd.csv" "$T/odd.out"
	[ "$(jq -r .passed "$T/v.json")" = true ]
	run --separate-stderr -1 anon-validate --pass --verdict "$T/v.json" "$SAMPLE"
	[ "${lines[-1]}" = '"\.anon: anon-validate failed (exit 1): this output is incomplete; do not load it' ]
	[ "$(jq -r .passed "$T/v.json")" = false ]
	[ -z "$stderr" ]
	run --separate-stderr -1 anon-validate --pass --no-rollback --verdict "$T/v.json" "$SAMPLE"
	[ "$output" = "$(cat "$SAMPLE")" ]
}

@test "a later stage refuses the rollback line a failed check wrote" {
	run --separate-stderr -65 bash -c "anon-validate --pass --verdict /dev/null '$SAMPLE' | anon-hash -c id"
	[[ "$stderr" == *"an earlier stage of the pipeline failed"* ]]
}

@test "--verdict FILE, and the audit record holds the same summary" {
	run -1 anon-validate --verdict "$T/v.json" --audit "$T/a.jsonl" --require email "$SAMPLE"
	[ -z "$output" ]
	[ "$(jq -cS '.checks' "$T/v.json")" = "$(tail -n 1 "$T/a.jsonl" | jq -cS '.verdict.checks')" ]
	[ "$(tail -n 1 "$T/a.jsonl" | jq -c '[.status, .exit_code, .verdict.passed, .verdict.checks_failed]')" = '["check-failed",1,false,1]' ]
	run -73 anon-validate --verdict "$T/no/such/dir/v.json" "$SAMPLE"
	run -0 anon-validate --verdict "$T/v.json" --audit "$T/a.jsonl" --require id "$SAMPLE"
	[ "$(tail -n 1 "$T/a.jsonl" | jq -c '[.status, .verdict.passed]')" = '["ok",true]' ]
	[ "$(jq -c '[.passed, .complete, .exit_code]' "$T/v.json")" = '[true,true,0]' ]
}

@test "usage errors: 64 before any input is read" {
	run -64 anon-validate -c email "$SAMPLE"
	[[ "$output" == *"anon-validate changes no column"* ]]
	run -64 anon-validate --type age=integer "$SAMPLE"
	run -64 anon-validate --pii mail "$SAMPLE"
	run -64 anon-validate --k-anon zip:0 "$SAMPLE"
	run -64 anon-validate --suggest --require id "$SAMPLE"
	run -64 anon-validate --sample 10 "$SAMPLE"
	run -64 anon-validate --require nosuch "$SAMPLE"
	[[ "$output" == *"column 'nosuch' not found"* ]]
}

@test "formats: copy with --schema, tsv, and a dump's tables each with their own figures" {
	printf '1\talice@example.com\t\\N\n2\t\\N\tok\n' > "$T/in.copy"
	run --separate-stderr -1 anon-validate -f copy --schema id,email,note --require email --pii email "$T/in.copy"
	[ "$(entry '.check == "require"' | jq -c .rows)" = '[2]' ]
	[ "$(entry '.kind == "email"' | jq -c '.columns[0] | [.column, .rows]')" = '["email",[1]]' ]
	printf 'id\tv\n1\t4111 1111 1111 1111\n2\tx\\ty\n' > "$T/in.tsv"
	run --separate-stderr -1 anon-validate -f tsv "$T/in.tsv"
	[ "$(entry '.kind == "card"' | jq -c '.rows')" = '[2]' ]
	cat > "$T/dump.sql" <<-'EOF'
	SET client_encoding = 'UTF8';
	COPY public.users (id, email) FROM stdin;
	1	a@example.com
	2	\N
	\.
	COPY public.orders (id, email, total) FROM stdin;
	1	5f3a9c01de4b8f3a9c01de4b@example.com	10.5
	1	\N	x
	\.
	EOF
	run --separate-stderr -1 anon-validate -f pgdump --require email --unique public.orders.id --type total=numeric --pii email "$T/dump.sql"
	[ "$(jqv '[.checks[] | select(.check == "require") | [.table, .failures, .rows]]' | jq -c .)" = '[["public.users",1,[4]],["public.orders",1,[8]]]' ]
	[ "$(entry '.check == "unique"' | jq -c '[.table, .duplicates, .rows]')" = '["public.orders",1,[8]]' ]
	[ "$(entry '.check == "type"' | jq -c '[.table, .rows]')" = '["public.orders",[8]]' ]
	[ "$(entry '.kind == "email"' | jq -c '[.columns[] | [.table, .column, .rows]]')" = '[["public.users","email",[3]]]' ]
	run -0 anon-validate -f pgdump --policy-init "$T/dump.sql"
	[ "$(grep -c '^public\.' <<< "$output")" = 5 ]
	[[ "$output" == *"public.orders.total TODO"* ]]
}

@test "--jobs 4 gives the verdict of --jobs 1, every check at once" {
	cut -d, -f2 "$GEN" | sed -n '100,400p' | grep . > "$T/deny"
	local args=(--require email,phone --type age=int --type dob=date --range salary=18000..250000
		--unique id --unique email --k-anon age,dob:2 --l-div name:2 --pii all
		--deny-list "$T/deny" --expect-columns id,email,phone,name,age,card,dob,salary,notes)
	anon-validate --jobs 1 "${args[@]}" "$GEN" > "$T/v1" || true
	anon-validate --jobs 4 "${args[@]}" "$GEN" > "$T/v4" || true
	[ "$(jq -S 'del(.run_id)' "$T/v1")" = "$(jq -S 'del(.run_id)' "$T/v4")" ]
	[ "$(jq '[.checks[] | select(.passed | not)] | length' "$T/v1")" = 9 ]
	# --pass: the same bytes whatever --jobs (without the rollback line the input itself)
	anon-validate --jobs 4 --pass --no-rollback --verdict /dev/null --pii all "$GEN" > "$T/p4" || true
	cmp "$T/p4" "$GEN"
}

@test "a header name that looks like data is shown by its number, in messages and the verdict" {
	printf 'alice@example.com,+1 415-555-0132\nbob@example.com,+1 415-555-0133\n' > "$T/noheader.csv"
	printf 'email keep\n' > "$T/policy"
	run --separate-stderr -1 anon-validate --policy "$T/policy" "$T/noheader.csv"
	[[ "$output$stderr" != *example* ]]
	[[ "$output$stderr" != *555* ]]
	[[ "$stderr" == *"does not list column 1 of the input"* ]]
	[ "$(entry '.check == "policy"' | jq -c .unlisted)" = '["column 1","column 2"]' ]
	run --separate-stderr -1 anon-validate --expect-columns email,phone "$T/noheader.csv"
	[[ "$output$stderr" != *example* ]]
	run -0 anon-validate --policy-init "$T/noheader.csv"
	[[ "$output" != *example* ]]
	[[ "$output" == *"# column 1: its name looks like a value"* ]]
}

@test "--suggest on the bench workload names email, phone, card and name, and its pipeline runs" {
	local in=$BATS_FILE_TMPDIR/gen100k.csv
	run -0 anon-validate --suggest "$in"
	printf '%s\n' "$output" > "$T/suggest.sh"
	[[ "$output" != *@* ]]
	[ "$(grep -E '^# email +[0-9]+ +email [0-9.]+%$' "$T/suggest.sh" | wc -l)" = 1 ]
	[ "$(grep -E '^# phone +[0-9]+ +phone ' "$T/suggest.sh" | wc -l)" = 1 ]
	[ "$(grep -E '^# card +[0-9]+ +card ' "$T/suggest.sh" | wc -l)" = 1 ]
	[ "$(grep -E '^# name +[0-9]+ +name ' "$T/suggest.sh" | wc -l)" = 1 ]
	grep -qx 'anon-hash -c email=email |' "$T/suggest.sh"
	grep -q '^anon-mask .*-c phone=phone' "$T/suggest.sh"
	grep -q '^anon-mask .*-c card=card' "$T/suggest.sh"
	grep -q '^anon-mask .*-c name=fake:full_name' "$T/suggest.sh"
	bash -o pipefail "$T/suggest.sh" < "$in" > "$T/anon.csv"
	[ "$(wc -l < "$T/anon.csv")" = "$(wc -l < "$in")" ]
	run --separate-stderr -0 anon-validate --pii all --deny-list <(cut -d, -f2 "$in" | sed -n '2,2000p' | grep @) "$T/anon.csv"
	run -0 anon-validate --suggest --sample 10 --jobs 2 "$in"
	[[ "$output" == *"the first 10 rows of"* ]]
	[ "$(grep -E '^# email +10 ' <<< "$output" | wc -l)" = 1 ]
}
