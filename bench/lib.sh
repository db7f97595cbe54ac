# lib.sh: shell functions for the anon benchmarks, sourced by bench/run.sh and by each
# bench/bench-*.sh (POSIX sh; run from the top of the tree).
#
#   measure "label" cmd [arg ...]        time cmd with $BENCH_CSV on stdin, stdout to /dev/null
#   measure_copy "label" cmd [arg ...]   the same with $BENCH_COPY (COPY text) on stdin
#   bench_section "title"                a titled block with the column header
#
# measure runs the command $BENCH_RUNS times (3), keeps the best time, and prints one line:
# label, seconds, rows/s ($BENCH_ROWS rows), MB/s (input bytes / s, MB = 10^6) and peak RSS
# in MiB (the largest ru_maxrss of the command itself, from wait4 in bench/rss.c).  A command
# that exits non-zero prints FAILED with its stderr, counts in $bench_failed, and is not timed.
# After each call: $measure_seconds, $measure_mbps, $measure_rows_per_s, $measure_rss_kib.
# Every result is also appended to $BENCH_OUT/results.tsv (label, rows, seconds, rows/s, MB/s,
# peak RSS KiB); run.sh starts it afresh.
#
# Exported: BENCH_CSV (1M-row CSV with header), BENCH_COPY (the same rows as COPY text, no
# header), BENCH_ROWS, BENCH_SEED, BENCH_KEY (a key file, 64 hex chars), BENCH_OUT; bin/ is
# first in PATH, so `measure "x" anon-mask ...` runs the binary just built.

BENCH_ROOT=$(pwd)
BENCH_OUT=$BENCH_ROOT/bench/out
BENCH_ROWS=${BENCH_ROWS:-1000000}
BENCH_SEED=${BENCH_SEED:-42}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_GEN=$BENCH_OUT/gen
BENCH_RSS=$BENCH_OUT/rss
BENCH_LIBCSV=$BENCH_OUT/libcsv-ref
BENCH_CRYPTO_FLOOR=$BENCH_OUT/crypto-floor
BENCH_CSV=$BENCH_OUT/data-$BENCH_ROWS-$BENCH_SEED.csv
BENCH_COPY=$BENCH_OUT/data-$BENCH_ROWS-$BENCH_SEED.copy
BENCH_KEY=$BENCH_OUT/bench.key
PATH=$BENCH_ROOT/bin:$PATH
export BENCH_CSV BENCH_COPY BENCH_ROWS BENCH_SEED BENCH_KEY BENCH_OUT PATH
bench_failed=${bench_failed:-0}

_bench_cflags="-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Wno-unused-parameter"

# _bench_fresh TARGET SOURCE: true if TARGET exists and SOURCE is not newer (POSIX find).
_bench_fresh() {
	[ -s "$1" ] && [ -z "$(find "$2" -newer "$1")" ]
}

# _bench_cc OUT SRC [LIBS]: compile a helper unless it is up to date.
_bench_cc() {
	_bench_fresh "$1" "$2" && return 0
	echo "cc -O2 -o $1 $2 $3" >&2
	# shellcheck disable=SC2086
	${CC:-cc} $_bench_cflags -o "$1" "$2" $3
}

bench_build() {
	mkdir -p "$BENCH_OUT" &&
	_bench_cc "$BENCH_GEN" bench/gen.c &&
	_bench_cc "$BENCH_RSS" bench/rss.c &&
	_bench_cc "$BENCH_LIBCSV" bench/libcsv-ref.c \
	    "$(pkg-config --libs libcsv 2>/dev/null || echo -lcsv)" &&
	_bench_floor
}

# crypto-floor links anon-token's own crypto.o (and the lib it calls), from make's build/opt:
# rebuilt when either is newer than it. Without a build it is left out, and so are the floors.
_bench_floor() {
	_f_obj=build/opt/anon-token/crypto.o
	[ -f "$_f_obj" ] && [ -f build/opt/libanon.a ] || return 0
	_bench_fresh "$BENCH_CRYPTO_FLOOR" bench/crypto-floor.c &&
	    _bench_fresh "$BENCH_CRYPTO_FLOOR" "$_f_obj" && return 0
	echo "cc -O2 -o $BENCH_CRYPTO_FLOOR bench/crypto-floor.c $_f_obj build/opt/libanon.a" >&2
	# shellcheck disable=SC2046,SC2086 # pkg-config's words are separate arguments
	${CC:-cc} $_bench_cflags -Ilib -Ianon-token $(pkg-config --cflags openssl jansson) \
	    -o "$BENCH_CRYPTO_FLOOR" bench/crypto-floor.c "$_f_obj" build/opt/libanon.a \
	    $(pkg-config --libs openssl libpcre2-8 jansson sqlite3 libpq) -lm -pthread
}

# _bench_gen FILE ARGS: write FILE with gen unless it exists and is newer than gen itself.
_bench_gen() {
	_g_file=$1
	shift
	_bench_fresh "$_g_file" "$BENCH_GEN" && return 0
	echo "gen -n $BENCH_ROWS -s $BENCH_SEED $* > ${_g_file#"$BENCH_ROOT"/}" >&2
	"$BENCH_GEN" -n "$BENCH_ROWS" -s "$BENCH_SEED" "$@" >"$_g_file.tmp" &&
	mv "$_g_file.tmp" "$_g_file"
}

bench_data() {
	_bench_gen "$BENCH_CSV" -F csv &&
	_bench_gen "$BENCH_COPY" -F copy || return 1
	if [ ! -s "$BENCH_KEY" ]; then
		# A fixed key: the figures do not depend on it, and runs stay comparable.
		(umask 077 && printf '%s\n' \
		    000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$BENCH_KEY")
	fi
}

bench_section() {
	printf '\n## %s\n' "$1"
	printf '%-50s %9s %12s %10s %10s\n' "" "best s" "rows/s" "MB/s" "peak RSS"
}

# _bench_fail LABEL STATUS ERRFILE: a loud FAILED line with the start of stderr.
_bench_fail() {
	if [ "$2" -gt 128 ]; then
		printf '%-50s FAILED (killed by signal %s)\n' "$1" $(($2 - 128))
	else
		printf '%-50s FAILED (exit %s)\n' "$1" "$2"
	fi
	[ -s "$3" ] && sed -n '1,8s/^/    | /p' "$3"
	bench_failed=$((bench_failed + 1))
	return 1
}

# _bench_run INPUT LABEL cmd...: the body of measure and measure_copy.
_bench_run() {
	_m_in=$1 _m_label=$2
	shift 2
	_m_bytes=$(wc -c <"$_m_in")
	_m_res=$BENCH_OUT/measure.res
	_m_err=$BENCH_OUT/measure.err
	_m_best='' _m_rss=0 _m_i=0
	measure_seconds='' measure_mbps='' measure_rows_per_s='' measure_rss_kib=''
	export measure_seconds measure_mbps measure_rows_per_s measure_rss_kib
	while [ "$_m_i" -lt "$BENCH_RUNS" ]; do
		"$BENCH_RSS" -o "$_m_res" "$@" <"$_m_in" >/dev/null 2>"$_m_err"
		_m_status=$?
		if [ -s "$_m_res" ]; then
			read -r _m_t _m_k _m_status <"$_m_res"
			rm -f "$_m_res"
		fi
		[ "$_m_status" -eq 0 ] || { _bench_fail "$_m_label" "$_m_status" "$_m_err"; return 1; }
		_m_best=$(awk -v a="$_m_best" -v b="$_m_t" 'BEGIN { print (a == "" || b < a) ? b : a }')
		[ "$_m_k" -gt "$_m_rss" ] && _m_rss=$_m_k
		_m_i=$((_m_i + 1))
	done
	measure_seconds=$_m_best
	measure_rss_kib=$_m_rss
	measure_mbps=$(awk -v b="$_m_bytes" -v t="$_m_best" 'BEGIN { printf "%.1f", b / t / 1e6 }')
	measure_rows_per_s=$(awk -v n="$BENCH_ROWS" -v t="$_m_best" 'BEGIN { printf "%.0f", n / t }')
	awk -v l="$_m_label" -v t="$_m_best" -v r="$measure_rows_per_s" -v m="$measure_mbps" \
	    -v k="$_m_rss" 'BEGIN {
		printf "%-50s %9.3f %10.2f M %10.1f %6.1f MiB\n", l, t, r / 1e6, m, k / 1024 }'
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$_m_label" "$BENCH_ROWS" "$_m_best" \
	    "$measure_rows_per_s" "$measure_mbps" "$_m_rss" >>"$BENCH_OUT/results.tsv"
	# Warnings on stderr are worth seeing even when the command succeeded.
	[ -s "$_m_err" ] && sed -n '1,3s/^/    stderr: /p' "$_m_err"
	return 0
}

measure() {
	_bench_run "$BENCH_CSV" "$@"
}

measure_copy() {
	_bench_run "$BENCH_COPY" "$@"
}

# measure_stream ROWS LABEL cmd...: peak RSS of cmd fed ROWS generated rows through a pipe
# (no file is stored).  The time is bounded by gen's own speed, so only RSS is the figure.
measure_stream() {
	_s_rows=$1 _s_label=$2
	shift 2
	_s_res=$BENCH_OUT/stream.res
	_s_err=$BENCH_OUT/stream.err
	measure_rss_kib=''
	"$BENCH_GEN" -n "$_s_rows" -s "$BENCH_SEED" |
	    "$BENCH_RSS" -o "$_s_res" "$@" >/dev/null 2>"$_s_err"
	_s_status=$?
	if [ -s "$_s_res" ]; then
		read -r _s_t _s_k _s_status <"$_s_res"
		rm -f "$_s_res"
	fi
	[ "$_s_status" -eq 0 ] || { _bench_fail "$_s_label" "$_s_status" "$_s_err"; return 1; }
	measure_rss_kib=$_s_k
	printf '%s\t%s\t%s\t\t\t%s\n' "$_s_label" "$_s_rows" "$_s_t" "$_s_k" >>"$BENCH_OUT/results.tsv"
	awk -v l="$_s_label" -v t="$_s_t" -v k="$_s_k" -v n="$_s_rows" 'BEGIN {
		printf "%-50s %9.3f %10.2f M %10s %6.1f MiB\n", l, t, n / t / 1e6, "(gen-bound)", k / 1024 }'
	[ -s "$_s_err" ] && sed -n '1,3s/^/    stderr: /p' "$_s_err"
	return 0
}
