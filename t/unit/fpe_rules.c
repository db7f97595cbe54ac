/* fpe_rules.c: the rules applied to whole values: alphabets with characters kept in place,
 * round trips of random values of every alphabet and length, hex case, Unicode alphabets,
 * luhn and luhn-fail, range: as a permutation, small ranges' tables against the cycle-walk
 * they cache, --match groups, and refusals. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fpe.h"
#include "tap.h"

static uint64_t rng_state = 0x2545f4914f6cdd1du;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static struct fpe_cipher cipher_ff1, cipher_ff3;
static struct fpe_work work_ff1, work_ff3;  /* what a worker thread would own */
static const unsigned char tweak7[7] = { 1, 2, 3, 4, 5, 6, 7 };

static struct fpe_work *work_for(const struct fpe_rule *r)
{
	return r->cipher == &cipher_ff1 ? &work_ff1 : &work_ff3;
}

/* A rule ready to run with a fixed tweak (NULL: the algorithm's default), or NULL after a
 * failed ok(). per_row: values come with their own tweak (--tweak-column). */
static struct fpe_rule *rule_new_tweak(const char *text, enum fpe_algo algo, bool decrypt,
				       const char *match, const unsigned char *tweak, size_t tlen,
				       bool per_row)
{
	struct fpe_rule *r = malloc(sizeof *r);
	const char *why = fpe_rule_parse(r, text);
	if (!why && match)
		why = fpe_rule_set_match(r, match);
	if (!why) {
		r->cipher = algo == FPE_FF1 ? &cipher_ff1 : &cipher_ff3;
		if (!tweak) {
			tweak = algo == FPE_FF1 ? NULL : tweak7;
			tlen = algo == FPE_FF1 ? 0 : 7;
		}
		r->tweak = tweak;
		r->tlen = tlen;
		r->tweak_per_row = per_row;
		r->decrypt = decrypt;
		why = fpe_rule_prepare(r);
	}
	if (why) {
		ok(0, "rule %s: %s", text ? text : "(default)", why);
		free(r);
		return NULL;
	}
	return r;
}

static struct fpe_rule *rule_new(const char *text, enum fpe_algo algo, bool decrypt,
				 const char *match)
{
	return rule_new_tweak(text, algo, decrypt, match, NULL, 0, false);
}

static void rule_del(struct fpe_rule *r)
{
	if (r) {
		fpe_rule_free(r);
		free(r);
	}
}

/* Apply to a C string; returns a malloc'ed result or NULL with *why set. */
static char *apply(struct fpe_rule *r, const char *in, const char **why)
{
	struct anon_buf out = { 0 };
	*why = fpe_rule_apply(r, work_for(r), NULL, 0, (const unsigned char *)in, strlen(in), &out);
	if (*why) {
		anon_buf_free(&out);
		return NULL;
	}
	anon_buf_addc(&out, 0);
	return (char *)out.p;
}

static void test_keep_in_place(void)
{
	struct fpe_rule *e = rule_new("digits", FPE_FF1, false, NULL);
	struct fpe_rule *d = rule_new("digits", FPE_FF1, true, NULL);
	const char *why;
	char *c = apply(e, "4111-1111-1111-1111", &why);
	ok(c && strlen(c) == 19 && c[4] == '-' && c[9] == '-' && c[14] == '-' &&
	   strcmp(c, "4111-1111-1111-1111") != 0, "dashes stay in place: %s", c ? c : why);
	char *p = c ? apply(d, c, &why) : NULL;
	ok(p && strcmp(p, "4111-1111-1111-1111") == 0, "and decrypt restores the card");
	/* the dashes do not change the digits' ciphertext: n counts only digits */
	char *c2 = apply(e, "4111111111111111", &why);
	ok(c && c2 && c2[0] == c[0] && c2[4] == c[5], "separators are not part of the numeral string");
	free(c), free(p), free(c2);

	c = apply(e, "12345", &why);
	ok(!c && why && strstr(why, "domain too small"), "5 digits refused: %s", why ? why : "");
	c = apply(e, "ab-12345-cd", &why);
	ok(!c && why, "5 digits among letters refused");
	c = apply(e, "x123456y", &why);
	ok(c && c[0] == 'x' && c[7] == 'y', "6 digits among letters accepted: %s", c ? c : why);
	free(c);
	rule_del(e), rule_del(d);

	e = rule_new("digits", FPE_FF3_1, false, NULL);
	char long57[58];
	memset(long57, '7', 57);
	long57[57] = 0;
	c = apply(e, long57, &why);
	ok(!c && why && strstr(why, "too long"), "FF3-1 refuses 57 digits: %s", why ? why : "");
	long57[56] = 0;
	c = apply(e, long57, &why);
	ok(c != NULL, "FF3-1 takes 56 digits");
	free(c);
	rule_del(e);
}

/* Random strings over the alphabet, with a separator sprinkled in, for each length. */
static void roundtrip(const char *rule, enum fpe_algo algo, size_t top)
{
	/* long alphabets are named by their size in the test output */
	char label[64];
	if (strlen(rule) > 40)
		snprintf(label, sizeof label, "alphabet:(%zu code points)",
			 anon_utf8_count((const unsigned char *)rule + 9, strlen(rule) - 9));
	else
		snprintf(label, sizeof label, "%s", rule);
	struct fpe_rule *e = rule_new(rule, algo, false, NULL), *d = rule_new(rule, algo, true, NULL);
	if (!e || !d)
		return;
	const struct fpe_alphabet *a = &e->alpha;
	size_t minlen = fpe_minlen(a->radix), maxlen = fpe_maxlen(algo, a->radix);
	if (top > maxlen)
		top = maxlen;
	long runs = 0, bad = 0;
	for (size_t n = minlen; n <= top; n++) {
		for (int rep = 0; rep < 5; rep++) {
			struct anon_buf in = { 0 }, enc = { 0 }, dec = { 0 };
			for (size_t i = 0; i < n; i++) {
				unsigned char u[4];
				anon_buf_add(&in, u, anon_utf8_encode(a->cps[rnd() % a->radix], u));
				if (rnd() % 8 == 0 && fpe_alphabet_find(a, ' ') < 0)
					anon_buf_addc(&in, ' ');
			}
			runs++;
			const char *why = fpe_rule_apply(e, work_for(e), NULL, 0, in.p, in.len, &enc);
			if (!why)
				why = fpe_rule_apply(d, work_for(d), NULL, 0, enc.p, enc.len, &dec);
			if (why || dec.len != in.len || memcmp(dec.p, in.p, in.len)) {
				if (bad++ < 3)
					printf("# %s n=%zu: %s\n", label, n, why ? why : "mismatch");
			}
			anon_buf_free(&in), anon_buf_free(&enc), anon_buf_free(&dec);
		}
	}
	ok(bad == 0, "%s %s: %ld round trips of lengths %zu..%zu, %ld failures", label,
	   algo == FPE_FF1 ? "FF1" : "FF3-1", runs, minlen, top, bad);
	rule_del(e), rule_del(d);
}

static void test_alphabets(void)
{
	static const char *rules[] = { "digits", "hex", "lower", "upper", "alpha", "alnum",
				       "alphabet:01", "alphabet:ACGT", "alphabet:αβγδεζηθικλμ",
				       "alphabet:0123456789ÀÉÎÕÜ", "alphabet:😀😁😂😃😄😅😆😇😈😉" };
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		roundtrip(rules[i], FPE_FF1, 70);
		roundtrip(rules[i], FPE_FF3_1, 200);
	}
	struct fpe_rule r;
	ok(fpe_rule_parse(&r, "alphabet:abca") != NULL, "duplicate symbol refused");
	ok(fpe_rule_parse(&r, "alphabet:ééa") != NULL, "duplicate non-ASCII symbol refused");
	ok(fpe_rule_parse(&r, "alphabet:a") != NULL, "one-symbol alphabet refused");
	ok(fpe_rule_parse(&r, "alphabet:\xff\xfe") != NULL, "invalid UTF-8 alphabet refused");
	ok(fpe_rule_parse(&r, "bogus") != NULL, "unknown rule refused");
	ok(fpe_rule_parse(&r, "alnum") == NULL && r.alpha.radix == 62 && r.alpha.cps[10] == 'a' &&
	   r.alpha.cps[36] == 'A', "alnum is 0-9a-zA-Z");
	fpe_rule_free(&r);
	/* radix 65536: U+0001 up, skipping surrogates, into the astral planes */
	struct anon_buf big = { 0 };
	for (uint32_t cp = 1, k = 0; k < 65536; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		unsigned char u[4];
		anon_buf_add(&big, u, anon_utf8_encode(cp, u));
		k++;
	}
	anon_buf_addc(&big, 0);
	char *text = malloc(big.len + 9);
	strcpy(text, "alphabet:");
	strcat(text, (char *)big.p + 0);
	roundtrip(text, FPE_FF1, 12);
	roundtrip(text, FPE_FF3_1, 12);
	free(text);
	anon_buf_free(&big);
}

static bool all_digits(const char *s)
{
	return s && *s && strspn(s, "0123456789") == strlen(s);
}

/* Random hex values of length n in one case (or only digits), until one encrypts under e to
 * digits alone, the case that decrypting cannot read back from the ciphertext; NULL after
 * many tries. The result is malloc'ed; *ct gets its ciphertext. */
static char *find_digits_ciphertext(struct fpe_rule *e, const char *digits16, size_t n,
				    char **ct)
{
	for (int tries = 0; tries < 20000; tries++) {
		char v[17];
		for (size_t k = 0; k < n; k++)
			v[k] = digits16[rnd() % 16];
		v[n] = 0;
		const char *why;
		char *c = apply(e, v, &why);
		if (all_digits(c)) {
			*ct = c;
			return strdup(v);
		}
		free(c);
	}
	return NULL;
}

static void test_hex_case(void)
{
	struct fpe_rule *e = rule_new("hex", FPE_FF1, false, NULL);
	struct fpe_rule *d = rule_new("hex", FPE_FF1, true, NULL);
	struct fpe_rule *ue = rule_new("hex:upper", FPE_FF1, false, NULL);
	struct fpe_rule *ud = rule_new("hex:upper", FPE_FF1, true, NULL);
	struct fpe_rule *le = rule_new("hex:lower", FPE_FF1, false, NULL);
	struct fpe_rule *ld = rule_new("hex:lower", FPE_FF1, true, NULL);
	if (!e || !d || !ue || !ud || !le || !ld)
		goto out;
	const char *why;
	char *lower = apply(e, "deadbeef00", &why), *upper = apply(e, "DEADBEEF00", &why);
	bool up = upper != NULL, low = lower != NULL;
	for (size_t i = 0; upper && upper[i]; i++)
		up = up && !(upper[i] >= 'a' && upper[i] <= 'f');
	for (size_t i = 0; lower && lower[i]; i++)
		low = low && !(lower[i] >= 'A' && lower[i] <= 'F');
	ok(up && low && strcasecmp(lower, upper) == 0,
	   "hex reads either case and answers in the input's case");
	char *back = upper ? apply(d, upper, &why) : NULL;
	ok(back && strcmp(back, "DEADBEEF00") == 0, "upper-case hex decrypts back");
	free(back);
	/* hex:upper and hex:lower have hex's numerals: the same ciphertexts in their case */
	char *u = apply(ue, "DEADBEEF00", &why), *l = apply(le, "deadbeef00", &why);
	ok(u && upper && strcmp(u, upper) == 0, "hex:upper encrypts as hex does an upper-case "
	   "value (%s)", u ? u : why);
	ok(l && lower && strcmp(l, lower) == 0, "hex:lower encrypts as hex does a lower-case "
	   "value (%s)", l ? l : why);
	free(lower), free(upper), free(u), free(l);

	char *c = apply(e, "DEADbeef00", &why);
	ok(!c && why && strstr(why, "upper- and lower-case"), "hex refuses a value in both cases: "
	   "%s", why ? why : c);
	free(c);
	c = apply(ue, "DEADBEEf00", &why);
	ok(!c && why && strstr(why, "hex:upper: a lower-case"), "hex:upper refuses a lower-case "
	   "letter: %s", why ? why : c);
	free(c);
	c = apply(ud, "0123abcdef", &why);
	ok(!c && why, "hex:upper refuses it when decrypting too");
	free(c);
	c = apply(le, "deadbeeF00", &why);
	ok(!c && why && strstr(why, "hex:lower: an upper-case"), "hex:lower refuses an upper-case "
	   "letter: %s", why ? why : c);
	free(c);
	c = apply(ue, "G-xyz-123456", &why);
	ok(c && strncmp(c, "G-xyz-", 6) == 0, "letters past f are outside the alphabet, in any "
	   "case: %s", c ? c : why);
	free(c);

	/* A ciphertext without letters: only the rule can say which case it decrypts to. */
	char *ct = NULL, *pt = find_digits_ciphertext(ue, "0123456789ABCDEF", 8, &ct);
	ok(pt != NULL, "an upper-case value whose ciphertext is digits only: %s -> %s",
	   pt ? pt : "none", ct ? ct : "");
	if (pt) {
		back = apply(ud, ct, &why);
		ok(back && strcmp(back, pt) == 0, "hex:upper decrypts it back exactly (%s)",
		   back ? back : why);
		free(back);
		back = apply(d, ct, &why);
		ok(back && strcasecmp(back, pt) == 0 && (strcmp(back, pt) != 0) ==
		   (strpbrk(pt, "ABCDEF") != NULL), "plain hex decrypts it to lower case (%s)",
		   back ? back : why);
		free(back);
	}
	free(pt), free(ct);
	ct = NULL;
	pt = find_digits_ciphertext(le, "0123456789abcdef", 8, &ct);
	ok(pt != NULL, "a lower-case value whose ciphertext is digits only: %s -> %s",
	   pt ? pt : "none", ct ? ct : "");
	if (pt) {
		back = apply(ld, ct, &why);
		ok(back && strcmp(back, pt) == 0, "hex:lower decrypts it back exactly");
		free(back);
		back = apply(d, ct, &why);
		ok(back && strcmp(back, pt) == 0, "and so does plain hex");
		free(back);
	}
	free(pt), free(ct);

	/* Many values of each rule's own case (and digits alone) round trip exactly. */
	static const struct {
		const char *rule, *symbols;
	} cases[] = {
		{ "hex:upper", "0123456789ABCDEF" }, { "hex:lower", "0123456789abcdef" },
		{ "hex:upper", "0123456789" }, { "hex:lower", "0123456789" }, { "hex", "0123456789" },
		{ "hex", "0123456789abcdef" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fpe_rule *ce = rule_new(cases[i].rule, FPE_FF1, false, NULL);
		struct fpe_rule *cd = rule_new(cases[i].rule, FPE_FF1, true, NULL);
		long bad = 0, digit_cts = 0;
		size_t ns = strlen(cases[i].symbols);
		for (int k = 0; ce && cd && k < 3000; k++) {
			char v[12];
			size_t n = 5 + (size_t)(rnd() % 7);
			for (size_t j = 0; j < n; j++)
				v[j] = cases[i].symbols[rnd() % ns];
			v[n] = 0;
			char *x = apply(ce, v, &why), *y = x ? apply(cd, x, &why) : NULL;
			bad += !y || strcmp(y, v) != 0;
			digit_cts += all_digits(x);
			free(x), free(y);
		}
		ok(ce && cd && bad == 0 && digit_cts > 0, "%s on values of %s: 3000 exact round trips "
		   "(%ld ciphertexts without letters), %ld failures", cases[i].rule, cases[i].symbols,
		   digit_cts, bad);
		rule_del(ce), rule_del(cd);
	}
out:
	rule_del(e), rule_del(d), rule_del(ue), rule_del(ud), rule_del(le), rule_del(ld);
}

/* Parse errors name what was wrong and the choices. */
static void test_parse_messages(void)
{
	static const struct {
		const char *rule, *want[3];
	} cases[] = {
		{ "bogus", { "unknown rule \"bogus\"", "hex[:lower|upper]", "range:LO..HI" } },
		{ "bogus:1", { "unknown rule \"bogus\"", "luhn-fail", NULL } },
		{ "hex:UPPER", { "hex: unknown parameter \"UPPER\"", "(lower, upper)", NULL } },
		{ "hex:", { "hex: unknown parameter \"\"", NULL, NULL } },
		{ "digits:x", { "digits: unknown parameter \"x\"", "takes none", NULL } },
		{ "luhn:7", { "luhn: unknown parameter \"7\"", NULL, NULL } },
		{ "luhn-fail:x", { "luhn-fail: unknown parameter \"x\"", NULL, NULL } },
		{ "alnum:x", { "alnum: unknown parameter", NULL, NULL } },
		{ "alphabet", { "alphabet needs its characters: alphabet:CHARS", NULL, NULL } },
		{ "range", { "range needs its bounds: range:LO..HI", NULL, NULL } },
		{ "range:1", { "range: expects LO..HI", NULL, NULL } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fpe_rule r;
		const char *why = fpe_rule_parse(&r, cases[i].rule);
		bool good = why != NULL;
		for (int k = 0; k < 3 && good && cases[i].want[k]; k++)
			good = strstr(why, cases[i].want[k]) != NULL;
		ok(good, "rule \"%s\": %s", cases[i].rule, why ? why : "accepted");
		fpe_rule_free(&r);
	}
	static const char *good[] = { "digits", "hex", "hex:lower", "hex:upper", "lower", "upper",
				      "alpha", "alnum", "alphabet:01", "luhn", "luhn-fail",
				      "range:1..9" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct fpe_rule r;
		const char *why = fpe_rule_parse(&r, good[i]);
		/* every rule is in the list that messages and --help give */
		char head[16];
		snprintf(head, sizeof head, "%.*s", (int)strcspn(good[i], ":"), good[i]);
		ok(!why && strstr(fpe_rule_names, head), "rule \"%s\" accepted and listed (%s)",
		   good[i], why ? why : r.name);
		fpe_rule_free(&r);
	}
	struct fpe_rule r;
	ok(!fpe_rule_parse(&r, "hex:upper") && strcmp(r.name, "hex:upper") == 0 &&
	   strcmp(r.alpha.text, "0123456789ABCDEF") == 0, "hex:upper names itself and its "
	   "alphabet for the audit record");
	fpe_rule_free(&r);
}

static bool luhn_ok(const char *s)
{
	return anon_luhn_valid((const unsigned char *)s, strlen(s));
}

static void test_luhn(void)
{
	struct fpe_rule *e = rule_new("luhn", FPE_FF1, false, NULL);
	struct fpe_rule *d = rule_new("luhn", FPE_FF1, true, NULL);
	struct fpe_rule *fe = rule_new("luhn-fail", FPE_FF1, false, NULL);
	struct fpe_rule *fd = rule_new("luhn-fail", FPE_FF1, true, NULL);
	long valid = 0, bad_valid = 0, bad_fail = 0, bad_back = 0, bad_fail_back = 0, invalid = 0;
	long bad_invalid = 0;
	for (int i = 0; i < 2000; i++) {
		char card[20];
		size_t n = 13 + (size_t)(rnd() % 7);
		for (size_t k = 0; k < n; k++)
			card[k] = (char)('0' + rnd() % 10);
		card[n] = 0;
		bool was_valid = luhn_ok(card);
		if (i % 2 == 0 && !was_valid) {  /* half the time, make it a valid card number */
			for (char c = '0'; c <= '9' && !luhn_ok(card); c++)
				card[n - 1] = c;
			was_valid = true;
		}
		const char *why;
		char *c = apply(e, card, &why), *b = c ? apply(d, c, &why) : NULL;
		char *f = apply(fe, card, &why), *fb = f ? apply(fd, f, &why) : NULL;
		if (was_valid) {
			valid++;
			bad_valid += !c || !luhn_ok(c);
			bad_fail_back += !fb || strcmp(fb, card) != 0;
		} else {
			invalid++;
			bad_invalid += !c || luhn_ok(c);
		}
		bad_fail += !f || luhn_ok(f);
		bad_back += !b || strcmp(b, card) != 0;
		free(c), free(b), free(f), free(fb);
	}
	ok(valid > 900 && bad_valid == 0, "luhn: %ld valid cards stay valid (%ld failures)", valid,
	   bad_valid);
	ok(invalid > 0 && bad_invalid == 0, "luhn: %ld invalid numbers stay invalid", invalid);
	ok(bad_back == 0, "luhn: decrypt inverts every value (%ld failures)", bad_back);
	ok(bad_fail == 0, "luhn-fail: no output passes Luhn (%ld failures)", bad_fail);
	ok(bad_fail_back == 0, "luhn-fail: valid cards decrypt back (%ld failures)", bad_fail_back);
	const char *why;
	char *c = apply(e, "4111 1111 1111 1111", &why);
	ok(c && luhn_ok(c) && c[4] == ' ' && c[14] == ' ', "luhn keeps spaces: %s", c ? c : why);
	free(c);
	c = apply(e, "411111", &why);
	ok(!c && why, "luhn needs 6 digits besides the check digit");
	free(c);
	c = apply(e, "4111111", &why);
	ok(c && luhn_ok(c) == luhn_ok("4111111"), "7 digits are enough");
	free(c);
	rule_del(e), rule_del(d), rule_del(fe), rule_del(fd);
}

static void test_range(const char *spec, long long lo, long long hi)
{
	struct fpe_rule *e = rule_new(spec, FPE_FF1, false, NULL);
	struct fpe_rule *d = rule_new(spec, FPE_FF1, true, NULL);
	if (!e || !d)
		return;
	size_t size = (size_t)(hi - lo + 1);
	unsigned char *seen = calloc(size, 1);
	long outside = 0, dup = 0, back = 0;
	for (long long x = lo; x <= hi; x++) {
		char in[32];
		snprintf(in, sizeof in, "%lld", x);
		const char *why;
		char *c = apply(e, in, &why), *b = c ? apply(d, c, &why) : NULL;
		long long y = c ? strtoll(c, NULL, 10) : lo - 1;
		if (y < lo || y > hi)
			outside++;
		else if (seen[y - lo]++)
			dup++;
		back += !b || strcmp(b, in) != 0;
		free(c), free(b);
	}
	ok(outside == 0 && dup == 0 && back == 0,
	   "%s is a permutation (domain %u^%zu): %ld outside, %ld repeated, %ld not inverted", spec,
	   e->range_radix, e->range_n, outside, dup, back);
	free(seen);
	rule_del(e), rule_del(d);
}

static void test_ranges(void)
{
	test_range("range:0..999999", 0, 999999);
	test_range("range:1..1000", 1, 1000);
	test_range("range:-5..5", -5, 5);
	struct fpe_rule *e = rule_new("range:-9223372036854775808..9223372036854775807", FPE_FF1,
				      false, NULL);
	struct fpe_rule *d = rule_new("range:-9223372036854775808..9223372036854775807", FPE_FF1,
				      true, NULL);
	const char *why;
	char *c = e ? apply(e, "-9223372036854775808", &why) : NULL;
	char *b = c ? apply(d, c, &why) : NULL;
	ok(b && strcmp(b, "-9223372036854775808") == 0, "the whole int64 range round trips");
	free(c), free(b);
	rule_del(e), rule_del(d);
	e = rule_new("range:100..200000000", FPE_FF3_1, false, NULL);
	c = e ? apply(e, "99", &why) : NULL;
	ok(!c && why && strstr(why, "outside"), "a value below LO is refused");
	c = e ? apply(e, "12x", &why) : NULL;
	ok(!c && why && strstr(why, "integer"), "a non-integer is refused");
	c = e ? apply(e, "150000000", &why) : NULL;
	ok(c && atoll(c) >= 100 && atoll(c) <= 200000000, "FF3-1 range stays in range");
	free(c);
	rule_del(e);
	struct fpe_rule r;
	ok(fpe_rule_parse(&r, "range:5..5") && fpe_rule_parse(&r, "range:9..1") &&
	   fpe_rule_parse(&r, "range:1-9") && fpe_rule_parse(&r, "range:a..b"),
	   "bad ranges refused");
}

/* A small range's tables are a cache of the cycle-walk: for every offset, both directions
 * agree with fpe_range_walk, and apply writes LO + the table's offset. tweak NULL: the
 * algorithm's default. */
static void test_range_table(const char *spec, enum fpe_algo algo, const unsigned char *tweak,
			     size_t tlen, bool want_table)
{
	struct fpe_rule *e = rule_new_tweak(spec, algo, false, NULL, tweak, tlen, false);
	struct fpe_rule *d = rule_new_tweak(spec, algo, true, NULL, tweak, tlen, false);
	if (!e || !d) {
		rule_del(e), rule_del(d);
		return;
	}
	struct fpe_aes *aes = &work_for(e)->aes;
	bool tabulated = e->range_enc && e->range_dec && d->range_enc && d->range_dec;
	long bad_enc = 0, bad_dec = 0, bad_apply = 0;
	for (uint64_t off = 0; tabulated && off < e->range_size; off++) {
		uint64_t y = UINT64_MAX, z = UINT64_MAX;
		if (fpe_range_walk(e, aes, NULL, off, false, &y) || y != e->range_enc[off] ||
		    y != d->range_enc[off])
			bad_enc++;
		if (fpe_range_walk(e, aes, NULL, off, true, &z) || z != e->range_dec[off] ||
		    z != d->range_dec[off])
			bad_dec++;
		char in[32], want_e[32], want_d[32];
		snprintf(in, sizeof in, "%" PRId64, (int64_t)((uint64_t)e->lo + off));
		snprintf(want_e, sizeof want_e, "%" PRId64, (int64_t)((uint64_t)e->lo + y));
		snprintf(want_d, sizeof want_d, "%" PRId64, (int64_t)((uint64_t)e->lo + z));
		const char *why;
		char *c = apply(e, in, &why), *b = apply(d, in, &why);
		bad_apply += !c || !b || strcmp(c, want_e) != 0 || strcmp(b, want_d) != 0;
		free(c), free(b);
	}
	if (want_table)
		ok(tabulated && fpe_range_small(e) && bad_enc == 0 && bad_dec == 0 && bad_apply == 0,
		   "%s %s%s: tabulated, and the tables give the cycle-walk for all %" PRIu64
		   " values (%ld encrypt, %ld decrypt, %ld apply mismatches)", spec,
		   algo == FPE_FF1 ? "FF1" : "FF3-1", tweak ? " with a tweak" : "", e->range_size,
		   bad_enc, bad_dec, bad_apply);
	else
		ok(!e->range_enc && !e->range_dec && !d->range_enc && !fpe_range_small(e),
		   "%s %s: walked per value, no table (domain %u^%zu)", spec,
		   algo == FPE_FF1 ? "FF1" : "FF3-1", e->range_radix, e->range_n);
	rule_del(e), rule_del(d);
}

/* With a tweak per row (--tweak-column) a small range is never tabulated: each value walks
 * with its own plan, and is still a permutation that decrypts back. */
static void test_range_per_row(void)
{
	struct fpe_rule *e = rule_new_tweak("range:1..5", FPE_FF1, false, NULL, NULL, 0, true);
	struct fpe_rule *d = rule_new_tweak("range:1..5", FPE_FF1, true, NULL, NULL, 0, true);
	if (!e || !d) {
		rule_del(e), rule_del(d);
		return;
	}
	const unsigned char tw[8] = "customer";
	bool seen[5] = { false }, good = !e->range_enc && !d->range_enc && fpe_range_small(e);
	bool same_as_fixed = true;
	for (int x = 1; x <= 5; x++) {
		char in[2] = { (char)('0' + x), 0 };
		struct anon_buf c = { 0 }, b = { 0 }, f = { 0 };
		good = good && !fpe_rule_apply(e, &work_ff1, tw, 8, (const unsigned char *)in, 1, &c) &&
		       c.len == 1 && c.p[0] >= '1' && c.p[0] <= '5' && !seen[c.p[0] - '1'] &&
		       !fpe_rule_apply(d, &work_ff1, tw, 8, c.p, 1, &b) && b.len == 1 && b.p[0] == in[0];
		if (good) {
			seen[c.p[0] - '1'] = true;
			fpe_rule_apply(e, &work_ff1, NULL, 0, (const unsigned char *)in, 1, &f);
			same_as_fixed = same_as_fixed && f.len == 1 && f.p[0] == c.p[0];
		}
		anon_buf_free(&c), anon_buf_free(&b), anon_buf_free(&f);
	}
	ok(good && !same_as_fixed, "range:1..5 with a tweak per row: no table, a permutation per "
	   "tweak that decrypts back, unlike the fixed tweak's");
	rule_del(e), rule_del(d);
}

static void test_range_tables(void)
{
	static const unsigned char tw[5] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };
	test_range_table("range:1..5", FPE_FF1, NULL, 0, true);
	test_range_table("range:1..5", FPE_FF3_1, NULL, 0, true);
	test_range_table("range:-5..5", FPE_FF1, NULL, 0, true);
	test_range_table("range:1..1000", FPE_FF1, tw, sizeof tw, true);
	test_range_table("range:1..1000", FPE_FF3_1, tweak7, 7, true);
	/* the threshold: 62499 values (10^6 > 16 * 62499) tabulated, 62500 walked */
	test_range_table("range:100..62598", FPE_FF1, NULL, 0, true);
	test_range_table("range:1..62500", FPE_FF1, NULL, 0, false);
	test_range_table("range:0..999999", FPE_FF1, NULL, 0, false);
	test_range_per_row();
}

static void test_match(void)
{
	/* all but the last four digits */
	struct fpe_rule *e = rule_new("digits", FPE_FF1, false, "^([\\d-]+)\\d{4}$");
	struct fpe_rule *d = rule_new("digits", FPE_FF1, true, "^([\\d-]+)\\d{4}$");
	const char *why;
	char *c = e ? apply(e, "4111-1111-1111-1234", &why) : NULL;
	ok(c && strcmp(c + 15, "1234") == 0 && c[4] == '-' && strncmp(c, "4111-1111-1111", 14) != 0,
	   "--match: the last four digits stay: %s", c ? c : why);
	char *b = c ? apply(d, c, &why) : NULL;
	ok(b && strcmp(b, "4111-1111-1111-1234") == 0, "--match: decrypt restores");
	free(c), free(b);
	c = e ? apply(e, "not a card", &why) : NULL;
	ok(!c && why && strstr(why, "does not match"), "a value that does not match is an error");
	rule_del(e), rule_del(d);
	struct fpe_rule r;
	fpe_rule_parse(&r, "digits");
	ok(fpe_rule_set_match(&r, "\\d+") != NULL, "a pattern without a group is refused");
	ok(fpe_rule_set_match(&r, "(") != NULL, "an invalid pattern is refused");
	fpe_rule_free(&r);
	/* luhn with --match: the check digit is recomputed over every digit */
	e = rule_new("luhn", FPE_FF1, false, "^\\d{6}(\\d+)\\d{4}$");
	c = e ? apply(e, "4111111111111111", &why) : NULL;
	ok(c && strncmp(c, "411111", 6) == 0 && luhn_ok(c) && strcmp(c, "4111111111111111"),
	   "luhn with --match keeps the BIN and stays valid: %s", c ? c : why);
	free(c);
	rule_del(e);
}

static void test_tweaks(void)
{
	struct fpe_rule *e = rule_new("digits", FPE_FF1, false, NULL);
	const unsigned char t1[8] = "customer", t2[8] = "Customer";
	struct anon_buf a = { 0 }, b = { 0 }, c = { 0 };
	const unsigned char v[] = "1234567890123456";
	fpe_rule_apply(e, &work_ff1, t1, 8, v, 16, &a);
	fpe_rule_apply(e, &work_ff1, t2, 8, v, 16, &b);
	fpe_rule_apply(e, &work_ff1, NULL, 0, v, 16, &c);
	ok(a.len == 16 && b.len == 16 && c.len == 16 && memcmp(a.p, b.p, 16) && memcmp(a.p, c.p, 16),
	   "a per-value tweak changes the ciphertext");
	anon_buf_free(&a), anon_buf_free(&b), anon_buf_free(&c);
	rule_del(e);
}

int main(void)
{
	unsigned char key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	fpe_cipher_init(&cipher_ff1, FPE_FF1, key, 32);
	fpe_cipher_init(&cipher_ff3, FPE_FF3_1, key, 16);
	/* room for any test pattern's groups */
	if (fpe_work_init(&work_ff1, &cipher_ff1, 8) || fpe_work_init(&work_ff3, &cipher_ff3, 8)) {
		ok(0, "per-thread work state");
		return tap_done();
	}
	test_keep_in_place();
	test_alphabets();
	test_hex_case();
	test_parse_messages();
	test_luhn();
	test_ranges();
	test_range_tables();
	test_match();
	test_tweaks();
	fpe_work_free(&work_ff1);
	fpe_work_free(&work_ff3);
	fpe_cipher_free(&cipher_ff1);
	fpe_cipher_free(&cipher_ff3);
	return tap_done();
}
