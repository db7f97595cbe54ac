/* lib_sql.c: the SQL of pg_dump scripts: the lexer that tells whether a line starts a
 * statement (so that "COPY" inside a string, an identifier, a dollar-quoted body or a
 * comment is never taken for a data block), the COPY and INSERT statement parsers, column
 * specs and identifiers.  The lexer is fed line by line without the line break, as
 * reader.c does; the expected states follow PostgreSQL's lexer (scan.l) with
 * standard_conforming_strings on, which is what pg_dump sets. */
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"
#include "tap.h"

/* s with line breaks and other control bytes as \xNN, for one-line TAP messages (four
 * buffers in turn, so one message may show several). */
static const char *vis(const char *s)
{
	static char bufs[4][1024];
	static int next;
	char *out = bufs[next++ % 4];
	size_t k = 0;
	for (; s && *s && k + 5 < sizeof bufs[0]; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(out + k, sizeof bufs[0] - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	out[k] = 0;
	return s ? out : "NULL";
}

/* ---- the lexer ------------------------------------------------------------------------------ */

static char state_letter(enum anon_sql s)
{
	switch (s) {
	case ANON_SQL_NORMAL: return 'N';
	case ANON_SQL_STRING: return 'S';
	case ANON_SQL_ESTRING: return 'E';
	case ANON_SQL_IDENT: return 'I';
	case ANON_SQL_DOLLAR: return 'D';
	case ANON_SQL_BLOCK: return 'B';
	}
	return '?';
}

/* Lex a script line by line; out gets the state before each line (N: the line is at a
 * statement start) and then '/' and the state after the last line. */
static const char *lex(const char *script)
{
	static char out[256];
	struct anon_sqlstate s;
	memset(&s, 0, sizeof s);
	size_t k = 0;
	const char *p = script;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		size_t text = n && p[n - 1] == '\r' ? n - 1 : n;
		/* an exact-size copy: ASan sees any read past the line */
		unsigned char *line = malloc(text ? text : 1);
		memcpy(line, p, text);
		out[k++] = state_letter(s.state);
		anon_sql_lex(&s, line, text);
		free(line);
		if (!nl || k + 3 >= sizeof out)
			break;
		p = nl + 1;
	}
	out[k++] = '/';
	out[k++] = state_letter(s.state);
	out[k] = 0;
	anon_sqlstate_free(&s);
	return out;
}

#define LEX(script, want, what) do { \
		const char *got_ = lex(script); \
		ok(strcmp(got_, want) == 0, "lex: %s (%s, got %s)", what, want, got_); \
	} while (0)

static void test_lex(void)
{
	LEX("SELECT 1;\nCOPY t (a) FROM stdin;", "NN/N", "plain SQL");
	LEX("", "N/N", "an empty line");

	/* strings */
	LEX("SELECT 'a\nCOPY t (a) FROM stdin;\n';\nCOPY", "NSSN/N", "a string across lines");
	LEX("SELECT 'it''s';\nCOPY", "NN/N", "a doubled quote inside a string");
	LEX("SELECT 'it''\nCOPY\n';", "NSS/N", "a string ending in a doubled quote goes on");
	LEX("SELECT 'a\\';\nCOPY", "NN/N", "a backslash in a standard string escapes nothing");
	LEX("SELECT 'a', 'b\nCOPY\n'", "NSS/N", "the second string of a line is open");
	LEX("SELECT B'101', X'ff', U&'d\\0061t'\nCOPY", "NN/N", "bit, hex and Unicode strings");
	LEX("SELECT '\"$$/*--';\nCOPY", "NN/N", "quotes, dollars and comment marks inside a string");

	/* E'' strings */
	LEX("SELECT E'it\\'s\nCOPY\n';\nCOPY", "NEEN/N", "E string: backslash-quote does not end it");
	LEX("SELECT e'\\\\';\nCOPY", "NN/N", "e string: an escaped backslash, then the end");
	LEX("SELECT E'a\\\n';\nCOPY", "NEN/N", "E string: a backslash at the end of a line");
	LEX("SELECT E'a''b\\'c'';\nCOPY\n';", "NEE/N", "E string: doubled quotes and escapes mixed");
	LEX("SELECT E\n'\\';\nCOPY", "NNN/N", "E then a line break: a standard string");
	LEX("SELECT x.E'\\';\nCOPY", "NE/E", "E right after a dot starts an E string");

	/* quoted identifiers */
	LEX("CREATE TABLE \"a\nCOPY t (a) FROM stdin;\n\"\"b\" (x int);\nCOPY", "NIIN/N",
	    "a quoted identifier across lines, with a doubled quote");
	LEX("SELECT \"it's\";\nCOPY", "NN/N", "a single quote inside a quoted identifier");

	/* dollar quotes */
	LEX("AS $$\nCOPY t (a) FROM stdin;\n$$;\nCOPY", "NDDN/N", "$$ body");
	LEX("AS $fn$\nCOPY\n$$ inner $$ 'x\n$fn$;\nCOPY", "NDDDN/N",
	    "$fn$ body: $$ and quotes inside do not end it");
	LEX("AS $A$\n$a$\nCOPY\n$A$;", "NDDD/N", "dollar tags are case-sensitive");
	LEX("AS $_x1$ body $_x1$;\nCOPY", "NN/N", "a tag with _ and digits, closed on its line");
	LEX("AS $\xc3\xa9$\nCOPY\n$\xc3\xa9$;", "NDD/N", "a tag with non-ASCII letters");
	LEX("SELECT $1, 'x\nCOPY", "NS/S", "$1 is a parameter, not a tag");
	LEX("SELECT a$b$ FROM t;\nCOPY", "NN/N", "$ inside an identifier is not a tag");
	LEX("SELECT $$a$$$$b$$;\nCOPY", "NN/N", "two dollar strings side by side");
	LEX("AS/* c */$$\nCOPY\n$$;", "NDD/N", "a dollar quote right after a block comment");

	/* comments */
	LEX("/* a /* b */ still\nCOPY\n*/ SELECT 1;\nCOPY", "NBBN/N", "nested block comments");
	LEX("/* it's \"x */\nCOPY", "NN/N", "quotes inside a block comment");
	LEX("SELECT 1; -- it's /* not a block\nCOPY", "NN/N", "-- comment to the end of the line");
	LEX("SELECT '--\nCOPY\n';", "NSS/N", "-- inside a string is no comment");
	LEX("/**/SELECT 'x\nCOPY", "NS/S", "an empty block comment");
	LEX("SELECT 1 /* a */ /* b\nCOPY\n*/", "NBB/N", "a second block comment on the line");

	/* Regression (found by this test): an E before a quote starts an E string only when the E
	 * is a token of its own. "LIKE'%\'" is the keyword LIKE and the standard string '%\'
	 * (scan.l: the identifier rule takes "LIKE" whole); anon_sql_lex sees prev == 'E' and
	 * lexes an E string in which \' does not end it, so the lines after it are taken to be
	 * inside a string: a COPY block there would pass through as SQL, not anonymized. */
	LEX("SELECT * FROM t WHERE a LIKE'%\\';\nCOPY", "NN/N",
	    "regression: LIKE'..' is a standard string, not an E string");

	/* Regression (found by this test): a -- comment returns from anon_sql_lex without setting
	 * prev to the line break, so the line after "AS--c" starts with prev == 'S', and its
	 * "$$" is not taken for a dollar quote: the function body's COPY line is then at a
	 * statement start, and read as a data block. */
	LEX("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS--body\n$$\nCOPY t (a) FROM stdin;\n"
	    "$$;\nCOPY", "NNDDN/N", "regression: a dollar quote on the line after a -- comment");

	/* Regression (found by this test): a dollar tag of 64 bytes or more, its two $ included
	 * (s->tag holds 64 bytes), is not taken for a tag at all, though PostgreSQL sets no
	 * limit: the body is lexed as SQL, and its COPY line read as a data block. */
	char longtag[400];
	snprintf(longtag, sizeof longtag, "AS $%s$\nCOPY t (a) FROM stdin;\n$%s$;\nCOPY",
		 "a_very_long_dollar_quote_tag_that_is_longer_than_sixty_four_bytes",
		 "a_very_long_dollar_quote_tag_that_is_longer_than_sixty_four_bytes");
	LEX(longtag, "NDDN/N", "regression: a dollar tag of 68 bytes");
	char tag62[400], t62[63];
	memset(t62, 'q', 61);
	t62[61] = 0;
	snprintf(tag62, sizeof tag62, "AS $%s$\nCOPY t (a) FROM stdin;\n$%s$;\nCOPY", t62, t62);
	LEX(tag62, "NDDN/N", "a dollar tag of 63 bytes with its dollars");

	/* a state carried across many lines, then back */
	LEX("COMMENT ON TABLE t IS 'x\nCOPY u (a) FROM stdin;\n1\n\\.\n';\nCOPY", "NSSSSN/N",
	    "a COPY block inside a comment string");
}

/* ---- COPY headers ---------------------------------------------------------------------------- */

static char *cols_joined(const struct anon_copyhdr *h)
{
	static char out[512];
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < h->ncols && k + 4 < sizeof out; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s[%s]", i ? "," : "", h->cols[i]);
	return out;
}

/* Parse a line (an exact-size copy, so ASan sees any read past it); want is
 * "schema|table|cols" with cols as cols_joined() writes them and "-" for no list, or NULL
 * when the line must be refused. */
static void copyhdr(const char *line, const char *want, const char *what)
{
	struct anon_copyhdr h;
	size_t n = strlen(line);
	unsigned char *p = malloc(n ? n : 1);
	memcpy(p, line, n);
	memset(&h, 0xa5, sizeof h); /* the parser must not need a cleared header */
	bool parsed = anon_copyhdr_parse(p, n, &h);
	char got[1024];
	if (parsed)
		snprintf(got, sizeof got, "%s|%s|%s", h.schema ? h.schema : "(none)", h.table,
			 h.has_cols ? cols_joined(&h) : "-");
	else
		snprintf(got, sizeof got, "refused");
	if (want)
		ok(parsed && strcmp(got, want) == 0, "copy header: %s (%s, got %s)", what, vis(want),
		   vis(got));
	else
		ok(!parsed && h.schema == NULL && h.table == NULL && h.cols == NULL && h.ncols == 0,
		   "copy header refused: %s (got %s)", what, vis(got));
	anon_copyhdr_free(&h);
	free(p);
}

static void test_copyhdr(void)
{
	copyhdr("COPY public.users (id, email, note) FROM stdin;", "public|users|[id],[email],[note]",
		"schema, table, columns");
	copyhdr("COPY t FROM stdin;", "(none)|t|-", "a bare table, no columns");
	copyhdr("COPY t (a) FROM stdin;", "(none)|t|[a]", "one column");
	copyhdr("COPY \"My.Schema\".\"Tab le\" (\"a.b\", \"c\"\"d\", \"e f\") FROM stdin;",
		"My.Schema|Tab le|[a.b],[c\"d],[e f]", "quoted names with dots, quotes, spaces");
	copyhdr("COPY public.\"a\nb\" (\"x\ny\", z) FROM stdin;", "public|a\nb|[x\ny],[z]",
		"line breaks inside quoted names");
	copyhdr("COPY t (\"a, b\", \"c)\", \"(d\") FROM stdin;", "(none)|t|[a, b],[c)],[(d]",
		"quoted columns holding the list's punctuation");
	copyhdr("COPY \"x FROM stdin;\" FROM stdin;", "(none)|x FROM stdin;|-",
		"a table named like the statement's tail");
	copyhdr("COPY t (\"x) FROM stdin;\") FROM stdin;", "(none)|t|[x) FROM stdin;]",
		"a column named like the statement's tail");
	copyhdr("COPY \"\"\"\".\"\"\"\"\"\" (\"\"\"\") FROM stdin;", "\"|\"\"|[\"]",
		"names made of quotes only");
	copyhdr("COPY public.caf\xc3\xa9 (na\xc3\xafve) FROM stdin;",
		"public|caf\xc3\xa9|[na\xc3\xafve]", "bare non-ASCII names");
	copyhdr("COPY x FROM stdin;", "(none)|x|-", "the shortest statement");

	copyhdr("COPY t (a, b) TO stdout;", NULL, "COPY TO");
	copyhdr("COPY t (a) FROM stdin", NULL, "no semicolon");
	copyhdr("COPY t (a) FROM STDIN;", NULL, "STDIN not in pg_dump's spelling");
	copyhdr("COPY t (a) FROM stdin WITH (FORMAT csv);", NULL, "options");
	copyhdr("COPY  FROM stdin;", NULL, "no table");
	copyhdr("COPY (a) FROM stdin;", NULL, "a column list without a table");
	copyhdr("COPY  t FROM stdin;", NULL, "two spaces before the table");
	copyhdr("COPY public. t FROM stdin;", NULL, "a space after the dot");
	copyhdr("COPY public. FROM stdin;", NULL, "a schema without a table");
	copyhdr("COPY .t FROM stdin;", NULL, "a dot without a schema");
	copyhdr("COPY a.b.c FROM stdin;", NULL, "three parts");
	copyhdr("COPY t(a) FROM stdin;", NULL, "no space before the list");
	copyhdr("COPY t (a, b FROM stdin;", NULL, "an unclosed list");
	copyhdr("COPY t (a,b) FROM stdin;", NULL, "no space after a comma");
	copyhdr("COPY t (\"a\" \"b\") FROM stdin;", NULL, "two names without a comma");
	copyhdr("COPY t (\"a) FROM stdin;", NULL, "an unterminated quoted column");
	copyhdr("COPY \"t FROM stdin;", NULL, "an unterminated quoted table");
	copyhdr("COPY t (a)x FROM stdin;", NULL, "text after the list");
	copyhdr("COPY \"t\"x FROM stdin;", NULL, "text after a quoted table");
	copyhdr("COPY", NULL, "COPY alone");
	copyhdr("", NULL, "an empty line");
	copyhdr("SELECT 1 FROM stdin;", NULL, "not COPY");

	/* Regression (found by this test): pg_dump writes "COPY %s " then "%s FROM stdin;" with the
	 * column list fmtCopyColumnList() makes, which is "" for a table without columns
	 * (CREATE TABLE t (), or all columns dropped): "COPY public.t  FROM stdin;", two
	 * spaces.  anon_copyhdr_parse refuses it, and reader.c then stops a valid plain dump
	 * with "a COPY ... FROM stdin statement that is not in pg_dump's plain form". */
	struct anon_copyhdr h;
	static const char zero[] = "COPY public.t  FROM stdin;";
	bool parsed = anon_copyhdr_parse((const unsigned char *)zero, sizeof zero - 1, &h);
	ok(parsed && h.schema && strcmp(h.schema, "public") == 0 && h.table &&
	   strcmp(h.table, "t") == 0 && h.ncols == 0,
	   "copy header: regression: pg_dump's COPY of a table without columns (%s)",
	   parsed ? "parsed" : "refused");
	anon_copyhdr_free(&h);
}

/* ---- INSERT statements ----------------------------------------------------------------------- */

static void insert(const char *line, const char *want, const char *what)
{
	struct anon_copyhdr h;
	size_t n = strlen(line);
	unsigned char *p = malloc(n ? n : 1);
	memcpy(p, line, n);
	memset(&h, 0xa5, sizeof h);
	bool parsed = anon_insert_parse(p, n, &h);
	char got[512];
	if (parsed)
		snprintf(got, sizeof got, "%s|%s", h.schema ? h.schema : "(none)", h.table);
	else
		snprintf(got, sizeof got, "refused");
	if (want)
		ok(parsed && strcmp(got, want) == 0 && h.ncols == 0 && !h.has_cols,
		   "insert: %s (%s, got %s)", what, vis(want), vis(got));
	else
		ok(!parsed && h.schema == NULL && h.table == NULL, "insert refused: %s (got %s)", what,
		   vis(got));
	anon_copyhdr_free(&h);
	free(p);
}

static void test_insert(void)
{
	insert("INSERT INTO public.t VALUES (1, 'a');", "public|t", "schema and table");
	insert("INSERT INTO t (a, b) VALUES (1, 2);", "(none)|t", "a table and columns");
	insert("INSERT INTO public.t(a) VALUES (1);", "public|t", "no space before the columns");
	insert("INSERT INTO \"a b\".\"c.d\" VALUES (1);", "a b|c.d", "quoted names");
	insert("INSERT INTO \"x\"\"y\" VALUES ('", "(none)|x\"y", "a doubled quote, a string left open");
	insert("INSERT INTO \"a\nb\" VALUES (1);", "(none)|a\nb", "a line break in a quoted name");
	insert("INSERT INTO t", "(none)|t", "the line ends after the table");
	insert("INSERT INTO ", NULL, "no table");
	insert("INSERT INTO (a) VALUES (1);", NULL, "a list without a table");
	insert("INSERT INTO public. t VALUES (1);", NULL, "a space after the dot");
	insert("INSERT INTO \"t VALUES (1);", NULL, "an unterminated quoted name");
	insert("insert into t VALUES (1);", NULL, "lower case (pg_dump writes INSERT INTO)");
	insert("INSERT  INTO t VALUES (1);", NULL, "two spaces");
	insert("UPDATE t SET a = 1;", NULL, "not an INSERT");
}

/* ---- column specs and identifiers ------------------------------------------------------------ */

static void spec(const char *s, int want_n, const char *a, const char *b, const char *c,
		 const char *what)
{
	char *parts[3] = { NULL, NULL, NULL };
	int n = anon_spec_split(s, parts);
	const char *want[3] = { a, b, c };
	bool same = n == want_n;
	for (int i = 0; same && i < n; i++)
		same = strcmp(parts[i], want[i]) == 0;
	ok(same, "spec %s: %s (%d parts%s%s)", vis(s), what, n, n > 0 ? ", first " : "",
	   n > 0 ? vis(parts[0]) : "");
	for (int i = 0; i < n; i++)
		free(parts[i]);
}

static void test_spec(void)
{
	spec("email", 1, "email", NULL, NULL, "a column");
	spec("users.email", 2, "users", "email", NULL, "table.column");
	spec("public.users.email", 3, "public", "users", "email", "schema.table.column");
	spec("public.\"My.Table\".col", 3, "public", "My.Table", "col", "a quoted dot");
	spec("\"a\"\"b\".\"c d\"", 2, "a\"b", "c d", NULL, "a doubled quote and a space");
	spec("\"\".x", 2, "", "x", NULL, "an empty quoted name");
	spec("t.first name", 2, "t", "first name", NULL, "a space in a bare name");
	spec("a.b.c.d", -1, NULL, NULL, NULL, "four parts refused");
	spec("", -1, NULL, NULL, NULL, "empty refused");
	spec("a..b", -1, NULL, NULL, NULL, "an empty part refused");
	spec("a.", -1, NULL, NULL, NULL, "a trailing dot refused");
	spec(".a", -1, NULL, NULL, NULL, "a leading dot refused");
	spec("\"a.b", -1, NULL, NULL, NULL, "an unterminated quote refused");
	spec("\"a\"b", -1, NULL, NULL, NULL, "text after a quoted name refused");
	spec("a.\"b\"c.d", -1, NULL, NULL, NULL, "text after a quoted middle part refused");
}

/* One identifier from an exact-size buffer (no terminator, so ASan sees a read past it). */
static void ident(const char *text, size_t len, const char *stops, const char *want,
		  size_t want_used, const char *what)
{
	char *buf = malloc(len ? len : 1);
	memcpy(buf, text, len);
	const char *p = buf;
	char *got = anon_sql_ident(&p, buf + len, stops);
	size_t used = (size_t)(p - buf);
	if (want)
		ok(got && strcmp(got, want) == 0 && used == want_used,
		   "ident: %s (got %s, %zu bytes used)", what, vis(got), used);
	else
		ok(!got && used == 0, "ident: %s: none, nothing used (got %s)", what, vis(got));
	free(got);
	free(buf);
}

#define IDENT(lit, stops, want, used, what) ident(lit, sizeof lit - 1, stops, want, used, what)

static void test_ident(void)
{
	IDENT("abc def", " ", "abc", 3, "a bare word up to a stop");
	IDENT("abc", ". (", "abc", 3, "a bare word to the end");
	IDENT("public.t", ". (", "public", 6, "a bare word up to a dot");
	IDENT("(x)", ". (", NULL, 0, "a stop first");
	IDENT("", ". (", NULL, 0, "nothing");
	IDENT("\"a\"\"b\" rest", ". (", "a\"b", 6, "a quoted name with a doubled quote");
	IDENT("\"\"", ". (", "", 2, "an empty quoted name");
	IDENT("\"a.b (c)\".x", ". (", "a.b (c)", 9, "stops inside quotes do not stop");
	IDENT("\"a\nb\"", ",", "a\nb", 5, "a line break inside quotes");
	IDENT("\"a\"\"\"", ",", "a\"", 5, "a doubled quote at the end");
	IDENT("\"abc", ",", NULL, 0, "an unterminated quote");
	IDENT("\"a\"\"", ",", NULL, 0, "a doubled quote where the closing one should be");
	ident("\"abc\"", 4, ",", NULL, 0, "the end comes before the closing quote");
	ident("abc,def", 2, ",", "ab", 2, "a bare word stops at the end given");
	IDENT("\"x\"y", ",", "x", 3, "a quoted name ends at its quote, whatever follows");
}

int main(void)
{
	test_lex();
	test_copyhdr();
	test_insert();
	test_spec();
	test_ident();
	return tap_done();
}
