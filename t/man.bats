#!/usr/bin/env bats
# man.bats: every manual page is clean mdoc, and every tool has one.

load helper

@test "man pages pass mandoc -Tlint -Wwarning" {
	run -0 bash -c "mandoc -Tlint -Wwarning '$TOP'/man/man*/*.[0-9] 2>&1"
	assert_output ""
}

@test "every tool has a manual page with an EXIT STATUS section" {
	for d in "$TOP"/anon-*/; do
		t=$(basename "$d")
		[ -f "$TOP/man/man1/$t.1" ] || { echo "no man page for $t"; return 1; }
		grep -q '^\.Sh EXIT STATUS' "$TOP/man/man1/$t.1"
	done
}

@test "every page has the same date and footer" {
	run -0 bash -c "cd '$TOP' && grep -h '^\.Dd\|^\.Os' man/man*/*.[0-9] | sort -u | wc -l"
	assert_output 2
}
