/* lib_scan.c: the row scanner, field codecs and identifier parsing of lib/, including a
 * differential test of the CSV scanner against libcsv in strict mode. */
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "anon-int.h"
#include "tap.h"

static const struct anon_dialect CSV = { .fmt = ANON_FMT_CSV, .delim = ',', .quote = '"' };
/* --csv-strict: as libcsv's CSV_STRICT, a quote inside an unquoted field is an error */
static const struct anon_dialect CSV_STRICT_D = { .fmt = ANON_FMT_CSV, .delim = ',', .quote = '"',
						  .strict = true };
static const struct anon_dialect COPY = { .fmt = ANON_FMT_COPY, .delim = '\t', .quote = '"' };
static const struct anon_dialect TSV = { .fmt = ANON_FMT_TSV, .delim = '\t', .quote = '"' };

/* Scan all of s as rows; returns the number of rows, -1 on an error (err filled). */
static int scan_all(const struct anon_dialect *d, const char *s, size_t n, struct anon_row *rows,
		    int max, struct anon_scanerr *err)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t line = 1;
	int k = 0;
	while (n > 0 && k < max) {
		memset(&rows[k], 0, sizeof rows[k]);
		long m = anon_scan_row(d, p, n, true, line, &rows[k], err);
		if (m < 0) {
			for (int i = 0; i <= k; i++)
				free(rows[i].cell);
			return -1;
		}
		line += rows[k].nlines;
		p += m;
		n -= (size_t)m;
		k++;
	}
	return k;
}

static void free_rows(struct anon_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		free(rows[i].cell);
}

static char *decoded(const struct anon_dialect *d, const struct anon_cell *c)
{
	static struct anon_buf scratch;
	static char out[4096];
	struct anon_field f;
	anon_field_decode(d, c, &scratch, &f);
	if (f.null)
		return strcpy(out, "<NULL>");
	memcpy(out, f.p, f.len);
	out[f.len] = 0;
	return out;
}

static void test_csv_basics(void)
{
	struct anon_row rows[8];
	struct anon_scanerr err;
	const char *s = "a,\"b,c\",,\"\"\r\n\"x\ny\",\"q\"\"q\"\n1";
	int n = scan_all(&CSV, s, strlen(s), rows, 8, &err);
	ok(n == 3, "csv: three rows (got %d)", n);
	ok(rows[0].ncell == 4 && rows[0].eol == 2, "csv: CRLF row with 4 cells");
	ok(strcmp(decoded(&CSV, &rows[0].cell[1]), "b,c") == 0, "csv: quoted delimiter");
	ok(strcmp(decoded(&CSV, &rows[0].cell[2]), "<NULL>") == 0, "csv: unquoted empty is NULL");
	ok(strcmp(decoded(&CSV, &rows[0].cell[3]), "") == 0, "csv: \"\" is an empty string");
	ok(strcmp(decoded(&CSV, &rows[1].cell[0]), "x\ny") == 0, "csv: quoted newline");
	ok(strcmp(decoded(&CSV, &rows[1].cell[1]), "q\"q") == 0, "csv: doubled quote");
	ok(rows[1].line == 2 && rows[2].line == 4, "csv: line numbers count quoted newlines");
	ok(rows[2].eol == 0 && rows[2].ncell == 1, "csv: last row without newline");
	free_rows(rows, n);
}

static void test_csv_errors(void)
{
	struct anon_row rows[8];
	struct anon_scanerr err;
	struct { const char *in, *reason; uint64_t line; size_t field; } cases[] = {
		{ "a,b\n1,\"x\n", "unterminated quoted field", 2, 1 },
		{ "a,b\n\"x\"y,2\n", "text after closing quote", 2, 0 },
		{ "a,b\n1,x\"y\n", "quote inside unquoted field", 2, 1 },
		{ "a,b\r1,2\n", "carriage return outside quotes", 1, 1 },
		{ "\"a\nb\",c\n1,\"2\n", "unterminated quoted field", 3, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		int n = scan_all(&CSV_STRICT_D, cases[i].in, strlen(cases[i].in), rows, 8, &err);
		ok(n == -1 && strcmp(err.reason, cases[i].reason) == 0 &&
			   err.line == cases[i].line && err.field == cases[i].field,
		   "csv error %zu: %s at %llu:%zu (got %s at %llu:%zu)", i, cases[i].reason,
		   (unsigned long long)cases[i].line, cases[i].field + 1,
		   n == -1 ? err.reason : "no error", (unsigned long long)err.line, err.field + 1);
	}
	/* Without --csv-strict a quote inside an unquoted field is a literal byte (5'11"). */
	const char *loose = "h,g\n5'11\",37\u00b036'37.8\"N\n";
	int n = scan_all(&CSV, loose, strlen(loose), rows, 8, &err);
	ok(n == 2 && rows[1].ncell == 2 && strcmp(decoded(&CSV, &rows[1].cell[0]), "5'11\"") == 0 &&
		   strcmp(decoded(&CSV, &rows[1].cell[1]), "37\u00b036'37.8\"N") == 0,
	   "csv: a quote inside an unquoted field is taken literally");
	if (n > 0)
		free_rows(rows, n);
}

static void test_copy(void)
{
	struct anon_row rows[4];
	struct anon_scanerr err;
	const char *s = "\\N\t\\\\N\ta\\tb\\nc\t\\101\\x41\\q\t\n";
	int n = scan_all(&COPY, s, strlen(s), rows, 4, &err);
	ok(n == 1 && rows[0].ncell == 5, "copy: one row of five cells");
	ok(strcmp(decoded(&COPY, &rows[0].cell[0]), "<NULL>") == 0, "copy: \\N is NULL");
	ok(strcmp(decoded(&COPY, &rows[0].cell[1]), "\\N") == 0, "copy: \\\\N is the text \\N");
	ok(strcmp(decoded(&COPY, &rows[0].cell[2]), "a\tb\nc") == 0, "copy: \\t and \\n");
	ok(strcmp(decoded(&COPY, &rows[0].cell[3]), "AAq") == 0, "copy: octal, hex, other");
	ok(strcmp(decoded(&COPY, &rows[0].cell[4]), "") == 0, "copy: empty field is empty");

	/* encoding escapes exactly what COPY TO escapes */
	struct anon_buf b = {0};
	struct anon_field f = { (const unsigned char *)"a\\b\tc\nd\re\bf\fg\vh\x07", 17, false };
	anon_field_encode(&COPY, &f, false, &b);
	ok(b.len == 24 && memcmp(b.p, "a\\\\b\\tc\\nd\\re\\bf\\fg\\vh\x07", 24) == 0,
	   "copy: encode escapes \\\\ \\t \\n \\r \\b \\f \\v, passes BEL raw");
	b.len = 0;
	f.null = true;
	anon_field_encode(&COPY, &f, false, &b);
	ok(b.len == 2 && memcmp(b.p, "\\N", 2) == 0, "copy: NULL encodes as \\N");
	anon_buf_free(&b);
	free_rows(rows, n);
}

static void test_tsv(void)
{
	struct anon_row rows[4];
	struct anon_scanerr err;
	const char *s = "a\\tb\t\\N\tx\\qy\r\n";
	int n = scan_all(&TSV, s, strlen(s), rows, 4, &err);
	ok(n == 1 && rows[0].eol == 2, "tsv: CRLF is the terminator");
	ok(strcmp(decoded(&TSV, &rows[0].cell[0]), "a\tb") == 0, "tsv: \\t decodes");
	ok(strcmp(decoded(&TSV, &rows[0].cell[1]), "<NULL>") == 0, "tsv: \\N is NULL");
	ok(strcmp(decoded(&TSV, &rows[0].cell[2]), "x\\qy") == 0, "tsv: unknown escape kept");
	free_rows(rows, n);
}

static void test_csv_encode(void)
{
	struct anon_buf b = {0};
	struct { const char *in; bool null, alone; const char *out; } cases[] = {
		{ "plain", false, false, "plain" },
		{ "", false, false, "\"\"" },
		{ "", true, false, "" },
		{ "a,b", false, false, "\"a,b\"" },
		{ "say \"hi\"", false, false, "\"say \"\"hi\"\"\"" },
		{ "two\nlines", false, false, "\"two\nlines\"" },
		{ "\\.", false, true, "\"\\.\"" },
		{ "\\.", false, false, "\\." },
		{ "\\N", false, false, "\\N" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		b.len = 0;
		struct anon_field f = { (const unsigned char *)cases[i].in, strlen(cases[i].in),
					cases[i].null };
		anon_field_encode(&CSV, &f, cases[i].alone, &b);
		ok(b.len == strlen(cases[i].out) && memcmp(b.p, cases[i].out, b.len) == 0,
		   "csv encode %zu: minimal quoting", i);
	}
	anon_buf_free(&b);
}

static void test_copyhdr(void)
{
	struct anon_copyhdr h;
	const char *l = "COPY public.\"Weird Name\" (\"first name\", \"x,y\", id, \"q\"\"t\") FROM stdin;";
	ok(anon_copyhdr_parse((const unsigned char *)l, strlen(l), &h), "copy header parses");
	ok(h.schema && strcmp(h.schema, "public") == 0 && strcmp(h.table, "Weird Name") == 0,
	   "copy header: schema and quoted table");
	ok(h.ncols == 4 && strcmp(h.cols[1], "x,y") == 0 && strcmp(h.cols[3], "q\"t") == 0,
	   "copy header: quoted columns with comma and doubled quote");
	anon_copyhdr_free(&h);
	l = "COPY t FROM stdin;";
	ok(anon_copyhdr_parse((const unsigned char *)l, strlen(l), &h) && !h.has_cols && !h.schema,
	   "copy header: table without columns");
	anon_copyhdr_free(&h);
	l = "COPY public.t (a, b) TO stdout;";
	ok(!anon_copyhdr_parse((const unsigned char *)l, strlen(l), &h), "COPY TO is not a block");

	char *parts[3];
	int n = anon_spec_split("public.\"My.Table\".col", parts);
	ok(n == 3 && strcmp(parts[1], "My.Table") == 0, "spec split honours quotes");
	for (int i = 0; i < n; i++)
		free(parts[i]);
	ok(anon_spec_split("a.b.c.d", parts) == -1, "spec split: four parts refused");
}

/* ---- differential: our scanner against libcsv (strict) on generated valid CSV --------- */

struct collect {
	char **fields;
	int *nulls;
	size_t n, cap;
	size_t *row_ends;
	size_t nrows;
};

static void cb_field(void *s, size_t len, void *data)
{
	struct collect *c = data;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->fields = realloc(c->fields, c->cap * sizeof *c->fields);
		c->nulls = realloc(c->nulls, c->cap * sizeof *c->nulls);
	}
	c->fields[c->n] = strndup(s ? s : "", len);
	c->nulls[c->n] = s == NULL;
	c->n++;
}

static void cb_row(int ch, void *data)
{
	struct collect *c = data;
	(void)ch;
	c->row_ends = realloc(c->row_ends, (c->nrows + 1) * sizeof *c->row_ends);
	c->row_ends[c->nrows++] = c->n;
}

static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void gen_field(struct anon_buf *b, unsigned *seed)
{
	static const char pool[] = "ab ,\"\n\r\txyzé\xe4\xb8\xad";
	int kind = rand_r(seed) % 6;
	if (kind == 0)
		return; /* NULL */
	if (kind == 1) {
		anon_buf_addstr(b, "\"\"");
		return;
	}
	size_t len = 1 + (size_t)(rand_r(seed) % 12);
	char tmp[64];
	size_t k = 0;
	bool special = false;
	for (size_t i = 0; i < len; i++) {
		char ch = pool[rand_r(seed) % (sizeof pool - 1)];
		if (ch == '\r')
			ch = 'r'; /* a lone CR in a quoted field is valid, but keep CRLF unambiguous */
		special |= ch == ',' || ch == '"' || ch == '\n';
		tmp[k++] = ch;
	}
	if (!special && kind != 2) {
		anon_buf_add(b, tmp, k);
		return;
	}
	anon_buf_addc(b, '"');
	for (size_t i = 0; i < k; i++) {
		if (tmp[i] == '"')
			anon_buf_addc(b, '"');
		anon_buf_addc(b, (unsigned char)tmp[i]);
	}
	anon_buf_addc(b, '"');
}

static void test_differential(void)
{
	unsigned seed = 12345;
	struct anon_buf in = {0};
	const int nrows = 3000, ncols = 5;
	for (int r = 0; r < nrows; r++) {
		for (int c = 0; c < ncols; c++) {
			if (c)
				anon_buf_addc(&in, ',');
			gen_field(&in, &seed);
		}
		anon_buf_add(&in, r % 7 == 0 ? "\r\n" : "\n", r % 7 == 0 ? 2 : 1);
	}

	struct csv_parser p;
	struct collect lc = {0};
	csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL);
	csv_set_space_func(&p, no_space);
	csv_set_blk_size(&p, 64 * 1024);
	bool parsed = csv_parse(&p, in.p, in.len, cb_field, cb_row, &lc) == in.len &&
		      csv_fini(&p, cb_field, cb_row, &lc) == 0;
	csv_free(&p);
	ok(parsed, "libcsv parses the generated input");

	/* Our scanner, fed in uneven chunks to exercise refills. */
	size_t off = 0, fi = 0, mismatches = 0, rows = 0;
	uint64_t line = 1;
	struct anon_row row = {0};
	struct anon_scanerr err;
	while (off < in.len) {
		size_t avail = in.len - off, chunk = 1 + (size_t)(rand_r(&seed) % 300);
		bool eof = chunk >= avail;
		long m = anon_scan_row(&CSV, in.p + off, eof ? avail : chunk, eof, line, &row, &err);
		if (m == 0)
			m = anon_scan_row(&CSV, in.p + off, avail, true, line, &row, &err);
		if (m < 0) {
			mismatches++;
			break;
		}
		for (size_t c = 0; c < row.ncell; c++, fi++) {
			struct anon_field f;
			static struct anon_buf scratch;
			anon_field_decode(&CSV, &row.cell[c], &scratch, &f);
			if (fi >= lc.n || f.null != (bool)lc.nulls[fi] || f.len != strlen(lc.fields[fi]) ||
			    memcmp(f.p, lc.fields[fi], f.len) != 0)
				mismatches++;
		}
		if (rows < lc.nrows && lc.row_ends[rows] != fi)
			mismatches++;
		rows++;
		line += row.nlines;
		off += (size_t)m;
	}
	free(row.cell);
	ok(mismatches == 0 && fi == lc.n && rows == lc.nrows,
	   "differential: %zu rows, %zu fields agree with libcsv (%zu mismatches)", rows, fi,
	   mismatches);

	/* Malformed input: both refuse. */
	const char *bad[] = { "a,\"b\n", "\"x\"y,z\nnext\n", "a,b\"c\n" };
	for (size_t i = 0; i < 3; i++) {
		struct collect junk = {0};
		csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL);
		csv_set_space_func(&p, no_space);
		size_t n = strlen(bad[i]);
		bool lib_ok = csv_parse(&p, bad[i], n, cb_field, cb_row, &junk) == n &&
			      csv_fini(&p, cb_field, cb_row, &junk) == 0;
		csv_free(&p);
		memset(&row, 0, sizeof row);
		int ours = scan_all(&CSV_STRICT_D, bad[i], n, &row, 1, &err);
		ok(!lib_ok && ours == -1, "differential: malformed case %zu refused by both", i);
		for (size_t k = 0; k < junk.n; k++)
			free(junk.fields[k]);
		free(junk.fields);
		free(junk.nulls);
		free(junk.row_ends);
	}
	for (size_t k = 0; k < lc.n; k++)
		free(lc.fields[k]);
	free(lc.fields);
	free(lc.nulls);
	free(lc.row_ends);
	anon_buf_free(&in);
}

static void test_text(void)
{
	uint32_t cp;
	ok(anon_utf8_decode((const unsigned char *)"\xc3\xab", 2, &cp) == 2 && cp == 0xeb,
	   "utf8: ë");
	ok(anon_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp) == 0, "utf8: overlong");
	ok(anon_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 0, "utf8: surrogate");
	ok(anon_utf8_count((const unsigned char *)"Zo\xc3\xab", 4) == 3, "utf8: count code points");
	ok(anon_luhn_valid((const unsigned char *)"4111-1111-1111-1111", 19), "luhn: valid card");
	ok(!anon_luhn_valid((const unsigned char *)"4111111111111112", 16), "luhn: invalid card");
	ok(anon_luhn_check_digit((const unsigned char *)"4111-1111-1111-111", 18) == 1,
	   "luhn: check digit");
}

int main(void)
{
	test_csv_basics();
	test_csv_errors();
	test_copy();
	test_tsv();
	test_csv_encode();
	test_copyhdr();
	test_differential();
	test_text();
	return tap_done();
}

