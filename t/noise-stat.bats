#!/usr/bin/env bats
# noise-stat.bats: the mechanism end to end (dp-noise.md 9.4 rows 6 and 7).  10^6 seeded values
# go through the command; the residuals (output - input rounded to the grid) must follow the
# discrete law of the *effective* scale the audit reports, at alpha = 1e-6 (z = 4.8916), and
# must be the same whatever the data.  The seeds are fixed, so the outcome is deterministic.

load helper

setup_file() {
	export N=1000000
	awk -v n="$N" 'BEGIN { print "v"; for (i = 0; i < n; i++) print 0 }' > "$BATS_FILE_TMPDIR/zero.csv"
	# negatives, more decimals than the grid (ties included), large values
	awk -v n="$N" 'BEGIN { print "v"; for (i = 0; i < n; i++) {
		x = (i * 7919) % 200001 - 100000; f = (i * 37) % 1000
		if (x < 0) printf "-%d.%03d\n", -x, f; else printf "%d.%03d\n", x, f } }' \
		> "$BATS_FILE_TMPDIR/varied.csv"
}

# check D VAR M4 OUT_ZERO OUT_VARIED: moments of the residuals against E[X^2] = VAR and
# E[X^4] = M4 (python expressions), and the same residuals for both inputs.
check() {
	python3 - "$BATS_FILE_TMPDIR/varied.csv" "$@" <<'EOF'
import sys, math
src, d, var_expr, m4_expr, oz, ov = sys.argv[1:]
d = int(d)
def units(s, d, exact=True):
    neg = s.startswith('-'); s = s.lstrip('+-')
    i, _, f = s.partition('.')
    if exact:
        assert len(f) == d, s                   # every output has exactly d decimals
    keep, rest = f[:d].ljust(d, '0'), f[d:]
    v = int(i + keep)
    if rest and (rest[0] > '5' or (rest[0] == '5' and (rest[1:].strip('0') or v & 1))):
        v += 1                                  # half to even, as the tool rounds
    return -v if neg else v
fs, fz, fv = open(src), open(oz), open(ov)
for f in (fs, fz, fv):
    next(f)
n = s1 = s2 = 0
same = True
for a, z, v in zip(fs, fz, fv):
    r0 = units(z.strip(), d)
    r1 = units(v.strip(), d) - units(a.strip(), d, False)
    same &= r0 == r1
    n += 1; s1 += r1; s2 += r1 * r1
var = eval(var_expr); m4 = eval(m4_expr)
zm = (s1 / n) / math.sqrt(var / n)
zv = (s2 / n - var) / math.sqrt((m4 - var * var) / n)
print(f"n={n} mean z={zm:.3f} var z={zv:.3f} same={same}")
assert n == 1000000, n
assert abs(zm) < 4.8916 and abs(zv) < 4.8916
assert same, "the noise depends on the data"
EOF
}

@test "laplace end to end: the audit's effective scale, its law, and data-independent noise" {
	rule=v=laplace:epsilon=0.7,sensitivity=2.5,decimals=2
	anon-noise -q --seed 11 --audit "$BATS_FILE_TMPDIR/lap.json" -c "$rule" \
		"$BATS_FILE_TMPDIR/zero.csv" > "$BATS_FILE_TMPDIR/lap0" 2>/dev/null
	anon-noise -q --seed 11 -c "$rule" "$BATS_FILE_TMPDIR/varied.csv" > "$BATS_FILE_TMPDIR/lap1" 2>/dev/null
	# 2.5 is 250 units at 2 decimals, +1 for input rounding; T = ceil(251 / 0.7) = 359
	run -0 jq -r '.columns[0].params | .scale_units, .epsilon <= 0.7' "$BATS_FILE_TMPDIR/lap.json"
	assert_output "$(printf '359\ntrue')"
	a='math.exp(-1/359)'
	run -0 check 2 "2*$a/(1-$a)**2" "2*$a*(1+11*$a+11*$a**2+$a**3)/((1+$a)*(1-$a)**4)" \
		"$BATS_FILE_TMPDIR/lap0" "$BATS_FILE_TMPDIR/lap1"
	echo "$output"
}

@test "gaussian end to end: sigma on the grid, exact discrete law, data-independent noise" {
	rule=v=gaussian:sigma=3.5,decimals=1
	anon-noise -q --seed 12 --audit "$BATS_FILE_TMPDIR/g.json" -c "$rule" \
		"$BATS_FILE_TMPDIR/zero.csv" > "$BATS_FILE_TMPDIR/g0" 2>/dev/null
	anon-noise -q --seed 12 -c "$rule" "$BATS_FILE_TMPDIR/varied.csv" > "$BATS_FILE_TMPDIR/g1" 2>/dev/null
	run -0 jq -r '.columns[0].params.sigma_units' "$BATS_FILE_TMPDIR/g.json"
	assert_output 35
	p='[math.exp(-k*k/(2*35*35)) for k in range(-2100,2101)]'
	run -0 check 1 "sum(q*k*k for q,k in zip($p,range(-2100,2101)))/sum($p)" \
		"sum(q*k**4 for q,k in zip($p,range(-2100,2101)))/sum($p)" \
		"$BATS_FILE_TMPDIR/g0" "$BATS_FILE_TMPDIR/g1"
	echo "$output"
}

@test "a wrong scale is caught: the same residuals do not pass as scale 1.02 T" {
	# the residuals of the laplace test above
	[ -s "$BATS_FILE_TMPDIR/lap0" ]
	[ -s "$BATS_FILE_TMPDIR/lap1" ]
	a='math.exp(-1/(359*1.02))'
	run check 2 "2*$a/(1-$a)**2" "2*$a*(1+11*$a+11*$a**2+$a**3)/((1+$a)*(1-$a)**4)" \
		"$BATS_FILE_TMPDIR/lap0" "$BATS_FILE_TMPDIR/lap1"
	[ "$status" -ne 0 ]
	assert_output --partial 'n=1000000 '   # it ran to the test and failed there
}
