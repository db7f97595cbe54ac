#!/usr/bin/env bats
# The examples of anon-validate(1) outside its EXAMPLES section (which t/man-examples.bats
# runs): the one-line example of each check in CHECKS, and the PostgreSQL pipelines of
# IN A PIPELINE, taken out of the page's source and run as written.

load helper

PAGE="$TOP/man/man1/anon-validate.1"

# displays SECTION DIR: each .Dl line and .Bd -literal display of SECTION, unescaped as
# t/tool/man-examples.py does, into DIR/1.sh, DIR/2.sh, ...; prints their number.
displays() {
	mkdir -p "$2"
	python3 - "$TOP/t/tool/man-examples.py" "$PAGE" "$1" "$2" <<-'EOF'
	import importlib.util, sys
	spec = importlib.util.spec_from_file_location("mx", sys.argv[1])
	mx = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mx)
	src = open(sys.argv[2], encoding="utf-8").read().split("\n")
	inside, n, i = False, 0, 0
	while i < len(src):
	    ln = src[i]
	    i += 1
	    if ln.startswith(".Sh "):
	        inside = ln[4:].strip() == sys.argv[3]
	        continue
	    if not inside:
	        continue
	    if ln.startswith(".Dl "):
	        body = [" ".join(mx.words(ln[4:]))]
	    elif ln.startswith(".Bd ") and "-literal" in ln.split():
	        body = []
	        while src[i] != ".Ed":
	            body.append(src[i])
	            i += 1
	        i += 1
	    else:
	        continue
	    n += 1
	    with open("%s/%d.sh" % (sys.argv[4], n), "w", encoding="utf-8") as f:
	        f.write("\n".join(mx.unescape(b) for b in body) + "\n")
	print(n)
	EOF
}

# inputs DIR: the files the examples name, made from the bundled sample
inputs() {
	local d=$1
	mkdir -p "$d"
	cp "$TOP/demo/demo.key" "$d/anon.key"
	chmod 600 "$d/anon.key"
	cp "$TOP/demo/sample.csv" "$d/users.csv"
	(
		cd "$d"
		export ANON_KEY_FILE=anon.key
		anon-hash -c email=email users.csv |
			anon-mask -c phone=phone -c card=card -c name=fake:full_name > users_anon.csv
		cut -d, -f2 users.csv | tail -n +2 | grep . > emails.txt
		anon-validate --policy-init users.csv | sed -e 's/ TODO$/ keep/' > users.policy
		printf '%s\n' age,zip,sex,diagnosis 34,12345,F,flu 41,12345,F,cold 34,12345,F,flu \
			41,12346,M,flu > patients.csv
	)
}

@test "the example of every check in CHECKS runs as written (exit 0, or 1 for a check that fails)" {
	local n i rc dir
	n=$(displays CHECKS "$BATS_TEST_TMPDIR/ex")
	[ "$n" -ge 11 ]
	inputs "$BATS_TEST_TMPDIR/in"
	for i in $(seq 1 "$n"); do
		dir=$BATS_TEST_TMPDIR/run$i
		cp -r "$BATS_TEST_TMPDIR/in" "$dir"
		rc=0
		(cd "$dir" && ANON_KEY_FILE=anon.key bash -e -o pipefail "$BATS_TEST_TMPDIR/ex/$i.sh" \
			> out 2> err) || rc=$?
		echo "example $i: $(cat "$BATS_TEST_TMPDIR/ex/$i.sh") -> exit $rc: $(head -c 300 "$dir/err")"
		[ "$rc" -le 1 ]
		jq -e .checks "$dir/out" > /dev/null
	done
}

# bats test_tags=pg
@test "the PostgreSQL pipelines of IN A PIPELINE run as written and load their rows" {
	pg_start
	local n
	n=$(displays "IN A PIPELINE" "$BATS_TEST_TMPDIR/ex")
	[ "$n" = 2 ]
	inputs "$BATS_TEST_TMPDIR/in"
	cd "$BATS_TEST_TMPDIR/in"
	sql -c "CREATE DATABASE shop" -c "CREATE DATABASE shop_dev"
	sql -d shop -c "CREATE TEMP TABLE sample (id int, email text, phone text, name text, age int,
	    card text, dob date, salary numeric(12,2), notes text);
	  COPY sample FROM STDIN (FORMAT csv, HEADER)" -c "
	  CREATE TABLE users AS SELECT id, email, phone, name FROM sample;
	  CREATE TABLE users_anon (LIKE users)" < users.csv
	printf '%s\n' 'public.users.id keep' 'public.users.email hash:email' \
		'public.users.phone mask:phone' 'public.users.name mask:fake:full_name' \
		'public.users_anon.id keep' 'public.users_anon.email keep' \
		'public.users_anon.phone keep' 'public.users_anon.name keep' > shop.policy
	PGDATABASE=shop ANON_KEY_FILE=anon.key bash -e -o pipefail "$BATS_TEST_TMPDIR/ex/1.sh"
	[ "$(rows -d shop_dev -c 'SELECT count(*) FROM users')" = 8 ]
	[ "$(rows -d shop_dev -c "SELECT count(*) FROM users WHERE email LIKE '%.%@%'")" = 0 ]
	[ "$(jq -r .passed verdict.json)" = true ]
	PGDATABASE=shop ANON_KEY_FILE=anon.key bash -e -o pipefail "$BATS_TEST_TMPDIR/ex/2.sh"
	[ "$(rows -d shop -c 'SELECT count(*) FROM users_anon')" = 8 ]
	[ "$(jq -r .passed verdict.json)" = true ]
	# the same with a column the policy does not list: nothing is restored
	sql -c "DROP DATABASE shop_dev" -c "CREATE DATABASE shop_dev"
	sql -d shop -c "ALTER TABLE users ADD COLUMN ssn text DEFAULT '123-45-6789'"
	run -3 env PGDATABASE=shop ANON_KEY_FILE=anon.key bash -e -o pipefail "$BATS_TEST_TMPDIR/ex/1.sh"
	[ "$(rows -d shop_dev -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
	[ "$(jq -c '[.passed, .complete]' verdict.json)" = '[false,false]' ]
}

teardown() {
	pg_stop
}
