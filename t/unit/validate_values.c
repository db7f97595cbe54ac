/* validate_values.c: anon-validate's --type and --range as PostgreSQL reads those types, and
 * the parsers of its column lists and identifiers. */
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "tap.h"

static bool is(enum vtype t, const char *v)
{
	return vtype_check(t, (const unsigned char *)v, strlen(v), true);
}

static bool in(const char *range, const char *v)
{
	struct range r;
	const char *why;
	if (!range_parse(range, &r, &why))
		return false;
	bool res = range_check(&r, (const unsigned char *)v, strlen(v));
	range_free(&r);
	return res;
}

#define YES(t, v) ok(is(t, v), "%s: '%s'", vtype_names[t], v)
#define NO(t, v) ok(!is(t, v), "not %s: '%s'", vtype_names[t], v)

int main(void)
{
	YES(VT_INT, "0"); YES(VT_INT, "-42"); YES(VT_INT, "+7"); YES(VT_INT, "9223372036854775807");
	NO(VT_INT, ""); NO(VT_INT, "1.0"); NO(VT_INT, " 1"); NO(VT_INT, "9223372036854775808");
	NO(VT_INT, "12a"); NO(VT_INT, "-");
	YES(VT_NUMERIC, "1.50"); YES(VT_NUMERIC, "-.5"); YES(VT_NUMERIC, "1e10");
	YES(VT_NUMERIC, "2.5E-3"); YES(VT_NUMERIC, "NaN"); YES(VT_NUMERIC, "-Infinity");
	YES(VT_NUMERIC, "7.");
	NO(VT_NUMERIC, "."); NO(VT_NUMERIC, "1e"); NO(VT_NUMERIC, "1,5"); NO(VT_NUMERIC, "");
	YES(VT_BOOL, "t"); YES(VT_BOOL, "FALSE"); YES(VT_BOOL, "yes"); YES(VT_BOOL, "0");
	YES(VT_BOOL, "Off");
	NO(VT_BOOL, "maybe"); NO(VT_BOOL, "2"); NO(VT_BOOL, "");
	YES(VT_DATE, "2024-02-29"); YES(VT_DATE, "2000-02-29"); YES(VT_DATE, "0044-03-15 BC");
	YES(VT_DATE, "infinity"); YES(VT_DATE, "12024-01-01");
	NO(VT_DATE, "2023-02-29"); NO(VT_DATE, "1900-02-29"); NO(VT_DATE, "2024-13-01");
	NO(VT_DATE, "2024-04-31"); NO(VT_DATE, "24-01-01"); NO(VT_DATE, "2024-1-1");
	NO(VT_DATE, "2024-01-01 10:00"); NO(VT_DATE, "0000-01-01");
	YES(VT_TIMESTAMP, "2024-07-15 13:45:12.5+02"); YES(VT_TIMESTAMP, "2024-07-15T13:45:12Z");
	YES(VT_TIMESTAMP, "2024-07-15 13:45"); YES(VT_TIMESTAMP, "2024-07-15");
	YES(VT_TIMESTAMP, "2024-07-15 24:00:00"); YES(VT_TIMESTAMP, "0044-03-15 12:00:00 BC");
	YES(VT_TIMESTAMP, "2024-07-15 13:45:12-05:30");
	NO(VT_TIMESTAMP, "2024-07-15 25:00"); NO(VT_TIMESTAMP, "2024-07-15 24:00:01");
	NO(VT_TIMESTAMP, "2024-07-15 13:60"); NO(VT_TIMESTAMP, "2024-07-15X13:00");
	YES(VT_EMAIL, "a@b.co"); YES(VT_EMAIL, "first.last+tag@mail.example.org");
	YES(VT_EMAIL, "50dbbc3613ec4bdc@gmail.com");
	NO(VT_EMAIL, "a@b"); NO(VT_EMAIL, "@b.co"); NO(VT_EMAIL, "a@@b.co"); NO(VT_EMAIL, "a b@c.de");
	NO(VT_EMAIL, "a@b.c"); NO(VT_EMAIL, "a@-b.co"); NO(VT_EMAIL, "a@b..co"); NO(VT_EMAIL, "a@b.c0");
	YES(VT_UUID, "550e8400-e29b-41d4-a716-446655440000");
	YES(VT_UUID, "{550E8400-E29B-41D4-A716-446655440000}");
	YES(VT_UUID, "550e8400e29b41d4a716446655440000");
	NO(VT_UUID, "550e8400-e29b-41d4-a716-44665544000"); NO(VT_UUID, "550e8400-e29b-41d4-a716-44665544000g");
	YES(VT_TEXT, ""); YES(VT_TEXT, "Zoë");
	ok(!vtype_check(VT_TEXT, (const unsigned char *)"a\0b", 3, true), "text holds no NUL");
	ok(!vtype_check(VT_TEXT, (const unsigned char *)"\xff", 1, true), "text is UTF-8");
	ok(vtype_check(VT_TEXT, (const unsigned char *)"\xff", 1, false),
	   "text in a dump that is not UTF-8 is not checked as UTF-8");

	ok(in("0..120", "0") && in("0..120", "120") && in("0..120", "119.99") && !in("0..120", "120.01"),
	   "numeric range, both ends included");
	ok(in("-1.5..2.25", "-1.50") && !in("-1.5..2.25", "-1.51") && in("-1.5..2.25", "-0"),
	   "negative bounds, exactly");
	ok(in("..10", "-99999999999999999999") && !in("..10", "10.000000000000000000001"),
	   "an open lower end; no rounding");
	ok(in("18000..", "99999999999") && !in("18000..", "17999.999"), "an open upper end");
	ok(!in("0..120", "abc") && !in("0..120", "") && !in("0..120", "1e2"),
	   "a value that is not a decimal is out of range");
	ok(in("2000-01-01..2024-12-31", "2024-12-31") && !in("2000-01-01..2024-12-31", "2025-01-01"),
	   "date range");
	ok(in("2000-01-01..2024-12-31", "2024-12-31 23:59:59") && !in("2000-01-01..", "1999-12-31T23:00"),
	   "a timestamp's date part against date bounds");
	ok(!in("..2000-01-01", "2000-02-30") && !in("..2000-01-01", "soon"), "a bad date is out of range");
	ok(in("..2000-01-01", "0044-03-15 BC") && !in("0001-01-01..", "0044-03-15 BC"),
	   "BC dates are before every AD date");
	ok(in("0050-01-01 BC..0040-01-01 BC", "0044-03-15 BC") &&
		   !in("0043-01-01 BC..", "0044-03-15 BC"), "BC against BC");
	ok(in("10000-01-01..", "12024-06-01") && !in("..9999-12-31", "10000-01-01"),
	   "years of five digits");
	struct range r;
	const char *why;
	ok(!range_parse("5", &r, &why) && !range_parse("..", &r, &why) &&
		   !range_parse("10..1", &r, &why) && !range_parse("a..b", &r, &why) &&
		   !range_parse("1..2024-01-01", &r, &why), "bad ranges are refused");

	size_t n;
	char **v = cols_split("a,\"b,c\",public.t.\"x y\"", &n);
	ok(n == 3 && strcmp(v[0], "a") == 0 && strcmp(v[1], "\"b,c\"") == 0 &&
		   strcmp(v[2], "public.t.\"x y\"") == 0, "column lists keep quoted commas");
	cols_free(v, n);
	char *p[3];
	ok(anon_spec_split("public.\"Users.x\".email", p) == 3 && strcmp(p[1], "Users.x") == 0 &&
		   strcmp(p[2], "email") == 0, "identifiers: quotes keep dots");
	for (int i = 0; i < 3; i++)
		free(p[i]);
	ok(anon_spec_split("a..b", p) < 0 && anon_spec_split("a.b.c.d", p) < 0 && anon_spec_split("\"x", p) < 0,
	   "bad identifiers are refused");
	ok(anon_spec_split("\"say \"\"hi\"\"\"", p) == 1 && strcmp(p[0], "say \"hi\"") == 0,
	   "a doubled quote is a quote");
	free(p[0]);
	struct anon_buf b = { 0 };
	ident_quote(&b, "a b\"c");
	anon_buf_addc(&b, 0);
	ok(strcmp((char *)b.p, "\"a b\"\"c\"") == 0, "names are quoted when they must be");
	anon_buf_free(&b);
	ok(anon_name_printable("email") && anon_name_printable("Straße") && !anon_name_printable("alice@x.com") &&
		   !anon_name_printable("1990-03-14") && !anon_name_printable("+1 415-555-0132") &&
		   !anon_name_printable(""), "which names a message may show");
	return tap_done();
}
