/* detect.c: the personal-data detectors.  Each kind is a PCRE2 pattern compiled once by the
 * JIT, reached only through a cheap prefilter over the value's bytes (a '@' for an address,
 * enough digits for a card or a phone), and every match is confirmed in C before it counts:
 * the Luhn check of a card, the area/group/serial of an SSN, the length, structure and mod-97
 * of an IBAN, the octets of an IPv4 address, the digit count of a phone number.
 *
 * The patterns refuse to start or end inside a longer token (a run of letters, digits, '_' or
 * '-'), so the digits inside a hash, a token or a UUID are never read as a number: a hash in
 * hex, base32 or base64url is one token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

const char *const pii_kind_names[PII_NKINDS] = { "email", "phone", "card", "ssn", "iban", "ip" };

bool pii_parse_kinds(const char *s, unsigned *mask)
{
	*mask = 0;
	if (strcmp(s, "all") == 0) {
		*mask = PII_ALL;
		return true;
	}
	const char *p = s;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int k;
		for (k = 0; k < PII_NKINDS; k++)
			if (strlen(pii_kind_names[k]) == n && memcmp(pii_kind_names[k], p, n) == 0)
				break;
		if (k == PII_NKINDS)
			return false;
		*mask |= 1u << k;
		p += n + (e != NULL);
		if (e && !*p)
			return false;
	}
	return *mask != 0;
}

enum { RE_EMAIL, RE_PHONE, RE_CARD, RE_SSN, RE_IBAN, RE_IPV4, RE_IPV6, RE_NAME, RE_NAME_CJK,
       RE_N };

/* The prefilter: one pass over the value counts what the kinds need, in 12-bit lanes of one
 * 64-bit word (a table lookup and an add a byte; blocks of 4095 bytes cannot overflow). */
enum { L_DIGIT = 0, L_UPPER = 12, L_AT = 24, L_DOT = 36, L_COLON = 48 };
#define LANE(acc, l) (((acc) >> (l)) & 0xfff)

struct detectors {
	pcre2_code *re[RE_N];
	bool jit[RE_N];
	uint64_t lanes[256];
};

struct detect_scratch {
	pcre2_match_data *md;
};

#define OCT "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
#define V4 OCT "(?:\\." OCT "){3}"
#define H "[0-9A-Fa-f]{1,4}"
/* Name words: a capital, then letters, marks, apostrophes or hyphens; or an initial. */
#define NW "\\p{Lu}[\\p{L}\\p{M}'\xe2\x80\x99\\-]*\\.?"
#define NP "(?:van|von|der|den|de|del|della|da|di|du|la|le|dos|das|ter|ten|bin|ibn|al|el|y)"
#define CJK "[\\p{Han}\\p{Hangul}\\p{Hiragana}\\p{Katakana}]"

static const char *const patterns[RE_N] = {
	/* local part (group 1) @ domain with a TLD of letters */
	[RE_EMAIL] = "(?<![A-Za-z0-9._%+\\-])([A-Za-z0-9._%+\\-]{1,64})@"
		     "(?:[A-Za-z0-9\\-]{1,63}\\.)+[A-Za-z]{2,63}"
		     "(?![A-Za-z0-9\\-])",
	/* 1: +E.164, 2: NANP with separators, 3: 00 international, 4: national with a trunk 0;
	 * never starting or ending next to a digit group of a longer number */
	[RE_PHONE] = "(?<![\\w+.\\-/]|\\d[ .\\-/])(?:"
		     "(\\+[1-9](?:[ .\\-]?(?:\\(\\d{1,4}\\)|\\d)){7,16})"
		     "|((?:1[ .\\-]?)?(?:\\([2-9]\\d\\d\\)[ .\\-]?|[2-9]\\d\\d[ .\\-])[2-9]\\d\\d[ .\\-]\\d{4})"
		     "|(00[1-9]\\d{0,2}(?:[ .\\-]\\d{1,8}){2,6})"
		     "|((?:\\(0\\d{1,4}\\)|0\\d{1,4})(?:[ .\\-/]\\d{2,8}){1,4})"
		     ")(?![\\w]|[ .\\-/]\\d)",
	/* 13 to 19 digits, one space or dash at most between two */
	[RE_CARD] = "(?<![\\w.\\-]|\\d )\\d(?:[ \\-]?\\d){12,18}(?![\\w]|[.\\-]\\d)",
	[RE_SSN] = "(?<![\\w.\\-/]|\\d )(\\d{3})([ \\-])(\\d{2})\\2(\\d{4})(?![\\w]|[ .\\-/]\\d)",
	[RE_IBAN] = "(?<![\\w\\-])[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}(?![\\w\\-])",
	[RE_IPV4] = "(?<![\\w.])" V4 "(?![\\w]|\\.\\d)",
	[RE_IPV6] = "(?<![\\w:.])(?:"
		    "::(?:[Ff]{4}(?::0{1,4})?:)?" V4
		    "|(?:" H ":){6}" V4
		    "|(?:" H ":){1,4}:" V4
		    "|(?:" H ":){7}" H
		    "|(?:" H ":){1,7}:"
		    "|(?:" H ":){1,6}:" H
		    "|(?:" H ":){1,5}(?::" H "){1,2}"
		    "|(?:" H ":){1,4}(?::" H "){1,3}"
		    "|(?:" H ":){1,3}(?::" H "){1,4}"
		    "|(?:" H ":){1,2}(?::" H "){1,5}"
		    "|" H ":(?::" H "){1,6}"
		    "|:(?::" H "){1,7}"
		    ")(?![\\w:]|\\.\\d)",
	[RE_NAME] = "^\\s*(?:" NP "\\s+)*" NW "(?:,?\\s+(?:" NP "\\s+)*" NW "){1,5}\\s*$",
	[RE_NAME_CJK] = "^\\s*" CJK "{2,4}(?:\\s" CJK "{1,4})?\\s*$",
};

struct detectors *detectors_new(bool names, char *err, size_t errlen)
{
	struct detectors *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int c = 0; c < 256; c++)
		d->lanes[c] = (uint64_t)(c >= '0' && c <= '9') << L_DIGIT |
			      (uint64_t)(c >= 'A' && c <= 'Z') << L_UPPER |
			      (uint64_t)(c == '@') << L_AT | (uint64_t)(c == '.') << L_DOT |
			      (uint64_t)(c == ':') << L_COLON;
	for (int i = 0; i < RE_N; i++) {
		if (!names && (i == RE_NAME || i == RE_NAME_CJK))
			continue;
		int code;
		PCRE2_SIZE off;
		uint32_t flags = i >= RE_NAME ? PCRE2_UTF | PCRE2_UCP : 0;
		d->re[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED, flags, &code,
					 &off, NULL);
		if (!d->re[i]) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(code, msg, sizeof msg);
			snprintf(err, errlen, "pattern %d: %s at %zu", i, (char *)msg, (size_t)off);
			detectors_free(d);
			return NULL;
		}
		/* without a JIT (some platforms) the interpreter gives the same matches */
		d->jit[i] = pcre2_jit_compile(d->re[i], PCRE2_JIT_COMPLETE) == 0;
	}
	return d;
}

void detectors_free(struct detectors *d)
{
	if (!d)
		return;
	for (int i = 0; i < RE_N; i++)
		pcre2_code_free(d->re[i]);
	free(d);
}

struct detect_scratch *detect_scratch_new(const struct detectors *d)
{
	struct detect_scratch *s = calloc(1, sizeof *s);
	if (!s || !(s->md = pcre2_match_data_create(8, NULL))) {
		free(s);
		return NULL;
	}
	return s;
}

void detect_scratch_free(struct detect_scratch *s)
{
	if (!s)
		return;
	pcre2_match_data_free(s->md);
	free(s);
}

/* One match from `from`: the number of groups + 1, or <= 0 when none. */
static int match(const struct detectors *d, struct detect_scratch *s, int re,
		 const unsigned char *p, size_t n, size_t from)
{
	return d->jit[re] ? pcre2_jit_match(d->re[re], p, n, from, 0, s->md, NULL)
			  : pcre2_match(d->re[re], p, n, from, 0, s->md, NULL);
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static size_t count_digits(const unsigned char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += is_digit(p[i]);
	return k;
}

/* ---- what a match must also be -------------------------------------------------------------- */

/* The local part of an address a stage has anonymized: a keyed hash in hex (anon-hash email
 * writes 64 hex digits, fewer with --length), in base32, a token (tok_...), or a mask (one
 * character repeated). A real address seldom looks like any of these. */
bool email_local_anonymized(const unsigned char *p, size_t n)
{
	size_t hex = 0, hexdigits = 0, b32 = 0, same = 0;
	if (n < 12 && (n < 3 || p[1] != p[0]))
		return false; /* the common case: a short, real local part */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		bool dig = is_digit(c);
		hex += dig || (c >= 'a' && c <= 'f');
		hexdigits += dig;
		b32 += (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
		same += c == p[0];
		if (hex <= i && b32 <= i && same <= i && (n < 4 || memcmp(p, "tok_", 4) != 0))
			return false; /* none of the shapes can still fit */
	}
	if (hex == n && (n >= 16 || (n >= 12 && hexdigits >= 2 && n - hexdigits >= 2)))
		return true;
	if (b32 == n && n >= 16)
		return true;
	if (n >= 12 && memcmp(p, "tok_", 4) == 0)
		return true;
	return n >= 3 && same == n;
}

/* Social Security numbers: area 001-899 but 666, group 01-99, serial 0001-9999. */
bool ssn_valid(const unsigned char *a, const unsigned char *g, const unsigned char *s)
{
	int area = (a[0] - '0') * 100 + (a[1] - '0') * 10 + (a[2] - '0');
	int group = (g[0] - '0') * 10 + (g[1] - '0');
	int serial = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	return area >= 1 && area <= 899 && area != 666 && group >= 1 && serial >= 1;
}

/* IBAN lengths of the SWIFT registry, and for the larger countries the BBAN structure: runs
 * of n (digits), a (capital letters) or c (either). */
static const struct {
	char cc[3];
	unsigned char len;
	const char *bban;
} ibans[] = {
	{ "AD", 24, NULL }, { "AE", 23, "19n" }, { "AL", 28, NULL }, { "AT", 20, "16n" },
	{ "AZ", 28, NULL }, { "BA", 20, NULL }, { "BE", 16, "12n" }, { "BG", 22, "4a6n8c" },
	{ "BH", 22, NULL }, { "BI", 27, NULL }, { "BR", 29, "23n1a1c" }, { "BY", 28, NULL },
	{ "CH", 21, "5n12c" }, { "CR", 22, NULL }, { "CY", 28, "8n16c" }, { "CZ", 24, "20n" },
	{ "DE", 22, "18n" }, { "DJ", 27, NULL }, { "DK", 18, "14n" }, { "DO", 28, NULL },
	{ "EE", 20, "16n" }, { "EG", 29, NULL }, { "ES", 24, "20n" }, { "FI", 18, "14n" },
	{ "FK", 18, NULL }, { "FO", 18, "14n" }, { "FR", 27, "10n11c2n" }, { "GB", 22, "4a14n" },
	{ "GE", 22, NULL }, { "GI", 23, NULL }, { "GL", 18, "14n" }, { "GR", 27, "7n16c" },
	{ "GT", 28, NULL }, { "HN", 28, NULL }, { "HR", 21, "17n" }, { "HU", 28, "24n" },
	{ "IE", 22, "4a14n" }, { "IL", 23, "19n" }, { "IQ", 23, NULL }, { "IS", 26, "22n" },
	{ "IT", 27, "1a10n12c" }, { "JO", 30, NULL }, { "KW", 30, NULL }, { "KZ", 20, NULL },
	{ "LB", 28, NULL }, { "LC", 32, NULL }, { "LI", 21, "5n12c" }, { "LT", 20, "16n" },
	{ "LU", 20, "3n13c" }, { "LV", 21, "4a13c" }, { "LY", 25, NULL }, { "MC", 27, "10n11c2n" },
	{ "MD", 24, NULL }, { "ME", 22, NULL }, { "MK", 19, NULL }, { "MN", 20, NULL },
	{ "MR", 27, NULL }, { "MT", 31, "4a5n18c" }, { "MU", 30, NULL }, { "NI", 28, NULL },
	{ "NL", 18, "4a10n" }, { "NO", 15, "11n" }, { "OM", 23, NULL }, { "PK", 24, NULL },
	{ "PL", 28, "24n" }, { "PS", 29, NULL }, { "PT", 25, "21n" }, { "QA", 29, NULL },
	{ "RO", 24, "4a16c" }, { "RS", 22, NULL }, { "RU", 33, NULL }, { "SA", 24, "2n18c" },
	{ "SC", 31, NULL }, { "SD", 18, NULL }, { "SE", 24, "20n" }, { "SI", 19, "15n" },
	{ "SK", 24, "20n" }, { "SM", 27, "1a10n12c" }, { "SO", 23, NULL }, { "ST", 25, NULL },
	{ "SV", 28, NULL }, { "TL", 23, NULL }, { "TN", 24, NULL }, { "TR", 26, "6n16c" },
	{ "UA", 29, NULL }, { "VA", 22, NULL }, { "VG", 24, NULL }, { "XK", 20, NULL },
	{ "YE", 30, NULL },
};

static int iban_country(const char *s)
{
	for (size_t i = 0; i < sizeof ibans / sizeof ibans[0]; i++)
		if (s[0] == ibans[i].cc[0] && s[1] == ibans[i].cc[1])
			return (int)i;
	return -1;
}

static bool bban_fits(const char *bban, const char *s, size_t n)
{
	size_t at = 0;
	while (*bban) {
		unsigned run = 0;
		while (*bban >= '0' && *bban <= '9')
			run = run * 10 + (unsigned)(*bban++ - '0');
		char cls = *bban++;
		for (unsigned i = 0; i < run; i++, at++) {
			if (at >= n)
				return false;
			char c = s[at];
			bool digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z';
			if ((cls == 'n' && !digit) || (cls == 'a' && !upper) || !(digit || upper))
				return false;
		}
	}
	return at == n;
}

bool iban_valid(const char *s, size_t n)
{
	if (n < 15 || n > 34)
		return false;
	int c = iban_country(s);
	if (c < 0 || ibans[c].len != n || !is_digit((unsigned char)s[2]) ||
	    !is_digit((unsigned char)s[3]))
		return false;
	if (ibans[c].bban && !bban_fits(ibans[c].bban, s + 4, n - 4))
		return false;
	/* ISO 7064 mod 97-10: the first four characters moved to the end, letters as 10..35 */
	unsigned rem = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[(i + 4) % n];
		if (ch >= '0' && ch <= '9')
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
		else if (ch >= 'A' && ch <= 'Z')
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

/* A card: 13 to 19 digits, an issuer's first digit (2-6: Mastercard 2-series, Amex, Diners,
 * JCB, Visa, Mastercard, Discover, UnionPay), one kind of separator in the groups cards are
 * printed in (4-4-4-4, 4-6-5, ...), and a valid Luhn check digit. */
static bool card_valid(const unsigned char *p, size_t n)
{
	size_t digits = 0, groups[20], ng = 0, run = 0;
	unsigned char sep = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(p[i])) {
			digits++;
			run++;
			continue;
		}
		if (sep && p[i] != sep)
			return false;
		sep = p[i];
		groups[ng++] = run;
		run = 0;
	}
	groups[ng++] = run;
	if (digits < 13 || digits > 19 || p[0] < '2' || p[0] > '6')
		return false;
	if (ng > 1) {
		bool fours = groups[0] == 4 && groups[ng - 1] >= 1 && groups[ng - 1] <= 4;
		for (size_t i = 1; i + 1 < ng; i++)
			fours &= groups[i] == 4;
		bool amex = ng == 3 && groups[0] == 4 && groups[1] == 6 &&
			    (groups[2] == 4 || groups[2] == 5);
		if (!fours && !amex)
			return false;
	}
	return anon_luhn_valid(p, n);
}

/* ---- the scan of one value ------------------------------------------------------------------ */

struct span {
	size_t lo, hi;  /* the value without blanks around it */
};

static bool whole_of(const struct span *v, size_t s, size_t e)
{
	return s <= v->lo && e >= v->hi;
}

static bool scan_email(const struct detectors *d, struct detect_scratch *s,
		       const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0;
	while (from < n && match(d, s, RE_EMAIL, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		if (!email_local_anonymized(p + ov[2], ov[3] - ov[2])) {
			*whole = whole_of(v, ov[0], ov[1]);
			return true;
		}
		from = ov[1];
	}
	return false;
}

static bool scan_phone(const struct detectors *d, struct detect_scratch *s,
		       const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0;
	while (from < n && match(d, s, RE_PHONE, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		size_t ms = ov[0], me = ov[1], k = count_digits(p + ms, me - ms);
		bool ok;
		if (ov[2] != PCRE2_UNSET) {        /* +E.164: 8 to 15 digits, a "(0)" aside */
			const unsigned char *z = memmem(p + ms, me - ms, "(0)", 3);
			ok = k - (z != NULL) >= 8 && k - (z != NULL) <= 15;
		} else if (ov[4] != PCRE2_UNSET) { /* NANP */
			ok = true;
		} else if (ov[6] != PCRE2_UNSET) { /* 00, a country code and a number: at most 15
						    * digits in all (16 is a card with 00 in front) */
			ok = k >= 10 && k <= 15;
		} else { /* 0 and a national number: 10 to 12 digits (9 is a ZIP+4 as often) */
			ok = k >= 10 && k <= 12;
		}
		if (ok) {
			*whole = whole_of(v, ms, me);
			return true;
		}
		from = ms + 1;
	}
	return false;
}

static bool scan_card(const struct detectors *d, struct detect_scratch *s,
		      const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0;
	while (from < n && match(d, s, RE_CARD, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		if (card_valid(p + ov[0], ov[1] - ov[0])) {
			*whole = whole_of(v, ov[0], ov[1]);
			return true;
		}
		from = ov[0] + 1;
	}
	return false;
}

static bool scan_ssn(const struct detectors *d, struct detect_scratch *s,
		     const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0;
	while (from < n && match(d, s, RE_SSN, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		if (ssn_valid(p + ov[2], p + ov[6], p + ov[8])) {
			*whole = whole_of(v, ov[0], ov[1]);
			return true;
		}
		from = ov[1];
	}
	return false;
}

/* An IBAN as printed (groups of four) or compact. The match may run on into a word of capitals
 * after it ("... 3000 EUR"): the country's length decides where it ends. */
static bool iban_at(const unsigned char *p, size_t n, size_t *end)
{
	char compact[40];
	size_t k = 0, i;
	int c = iban_country((const char *)p);
	if (c < 0)
		return false;
	size_t want = ibans[c].len;
	bool spaced = false;
	for (i = 0; i < n && k < want; i++) {
		if (p[i] == ' ') {
			/* printed form: a space after every fourth character */
			if (k % 4 != 0 || k == 0)
				return false;
			spaced = true;
			continue;
		}
		if (spaced && k % 4 == 0 && i > 0 && p[i - 1] != ' ')
			return false;
		compact[k++] = (char)p[i];
	}
	if (k != want || (i < n && p[i] != ' '))
		return false;
	*end = i;
	return iban_valid(compact, k);
}

static bool scan_iban(const struct detectors *d, struct detect_scratch *s,
		      const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0, end;
	while (from < n && match(d, s, RE_IBAN, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		if (iban_at(p + ov[0], ov[1] - ov[0], &end)) {
			*whole = whole_of(v, ov[0], ov[0] + end);
			return true;
		}
		from = ov[0] + 1;
	}
	return false;
}

static bool scan_ipv4(const struct detectors *d, struct detect_scratch *s,
		      const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0;
	while (from < n && match(d, s, RE_IPV4, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		if (p[ov[0]] != '0') { /* 0.0.0.0/8 names no host */
			*whole = whole_of(v, ov[0], ov[1]);
			return true;
		}
		from = ov[1];
	}
	return false;
}

static bool scan_ipv6(const struct detectors *d, struct detect_scratch *s,
		      const unsigned char *p, size_t n, const struct span *v, bool *whole)
{
	size_t from = 0;
	while (from < n && match(d, s, RE_IPV6, p, n, from) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		/* at least two groups, or an IPv4 tail: not "::", "::1" or "1::" */
		size_t groups = 0;
		bool in = false, dot = false;
		for (size_t i = ov[0]; i < ov[1]; i++) {
			bool hexd = p[i] != ':' && p[i] != '.';
			groups += hexd && !in;
			in = hexd;
			dot |= p[i] == '.';
		}
		if (groups >= 2 || dot) {
			*whole = whole_of(v, ov[0], ov[1]);
			return true;
		}
		from = ov[1];
	}
	return false;
}

/* Shapes the patterns need, cheaper to rule out in C than by running them: a phone number has
 * a '+', a group of exactly three digits, or a group that starts with 0; an SSN has a group of
 * two digits between two equal separators. */
static void shapes(const unsigned char *p, size_t n, bool *phone, bool *ssn)
{
	size_t run = 0;
	*phone = *ssn = false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && is_digit(p[i])) {
			if (run == 0 && p[i] == '0')
				*phone = true;
			run++;
			continue;
		}
		if (run == 3)
			*phone = true;
		if (i < n && p[i] == '+')
			*phone = true;
		if (i + 3 < n && (p[i] == '-' || p[i] == ' ') && run == 3 && is_digit(p[i + 1]) &&
		    is_digit(p[i + 2]) && p[i + 3] == p[i])
			*ssn = true;
		run = 0;
	}
}

unsigned detect_pii(const struct detectors *d, struct detect_scratch *s, unsigned kinds,
		    const unsigned char *p, size_t n, unsigned *whole)
{
	size_t digits = 0, upper = 0, ats = 0, dots = 0, colons = 0, i = 0;
	while (i < n) {
		size_t end = n - i > 4095 ? i + 4095 : n;
		uint64_t acc = 0;
		for (; i < end; i++)
			acc += d->lanes[p[i]];
		digits += LANE(acc, L_DIGIT);
		upper += LANE(acc, L_UPPER);
		ats += LANE(acc, L_AT);
		dots += LANE(acc, L_DOT);
		colons += LANE(acc, L_COLON);
	}
	struct span v = { 0, n };
	while (v.lo < v.hi && (p[v.lo] == ' ' || p[v.lo] == '\t'))
		v.lo++;
	while (v.hi > v.lo && (p[v.hi - 1] == ' ' || p[v.hi - 1] == '\t'))
		v.hi--;
	unsigned found = 0, all = 0;
	bool w = false;
#define TRY(kind, cond, fn)                                                                     \
	if ((kinds & (1u << (kind))) && (cond) && fn(d, s, p, n, &v, &w)) {                     \
		found |= 1u << (kind);                                                           \
		all |= w ? 1u << (kind) : 0;                                                     \
	}
	bool phone = (kinds & (1u << PII_PHONE)) && (digits >= 9 || (digits == 8 && memchr(p, '+', n)));
	bool ssn = (kinds & (1u << PII_SSN)) && digits >= 9 && n >= 11;
	if (phone || ssn) { /* their shapes, in C: most numbers have neither */
		bool ph, sn;
		shapes(p, n, &ph, &sn);
		phone &= ph;
		ssn &= sn;
	}
	TRY(PII_EMAIL, ats && n >= 6, scan_email);
	TRY(PII_PHONE, phone, scan_phone);
	TRY(PII_CARD, digits >= 13, scan_card);
	TRY(PII_SSN, ssn, scan_ssn);
	TRY(PII_IBAN, upper >= 2 && digits >= 6 && n >= 15, scan_iban);
	TRY(PII_IP, colons >= 2, scan_ipv6); /* first: ::ffff:192.0.2.1 is one address */
	if (!(found & (1u << PII_IP))) {
		TRY(PII_IP, dots >= 3 && digits >= 4, scan_ipv4);
	}
#undef TRY
	if (whole)
		*whole = all;
	return found;
}

bool detect_name(const struct detectors *d, struct detect_scratch *s, const unsigned char *p,
		 size_t n)
{
	if (n < 2 || n > 100 || !d->re[RE_NAME] || !anon_utf8_valid(p, n))
		return false; /* the JIT matches UTF-8 without checking it */
	for (size_t i = 0; i < n; i++)
		if (is_digit(p[i]) || p[i] == '@')
			return false;
	return match(d, s, RE_NAME, p, n, 0) > 0 || match(d, s, RE_NAME_CJK, p, n, 0) > 0;
}
