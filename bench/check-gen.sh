#!/bin/sh
# check-gen.sh [ROWS [SEED]]: prove that gen writes valid PostgreSQL-style CSV.
#  1. Python's csv module (reader -> writer, minimal quoting) reproduces it byte for byte.
#     Python 3.11 cannot tell NULL (,,) from "" (,"",), so an empty field may be either one;
#     everything else must match exactly.
#  2. libcsv in strict mode (bench/libcsv-ref.c), which does tell NULL from "", reproduces it
#     byte for byte.
#  3. The COPY text form holds the same values as the CSV form (NULL is \N; "" is empty).
#  4. The same seed gives the same bytes; every card is Luhn-valid.
#  5. With CHECK_PG=1 and PostgreSQL server binaries installed: a throwaway server loads both
#     forms into typed tables, and COPY TO writes both back byte for byte.
set -eu
cd "$(dirname "$0")/.."
rows=${1:-200000}
seed=${2:-42}
. bench/lib.sh
bench_build
t=bench/out/check
mkdir -p "$t"
"$BENCH_GEN" -n "$rows" -s "$seed" >"$t/a.csv"
"$BENCH_GEN" -n "$rows" -s "$seed" -F copy >"$t/a.copy"
"$BENCH_GEN" -n "$rows" -s "$seed" | cmp -s - "$t/a.csv" || { echo "gen: not deterministic" >&2; exit 1; }

python3 - "$t/a.csv" "$t/a.copy" <<'EOF'
import csv, io, re, sys

raw = open(sys.argv[1], encoding="utf-8", newline="").read()
lines = raw.split("\n")
assert lines[-1] == "", "missing final newline"
EMPTY = "\x01"  # stands for an empty field in the writer's output
nrows = nnull = nempty = quoted = 0
prev = 0
rd = csv.reader(io.StringIO(raw, newline=""), strict=True)
rows = []
for rec in rd:
    assert len(rec) == 9, f"line {prev + 1}: {len(rec)} fields"
    orig = "\n".join(lines[prev:rd.line_num]) + "\n"  # the record's own bytes
    prev = rd.line_num
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([f if f else EMPTY for f in rec])
    pat = '(""|)'.join(re.escape(p) for p in out.getvalue().split(EMPTY))
    m = re.fullmatch(pat, orig)
    assert m, f"line {prev}: python csv writes it differently:\n{orig!r}\n{out.getvalue()!r}"
    for g in m.groups():
        if g:
            nempty += 1
        else:
            nnull += 1
    quoted += orig.count('"') > 0
    rows.append(rec)
    nrows += 1
assert prev == len(lines) - 1, "trailing bytes after the last record"
print(f"python csv: {nrows - 1} rows reproduced; empty fields: {nnull} NULL, {nempty} \"\"; "
      f"{quoted} records with quoting")

# COPY text: decode and compare with the CSV values (empty CSV fields: NULL <-> \N is
# checked by libcsv-ref below; here an empty CSV field must be \N or empty).
esc = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
def unescape(s):
    return re.sub(r"\\(.)", lambda m: esc[m.group(1)], s)
with open(sys.argv[2], encoding="utf-8", newline="") as f:
    crows = [line.rstrip("\n").split("\t") for line in f]
assert len(crows) == nrows - 1, "copy: row count differs"
for i, (c, r) in enumerate(zip(crows, rows[1:])):
    assert len(c) == 9, f"copy row {i + 1}: {len(c)} fields"
    for x, y in zip(c, r):
        assert (x == "\\N" and y == "") or unescape(x) == y, f"copy row {i + 1} differs"
print(f"copy text: {len(crows)} rows hold the same values")

def luhn(d):
    s = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch) * (2 if i % 2 else 1)
        s += v - 9 if v > 9 else v
    return s % 10 == 0
cards = [r[5] for r in rows[1:] if r[5]]
bad = [c for c in cards if not (luhn(c.replace("-", "").replace(" ", ""))
                                and len(c.replace("-", "").replace(" ", "")) == 16)]
assert not bad, f"{len(bad)} cards fail Luhn"
print(f"cards: {len(cards)} Luhn-valid 16-digit numbers")
EOF

"$BENCH_LIBCSV" <"$t/a.csv" | cmp - "$t/a.csv"
echo "libcsv strict: reproduced byte for byte (NULL and \"\" kept apart)"
if [ "${CHECK_PG:-0}" = 1 ]; then
	pgbin=$(find /usr/lib/postgresql -path "*/bin/initdb" 2>/dev/null | sort -V | tail -n 1)
	pgbin=${pgbin%/initdb}
	[ -x "$pgbin/initdb" ] || { echo "CHECK_PG=1: no PostgreSQL server binaries" >&2; exit 1; }
	pgdir=$(mktemp -d /tmp/anon-bench-pg.XXXXXX)
	chmod 755 "$pgdir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$pgdir"
		as() { su postgres -c "$*"; }
	else
		as() { sh -c "$*"; }
	fi
	as "$pgbin/initdb -D $pgdir/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" \
	    >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; exit 1; }
	as "$pgbin/pg_ctl -D $pgdir/data -l $pgdir/server.log -w \
	    -o '-k $pgdir -c listen_addresses= -F' start" >/dev/null || exit 1
	trap 'as "$pgbin/pg_ctl -D $pgdir/data -m fast -w stop" >/dev/null; rm -rf "$pgdir"' EXIT
	cols="id bigint, email text, phone text, name text, age int, card text, dob date,
	    salary numeric(12,2), notes text"
	psql -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -U postgres \
	    -c "create table c ($cols)" -c "create table t ($cols)" \
	    -c "\\copy c from '$t/a.csv' with (format csv, header)" \
	    -c "\\copy t from '$t/a.copy'" \
	    -c "\\copy (select * from c order by id) to '$t/c.csv' with (format csv, header)" \
	    -c "\\copy (select * from t order by id) to '$t/t.csv' with (format csv, header)" \
	    -c "\\copy (select * from t order by id) to '$t/t.copy'" || exit 1
	cmp "$t/a.csv" "$t/c.csv" && cmp "$t/a.csv" "$t/t.csv" && cmp "$t/a.copy" "$t/t.copy" || exit 1
	echo "postgresql: both forms load into typed columns and COPY TO writes them back byte for byte"
fi
awk -v b="$(wc -c <"$t/a.csv")" -v n="$rows" 'BEGIN { printf "average row: %.1f bytes\n", b / (n + 1) }'
rm -rf "$t"
