# bench-validate.sh: anon-validate on the 1M-row workload (sourced by bench/run.sh).
# Goals (issue 12, one core): every personal-data detector over all 9 columns at 200 MB/s or
# more; --k-anon on 3 columns at 2M rows/s or more; --suggest on 100,000 rows in under a second.
#
# The workload is raw personal data, so most checks fail on it (exit 1, the verdict written):
# those runs go through a `sh -c` that counts exit 1 as a run that finished.
#
#   sh -c '. bench/lib.sh && bench_build && bench_data && . bench/bench-validate.sh'

bench_section "anon-validate (goals: --pii all >= 200 MB/s; --k-anon 3 columns >= 2M rows/s; --suggest 100k rows < 1 s)"
if [ -x bin/anon-validate ]; then
	validate_goal() { # WHAT FIGURE GOAL: after a measure, whether it met its goal
		awk -v f="$2" -v g="$3" -v w="$1" 'BEGIN {
			ok = (w ~ /seconds/) ? (f <= g) : (f >= g)
			printf "    goal %s %s %s: %s\n", w, (w ~ /seconds/) ? "<=" : ">=", g,
			    ok ? "met" : "NOT MET" }'
	}
	# shellcheck disable=SC2016 # "$@" is the inner shell's
	gate='anon-validate "$@" > /dev/null; test $? -le 1'
	validate_deny=$BENCH_OUT/validate-deny.txt
	cut -d, -f2 "$BENCH_CSV" | grep '@' | sed -n '1,10000p' > "$validate_deny"

	measure "anon-validate --pii all (9 columns)" sh -c "$gate" sh --pii all &&
	    validate_goal "MB/s" "$measure_mbps" 200
	measure "anon-validate --pii all --jobs 2" sh -c "$gate" sh --pii all --jobs 2
	measure "anon-validate --pii email,phone,card --pii-columns notes" sh -c "$gate" sh \
	    --pii email,phone,card --pii-columns notes
	measure "anon-validate --k-anon age,dob,salary:5 (1M classes)" sh -c "$gate" sh \
	    --k-anon age,dob,salary:5 && validate_goal "rows/s" "$measure_rows_per_s" 2000000
	measure "anon-validate --k-anon age,name,dob:5 --l-div salary:2" sh -c "$gate" sh \
	    --k-anon age,name,dob:5 --l-div salary:2
	measure "anon-validate --unique id (HMAC-SHA256, 128 bits)" sh -c "$gate" sh \
	    --key-file "$BENCH_KEY" --unique id
	measure "anon-validate --deny-list (10,000 addresses)" sh -c "$gate" sh \
	    --key-file "$BENCH_KEY" --deny-list "$validate_deny"
	measure "anon-validate --require, --type, --range (6 checks)" sh -c "$gate" sh \
	    --require id,email --type age=int --type dob=date --range salary=0..300000 \
	    --range dob=1900-01-01..
	measure "anon-validate --pass --pii all" sh -c 'anon-validate --pass --verdict /dev/null "$@"; test $? -le 1' sh --pii all
	measure "anon-validate --suggest (first 100,000 rows)" anon-validate --suggest &&
	    validate_goal "seconds" "$measure_seconds" 1
	rm -f "$validate_deny"
else
	echo "FAILED: bin/anon-validate is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi
