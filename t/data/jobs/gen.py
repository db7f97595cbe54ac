#!/usr/bin/env python3
"""gen.py: inputs for t/jobs.bats, which checks that --jobs N gives the bytes of --jobs 1.

Every file is written from a fixed seed, so a failing case can be rebuilt outside bats:

  gen.py grow FILE csv|copy|pgdump N        FILE with its data rows repeated N times
  gen.py bigfield MIB                       a CSV with one quoted field of MIB MiB in the middle
  gen.py boundary FMT VARIANT SHIFT         a construct placed so that its key byte is at
                                            offset 262144 + SHIFT (the first read's end);
                                            FMT is csv, copy or pgdump
  gen.py boundary-variants FMT              the VARIANT names, one a line
  gen.py rows4096 ROWS                      CSV whose rows around every 4096th are multi-line
  gen.py late ROWS                          CSV whose columns get their first value late
  gen.py pgdump-many TABLES ARGS            a dump of TABLES small COPY blocks; ARGS gets one
                                            "kind schema.table.column" line per selectable column
  gen.py errors KIND ROWS INFO              ROWS rows of CSV (id,code,amount,name,note) with
                                            bad rows: one (a bad value at row 150000), struct
                                            (a field too many there), eof (a quote never
                                            closed at the end), many (bad values and fields
                                            every 997 and 7919 rows and around every 4096th),
                                            pgdump and pgdump-many (as one and many, in a
                                            COPY block); INFO gets
                                            "LINE ROW KIND" for each bad row

Everything goes to standard output (ARGS and INFO are files)."""
import random
import re
import sys

out = sys.stdout.buffer
B = 262144  # lib/reader.c READ_SIZE: a regular file's first read ends here


# --- grow --------------------------------------------------------------------------------
def grow(path, kind, n):
    data = open(path, "rb").read()
    if kind == "pgdump":
        lines = data.splitlines(keepends=True)
        res, i = [], 0
        while i < len(lines):
            ln = lines[i]
            prev = lines[i - 1] if i else b"\n"
            real = re.match(rb"^COPY .* FROM stdin;\r?\n$", ln) and (
                prev.strip() == b"" or prev.rstrip().endswith(b";"))
            res.append(ln)
            i += 1
            if not real:
                continue
            rows = []
            while i < len(lines) and lines[i] not in (b"\\.\n", b"\\.\r\n"):
                rows.append(lines[i])
                i += 1
            res.extend(rows * n)
        out.write(b"".join(res))
        return
    if kind == "csv":  # a header line without quoted newlines
        cut = data.index(b"\n") + 1
        head, body = data[:cut], data[cut:]
    else:
        head, body = b"", data
    term = b"\r\n" if head.endswith(b"\r\n") or body.endswith(b"\r\n") else b"\n"
    if body.endswith(b"\n"):
        out.write(head + body * n)
    else:  # no final newline: only the last copy keeps that
        out.write(head + (body + term) * (n - 1) + body)


# --- bigfield ----------------------------------------------------------------------------
def bigfield(mib):
    rnd = random.Random(16)
    w = [b"id,big,note\n"]
    for i in range(1, 3001):
        w.append(b"%d,value %d,\"n, %d\"\n" % (i, i, i))
    unit = b'ab""c,d\nxyz\r\n""\n e\xc3\xa9 '  # doubled quotes, LF, CRLF, comma, UTF-8
    size = mib * 1024 * 1024
    big = unit * (size // len(unit)) + b"q" * (size % len(unit))
    w.append(b'3001,"' + big + b'",after big\n')
    for i in range(3002, 6001):
        w.append(b"%d,value %d,\"m\n%d\"\n" % (i, rnd.randrange(10 ** 6), i))
    out.write(b"".join(w))


# --- boundary ----------------------------------------------------------------------------
# Each construct is (bytes of one row, index of its key byte).  The row is placed so that the
# key byte is at B + SHIFT: SHIFT -1 makes it the last byte of the first read, 0 the first of
# the second.
CSV_VARIANTS = {
    "nl-in-quotes": (b'R,"line1\nline2",b,c\n', 8),
    "open-quote": (b'R,"x\ny",b,c\n', 2),
    "close-quote": (b'R,"x\ny",b,c\n', 6),
    "doubled-quote": (b'R,"p""q\nr",b,c\n', 5),
    "crlf-end": (b'R,"a\nb",b,c\r\n', 12),
    "cr-in-quotes": (b'R,"a\r\nb",b,c\n', 5),
    "crlf-cr": (b'R,"a\nb",b,c\r\n', 11),
    "delim-after-quote": (b'R,"a\nb",b,c\n', 7),
    "row-end": (b'R,"a\nb",b,c\n', 11),
    "utf8": (b'R,"\xc3\xa9\n\xc3\xbc",b,c\n', 4),
    "empty-quoted": (b'R,"",b,c\n', 3),
    "one-quote": (b'R,"""",b,c\n', 4),
    "many-lines": (b'R,"' + b"\n" * 40 + b'",b,"' + b'""\n' * 20 + b'"\n', 30),
}
COPY_VARIANTS = {
    "backslash-pair": (b"R\ta\\\\b\tc\td\n", 4),
    "backslash-n": (b"R\t\\N\tc\td\n", 3),
    "escape-t": (b"R\ta\\tb\tc\td\n", 3),
    "octal": (b"R\t\\101\\x42\tc\td\n", 4),
    "tab": (b"R\tab\tc\td\n", 4),
    "row-end": (b"R\tab\tc\td\n", 8),
    "utf8": (b"R\t\xc3\xa9\tc\td\n", 3),
}

# pgdump: the construct ends block t and starts block u; its key byte is at B + SHIFT.
_END = b"\\.\n\n"
_U = b"COPY public.u (id, a, b, c) FROM stdin;\n"
_SQL = _END + b"COMMENT ON TABLE t IS 'x\nCOPY v (a) FROM stdin;\n';\n\n" + _U
_DOLLAR = _END + b"CREATE FUNCTION f() RETURNS int AS $x$\nCOPY v (a) FROM stdin;\n$x$;\n\n" + _U
_EMPTY = _END + b"COPY public.e (a) FROM stdin;\n\\.\n\n" + _U
PGDUMP_VARIANTS = {
    "end-backslash": (_END + _U, 0),
    "end-dot": (_END + _U, 1),
    "end-newline": (_END + _U, 2),
    "blank-line": (_END + _U, 3),
    "copy-word": (_END + _U, 6),
    "copy-columns": (_END + _U, 4 + _U.index(b"(id") + 1),
    "copy-semicolon": (_END + _U, 4 + _U.index(b";")),
    "copy-newline": (_END + _U, 4 + len(_U) - 1),
    "sql-string": (_SQL, _SQL.index(b"COPY v") + 2),
    "sql-string-end": (_SQL, _SQL.index(b"';")),
    "dollar-string": (_DOLLAR, _DOLLAR.index(b"COPY v") + 2),
    "dollar-end": (_DOLLAR, _DOLLAR.index(b"$x$;") + 1),
    "empty-block": (_EMPTY, _EMPTY.index(b"\\.", 4)),
}
PGDUMP_HEAD = (b"SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\n"
               b"COPY public.t (id, a, b, c) FROM stdin;\n")


def dense_rows(rnd, fmt, start, size):
    """Rows with multi-line quoted fields (csv) or escapes (copy), about SIZE bytes."""
    w, n, i = [], 0, start
    while n < size:
        a = "".join(rnd.choice('ab ,"\n\r') for _ in range(rnd.randrange(0, 40)))
        if fmt == "csv":
            a = a.replace("\r", "\r\n")
            row = '%d,"%s",v%d,"%s"%s' % (i, a.replace('"', '""'), i,
                                          "x\n" * rnd.randrange(3), rnd.choice(["\n", "\r\n"]))
        else:
            a = a.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            row = "%d\t%s\tv%d\t%s\n" % (i, a, i, rnd.choice(["\\N", "", "a\\tb"]))
        b = row.encode()
        w.append(b)
        n += len(b)
        i += 1
    return b"".join(w), i


VARIANTS = {"csv": CSV_VARIANTS, "copy": COPY_VARIANTS, "pgdump": PGDUMP_VARIANTS}


def boundary(fmt, variant, shift):
    rnd = random.Random("%s/%s/%d" % (fmt, variant, shift))
    row, key = VARIANTS[fmt][variant]
    sep = b"," if fmt == "csv" else b"\t"
    w = {"csv": [b"id,a,b,c\n"], "copy": [], "pgdump": [PGDUMP_HEAD]}[fmt]
    n = sum(map(len, w))
    i = 1
    while n + 140 < B + shift - key:
        r = sep.join([b"%d" % i, b"plain %d" % rnd.randrange(10 ** 6), b"b", b"c"]) + b"\n"
        w.append(r)
        n += len(r)
        i += 1
    if fmt != "pgdump":
        num = b"%d" % (i + 1)
        row = row.replace(b"R", num, 1)
        key += len(num) - 1
    base = len(sep.join([b"%d" % i, b"", b"b", b"c"]) + b"\n")
    pad = B + shift - key - n - base  # the padded row ends where the construct starts
    assert pad >= 0
    w.append(sep.join([b"%d" % i, b"x" * pad, b"b", b"c"]) + b"\n")
    w.append(row)
    data = b"".join(w)
    assert data[B + shift] == row[key] and len(data) - len(row) + key == B + shift
    tail, _ = dense_rows(rnd, "csv" if fmt == "csv" else "copy", i + 2, 2 * B)
    if fmt == "pgdump":
        tail += b"\\.\n\nSELECT 1;\n"
    out.write(data + tail)


# --- rows4096 ----------------------------------------------------------------------------
def rows4096(rows):
    rnd = random.Random(4096)
    w = [b"id,a,b\n"]
    for i in range(1, rows + 1):
        m = i % 4096
        if m in (4094, 4095, 0, 1, 2) or rnd.random() < 0.02:
            w.append(b'%d,"row %d ""q""\nline 2\r\nline 3",b\n' % (i, i))
        else:
            w.append(b"%d,row %d,b\n" % (i, i))
    out.write(b"".join(w))


# --- late ------------------------------------------------------------------------------
def late(rows):
    """id,v,w,d: v is NULL or empty for the first 15,000 rows, then numbers with 0 to 3
    decimals; w starts with a value that is not a number, then 1-decimal numbers; d is empty
    for 9,000 rows, then dates and timestamps.  anon-noise takes a grid from a column's first
    value: these put that value chunks into the input."""
    rnd = random.Random(15000)
    w = [b"id,v,w,d\n"]
    for i in range(1, rows + 1):
        if i <= 15000:
            v = b"" if i % 2 else b'""'
        else:
            v = b"%d" % rnd.randrange(-999, 10 ** 6)
            k = rnd.randrange(4)
            if k:
                v += b".%0*d" % (k, rnd.randrange(10 ** k))
        x = b"abc" if i == 1 else b"%d.%d" % (rnd.randrange(1000), rnd.randrange(10))
        if i <= 9000:
            d = b""
        elif i % 3:
            d = b"20%02d-%02d-%02d" % (rnd.randrange(30), rnd.randrange(1, 13), rnd.randrange(1, 29))
        else:
            d = b"2020-01-%02d %02d:%02d:00+01" % (rnd.randrange(1, 29), rnd.randrange(24),
                                                rnd.randrange(60))
        w.append(b"%d,%s,%s,%s\n" % (i, v, x, d))
    out.write(b"".join(w))


# --- pgdump-many -------------------------------------------------------------------------
def pgdump_many(tables, args_path):
    rnd = random.Random(300)
    w = [b"--\n-- PostgreSQL database dump\n--\n\n",
         b"SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n"
         b"SET standard_conforming_strings = on;\n\n"]
    args = []
    for t in range(tables):
        schema = ["public", "s1", "s2"][t % 3]
        name = "t%d" % t
        cols = [("id", "id"), ("email", "email"), ("phone", "phone"), ("amount", "amount")]
        cols += [("c%d_%d" % (t, j), "extra") for j in range(t % 4)]
        if t % 10 == 7:
            cols.append(('"Full Name"', "name"))
        k = t % len(cols)
        cols = cols[k:] + cols[:k]  # each table has its own order
        nrows = [0, 1, 3, 40, 300][t % 5]
        if t == 150:
            nrows = 30000
        elif t == 151:
            nrows = 6000
        w.append(b"--\n-- Data for Name: %s; Type: TABLE DATA; Schema: %s; Owner: postgres\n"
                 b"--\n\n" % (name.encode(), schema.encode()))
        w.append(b"COPY %s.%s (%s) FROM stdin;\n" % (
            schema.encode(), name.encode(), b", ".join(c.encode() for c, _ in cols)))
        for i in range(nrows):
            vals = []
            for c, kind in cols:
                if kind == "id":
                    v = "%d" % i
                elif kind == "email":
                    v = rnd.choice(["user%d.%d@ex%d.org" % (i, t, t % 4), "\\N", "",
                                    "a\\tb%d@x.org" % i])
                elif kind == "phone":
                    v = rnd.choice(["+1 555-%03d-%04d" % (t, i % 10000), "\\N",
                                    "(0%d) 7946 %06d" % (t % 9, i)])
                elif kind == "amount":
                    v = rnd.choice(["%d.%02d" % (rnd.randrange(10 ** 5), i % 100), "\\N",
                                    "%d" % rnd.randrange(-50, 10 ** 4)])
                elif kind == "name":
                    v = rnd.choice(["Zo\xc3\xab %d" % i, "\\N", "Jos\xc3\xa9 Mar\xc3\xada"])
                else:
                    v = rnd.choice(["x", "\\\\back", "new\\nline", "\\N"])
                vals.append(v)
            w.append("\t".join(vals).encode("utf-8", "surrogateescape") + b"\n")
        w.append(b"\\.\n\n\n")
        if t % 10 in (3, 7) or t in (150, 151):
            for c, kind in cols:
                if kind in ("email", "phone", "amount", "name"):
                    args.append("%s %s.%s.%s" % (kind, schema, name, c))
        if t % 50 == 0:
            w.append(b"CREATE INDEX i%d ON %s.%s (id);\n\n" % (t, schema.encode(), name.encode()))
    w.append(b"--\n-- PostgreSQL database dump complete\n--\n\n")
    out.write(b"".join(w))
    with open(args_path, "w") as f:
        f.write("\n".join(args) + "\n")


# --- errors ------------------------------------------------------------------------------
def errors(kind, rows, info_path):
    """id,code,amount,name,note.  A bad row has code 'none' (no digits: anon-hash digits and
    anon-fpe fail), amount 'none' (anon-noise fails), name with invalid UTF-8 (anon-mask
    first:N fails); 'struct' rows have one field too many."""
    rnd = random.Random(kind)
    pg = kind.startswith("pgdump")
    if pg:
        w = [b"SET client_encoding = 'UTF8';\n\n",
             b"COPY public.t (id, code, amount, name, note) FROM stdin;\n"]
        line = 4
    else:
        w = [b"id,code,amount,name,note\n"]
        line = 2
    info = []
    if kind == "eof":
        bad = {}
    elif kind in ("one", "pgdump"):
        bad = {150000: "value"}
    elif kind == "struct":
        bad = {150000: "struct"}
    else:
        bad = {}
        for r in range(997, rows, 997):
            bad[r] = "value"
        for r in range(7919, rows, 7919):
            bad[r] = "struct"
        for k in range(1, rows // 4096 + 1):
            for r in (4096 * k - 1, 4096 * k, 4096 * k + 1):
                bad[r] = "value"
    for i in range(1, rows + 1):
        nl = rnd.random() < 0.05
        note = b'"multi\nline %d ""q"""' % i if nl else b"note %d" % i
        if pg:
            nl = False
            note = b"multi\\nline %d \\\\ \\N" % i
        code = b"C-%04d-%06d" % (i % 10000, rnd.randrange(10 ** 6))
        amount = b"%d.%02d" % (rnd.randrange(10 ** 5), rnd.randrange(100))
        name = b"Zo\xc3\xab %d" % i
        k = bad.get(i)
        if k == "value":
            code, amount, name = b"none", b"none", b"Zo\xc3 %d" % i
        row = (b"\t" if pg else b",").join([b"%d" % i, code, amount, name, note])
        if k == "struct":
            row += b"\textra" if pg else b",extra"
        w.append(row + b"\n")
        if k:
            info.append("%d %d %s" % (line, i, k))
        line += 1 + (1 if nl else 0)
    if pg:
        w.append(b"\\.\n\nCOPY public.u (id) FROM stdin;\n1\n\\.\n\nSELECT 1;\n")
    if kind == "eof":  # a quote that is never closed, in the last row
        w.append(b'%d,C-1-123456,1.00,Zo\xc3\xab,"never closed\nat all\n' % (rows + 1))
        info.append("%d %d eof" % (line, rows + 1))
    out.write(b"".join(w))
    with open(info_path, "w") as f:
        f.write("\n".join(info) + "\n")


def main(a):
    cmd = a[0]
    if cmd == "grow":
        grow(a[1], a[2], int(a[3]))
    elif cmd == "bigfield":
        bigfield(int(a[1]))
    elif cmd == "boundary":
        boundary(a[1], a[2], int(a[3]))
    elif cmd == "boundary-variants":
        print("\n".join(VARIANTS[a[1]]))
    elif cmd == "rows4096":
        rows4096(int(a[1]))
    elif cmd == "late":
        late(int(a[1]))
    elif cmd == "pgdump-many":
        pgdump_many(int(a[1]), a[2])
    elif cmd == "errors":
        errors(a[1], int(a[2]), a[3])
    else:
        sys.exit("gen.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
