# bench-noise.sh: anon-noise on the 1M-row workload (sourced by bench/run.sh).
# Goals (issue 5, one core): laplace on salary >= 4M rows/s; truncate, round, bucket >= 5M rows/s.
bench_section "anon-noise"
if [ -x bin/anon-noise ]; then
	noise_goal() { # LABEL MIN: after a measure, print whether it met its goal
		awk -v r="${measure_rows_per_s:-0}" -v m="$2" -v l="$1" \
		    'BEGIN { printf "    goal %s >= %d rows/s: %s\n", l, m, (r >= m) ? "met" : "NOT MET" }'
	}
	measure "anon-noise salary=laplace (eps 1, sens 1000)" anon-noise \
	    -c salary=laplace:epsilon=1,sensitivity=1000 && noise_goal laplace 4000000
	measure "anon-noise salary=gaussian (eps 1, delta 1e-6)" anon-noise \
	    -c salary=gaussian:epsilon=1,delta=0.000001,sensitivity=1000
	measure "anon-noise dob=truncate:year" anon-noise -c dob=truncate:year &&
	    noise_goal truncate 5000000
	measure "anon-noise salary=round:1000" anon-noise -c salary=round:1000 &&
	    noise_goal round 5000000
	measure "anon-noise age=bucket:10" anon-noise -c age=bucket:10 && noise_goal bucket 5000000
	measure "anon-noise age=bucket:10,label" anon-noise -c age=bucket:10,label
	measure "anon-noise age=topcode:90" anon-noise -c age=topcode:90
	measure "anon-noise dob=dateshift (per entity id)" anon-noise --key-file "$BENCH_KEY" \
	    --entity id -c dob=dateshift:days=180
	measure_copy "anon-noise -f copy salary=laplace" anon-noise -f copy \
	    --schema id,email,phone,name,age,card,dob,salary,notes \
	    -c salary=laplace:epsilon=1,sensitivity=1000
else
	echo "FAILED: bin/anon-noise is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi
