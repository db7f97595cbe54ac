# bench-jobs.sh: --jobs on the 1M-row workload (sourced by bench/run.sh).
# Goals (core v2): --jobs 2 gives anon-hash and anon-fpe 1.8x their --jobs 1 rate or better on
# this 2-core machine; a 16 MiB quote-heavy field through a pipe within 2x of the time from a
# file; peak RSS with --jobs N within the documented bound (2N+2 chunks) and flat 1M -> 10M.
bench_section "--jobs (goals: --jobs 2 >= 1.8x --jobs 1 for anon-hash and anon-fpe)"
jobs_ratio() { # LABEL RATE1 RATE2
	awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN {
		if (a > 0) printf "    %s: --jobs 2 / --jobs 1 = %.2fx (%s the goal of 1.8x)\n", l,
		    b / a, (b / a >= 1.8 ? "meets" : "BELOW") }'
}
if [ -x bin/anon-hash ] && [ -x bin/anon-fpe ]; then
	measure "anon-hash -c email --jobs 1" anon-hash -c email --key-file "$BENCH_KEY" --jobs 1 &&
	    h1=$measure_rows_per_s
	measure "anon-hash -c email --jobs 2" anon-hash -c email --key-file "$BENCH_KEY" --jobs 2 &&
	    h2=$measure_rows_per_s
	jobs_ratio "anon-hash -c email" "${h1:-0}" "${h2:-0}"
	measure "anon-fpe -c card --jobs 1" anon-fpe -c card --key-file "$BENCH_KEY" --jobs 1 &&
	    f1=$measure_rows_per_s
	measure "anon-fpe -c card --jobs 2" anon-fpe -c card --key-file "$BENCH_KEY" --jobs 2 &&
	    f2=$measure_rows_per_s
	jobs_ratio "anon-fpe -c card" "${f1:-0}" "${f2:-0}"
	measure "anon-hash -f csv (passthrough) --jobs 2" anon-hash -f csv --jobs 2
	# the same bytes whatever --jobs is
	anon-hash -c email --key-file "$BENCH_KEY" <"$BENCH_CSV" >"$BENCH_OUT/jobs1.out"
	if anon-hash -c email --key-file "$BENCH_KEY" --jobs 2 <"$BENCH_CSV" |
	    cmp -s - "$BENCH_OUT/jobs1.out"; then
		echo "    --jobs 2 output is byte-identical to --jobs 1"
	else
		echo "    FAILED: --jobs 2 output differs from --jobs 1"
		bench_failed=$((bench_failed + 1))
	fi
	rm -f "$BENCH_OUT/jobs1.out"
	if [ "${BENCH_10M:-1}" = 1 ]; then
		measure_stream 10000000 "anon-hash -c email --jobs 2, 10M rows" \
		    anon-hash -c email --key-file "$BENCH_KEY" --jobs 2
	fi

	# A 16 MiB quoted field full of doubled quotes: from a file, then through a pipe.
	big=$BENCH_OUT/field16.csv
	if [ ! -s "$big" ]; then
		awk 'BEGIN { printf "a,b\n1,\""; s = ""; for (i = 0; i < 60; i++) s = s "x\"\"";
		    n = int(16 * 1048576 / length(s)); for (i = 0; i < n; i++) printf "%s\n", s;
		    printf "\"\n2,z\n" }' >"$big"
	fi
	t_file=$(anon-hash -c b --key-file "$BENCH_KEY" "$big" >/dev/null 2>&1; \
	    /usr/bin/env time -f %e anon-hash -c b --key-file "$BENCH_KEY" "$big" 2>&1 >/dev/null)
	t_pipe=$(/usr/bin/env time -f %e sh -c 'cat "$1" | anon-hash -c b --key-file "$2" >/dev/null' \
	    _ "$big" "$BENCH_KEY" 2>&1)
	awk -v f="$t_file" -v p="$t_pipe" 'BEGIN {
		printf "%-50s %9.3f\n%-50s %9.3f\n", "16 MiB quoted field, from a file", f,
		    "16 MiB quoted field, through a pipe", p
		r = (f > 0.01 ? p / f : p / 0.01)
		printf "    pipe / file = %.2fx (%s the goal of 2x)\n", r, (r <= 2 ? "meets" : "BELOW") }'
else
	echo "FAILED: bin/anon-hash or bin/anon-fpe is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi
