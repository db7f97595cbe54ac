/* values.c: the value checks (--type, --range) as PostgreSQL reads those types, and the
 * small parsers of the command line and the policy: column lists and identifiers. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

const char *const vtype_names[] = { "int", "numeric", "bool", "date", "timestamp", "email",
				    "uuid", "text", NULL };

bool vtype_parse(const char *s, enum vtype *t)
{
	for (int i = 0; vtype_names[i]; i++)
		if (strcmp(s, vtype_names[i]) == 0) {
			*t = (enum vtype)i;
			return true;
		}
	return false;
}

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_word(const unsigned char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp((const char *)p, w, n) == 0;
}

/* [+-]digits, within bigint */
static bool check_int(const unsigned char *p, size_t n)
{
	char buf[32];
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	int64_t v;
	return anon_parse_int64(buf, &v);
}

/* [+-](digits[.digits]|.digits)[e[+-]digits], or NaN and Infinity as numeric reads them */
static bool check_numeric(const unsigned char *p, size_t n)
{
	size_t i = 0, d = 0;
	if (i < n && (p[i] == '+' || p[i] == '-'))
		i++;
	if (is_word(p + i, n - i, "nan") && i == 0)
		return true;
	if (is_word(p + i, n - i, "infinity") || is_word(p + i, n - i, "inf"))
		return true;
	while (i < n && digit(p[i]))
		i++, d++;
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && digit(p[i]))
			i++, d++;
	}
	if (d == 0)
		return false;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		size_t e = 0;
		while (i < n && digit(p[i]))
			i++, e++;
		if (e == 0)
			return false;
	}
	return i == n;
}

static bool check_bool(const unsigned char *p, size_t n)
{
	static const char *const words[] = { "t", "true", "f", "false", "y", "yes", "n", "no",
					     "on", "off", "1", "0", NULL };
	for (int i = 0; words[i]; i++)
		if (is_word(p, n, words[i]))
			return true;
	return false;
}

static unsigned num(const unsigned char *p, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

static bool all_digits(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!digit(p[i]))
			return false;
	return n > 0;
}

/* YYYY-MM-DD (four or more year digits) with a day the month has: the length read, or 0 */
static size_t read_date(const unsigned char *p, size_t n)
{
	size_t y = 0;
	while (y < n && digit(p[y]))
		y++;
	if (y < 4 || y > 6 || y + 6 > n || p[y] != '-' || p[y + 3] != '-' ||
	    !all_digits(p + y + 1, 2) || !all_digits(p + y + 4, 2))
		return 0;
	unsigned year = num(p, y), m = num(p + y + 1, 2), d = num(p + y + 4, 2);
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (year == 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return 0;
	return y + 6;
}

static bool ends_bc(const unsigned char *p, size_t n, size_t *at)
{
	if (n >= 3 && is_word(p + n - 3, 3, " bc")) {
		*at = n - 3;
		return true;
	}
	*at = n;
	return false;
}

static bool check_date(const unsigned char *p, size_t n)
{
	size_t end;
	if (is_word(p, n, "infinity") || is_word(p, n, "-infinity"))
		return true;
	ends_bc(p, n, &end);
	return end > 0 && read_date(p, end) == end;
}

/* HH:MM[:SS[.frac]] (24:00:00 too), then Z or +-HH[:MM[:SS]] */
static bool check_time(const unsigned char *p, size_t n)
{
	if (n < 5 || !all_digits(p, 2) || p[2] != ':' || !all_digits(p + 3, 2))
		return false;
	unsigned h = num(p, 2), m = num(p + 3, 2), s = 0;
	size_t i = 5;
	if (i < n && p[i] == ':') {
		if (i + 3 > n || !all_digits(p + i + 1, 2))
			return false;
		s = num(p + i + 1, 2);
		i += 3;
		if (i < n && p[i] == '.') {
			size_t f = ++i;
			while (i < n && digit(p[i]))
				i++;
			if (i == f)
				return false;
		}
	}
	if (h > 24 || m > 59 || s > 60 || (h == 24 && (m || s)))
		return false;
	if (i < n && p[i] == ' ')
		i++;
	if (i == n)
		return true;
	if (p[i] == 'Z' || p[i] == 'z')
		return i + 1 == n;
	if (p[i] != '+' && p[i] != '-')
		return false;
	i++;
	size_t z = i;
	while (i < n && (digit(p[i]) || p[i] == ':'))
		i++;
	return i == n && i - z >= 1 && i - z <= 8 && digit(p[z]);
}

static bool check_timestamp(const unsigned char *p, size_t n)
{
	size_t end;
	if (is_word(p, n, "infinity") || is_word(p, n, "-infinity"))
		return true;
	ends_bc(p, n, &end);
	size_t d = read_date(p, end);
	if (d == 0)
		return false;
	if (d == end)
		return true;
	if (p[d] != ' ' && p[d] != 'T')
		return false;
	return check_time(p + d + 1, end - d - 1);
}

/* local@domain.tld: one '@', a local part of at most 64 characters without blanks, domain
 * labels of letters, digits and hyphens, a top-level domain of letters */
static bool check_email(const unsigned char *p, size_t n)
{
	const unsigned char *at = memchr(p, '@', n);
	if (!at || at == p || at - p > 64 || memchr(at + 1, '@', n - (size_t)(at - p) - 1))
		return false;
	for (const unsigned char *q = p; q < at; q++)
		if (*q <= ' ' || *q == '"' || *q == ',' || *q == '<' || *q == '>' || *q == 0x7f)
			return false;
	const unsigned char *d = at + 1, *end = p + n;
	size_t labels = 0, label = 0, tld_letters = 0;
	for (const unsigned char *q = d; q <= end; q++) {
		if (q == end || *q == '.') {
			if (label == 0 || label > 63 || q[-1] == '-')
				return false;
			labels++;
			label = 0;
			continue;
		}
		if (!isalnum(*q) && *q != '-' && *q < 0x80)
			return false;
		if (label == 0 && *q == '-')
			return false;
		label++;
	}
	for (const unsigned char *q = end; q > d && q[-1] != '.'; q--)
		tld_letters += isalpha(q[-1]) != 0 || q[-1] >= 0x80;
	const unsigned char *last = end;
	while (last > d && last[-1] != '.')
		last--;
	return labels >= 2 && tld_letters >= 2 && tld_letters == (size_t)(end - last);
}

static bool hex(unsigned char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits, or 32 in a row; braces around either */
static bool check_uuid(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
		p++;
		n -= 2;
	}
	if (n == 32) {
		for (size_t i = 0; i < n; i++)
			if (!hex(p[i]))
				return false;
		return true;
	}
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? p[i] != '-' : !hex(p[i]))
			return false;
	}
	return true;
}

bool vtype_check(enum vtype t, const unsigned char *p, size_t n, bool utf8)
{
	switch (t) {
	case VT_INT: return check_int(p, n);
	case VT_NUMERIC: return check_numeric(p, n);
	case VT_BOOL: return check_bool(p, n);
	case VT_DATE: return check_date(p, n);
	case VT_TIMESTAMP: return check_timestamp(p, n);
	case VT_EMAIL: return check_email(p, n);
	case VT_UUID: return check_uuid(p, n);
	case VT_TEXT: return n == 0 || (!memchr(p, 0, n) && (!utf8 || anon_utf8_valid(p, n)));
	}
	return false;
}

/* ---- ranges ------------------------------------------------------------------------------ */

/* An exact decimal: sign, digits without leading zeros, fraction without trailing zeros. */
struct dec {
	bool neg;
	const unsigned char *ip, *fp;
	size_t in, fn;
};

static bool dec_parse(const unsigned char *p, size_t n, struct dec *d)
{
	size_t i = 0;
	memset(d, 0, sizeof *d);
	if (i < n && (p[i] == '+' || p[i] == '-'))
		d->neg = p[i++] == '-';
	size_t s = i;
	while (i < n && digit(p[i]))
		i++;
	d->ip = p + s;
	d->in = i - s;
	if (i < n && p[i] == '.') {
		size_t f = ++i;
		while (i < n && digit(p[i]))
			i++;
		d->fp = p + f;
		d->fn = i - f;
	}
	if (i != n || d->in + d->fn == 0)
		return false;
	while (d->in && d->ip[0] == '0')
		d->ip++, d->in--;
	while (d->fn && d->fp[d->fn - 1] == '0')
		d->fn--;
	if (d->in == 0 && d->fn == 0)
		d->neg = false; /* -0 is 0 */
	return true;
}

static int cmp_mag(const struct dec *a, const struct dec *b)
{
	if (a->in != b->in)
		return a->in < b->in ? -1 : 1;
	int c = a->in ? memcmp(a->ip, b->ip, a->in) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	size_t m = a->fn < b->fn ? a->fn : b->fn;
	c = m ? memcmp(a->fp, b->fp, m) : 0; /* a number without a fraction has no fp */
	if (c)
		return c < 0 ? -1 : 1;
	return a->fn == b->fn ? 0 : a->fn < b->fn ? -1 : 1;
}

static int dec_cmp(const struct dec *a, const struct dec *b)
{
	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	int c = cmp_mag(a, b);
	return a->neg ? -c : c;
}

/* A date as a comparable key: the year padded to 7 digits, then MM-DD; BC below every AD. */
static bool date_key(const unsigned char *p, size_t n, char key[16], bool prefix_ok)
{
	size_t end;
	bool bc = ends_bc(p, n, &end);
	size_t d = read_date(p, end);
	if (d == 0 || (!prefix_ok && d != end))
		return false;
	if (prefix_ok && d != end && p[d] != ' ' && p[d] != 'T')
		return false;
	size_t y = d - 6;
	memset(key, '0', 7);
	memcpy(key + 7 - y, p, y);
	memcpy(key + 7, p + y, 6);
	key[13] = '\0';
	if (bc) /* earlier years are larger numbers: their digits inverted sort them first */
		for (int i = 1; i < 7; i++)
			key[i] = (char)('0' + '9' - key[i]);
	key[0] = bc ? '-' : '0'; /* years have at most 6 digits here; '-' sorts before '0' */
	return true;
}

bool range_parse(const char *s, struct range *r, const char **why)
{
	memset(r, 0, sizeof *r);
	const char *dots = strstr(s, "..");
	if (!dots) {
		*why = "takes COL=LO..HI (either end may be left out)";
		return false;
	}
	size_t ln = (size_t)(dots - s), hn = strlen(dots + 2);
	r->has_lo = ln > 0;
	r->has_hi = hn > 0;
	if (!r->has_lo && !r->has_hi) {
		*why = "needs a lower or an upper bound";
		return false;
	}
	char k1[16], k2[16];
	struct dec d;
	bool lo_date = r->has_lo && date_key((const unsigned char *)s, ln, k1, false);
	bool hi_date = r->has_hi && date_key((const unsigned char *)dots + 2, hn, k2, false);
	bool lo_num = r->has_lo && dec_parse((const unsigned char *)s, ln, &d);
	bool hi_num = r->has_hi && dec_parse((const unsigned char *)dots + 2, hn, &d);
	if ((!r->has_lo || lo_date) && (!r->has_hi || hi_date)) {
		r->dates = true;
	} else if ((!r->has_lo || lo_num) && (!r->has_hi || hi_num)) {
		r->dates = false;
	} else {
		*why = "bounds are decimal numbers (0..120, -1.5..2.25) or dates (2000-01-01..2024-12-31)";
		return false;
	}
	r->lo = strndup(s, ln);
	r->hi = strdup(dots + 2);
	if (!r->lo || !r->hi)
		anon_die(EX_SOFTWARE, "out of memory");
	if (r->has_lo && r->has_hi && !range_check(r, (const unsigned char *)r->lo, ln) &&
	    !range_check(r, (const unsigned char *)r->hi, hn)) {
		*why = "the lower bound is above the upper bound";
		range_free(r);
		return false;
	}
	return true;
}

bool range_check(const struct range *r, const unsigned char *p, size_t n)
{
	if (r->dates) {
		char v[16], b[16];
		if (!date_key(p, n, v, true))
			return false;
		if (r->has_lo && date_key((const unsigned char *)r->lo, strlen(r->lo), b, false) &&
		    strcmp(v, b) < 0)
			return false;
		if (r->has_hi && date_key((const unsigned char *)r->hi, strlen(r->hi), b, false) &&
		    strcmp(v, b) > 0)
			return false;
		return true;
	}
	struct dec v, b;
	if (!dec_parse(p, n, &v))
		return false;
	if (r->has_lo && dec_parse((const unsigned char *)r->lo, strlen(r->lo), &b) &&
	    dec_cmp(&v, &b) < 0)
		return false;
	if (r->has_hi && dec_parse((const unsigned char *)r->hi, strlen(r->hi), &b) &&
	    dec_cmp(&v, &b) > 0)
		return false;
	return true;
}

void range_free(struct range *r)
{
	free(r->lo);
	free(r->hi);
	r->lo = r->hi = NULL;
}

/* ---- column lists and identifiers ------------------------------------------------------- */

char **cols_split(const char *s, size_t *n)
{
	char **v = NULL;
	*n = 0;
	const char *p = s;
	for (;;) {
		const char *q = p;
		bool quoted = false;
		while (*q && (quoted || *q != ',')) {
			if (*q == '"')
				quoted = !quoted;
			q++;
		}
		char **nv = realloc(v, (*n + 1) * sizeof *v);
		if (!nv || !(nv[*n] = strndup(p, (size_t)(q - p))))
			anon_die(EX_SOFTWARE, "out of memory");
		v = nv;
		(*n)++;
		if (!*q)
			break;
		p = q + 1;
	}
	return v;
}

void cols_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ident_quote(struct anon_buf *b, const char *name)
{
	bool plain = *name && *name != '#';
	for (const char *p = name; *p; p++)
		if (*p == '.' || *p == '"' || *p == ',' || *p == '#' || isspace((unsigned char)*p))
			plain = false;
	if (plain) {
		anon_buf_addstr(b, name);
		return;
	}
	anon_buf_addc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			anon_buf_addc(b, '"');
		anon_buf_addc(b, (unsigned char)*p);
	}
	anon_buf_addc(b, '"');
}

