/* token_codec.c: token bodies (base32 as RFC 4648 writes it, digits and alnum without bias
 * by rejection), base64url both ways and its strictness (the table decoder as the
 * per-symbol one was, on every byte value), rules and their checks, --ttl, and
 * the two maps of the vault mode (bounded cache, chunk map). */
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "tap.h"

/* A byte source over a fixed string, then zeros. */
struct fixed {
	struct tok_bytes b;
	const unsigned char *s;
	size_t n;
	unsigned char zeros[64];
};

static void fixed_refill(struct tok_bytes *b)
{
	struct fixed *f = b->arg;
	b->p = f->zeros;
	b->n = sizeof f->zeros;
	b->pos = 0;
}

static const char *body(enum tok_format fmt, size_t len, bool nlz, const void *s, size_t n)
{
	static char out[512];
	struct fixed f = { .s = s, .n = n };
	memset(f.zeros, 0, sizeof f.zeros);
	f.b.p = s;
	f.b.n = n;
	f.b.refill = fixed_refill;
	f.b.arg = &f;
	struct anon_buf o = {0};
	tok_body(fmt, len, nlz, &f.b, &o);
	memcpy(out, o.p, o.len);
	out[o.len] = 0;
	anon_buf_free(&o);
	return out;
}

static void bodies(void)
{
	ok(strcmp(body(FMT_BASE32, 9, false, "foobar", 6), "MZXW6YTBO") == 0,
	   "base32 takes 5 bits a symbol as RFC 4648 does (foobar -> MZXW6YTBO...)");
	ok(strcmp(body(FMT_DIGITS, 3, false, "\xfa\xff\x07\x0d\x63", 5), "739") == 0,
	   "digits: bytes 250..255 are dropped, the rest taken mod 10");
	ok(strcmp(body(FMT_DIGITS, 2, true, "\x00\x0a\x03\x00", 4), "30") == 0,
	   "digits without a leading zero skip 0 only at the start");
	ok(strcmp(body(FMT_ALNUM, 3, false, "\xf8\x00\x3d\x3e", 4), "0Z0") == 0,
	   "alnum: bytes 248..255 are dropped, the rest taken mod 62 (0-9a-zA-Z)");
	/* uniform bytes give uniform symbols: a count over every byte value */
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	const char *d = body(FMT_DIGITS, 250, false, all, 256);
	int counts[10] = {0};
	for (int i = 0; i < 250; i++)
		counts[d[i] - '0']++;
	bool even = true;
	for (int i = 0; i < 10; i++)
		even &= counts[i] == 25;
	ok(even, "digits: each of 250 kept byte values gives each digit 25 times");
}

static void base64url(void)
{
	struct anon_buf o = {0};
	tok_b64url_encode((const unsigned char *)"foobar", 6, &o);
	tok_b64url_encode((const unsigned char *)"fo", 2, &o);
	tok_b64url_encode((const unsigned char *)"\xfb\xff", 2, &o);
	ok(o.len == 8 + 3 + 3 && memcmp(o.p, "Zm9vYmFyZm8-_8", 14) == 0,
	   "base64url without padding, - and _ for 62 and 63");
	anon_buf_free(&o);
	unsigned char out[16];
	ok(tok_b64url_decode((const unsigned char *)"Zm9vYmFy", 8, out) == 6 &&
	   memcmp(out, "foobar", 6) == 0, "decodes");
	ok(tok_b64url_decode((const unsigned char *)"Zm8", 3, out) == 2, "decodes a short tail");
	ok(tok_b64url_decode((const unsigned char *)"Zm9", 3, out) == (size_t)-1,
	   "refuses a tail whose unused bits are not zero (one text per value)");
	ok(tok_b64url_decode((const unsigned char *)"Zm9v=", 5, out) == (size_t)-1,
	   "refuses padding");
	ok(tok_b64url_decode((const unsigned char *)"Zm+v", 4, out) == (size_t)-1,
	   "refuses + (base64, not base64url)");
	ok(tok_b64url_decode((const unsigned char *)"Zm9vY", 5, out) == (size_t)-1,
	   "refuses a length of 1 mod 4");
	ok(tok_value_chars((const unsigned char *)"Zo\xc3\xab", 4) == 3 &&
	   tok_value_chars((const unsigned char *)"Zo\xeb", 3) == 3,
	   "characters: UTF-8 code points, else bytes");
}

/* The decoder as it was, a branch per symbol: the table-driven one must agree with it on
 * every input. */
static int old_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static size_t old_decode(const unsigned char *s, size_t n, unsigned char *out)
{
	if (n % 4 == 1)
		return (size_t)-1;
	size_t k = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = old_b64val(s[i]);
		if (v < 0)
			return (size_t)-1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			out[k++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return (size_t)-1;
	return k;
}

static bool decodes_alike(const unsigned char *s, size_t n)
{
	unsigned char a[64], b[64];
	size_t ka = tok_b64url_decode(s, n, a), kb = old_decode(s, n, b);
	return ka == kb && (ka == (size_t)-1 || memcmp(a, b, ka) == 0);
}

static void base64url_table(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	/* every byte value at every place of texts of 0 to 9 symbols, among symbols whose
	 * unused bits are zero (A) or not (_), so each kind of tail is met */
	int differ = 0, tried = 0;
	for (int c = 0; c < 256; c++)
		for (size_t n = 1; n <= 9; n++)
			for (size_t at = 0; at < n; at++)
				for (int fill = 0; fill < 2; fill++) {
					unsigned char s[9];
					memset(s, fill ? '_' : 'A', n);
					s[at] = (unsigned char)c;
					differ += !decodes_alike(s, n);
					tried++;
				}
	differ += !decodes_alike((const unsigned char *)"", 0);
	ok(differ == 0, "all 256 byte values, at every place of 1..9 symbols: as the old decoder "
	   "(%d of %d differ)", differ, tried + 1);
	int wrong = 0;
	unsigned char out[8];
	for (int c = 0; c < 256; c++) {
		unsigned char s[4] = { 'A', 'A', 'A', (unsigned char)c };
		bool in = c != 0 && memchr(alphabet, c, 64) != NULL;
		size_t k = tok_b64url_decode(s, 4, out);
		wrong += in ? k != 3 || out[2] != (unsigned char)(strchr(alphabet, c) - alphabet)
			    : k != (size_t)-1;
	}
	ok(wrong == 0, "exactly the 64 symbols of base64url are taken, with their values");
	/* random texts over the alphabet and a few bytes outside it */
	uint32_t x = 12345;
	differ = 0;
	for (int i = 0; i < 20000; i++) {
		unsigned char s[40];
		size_t n = (size_t)(i % 41);
		for (size_t j = 0; j < n; j++) {
			x = x * 1103515245 + 12345;
			unsigned r = (x >> 16) % 70;
			s[j] = r < 64 ? (unsigned char)alphabet[r] : (unsigned char)"=+/\n\0\xff"[r - 64];
		}
		differ += !decodes_alike(s, n);
	}
	ok(differ == 0, "20000 random texts of 0..40 bytes: as the old decoder (%d differ)", differ);
	/* what the encoder writes comes back */
	struct anon_buf o = {0};
	unsigned char v[300], back[300];
	int round = 0;
	for (size_t n = 0; n <= 300; n++) {
		for (size_t j = 0; j < n; j++)
			v[j] = (unsigned char)(j * 151 + n);
		o.len = 0;
		tok_b64url_encode(v, n, &o);
		round += tok_b64url_decode(o.p, o.len, back) == n && memcmp(back, v, n) == 0;
	}
	anon_buf_free(&o);
	ok(round == 301, "encode then decode is the identity for 0..300 bytes (%d)", round);
}

static struct tok_rule defaults(void)
{
	struct tok_rule d;
	memset(&d, 0, sizeof d);
	strcpy(d.prefix, "tok_");
	d.context = (char *)"";
	return d;
}

static bool parses(const char *text, struct tok_rule *r, bool detok)
{
	struct tok_rule d = defaults();
	char err[200];
	if (!tok_rule_parse(text, &d, r, err, sizeof err))
		return false;
	if (!tok_rule_check(r, detok, err, sizeof err)) {
		tok_rule_clear(r);
		return false;
	}
	tok_rule_finish(r);
	return true;
}

static void rules(void)
{
	struct tok_rule r;
	ok(parses(NULL, &r, false) && r.mode == MODE_KEYED && r.format == FMT_BASE32 &&
	   r.length == 26 && strcmp(r.prefix, "tok_") == 0, "default: keyed, base32, 26, tok_");
	tok_rule_clear(&r);
	ok(parses("vault:digits,keep-length", &r, false) && r.mode == MODE_VAULT &&
	   r.format == FMT_DIGITS && r.keep_length && r.prefix[0] == 0,
	   "vault:digits,keep-length has no prefix");
	tok_rule_clear(&r);
	ok(parses("digits,length=12,prefix=,context=orders", &r, false) && r.mode == MODE_KEYED &&
	   r.length == 12 && r.prefix[0] == 0 && strcmp(r.context, "orders") == 0,
	   "parameters alone keep the mode of the options");
	tok_rule_clear(&r);
	ok(parses("siv", &r, true) && r.format == FMT_BASE64URL, "siv is base64url");
	tok_rule_clear(&r);
	ok(parses("prefix=urn:x:", &r, false) && strcmp(r.prefix, "urn:x:") == 0,
	   "a prefix may hold colons");
	tok_rule_clear(&r);
	ok(tok_default_length(FMT_DIGITS) == 39 && tok_default_length(FMT_ALNUM) == 22,
	   "default lengths hold 128 bits");
	ok(!parses("keyed", &r, true), "keyed tokens do not detokenize");
	ok(!parses("siv:length=10", &r, false), "siv takes no length");
	ok(!parses("siv:digits", &r, false), "siv takes no format");
	ok(!parses("keyed:keep-length", &r, false), "keep-length is vault only");
	ok(!parses("vault:keep-length,length=5", &r, false), "keep-length or length");
	ok(!parses("vault:keep-length,prefix=x", &r, false), "keep-length and a prefix");
	ok(!parses("vault:length=0", &r, false) && !parses("vault:length=257", &r, false) &&
	   !parses("vault:length=1x", &r, false), "length from 1 to 256");
	ok(!parses("prefix=a\tb", &r, false) && !parses("prefix=\xff", &r, false),
	   "a prefix is printable UTF-8");
	ok(!parses("vault:hex", &r, false) && !parses("vault:digits,", &r, false) &&
	   !parses("vault:,digits", &r, false), "unknown or empty parameters");

	/* a column that names siv leaves the options' shape behind */
	struct tok_rule d = defaults(), c;
	char err[200];
	d.mode = MODE_VAULT;
	d.format = FMT_DIGITS;
	d.format_set = d.keep_length = true;
	d.prefix[0] = 0;
	ok(tok_rule_parse("siv", &d, &c, err, sizeof err) && tok_rule_check(&c, false, err, 200),
	   "-c x=siv with --token-format digits --keep-length given for vault columns");
	tok_rule_clear(&c);

	int64_t s;
	ok(tok_parse_ttl("30d", &s) && s == 30 * 86400, "--ttl 30d");
	ok(tok_parse_ttl("90m", &s) && s == 5400 && tok_parse_ttl("3600", &s) && s == 3600 &&
	   tok_parse_ttl("2w", &s) && s == 14 * 86400 && tok_parse_ttl("12h", &s) && s == 43200,
	   "--ttl with m, no unit, w, h");
	ok(!tok_parse_ttl("0d", &s) && !tok_parse_ttl("-1d", &s) && !tok_parse_ttl("d", &s) &&
	   !tok_parse_ttl("1y", &s) && !tok_parse_ttl("99999999w", &s) && !tok_parse_ttl("", &s),
	   "--ttl refuses 0, negatives, units alone, unknown units, more than a century");
}

static void maps(void)
{
	struct fpcache c;
	fpcache_init(&c, 3000, 0);
	unsigned char fp[FP_LEN] = {0};
	bool all = true;
	for (uint32_t i = 0; i < 3000; i++) {
		memcpy(fp, &i, sizeof i);
		all &= fpcache_put(&c, fp, (const unsigned char *)"tok", 3, i);
	}
	bool found = true;
	for (uint32_t i = 0; i < 3000; i++) {
		memcpy(fp, &i, sizeof i);
		const struct fpentry *e = fpcache_get(&c, fp);
		found &= e && e->expires == i && memcmp(fpcache_token(&c, e), "tok", 3) == 0;
	}
	ok(all && found && c.resets == 0, "the cache grows to its bound and finds every entry");
	uint32_t i = 3000;
	memcpy(fp, &i, sizeof i);
	fpcache_put(&c, fp, (const unsigned char *)"new", 3, 0);
	i = 5;
	memcpy(fp, &i, sizeof i);
	ok(c.n == 1 && c.resets == 1 && !fpcache_get(&c, fp), "one more starts it again empty");
	i = 3000;
	memcpy(fp, &i, sizeof i);
	fpcache_put(&c, fp, (const unsigned char *)"newer", 5, 7);
	const struct fpentry *e = fpcache_get(&c, fp);
	ok(c.n == 1 && e && e->len == 5 && e->expires == 7, "a put of a known entry replaces it");
	fpcache_free(&c);

	/* probe and confirm find what get finds, also when two fingerprints share slot and tag
	 * (bytes 0-11) and the probe's guess is the other's entry */
	fpcache_init(&c, 100, 0);
	unsigned char a[FP_LEN], b[FP_LEN], absent[FP_LEN];
	memset(a, 0x5a, sizeof a);
	memcpy(b, a, sizeof b);
	b[12] ^= 1;
	memcpy(absent, a, sizeof absent);
	absent[13] ^= 1;
	fpcache_put(&c, a, (const unsigned char *)"ta", 2, 0);
	fpcache_put(&c, b, (const unsigned char *)"tb", 2, 0);
	const struct fpentry *ga = fpcache_probe(&c, a), *gb = fpcache_probe(&c, b);
	ok(ga && ga == gb, "a probe guesses by slot and tag: the same entry for both");
	ok(fpcache_confirm(&c, a, ga) == fpcache_get(&c, a), "confirm keeps a right guess");
	e = fpcache_confirm(&c, b, gb);
	ok(e && e == fpcache_get(&c, b) && memcmp(fpcache_token(&c, e), "tb", 2) == 0,
	   "and looks again past a wrong one");
	ok(!fpcache_confirm(&c, absent, fpcache_probe(&c, absent)), "a fingerprint not there");
	memset(absent, 0xa5, sizeof absent);
	ok(!fpcache_probe(&c, absent) && !fpcache_confirm(&c, absent, NULL),
	   "nor one whose slot is empty");
	fpcache_free(&c);

	struct vmap m = {0};
	bool added, fine = true;
	char k[16];
	for (int n = 0; n < 5000; n++) {
		snprintf(k, sizeof k, "v%d", n);
		struct ventry *v = vmap_get(&m, (uint32_t)(n % 3), (const unsigned char *)k,
					    strlen(k), &added);
		fine &= added;
		v->roff = vmap_store(&m, k, strlen(k));
		v->rlen = (uint32_t)strlen(k);
	}
	for (int n = 0; n < 5000; n++) {
		snprintf(k, sizeof k, "v%d", n);
		const struct ventry *v = vmap_find(&m, (uint32_t)(n % 3), (const unsigned char *)k,
						   strlen(k));
		fine &= v && v->rlen == strlen(k) && memcmp(vmap_bytes(&m, v->roff), k, v->rlen) == 0;
		fine &= !vmap_find(&m, (uint32_t)(n % 3 + 1), (const unsigned char *)k, strlen(k));
	}
	vmap_get(&m, 0, (const unsigned char *)"v0", 2, &added);
	ok(fine && !added && m.n == 5000, "the chunk map keys on (class, bytes)");
	vmap_reset(&m);
	ok(m.n == 0 && !vmap_find(&m, 0, (const unsigned char *)"v0", 2), "and resets per chunk");
	vmap_free(&m);
}

int main(void)
{
	bodies();
	base64url();
	base64url_table();
	rules();
	maps();
	return tap_done();
}
