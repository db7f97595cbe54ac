#!/usr/bin/env bats
# The EXAMPLES of anon-fpe(1) run as written, in order, in one directory, against a
# throwaway PostgreSQL server holding the tables they name; then their results are checked.
load helper

setup_file() {
	pg_start
	sql <<-'EOF'
	CREATE TABLE users (id int PRIMARY KEY, email text);
	CREATE TABLE orders (id int PRIMARY KEY, user_id int);
	INSERT INTO users SELECT i, 'u' || i || '@example.com' FROM generate_series(1, 50) i;
	INSERT INTO orders SELECT i, 1 + i % 50 FROM generate_series(1, 200) i;
	CREATE TABLE users_anon (LIKE users);
	CREATE TABLE orders_anon (LIKE orders);
	CREATE DATABASE shop;
	CREATE DATABASE shop_dev;
	EOF
	sql -d shop <<-'EOF'
	CREATE TABLE cards (id int PRIMARY KEY, number text);
	INSERT INTO cards VALUES (1, '4111111111111111'), (2, '5500000000000004'),
	  (3, '340000000000009');
	EOF
}

teardown_file() {
	pg_stop
}

# luhn: "valid" or "invalid" for each line of stdin (digits only).
luhn() {
	awk '{ s = 0; k = 0
	       for (i = length($0); i > 0; i--) { d = substr($0, i, 1) + 0
	         if (k++ % 2) { d *= 2; if (d > 9) d -= 9 }; s += d }
	       print (s % 10 == 0 ? "valid" : "invalid") }'
}

# bats test_tags=pg
@test "the EXAMPLES of anon-fpe(1) run as written and do what they say" {
	mapfile -d '' blocks < <(examples "$TOP/man/man1/anon-fpe.1")
	[ "${#blocks[@]}" -eq 6 ]
	cd "$BATS_TEST_TMPDIR"
	printf 'id,card\n1,4111-1111-1111-1111\n2,5500 0000 0000 0004\n3,340000000000009\n' >cards.csv
	python3 - <<-'EOF'
	import random
	random.seed(5)
	with open("tokens.csv", "w") as f:
	    f.write("id,token\n")
	    for i in range(1000):
	        f.write("%d,%s\n" % (i, "".join(random.choice("0123456789ABCDEF") for _ in range(8))))
	EOF

	# 1: a key, the cards encrypted and decrypted back
	run -0 bash -e -o pipefail -c "${blocks[0]}"
	assert_output "$(cat cards.csv)"
	assert_file_exists anon.key
	run -1 cmp -s cards.csv cards_enc.csv

	# 2: upper-case hex tokens back exactly, some ciphertexts being digits only
	run -0 bash -e -o pipefail -c "${blocks[1]}"
	assert_output "$(cat tokens.csv)"
	run -0 bash -c "cut -d, -f2 tokens_enc.csv | grep -c '^[0-9]*\$'"
	[ "$output" -gt 0 ]

	# 3: Luhn-valid cards that keep their first six digits
	printf 'card\n4111111111111111\n5500 0000 0000 0004\n3400-0000-0000-009\n' >cards.csv
	run -0 bash -e -o pipefail -c "${blocks[2]}"
	assert_line --index 1 --regexp '^411111[0-9]{10}$'
	assert_line --index 2 --regexp '^5500 00[0-9]{2} [0-9]{4} [0-9]{4}$'
	assert_line --index 3 --regexp '^3400-00[0-9]{2}-[0-9]{4}-[0-9]{3}$'
	refute_line 4111111111111111
	valid=$(tail -n +2 <<<"$output" | tr -d ' -' | luhn | sort -u)
	[ "$valid" = valid ]

	# 4: ids permuted alike in two tables: the foreign key still joins
	run -0 bash -e -o pipefail -c "${blocks[3]}"
	run -0 rows -c 'SELECT count(*) FROM orders_anon o JOIN users_anon u ON u.id = o.user_id'
	assert_output 200
	run -0 rows -c 'SELECT count(*) FROM users_anon a JOIN users u USING (id)'
	[ "$output" -lt 50 ]
	run -0 rows -c 'SELECT count(DISTINCT id) FROM users_anon'
	assert_output 50

	# 5: a dump restored with its card numbers encrypted and still Luhn-valid
	run -0 bash -e -o pipefail -c "${blocks[4]}"
	run -0 rows -d shop_dev -c 'SELECT number FROM cards ORDER BY id'
	[ "${#lines[@]}" -eq 3 ]
	refute_line 4111111111111111
	valid=$(luhn <<<"$output" | sort -u)
	[ "$valid" = valid ]

	# 6: the NIST sample prints what the page shows
	split_transcript "${blocks[5]}" want.txt >cmd.sh
	run -0 bash -e -o pipefail cmd.sh
	assert_output "$(cat want.txt)"
	assert_output 2433477484
}
