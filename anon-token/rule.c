/* rule.c: the rule of a column (-c COL=MODE:PARAM,...) over the defaults the options set,
 * the checks of a combination, and --ttl durations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static const char *const mode_names[] = { "keyed", "siv", "vault" };
static const char *const format_names[] = { "base32", "digits", "alnum", "base64url" };
static const double format_bits[] = { 5.0, 3.321928094887362, 5.954196310386876, 6.0 };

const char *tok_mode_name(enum tok_mode m) { return mode_names[m]; }
const char *tok_format_name(enum tok_format f) { return format_names[f]; }

size_t tok_default_length(enum tok_format f)
{
	/* the fewest symbols that hold 128 bits: 26 base32 (130), 39 digits, 22 alnum (131) */
	return (size_t)ceil(128.0 / format_bits[f]);
}

double tok_bits(enum tok_format f, size_t len)
{
	return format_bits[f] * (double)len;
}

static bool parse_mode(const char *s, size_t n, enum tok_mode *m)
{
	for (int i = 0; i < 3; i++)
		if (strlen(mode_names[i]) == n && memcmp(s, mode_names[i], n) == 0) {
			*m = (enum tok_mode)i;
			return true;
		}
	return false;
}

static bool parse_format(const char *s, size_t n, enum tok_format *f)
{
	for (int i = 0; i < 3; i++) /* base64url is siv's own, not chosen */
		if (strlen(format_names[i]) == n && memcmp(s, format_names[i], n) == 0) {
			*f = (enum tok_format)i;
			return true;
		}
	return false;
}

void tok_rule_clear(struct tok_rule *r)
{
	free(r->context);
	free(r->fpin);
	EVP_CIPHER_CTX_free(r->siv_enc);
	EVP_CIPHER_CTX_free(r->siv_dec);
	r->context = NULL;
	r->fpin = NULL;
	r->siv_enc = r->siv_dec = NULL;
}

static bool param(struct tok_rule *r, const char *p, size_t n, char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	size_t kl = eq ? (size_t)(eq - p) : n;
	const char *v = eq ? eq + 1 : NULL;
	size_t vl = eq ? n - kl - 1 : 0;
	enum tok_format f;
	if (!eq && parse_format(p, n, &f)) {
		r->format = f;
		r->format_set = true;
		return true;
	}
	if (!eq && n == 11 && memcmp(p, "keep-length", 11) == 0) {
		r->keep_length = true;
		return true;
	}
	if (eq && kl == 6 && memcmp(p, "length", 6) == 0) {
		char num[16];
		int64_t len;
		if (vl == 0 || vl >= sizeof num)
			goto badlen;
		memcpy(num, v, vl);
		num[vl] = 0;
		if (!anon_parse_int64(num, &len) || len < 1 || len > TOK_MAX_LENGTH)
			goto badlen;
		r->length = (size_t)len;
		r->length_set = true;
		return true;
badlen:
		snprintf(err, errlen, "length= takes a number of characters from 1 to %d",
			 TOK_MAX_LENGTH);
		return false;
	}
	if (eq && kl == 6 && memcmp(p, "prefix", 6) == 0) {
		if (vl > TOK_MAX_PREFIX || memchr(v, 0, vl)) {
			snprintf(err, errlen, "prefix= takes at most %d bytes", TOK_MAX_PREFIX);
			return false;
		}
		memcpy(r->prefix, v, vl);
		r->prefix[vl] = 0;
		r->prefix_set = true;
		return true;
	}
	if (eq && kl == 7 && memcmp(p, "context", 7) == 0) {
		free(r->context);
		r->context = strndup(v, vl);
		if (!r->context)
			anon_die(EX_SOFTWARE, "out of memory");
		return true;
	}
	snprintf(err, errlen, "unknown parameter '%.*s' (base32, digits, alnum, keep-length, "
		 "length=N, prefix=P, context=NAME)", (int)(kl > 40 ? 40 : kl), p);
	return false;
}

bool tok_rule_parse(const char *text, const struct tok_rule *d, struct tok_rule *r, char *err,
		    size_t errlen)
{
	*r = *d;
	r->fpin = NULL;
	r->siv_enc = r->siv_dec = NULL;
	r->context = strdup(d->context ? d->context : "");
	if (!r->context)
		anon_die(EX_SOFTWARE, "out of memory");
	if (!text || !*text)
		return true;
	/* MODE, MODE:PARAMS, or PARAMS alone (the mode of --mode) */
	const char *params = text;
	const char *colon = strchr(text, ':');
	enum tok_mode m;
	if (parse_mode(text, colon ? (size_t)(colon - text) : strlen(text), &m)) {
		params = colon ? colon + 1 : "";
		/* a shape the options chose for another mode does not follow a column that
		 * names its own: siv has none, and only vault keeps lengths */
		if (m != r->mode && m == MODE_SIV) {
			r->format = FMT_BASE64URL;
			r->format_set = r->length_set = false;
			r->length = 0;
		}
		if (m != r->mode && m != MODE_VAULT)
			r->keep_length = false;
		if (m != MODE_SIV && r->format == FMT_BASE64URL)
			r->format = FMT_BASE32;
		r->mode = m;
	}
	while (*params) {
		const char *end = strchr(params, ',');
		size_t n = end ? (size_t)(end - params) : strlen(params);
		if (n == 0) {
			snprintf(err, errlen, "an empty parameter");
			tok_rule_clear(r);
			return false;
		}
		if (!param(r, params, n, err, errlen)) {
			tok_rule_clear(r);
			return false;
		}
		params += n + (end ? 1 : 0);
		if (end && !*params) {
			snprintf(err, errlen, "an empty parameter");
			tok_rule_clear(r);
			return false;
		}
	}
	return true;
}

void tok_rule_finish(struct tok_rule *r)
{
	if (r->mode == MODE_SIV)
		r->format = FMT_BASE64URL;
	else if (r->format == FMT_BASE64URL)
		r->format = FMT_BASE32;
	if (r->keep_length && !r->prefix_set)
		r->prefix[0] = 0;
	if (r->mode != MODE_SIV && !r->keep_length && !r->length_set)
		r->length = tok_default_length(r->format);
}

bool tok_rule_check(const struct tok_rule *r, bool detokenize, char *err, size_t errlen)
{
	/* a token is text in every vault and every database it is loaded into */
	bool printable = anon_utf8_valid((const unsigned char *)r->prefix, strlen(r->prefix));
	for (const char *c = r->prefix; *c; c++)
		printable &= (unsigned char)*c >= 0x20 && *c != 0x7f;
	if (!printable) {
		snprintf(err, errlen, "the prefix must be printable UTF-8 text");
		return false;
	}
	if (r->mode == MODE_KEYED && detokenize) {
		snprintf(err, errlen, "keyed tokens cannot be reversed (use --mode siv or vault for "
			 "tokens that can)");
		return false;
	}
	if (r->mode == MODE_SIV && (r->format_set || r->length_set || r->keep_length)) {
		snprintf(err, errlen, "siv tokens are base64url of the sealed value: no format, "
			 "length= or keep-length");
		return false;
	}
	if (r->keep_length && r->mode != MODE_VAULT) {
		snprintf(err, errlen, "keep-length is for vault tokens (a keyed token as short as "
			 "its value would collide)");
		return false;
	}
	if (r->keep_length && r->length_set) {
		snprintf(err, errlen, "keep-length and length= exclude each other");
		return false;
	}
	if (r->keep_length && r->prefix_set && r->prefix[0]) {
		snprintf(err, errlen, "keep-length tokens have no prefix (they are as long as "
			 "the value)");
		return false;
	}
	return true;
}

bool tok_parse_ttl(const char *s, int64_t *seconds)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15)
		return false;
	int64_t unit = 1;
	char num[16];
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': unit = 1; num[--n] = 0; break;
	case 'm': unit = 60; num[--n] = 0; break;
	case 'h': unit = 3600; num[--n] = 0; break;
	case 'd': unit = 86400; num[--n] = 0; break;
	case 'w': unit = 7 * 86400; num[--n] = 0; break;
	}
	int64_t v;
	if (n == 0 || num[0] < '0' || num[0] > '9' || !anon_parse_int64(num, &v) || v < 1 ||
	    v > INT64_C(100) * 366 * 86400 / unit) /* at most a century */
		return false;
	*seconds = v * unit;
	return true;
}
