# bench-token.sh: anon-token on the 1M-row workload (sourced by bench/run.sh; alone:
# `. bench/lib.sh && bench_build && bench_data && . bench/bench-token.sh`).
# Goals (issue 11, one core): keyed >= 3M rows/s; siv >= 1M rows/s; vault (SQLite) >= 100k
# new tokens/s, and >= 1M rows/s for values already in the vault.
# The id column holds 1M distinct values (every row a new token on an empty vault); email
# 546k distinct ones, with 3% NULL or empty. Each vault run of "new tokens" starts from an
# empty vault, so each of the best-of-three runs makes all its tokens.
bench_section "anon-token (goals: keyed >= 3M rows/s, siv >= 1M rows/s, vault >= 100k new/s, >= 1M rows/s known)"
if [ -x bin/anon-token ]; then
	token_goal() { # GOAL [UNIT]: after a measure, did it reach GOAL per second?
		awk -v r="${measure_rows_per_s:-0}" -v g="$1" -v u="${2:-rows}" 'BEGIN {
			printf "    %s the goal of %s %s/s\n", (r >= g ? "meets" : "BELOW"),
			    (g >= 1e6 ? sprintf("%gM", g / 1e6) : sprintf("%gk", g / 1e3)), u }'
	}
	# The floor under a token: the OpenSSL calls of a mode alone over the column's values
	# (bench/crypto-floor.c), added to the passthrough, bound what the mode can reach here.
	# token_floor MODE COL: best of $BENCH_RUNS, printed with that bound and how near the
	# last measure came to it.
	token_floor() {
		[ -x "$BENCH_CRYPTO_FLOOR" ] || return 0 # no build/opt: no floor
		_f_best=''
		_f_i=0
		while [ "$_f_i" -lt "$BENCH_RUNS" ]; do
			# shellcheck disable=SC2034 # the mode and count are read, not used
			if ! _f_out=$("$BENCH_CRYPTO_FLOOR" "$1" "$BENCH_CSV" "$2"); then
				echo "    FAILED: crypto-floor $1 $2"
				bench_failed=$((bench_failed + 1))
				return 1
			fi
			read -r _f_mode _f_n _f_t _f_ns <<EOF_FLOOR
$_f_out
EOF_FLOOR
			_f_best=$(awk -v a="$_f_best" -v b="$_f_t" 'BEGIN { print (a == "" || b < a) ? b : a }')
			_f_i=$((_f_i + 1))
		done
		awk -v f="$_f_best" -v n="$_f_n" -v p="$token_pass" -v m="$measure_seconds" \
		    -v r="$BENCH_ROWS" -v what="$1" 'BEGIN {
			c = r / (f + p)
			printf "    floor: %s alone %.3f s (%.0f ns a value, %d values)\n",
			    (what == "hmac" ? "EVP_MAC HMAC-SHA256" : "EVP AES-256-SIV"), f,
			    f / n * 1e9, n
			printf "    with the passthrough: at most %.2fM rows/s here; measured %.0f%%\n",
			    c / 1e6, 100 * r / m / c }'
	}
	token_pass=0
	measure "anon-hash -f csv (passthrough, for the floors)" anon-hash -f csv &&
	    token_pass=$measure_seconds
	# scratch files of its own: bench/out is shared with whoever else runs a benchmark
	TOKEN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bench-token.XXXXXX")
	TOKEN_VAULT=$TOKEN_DIR/vault.db
	measure "anon-token -c email (keyed, base32 26)" anon-token --key-file "$BENCH_KEY" \
	    -c email && token_goal 3000000 && token_floor hmac 1
	measure "anon-token -c id (keyed)" anon-token --key-file "$BENCH_KEY" -c id &&
	    token_goal 3000000 && token_floor hmac 0
	measure "anon-token -c card=digits,length=16 (keyed)" anon-token --key-file "$BENCH_KEY" \
	    -q -c card=digits,length=16
	measure "anon-token --mode siv -c email" anon-token --key-file "$BENCH_KEY" --mode siv \
	    -c email && token_goal 1000000 && token_floor siv 1
	measure "anon-token --mode siv -c id" anon-token --key-file "$BENCH_KEY" --mode siv \
	    -c id && token_goal 1000000 && token_floor siv 0
	anon-token --key-file "$BENCH_KEY" --mode siv -c email <"$BENCH_CSV" >"$TOKEN_DIR/siv.csv"
	_t_csv=$BENCH_CSV
	BENCH_CSV=$TOKEN_DIR/siv.csv
	measure "anon-token --mode siv -D -c email" anon-token --key-file "$BENCH_KEY" --mode siv \
	    -D -c email
	BENCH_CSV=$_t_csv
	# new tokens: 1M distinct ids into an empty vault (rm is part of the command, and costs
	# nothing next to it)
	measure "anon-token --mode vault -c id (1M new tokens)" sh -c 'rm -f "$1" "$1-wal" "$1-shm" &&
	    exec anon-token --key-file "$2" --mode vault --vault "$1" -c id' sh "$TOKEN_VAULT" \
	    "$BENCH_KEY" && token_goal 100000 "new tokens"
	measure "anon-token --mode vault --vault-sync normal -c id (new)" sh -c 'rm -f "$1" "$1-wal" \
	    "$1-shm" && exec anon-token --key-file "$2" --mode vault --vault-sync normal --vault "$1" \
	    -c id' sh "$TOKEN_VAULT" "$BENCH_KEY" && token_goal 100000 "new tokens"
	# known values: the vault of the last run holds every id
	measure "anon-token --mode vault -c id (1M known)" anon-token --key-file "$BENCH_KEY" \
	    --mode vault --vault "$TOKEN_VAULT" -c id && token_goal 1000000
	measure "anon-token --mode vault --cache 4096 -c id (known, no snapshot)" anon-token \
	    --key-file "$BENCH_KEY" --mode vault --vault "$TOKEN_VAULT" --cache 4096 -c id
	anon-token --key-file "$BENCH_KEY" --mode vault --vault "$TOKEN_VAULT" -c id \
	    <"$BENCH_CSV" >"$TOKEN_DIR/vault.csv"
	_t_csv=$BENCH_CSV
	BENCH_CSV=$TOKEN_DIR/vault.csv
	measure "anon-token --mode vault -D -c id" anon-token --key-file "$BENCH_KEY" --mode vault \
	    --vault "$TOKEN_VAULT" -D -c id
	BENCH_CSV=$_t_csv
	# what comes out goes back in, byte for byte
	if anon-token --key-file "$BENCH_KEY" --mode vault --vault "$TOKEN_VAULT" -D -c id \
	    <"$TOKEN_DIR/vault.csv" | cmp -s - "$BENCH_CSV" &&
	    anon-token --key-file "$BENCH_KEY" --mode siv -D -c email <"$TOKEN_DIR/siv.csv" |
	    cmp -s - "$BENCH_CSV"; then
		echo "    tokenize | detokenize gives the input back, byte for byte (siv, vault)"
	else
		echo "    FAILED: tokenize | detokenize differs from the input"
		bench_failed=$((bench_failed + 1))
	fi
	measure "anon-token --mode vault -c email (546k new tokens)" sh -c 'rm -f "$1" "$1-wal" \
	    "$1-shm" && exec anon-token --key-file "$2" --mode vault --vault "$1" -c email' sh \
	    "$TOKEN_VAULT" "$BENCH_KEY" &&
	    awk -v s="$measure_seconds" 'BEGIN { printf "    %.0f new tokens/s\n", 546363 / s }'
	measure "anon-token --mode vault -c email (known)" anon-token --key-file "$BENCH_KEY" \
	    --mode vault --vault "$TOKEN_VAULT" -c email && token_goal 1000000
	rm -rf "$TOKEN_DIR"
else
	echo "FAILED: bin/anon-token is missing (run make)"
	bench_failed=$((bench_failed + 1))
fi
