# helper.bash: loaded by every t/*.bats file. Puts the freshly built tools first on PATH,
# loads bats-support/assert/file, and starts throwaway PostgreSQL servers for pg tests.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export PATH="$TOP/bin:$PATH"
export LC_ALL=C.UTF-8
DATA="$TOP/t/data"
unset ANON_KEY ANON_KEY_FILE ANON_FORMAT ANON_AUDIT ANON_RUN_ID

# A key file that every test may use: 32 bytes as hex.
test_key() {
	local f="$BATS_FILE_TMPDIR/anon.key"
	if [ ! -f "$f" ]; then
		printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f > "$f"
		chmod 600 "$f"
	fi
	echo "$f"
}

# --- PostgreSQL: a server of our own on a Unix socket in a temp dir -------------------------
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || return 1
	echo "$d"
}

# Run a server command as the postgres user when we are root (initdb refuses root).
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start: sets PGHOST, PGPORT, PGUSER, PGDATABASE for psql/pg_dump. Call in setup_file.
pg_start() {
	local bin
	bin=$(pg_bindir) || skip "PostgreSQL server binaries not installed"
	PG_DIR=$(mktemp -d /tmp/anon-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
	pg_as "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; return 1; }
	PGPORT=$((20000 + RANDOM % 20000))
	pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
		-o "-k $PG_DIR -c listen_addresses= -p $PGPORT -F" start >/dev/null ||
		{ cat "$PG_DIR/server.log" >&2; return 1; }
	export PG_DIR PGHOST="$PG_DIR" PGPORT PGUSER=postgres PGDATABASE=postgres
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	pg_as "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
}

# psql with no noise; fail on the first error.
sql() {
	psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# Query results one row a line, fields split by '|', NULL shown as (null).
rows() {
	sql -At -F '|' -P null='(null)' "$@"
}

# The test tool that traces every lifecycle hook (t/tool/anon-lifecycle.c; never installed).
LIFECYCLE="$TOP/${BUILD:-build/opt}/tool/anon-lifecycle"

# --- man page EXAMPLES, for the tests that run them ------------------------------------------
# examples PAGE: the literal blocks of the page's EXAMPLES section, each ended by a NUL,
# with mdoc's \e turned back into the backslash it prints.
examples() {
	awk '/^\.Sh EXAMPLES/ { on = 1; next }
	     /^\.Sh / { on = 0 }
	     on && /^\.Bd -literal/ { blk = 1; next }
	     on && blk && /^\.Ed/ { printf "%s%c", buf, 0; buf = ""; blk = 0; next }
	     blk { gsub(/\\e/, "\\"); buf = buf $0 "\n" }' "$1"
}

# A block of "$ command" lines (with their continuation lines) and the output they print:
# prints the commands; the output goes to the file $2.
split_transcript() {
	awk -v out="$2" '/^\$ / { sub(/^\$ /, ""); cmd = 1 }
	     cmd { print; cmd = /\\$/; next }
	     { print > out }' <<<"$1"
}
