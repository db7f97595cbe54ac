# bench-fpe.sh: anon-fpe on the 1M-row workload (sourced by bench/run.sh).
# Goals (issue 4, one core): FF1 on the 16-digit card column >= 1.5M rows/s; FF3-1 likewise.
# The card column holds 16 digits, plain or grouped by spaces or dashes, and some NULLs.
bench_section "anon-fpe (goals: FF1 and FF3-1 on card >= 1.5M rows/s)"
if [ -x bin/anon-fpe ]; then
	fpe_goal() { # after a measure: did it reach 1.5M rows/s?
		awk -v r="${measure_rows_per_s:-0}" 'BEGIN {
			printf "    %s the goal of 1.5M rows/s\n", (r >= 1500000 ? "meets" : "BELOW") }'
	}
	measure "anon-fpe -c card (FF1, AES-256)" anon-fpe --key-file "$BENCH_KEY" -c card &&
	    fpe_goal
	measure "anon-fpe --algo ff3-1 -c card" anon-fpe --key-file "$BENCH_KEY" --algo ff3-1 \
	    -c card && fpe_goal
	measure "anon-fpe --key-bits 128 -c card" anon-fpe --key-file "$BENCH_KEY" --key-bits 128 \
	    -c card
	measure "anon-fpe -D -c card (decrypt)" anon-fpe --key-file "$BENCH_KEY" -D -c card
	measure "anon-fpe -c card=luhn" anon-fpe --key-file "$BENCH_KEY" -c card=luhn
	measure "anon-fpe --tweak-column id -c card" anon-fpe --key-file "$BENCH_KEY" \
	    --tweak-column id -c card
	measure "anon-fpe -c id=range:1..1000000" anon-fpe --key-file "$BENCH_KEY" \
	    -c id=range:1..1000000
	measure "anon-fpe -c phone=digits" anon-fpe --key-file "$BENCH_KEY" -c phone=digits
	measure "anon-fpe -c email=alnum (long values)" anon-fpe --key-file "$BENCH_KEY" \
	    -c email=alnum --on-error keep
	measure_copy "anon-fpe -f copy -c card" anon-fpe --key-file "$BENCH_KEY" -f copy \
	    --schema id,email,phone,name,age,card,dob,salary,notes -c card && fpe_goal
	# Decrypting what was encrypted must give the input back, byte for byte.
	if anon-fpe --key-file "$BENCH_KEY" -c card -c phone=digits <"$BENCH_CSV" |
	    anon-fpe --key-file "$BENCH_KEY" -D -c card -c phone=digits | cmp -s - "$BENCH_CSV"; then
		echo "    encrypt | decrypt gives the input back, byte for byte"
	else
		echo "    FAILED: encrypt | decrypt differs from the input"
		bench_failed=$((bench_failed + 1))
	fi
else
	echo "FAILED: bin/anon-fpe is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi
