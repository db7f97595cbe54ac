#!/bin/sh
# run.sh: the anon benchmarks (`make bench`).  Builds the helpers into bench/out/, generates
# the seeded workload once, measures anon-hash and the reference programs, then every
# bench/bench-*.sh, then peak RSS at 10M rows.  Exits 1 if any measured command failed.
#
#   BENCH_ROWS=1000000 BENCH_SEED=42 BENCH_RUNS=3 BENCH_10M=1 sh bench/run.sh
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
bench_build || exit 1
bench_data || exit 1
BENCH_10M=${BENCH_10M:-1}
printf 'label\trows\tseconds\trows_per_s\tmb_per_s\tpeak_rss_kib\n' >"$BENCH_OUT/results.tsv"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- lib anon-hash 2>/dev/null)" ] && commit="$commit (lib or anon-hash modified)"
echo "# anon benchmarks"
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, $(uname -sr)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $commit; $(${CC:-cc} --version | head -n 1); $(openssl version 2>/dev/null)"
echo "data:    $BENCH_ROWS rows, seed $BENCH_SEED: CSV $(wc -c <"$BENCH_CSV") bytes," \
    "COPY $(wc -c <"$BENCH_COPY") bytes; best of $BENCH_RUNS runs, input page-cached," \
    "output to /dev/null, one core per process"

bench_section "references"
measure "cat | cat (pipe ceiling)" sh -c 'cat | cat'
measure "libcsv strict parse+write (bench/libcsv-ref)" "$BENCH_LIBCSV"
# shellcheck disable=SC2016 # a Miller expression, not a shell one
measure "mlr put \$email=sha256(\$email)" mlr --icsv --ocsv put '$email=sha256($email)'

# Passthrough: anon-hash with no column selected reads every row and writes it back, so it
# measures the core reader and writer alone.
pass_rss='' hash_rss='' pass_mbps='' hash_rows=''
bench_section "anon-hash (core reader and writer)"
if [ -x bin/anon-hash ]; then
	if measure "anon-hash -f csv (passthrough)" anon-hash -f csv; then
		pass_rss=$measure_rss_kib pass_mbps=$measure_mbps
		# The figure means nothing unless nothing changed.
		if anon-hash -f csv <"$BENCH_CSV" | cmp -s - "$BENCH_CSV"; then
			echo "    passthrough output is byte-identical to its input"
		else
			echo "    FAILED: passthrough output differs from its input"
			bench_failed=$((bench_failed + 1))
		fi
	fi
	measure_copy "anon-hash -f copy (passthrough)" anon-hash -f copy \
	    --schema id,email,phone,name,age,card,dob,salary,notes
	if measure "anon-hash -c email" anon-hash -f csv -c email --key-file "$BENCH_KEY"; then
		hash_rss=$measure_rss_kib hash_rows=$measure_rows_per_s
	fi
	measure "anon-hash -c email=email" anon-hash -f csv -c email=email --key-file "$BENCH_KEY"
else
	echo "FAILED: bin/anon-hash is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi

for f in bench/bench-*.sh; do
	[ -f "$f" ] || continue
	# shellcheck source=/dev/null
	. "./$f"
done

pass10_rss='' hash10_rss=''
if [ "$BENCH_10M" = 1 ] && [ -x bin/anon-hash ]; then
	bench_section "peak RSS at 10M rows (gen -n 10000000 | ...)"
	measure_stream 10000000 "anon-hash -f csv (passthrough), 10M rows" anon-hash -f csv &&
	    pass10_rss=$measure_rss_kib
	measure_stream 10000000 "anon-hash -c email, 10M rows" \
	    anon-hash -f csv -c email --key-file "$BENCH_KEY" && hash10_rss=$measure_rss_kib
fi

# goal WHAT MET: one line of the goals summary (informative; not part of the exit status).
goal() {
	if [ "$2" = 1 ]; then
		printf '  met      %s\n' "$1"
	elif [ "$2" = 0 ]; then
		printf '  NOT MET  %s\n' "$1"
	else
		printf '  n/a      %s\n' "$1"
	fi
}
# ge A B: 1 if A >= B, 0 if not, - if A is unknown.
ge() {
	[ -n "$1" ] || { echo -; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'
}
# same A B: 1 if B (10M) is within 5 % or 256 KiB of A (1M).
same() {
	{ [ -n "$1" ] && [ -n "$2" ]; } || { echo -; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { d = b - a; print (d <= 256 || d <= a * 0.05) ? 1 : 0 }'
}
mib() {
	[ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}
echo
echo "## goals (issue 2; $BENCH_ROWS rows, one core)"
goal "passthrough >= 1000 MB/s: ${pass_mbps:-?} MB/s" "$(ge "$pass_mbps" 1000)"
goal "anon-hash one column >= 3M rows/s: ${hash_rows:-?} rows/s" "$(ge "$hash_rows" 3000000)"
max_rss=$(awk -v a="$pass_rss" -v b="$hash_rss" \
    'BEGIN { if (a != "" && b != "") print (a + 0 > b + 0) ? a : b }')
rss_ok=-
[ -n "$max_rss" ] && rss_ok=$(ge 8192 "$max_rss")
goal "peak RSS <= 8 MiB: passthrough $(mib "$pass_rss") MiB, anon-hash $(mib "$hash_rss") MiB" \
    "$rss_ok"
if [ "$BENCH_10M" = 1 ]; then
	s1=$(same "$pass_rss" "$pass10_rss")
	s2=$(same "$hash_rss" "$hash10_rss")
	case $s1$s2 in
	11) same_ok=1 ;;
	*-*) same_ok=- ;;
	*) same_ok=0 ;;
	esac
	goal "same peak RSS at 10M rows: passthrough $(mib "$pass10_rss") MiB, anon-hash $(mib \
	    "$hash10_rss") MiB" "$same_ok"
fi

if [ "$bench_failed" -gt 0 ]; then
	echo
	echo "bench: $bench_failed measured command(s) FAILED"
	exit 1
fi
exit 0
