/* rules.c: anon-mask's rule grammar and the masking itself.  Lengths are counted in UTF-8
 * code points; output is written into the scratch buffer lib hands us, so no value costs
 * an allocation once the buffer has grown. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"

void anon_mask_opts_init(struct mask_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mask_char[0] = '*';
	o->mask_len = 1;
	o->fixed_length = -1;
	o->on_mismatch = MISMATCH_MASK;
}

/* ---- output: kept bytes and masked runs ----------------------------------------------------
 * Masked code points are only counted until something is kept, so that --fixed-length can
 * write each masked run as exactly N mask characters. */
struct masker {
	struct anon_buf *b;
	const struct mask_opts *o;
	size_t pending;
};

static void mask_flush(struct masker *m)
{
	if (m->pending == 0)
		return;
	size_t n = m->o->fixed_length >= 0 ? (size_t)m->o->fixed_length : m->pending;
	size_t ml = m->o->mask_len;
	anon_buf_reserve(m->b, n * ml);
	unsigned char *w = m->b->p + m->b->len;
	if (ml == 1) {
		memset(w, m->o->mask_char[0], n);
	} else {
		for (size_t i = 0; i < n; i++)
			memcpy(w + i * ml, m->o->mask_char, ml);
	}
	m->b->len += n * ml;
	m->pending = 0;
}

static void mask_keep(struct masker *m, const unsigned char *p, size_t n)
{
	if (n == 0)
		return;
	mask_flush(m);
	anon_buf_add(m->b, p, n);
}

static void mask_hide(struct masker *m, const unsigned char *p, size_t n)
{
	m->pending += anon_utf8_count(p, n);
}

/* ---- rule parsing -------------------------------------------------------------------------- */
static int parse_count(const char *s, size_t *out)
{
	uint64_t v;
	if (!anon_parse_uint64(s, &v) || v > 1000000)
		return -1;
	*out = (size_t)v;
	return 0;
}

pcre2_code *anon_mask_compile(const char *pattern, uint32_t flags, bool *jit, char *err,
			      size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | flags, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "bad pattern at offset %zu: %s", (size_t)off, (char *)msg);
		return NULL;
	}
	/* Without JIT support the interpreter still works, only slower. */
	if (jit)
		*jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
	else
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int parse_pattern(struct mask_rule *r, const char *pattern, char *err, size_t errlen)
{
	if (*pattern == '\0') {
		snprintf(err, errlen, "empty pattern");
		return -1;
	}
	if (!(r->re = anon_mask_compile(pattern, 0, &r->jit, err, errlen)))
		return -1;
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &r->ncaps);
	return 0;
}

static void set_text(struct mask_rule *r, const char *s, size_t n)
{
	if (!(r->text = malloc(n + 1)))
		anon_die(EX_SOFTWARE, "out of memory");
	memcpy(r->text, s, n);
	r->text[n] = '\0';
	r->text_len = n;
}

void anon_mask_label_set(struct mask_rule *r, const char *name)
{
	size_t n = strlen(name);
	char *t = malloc(n + 3);
	if (!t)
		anon_die(EX_SOFTWARE, "out of memory");
	t[0] = '<';
	for (size_t i = 0; i < n; i++)
		t[i + 1] = (char)toupper((unsigned char)name[i]);
	t[n + 1] = '>';
	t[n + 2] = '\0';
	free(r->text);
	r->text = t;
	r->text_len = n + 2;
}

/* One SQL identifier at *pp ("quoted ""x""" or a bare word up to a '.'), decoded into out;
 * false when there is none. */
static bool sql_ident(const char **pp, struct anon_buf *out)
{
	const char *p = *pp;
	out->len = 0;
	if (*p == '"') {
		for (p++;; p++) {
			if (*p == '\0')
				return false;
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			anon_buf_addc(out, (unsigned char)*p);
		}
		*pp = p + 1;
		return true;
	}
	const char *s = p;
	while (*p && *p != '.')
		p++;
	anon_buf_add(out, s, (size_t)(p - s));
	*pp = p;
	return p > s;
}

char *anon_mask_spec_column(const char *spec)
{
	struct anon_buf b = { 0 };
	const char *p = spec;
	for (int parts = 1; sql_ident(&p, &b); parts++) {
		if (*p == '\0') {
			anon_buf_addc(&b, '\0');
			return (char *)b.p;
		}
		if (*p != '.' || parts == 3)
			break;
		p++;
	}
	anon_buf_free(&b);
	return NULL;
}

/* <EMAIL> for "email", "users.email" or "public.users.email"; <E-MAIL> for t."E-MAIL". */
static void set_label(struct mask_rule *r, const char *spec)
{
	char *name = anon_mask_spec_column(spec);
	anon_mask_label_set(r, name ? name : spec);
	free(name);
}

const char anon_mask_rule_names[] = "redact[:TEXT], null, const:TEXT, label, first:N, "
	"last:N, partial:F,L, email[:domain|tld], phone, card[:bin], regex:PATTERN, keep:PATTERN, "
	"fake:KIND";

/* A parameter as messages quote it: at most 40 bytes (anon_error escapes the rest). */
#define QUOTED(s) (int)(strlen(s) > 40 ? 40 : strlen(s)), (s), strlen(s) > 40 ? "..." : ""

int anon_mask_rule_parse(struct mask_rule *r, const char *rule, const char *spec,
			 char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (!rule)
		rule = "redact";
	const char *colon = strchr(rule, ':');
	size_t nlen = colon ? (size_t)(colon - rule) : strlen(rule);
	const char *arg = colon ? colon + 1 : NULL;
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(rule, s, nlen) == 0)
	if (IS("redact") || IS("const")) {
		r->kind = IS("redact") ? MASK_REDACT : MASK_CONST;
		if (!arg && r->kind == MASK_CONST) {
			snprintf(err, errlen, "const needs a text: const:TEXT");
			return -1;
		}
		if (!arg)
			arg = "***";
		set_text(r, arg, strlen(arg));
		return 0;
	}
	if (IS("regex") || IS("keep")) {
		r->kind = IS("regex") ? MASK_REGEX : MASK_KEEP;
		if (!arg) {
			snprintf(err, errlen, "%s needs a pattern: %s:PATTERN",
				 IS("regex") ? "regex" : "keep", IS("regex") ? "regex" : "keep");
			return -1;
		}
		return parse_pattern(r, arg, err, errlen);
	}
	if (IS("null") || IS("label") || IS("phone")) {
		if (arg) {
			snprintf(err, errlen, "%.*s: unknown parameter \"%.*s%s\" (%.*s takes none)",
				 (int)nlen, rule, QUOTED(arg), (int)nlen, rule);
			return -1;
		}
		if (IS("null")) {
			r->kind = MASK_NULL;
		} else if (IS("label")) {
			r->kind = MASK_LABEL;
			set_label(r, spec);
		} else {
			r->kind = MASK_PHONE;
		}
		return 0;
	}
	if (IS("first") || IS("last")) {
		const char *name = IS("first") ? "first" : "last";
		size_t *n = IS("first") ? &r->keep_first : &r->keep_last;
		r->kind = IS("first") ? MASK_FIRST : MASK_LAST;
		if (!arg) {
			snprintf(err, errlen, "%s needs a count: %s:N (0 to 1000000)", name, name);
			return -1;
		}
		if (parse_count(arg, n) < 0) {
			snprintf(err, errlen, "%s: \"%.*s%s\" is not a count: %s:N (0 to 1000000)",
				 name, QUOTED(arg), name);
			return -1;
		}
		return 0;
	}
	if (IS("partial")) {
		r->kind = MASK_PARTIAL;
		const char *comma = arg ? strchr(arg, ',') : NULL;
		char f[32];
		if (!arg) {
			snprintf(err, errlen, "partial needs two counts: partial:FIRST,LAST "
				 "(0 to 1000000)");
			return -1;
		}
		if (!comma || (size_t)(comma - arg) >= sizeof(f))
			goto bad_partial;
		memcpy(f, arg, (size_t)(comma - arg));
		f[comma - arg] = '\0';
		if (parse_count(f, &r->keep_first) < 0 || parse_count(comma + 1, &r->keep_last) < 0)
			goto bad_partial;
		return 0;
bad_partial:
		snprintf(err, errlen, "partial: \"%.*s%s\" is not two counts: partial:FIRST,LAST "
			 "(0 to 1000000)", QUOTED(arg));
		return -1;
	}
	if (IS("email")) {
		r->kind = MASK_EMAIL;
		if (arg && strcmp(arg, "tld") == 0) {
			r->tld = true;
		} else if (arg && strcmp(arg, "domain") != 0) {
			snprintf(err, errlen, "email: unknown parameter \"%.*s%s\" (domain, tld)",
				 QUOTED(arg));
			return -1;
		}
		return 0;
	}
	if (IS("card")) {
		r->kind = MASK_CARD;
		if (arg && strcmp(arg, "bin") == 0) {
			r->bin = true;
		} else if (arg) {
			snprintf(err, errlen, "card: unknown parameter \"%.*s%s\" (bin)", QUOTED(arg));
			return -1;
		}
		return 0;
	}
	if (IS("fake")) {
		r->kind = MASK_FAKE;
		if (!arg) {
			snprintf(err, errlen, "fake needs a kind: fake:KIND (%s)", anon_fake_kind_names);
			return -1;
		}
		if (!anon_fake_kind_parse(arg, &r->fake)) {
			snprintf(err, errlen, "fake: unknown kind \"%.*s%s\" (%s)", QUOTED(arg),
				 anon_fake_kind_names);
			return -1;
		}
		return 0;
	}
#undef IS
	snprintf(err, errlen, "unknown rule \"%.*s%s\" (%s)", (int)(nlen > 40 ? 40 : nlen), rule,
		 nlen > 40 ? "..." : "", anon_mask_rule_names);
	return -1;
}

void anon_mask_rule_free(struct mask_rule *r)
{
	free(r->text);
	pcre2_code_free(r->re);
	memset(r, 0, sizeof(*r));
}

/* A compiled pattern may be shared by threads, its match data may not: each thread matches
 * into its own, and sorts the groups in its own spans. */
void anon_mask_work_init(struct mask_work *w, const struct mask_rule *r)
{
	memset(w, 0, sizeof(*w));
	if (!r->re)
		return;
	if (!(w->md = pcre2_match_data_create_from_pattern(r->re, NULL)))
		anon_die(EX_SOFTWARE, "out of memory");
	if (r->ncaps && !(w->spans = calloc(r->ncaps, sizeof(*w->spans))))
		anon_die(EX_SOFTWARE, "out of memory");
}

void anon_mask_work_free(struct mask_work *w)
{
	free(w->spans);
	pcre2_match_data_free(w->md);
	memset(w, 0, sizeof(*w));
}

/* ---- the rules ---------------------------------------------------------------------------
 * Each returns false when the value does not fit it (nothing written yet that matters: the
 * caller rewinds the buffer). */

/* Byte offset after the first k code points of valid UTF-8 s[0..n). */
static size_t utf8_skip(const unsigned char *s, size_t n, size_t k)
{
	size_t i = 0;
	while (k > 0 && i < n) {
		i++;
		while (i < n && (s[i] & 0xc0) == 0x80)
			i++;
		k--;
	}
	return i;
}

/* Byte offset where the last k code points of valid UTF-8 s[0..n) begin. */
static size_t utf8_skip_back(const unsigned char *s, size_t n, size_t k)
{
	size_t i = n;
	while (k > 0 && i > 0) {
		i--;
		while (i > 0 && (s[i] & 0xc0) == 0x80)
			i--;
		k--;
	}
	return i;
}

/* Code points in s[0..n), or SIZE_MAX when it is not valid UTF-8: validation and count in
 * one pass, eight ASCII bytes at a time. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	size_t i = 0, count = 0;
	while (i < n) {
		uint64_t w;
		if (n - i >= 8 && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0)) {
			i += 8;
			count += 8;
			continue;
		}
		uint32_t cp;
		size_t l = s[i] < 0x80 ? 1 : anon_utf8_decode(s + i, n - i, &cp);
		if (l == 0)
			return SIZE_MAX;
		i += l;
		count++;
	}
	return count;
}

/* Keep the first f and last l of the ncp code points; a value with nothing left to mask
 * does not fit, since keeping all of it would show it whole. */
static bool rule_partial(struct masker *m, const unsigned char *p, size_t n, size_t ncp,
			 size_t f, size_t l)
{
	if (ncp <= f + l)
		return false;
	size_t head = utf8_skip(p, n, f), tail = utf8_skip_back(p, n, l);
	mask_keep(m, p, head);
	m->pending += ncp - f - l;
	mask_keep(m, p + tail, n - tail);
	return true;
}

static bool rule_email(struct masker *m, const unsigned char *p, size_t n, bool tld)
{
	const unsigned char *at = memrchr(p, '@', n);
	if (!at || at == p || at == p + n - 1)
		return false;
	const unsigned char *dom = at + 1;
	size_t dlen = n - (size_t)(dom - p);
	if (!tld) {
		mask_hide(m, p, (size_t)(at - p));
		mask_keep(m, at, n - (size_t)(at - p));
		return true;
	}
	const unsigned char *dot = memrchr(dom, '.', dlen);
	if (!dot || dot == dom || dot == p + n - 1)
		return false;
	mask_hide(m, p, (size_t)(at - p));
	mask_keep(m, at, 1);
	mask_hide(m, dom, (size_t)(dot - dom));
	mask_keep(m, dot, n - (size_t)(dot - p));
	return true;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Mask the digits after the first `keep` up to the `last`-th; every other byte stays. */
static void hide_digits(struct masker *m, const unsigned char *p, size_t n, size_t keep,
			size_t last)
{
	size_t seen = 0, run = 0; /* run: kept bytes not yet written */
	for (size_t k = 0; k < n; k++) {
		if (is_digit(p[k]) && ++seen > keep && seen <= last) {
			mask_keep(m, p + k - run, run);
			run = 0;
			m->pending++;
		} else {
			run++;
		}
	}
	mask_keep(m, p + n - run, run);
}

/* Digits in an E.164 country code starting with digits d[0], d[1] (ITU-T E.164 assignments:
 * 1 and 7 are one digit; each other zone has listed two-digit codes, the rest have three).
 * 0 for a code that cannot exist. */
static size_t country_code_len(unsigned char d1, unsigned char d2)
{
	static const char *two[10] = {
		NULL, NULL, "07", "0123469", "013456789", "12345678", "0123456", NULL,
		"1246", "0123458",
	};
	d1 -= '0';
	if (d1 == 0)
		return 0;
	if (d1 == 1 || d1 == 7)
		return 1;
	return strchr(two[d1], d2) && d2 ? 2 : 3;
}

static bool is_phone_sep(unsigned char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

/* Keep separators, a leading +country code and the last four digits. */
static bool rule_phone(struct masker *m, const unsigned char *p, size_t n)
{
	size_t digits = 0, i = 0, cc = 0;
	if (p[0] == '+') {
		/* The country code needs its own digits right after the plus sign. */
		if (n < 3 || !is_digit(p[1]))
			return false;
		cc = country_code_len(p[1], is_digit(p[2]) ? p[2] : 0);
		if (cc == 0)
			return false;
		for (size_t k = 1; k <= cc; k++)
			if (k >= n || !is_digit(p[k]))
				return false;
		i = 1;
	}
	for (size_t k = i; k < n; k++) {
		if (is_digit(p[k]))
			digits++;
		else if (!is_phone_sep(p[k]))
			return false;
	}
	if (digits <= cc + 4)
		return false;
	hide_digits(m, p, n, cc, digits - 4);
	return true;
}

/* Keep the last four digits (and the first six with :bin); 12 to 19 digits, with spaces or
 * hyphens between them. */
static bool rule_card(struct masker *m, const unsigned char *p, size_t n, bool bin)
{
	size_t digits = 0;
	for (size_t k = 0; k < n; k++) {
		if (is_digit(p[k]))
			digits++;
		else if (p[k] != ' ' && p[k] != '-')
			return false;
	}
	if (digits < 12 || digits > 19 || !is_digit(p[0]) || !is_digit(p[n - 1]))
		return false;
	hide_digits(m, p, n, bin ? 6 : 0, digits - 4);
	return true;
}

static int span_cmp(const void *a, const void *b)
{
	const struct mask_span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* regex: mask what matches (or its groups); keep: keep it and mask the rest.  `pos` is
 * where the next unwritten byte is; spans that reach behind it (lookbehind, \K) are cut. */
static enum anon_status rule_pattern(const struct mask_rule *r, struct mask_work *w,
				     struct masker *m, const unsigned char *p, size_t n,
				     const char **errmsg)
{
	bool keep = r->kind == MASK_KEEP;
	size_t pos = 0, from = 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
	while (from <= n) {
		/* The value is known to be valid UTF-8: the JIT entry skips every check. */
		int rc = r->jit ? pcre2_jit_match(r->re, p, n, from, 0, w->md, NULL)
				: pcre2_match(r->re, p, n, from, PCRE2_NO_UTF_CHECK, w->md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			*errmsg = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
				  rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT
				? "pattern match limit reached" : "pattern match failed";
			return ANON_ERR;
		}
		size_t ms = ov[0], me = ov[1];
		size_t ns = 0;
		struct mask_span whole = { ms, me }, *spans = &whole;
		if (r->ncaps > 0) {
			for (uint32_t g = 1; g <= r->ncaps && (int)g < rc; g++) {
				if (ov[2 * g] == PCRE2_UNSET || ov[2 * g] >= ov[2 * g + 1])
					continue;
				w->spans[ns].start = ov[2 * g];
				w->spans[ns].end = ov[2 * g + 1];
				ns++;
			}
			if (ns > 1)
				qsort(w->spans, ns, sizeof(*w->spans), span_cmp);
			spans = w->spans;
		} else {
			ns = ms < me;
		}
		for (size_t k = 0; k < ns; k++) {
			size_t s = spans[k].start < pos ? pos : spans[k].start;
			size_t e = spans[k].end;
			if (e <= s)
				continue;
			if (keep) {
				mask_hide(m, p + pos, s - pos);
				mask_keep(m, p + s, e - s);
			} else {
				mask_keep(m, p + pos, s - pos);
				mask_hide(m, p + s, e - s);
			}
			pos = e;
		}
		if (me > from) {
			from = me;
		} else {
			/* An empty match: try again one code point further on. */
			if (from >= n)
				break;
			from = utf8_skip(p + from, n - from, 1) + from;
		}
	}
	if (keep)
		mask_hide(m, p + pos, n - pos);
	else
		mask_keep(m, p + pos, n - pos);
	return ANON_OK;
}

static void set_out(struct anon_field *out, struct anon_buf *b, size_t start)
{
	out->null = false;
	out->len = b->len - start;
	out->p = out->len ? b->p + start : (const unsigned char *)"";
}

enum anon_status anon_mask_apply(const struct mask_rule *r, struct mask_work *w,
				 const struct mask_opts *o, const struct anon_field *in,
				 struct anon_field *out, struct anon_buf *scratch,
				 const char **errmsg)
{
	const unsigned char *p = in->p;
	size_t n = in->len;
	switch (r->kind) {
	case MASK_NULL:
		out->null = true;
		out->p = (const unsigned char *)"";
		out->len = 0;
		return ANON_OK;
	case MASK_REDACT:
	case MASK_CONST:
	case MASK_LABEL:
		out->null = false;
		out->p = (const unsigned char *)r->text;
		out->len = r->text_len;
		return ANON_OK;
	case MASK_FAKE: {
		size_t start = scratch->len;
		anon_fake_make(r->fake_ctx, w->hmac, r->fake, p, n, scratch);
		set_out(out, scratch, start);
		return ANON_OK;
	}
	default:
		break;
	}

	size_t ncp = utf8_length(p, n);
	if (ncp == SIZE_MAX) {
		*errmsg = "invalid UTF-8";
		return ANON_ERR;
	}
	size_t start = scratch->len;
	struct masker m = { scratch, o, 0 };
	bool fits = true;
	switch (r->kind) {
	case MASK_FIRST:
	case MASK_LAST:
	case MASK_PARTIAL:
		fits = rule_partial(&m, p, n, ncp, r->keep_first, r->keep_last);
		break;
	case MASK_EMAIL:
		fits = rule_email(&m, p, n, r->tld);
		break;
	case MASK_PHONE:
		fits = rule_phone(&m, p, n);
		break;
	case MASK_CARD:
		fits = rule_card(&m, p, n, r->bin);
		break;
	case MASK_REGEX:
	case MASK_KEEP: {
		enum anon_status st = rule_pattern(r, w, &m, p, n, errmsg);
		if (st != ANON_OK) {
			scratch->len = start;
			return st;
		}
		break;
	}
	default:
		*errmsg = "unknown rule";
		return ANON_ERR;
	}
	if (!fits) {
		w->mismatched++;
		scratch->len = start;
		switch (o->on_mismatch) {
		case MISMATCH_KEEP:
			return ANON_KEEP;
		case MISMATCH_NULL:
			out->null = true;
			out->p = (const unsigned char *)"";
			out->len = 0;
			return ANON_OK;
		case MISMATCH_MASK:
			m.pending = ncp;
			break;
		}
	}
	mask_flush(&m);
	set_out(out, scratch, start);
	return ANON_OK;
}
