# bench-mask.sh: anon-mask on the 1M-row workload (sourced by bench/run.sh).
# Goals (issue "anon-mask"): partial, email and card on one column at 5M rows/s or more; a
# regex rule at 2M rows/s or more; peak RSS as flat as the passthrough.

bench_section "anon-mask (goals: partial/email/card >= 5M rows/s, regex >= 2M rows/s)"
mask_goal() {
	awk -v r="$measure_rows_per_s" -v g="$1" 'BEGIN {
		printf "    %s the goal of %.0fM rows/s\n", (r >= g ? "meets" : "BELOW"), g / 1e6 }'
}
if [ -x bin/anon-mask ]; then
	measure "anon-mask -c name=partial:1,1" anon-mask -f csv -c name=partial:1,1 &&
	    mask_goal 5000000
	measure "anon-mask -c email=email" anon-mask -f csv -c email=email && mask_goal 5000000
	measure "anon-mask -c email=email:tld" anon-mask -f csv -c email=email:tld &&
	    mask_goal 5000000
	measure "anon-mask -c card=card" anon-mask -f csv -c card=card && mask_goal 5000000
	measure "anon-mask -c card=card:bin" anon-mask -f csv -c card=card:bin && mask_goal 5000000
	measure "anon-mask -c phone=phone" anon-mask -f csv -c phone=phone
	measure "anon-mask -c phone=last:4" anon-mask -f csv -c phone=last:4
	measure 'anon-mask -c notes=regex:\d+' anon-mask -f csv -c 'notes=regex:\d+' &&
	    mask_goal 2000000
	measure 'anon-mask -c email=regex:^([^@+]+)' anon-mask -f csv -c 'email=regex:^([^@+]+)' &&
	    mask_goal 2000000
	measure 'anon-mask -c phone=regex:\d' anon-mask -f csv -c 'phone=regex:\d' &&
	    mask_goal 2000000
	measure 'anon-mask -c phone=keep:\d{4}$' anon-mask -f csv -c 'phone=keep:\d{4}$' &&
	    mask_goal 2000000
	measure "anon-mask -c name=fake:full_name" anon-mask -f csv -c name=fake:full_name \
	    --key-file "$BENCH_KEY"
	measure "anon-mask 5 columns (email phone name card dob)" anon-mask -f csv -c email=email \
	    -c phone=phone -c name=first:1 -c card=card:bin -c dob=redact
	measure_copy "anon-mask -f copy -c 2=email -c 6=card" anon-mask -f copy \
	    --schema id,email,phone,name,age,card,dob,salary,notes -c email=email -c card=card
else
	echo "FAILED: bin/anon-mask is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi
