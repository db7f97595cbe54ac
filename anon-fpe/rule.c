/* rule.c: what one `-c COL=RULE` does to a value: pick the symbols to encrypt (alphabet,
 * --match capture groups, Luhn check digit), run FF1/FF3-1 on them and put them back in place;
 * or permute the integers of range:LO..HI by cycle-walking, tabulated once for small ranges.
 * A prepared rule is read-only; what a value mutates is the calling thread's struct fpe_work. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <pcre2.h>

#include "fpe.h"

/* ---- parsing -------------------------------------------------------------------------------- */

/* radix^n (saturating at 2^127) */
static fpe_u128 pow_sat(unsigned radix, size_t n)
{
	const fpe_u128 cap = (fpe_u128)1 << 127;
	fpe_u128 p = 1;
	for (size_t i = 0; i < n; i++) {
		p *= radix;
		if (p >= cap)
			return cap;
	}
	return p;
}

/* The FPE domain for range: the smallest radix^n >= max(size, 10^6), so that cycle-walking
 * takes few steps; on ties the smaller radix. */
static void range_domain(struct fpe_rule *r, enum fpe_algo algo)
{
	fpe_u128 target = r->range_size ? r->range_size : (fpe_u128)1 << 64;
	if (target < FPE_MIN_DOMAIN)
		target = FPE_MIN_DOMAIN;
	fpe_u128 best = 0;
	for (size_t n = FPE_PLAN_CACHE - 1; n >= 2; n--) {  /* n indexes the plan cache */
		/* smallest radix with radix^n >= target */
		unsigned lo = 2, hi = FPE_MAX_RADIX;
		if (pow_sat(hi, n) < target)
			continue;
		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			if (pow_sat(mid, n) >= target)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (n > fpe_maxlen(algo, lo))
			continue;
		fpe_u128 dom = pow_sat(lo, n);
		if (!best || dom < best) {
			best = dom;
			r->range_radix = lo;
			r->range_n = n;
		}
	}
}

static const char *parse_range(struct fpe_rule *r, const char *spec)
{
	const char *dots = strstr(spec + 1, "..");  /* spec + 1: LO may start with '-' */
	if (*spec == 0 || !dots)
		return "range: expects LO..HI";
	char lo[32];
	size_t lolen = (size_t)(dots - spec);
	if (lolen >= sizeof lo)
		return "range: LO is not an integer";
	memcpy(lo, spec, lolen);
	lo[lolen] = 0;
	if (!anon_parse_int64(lo, &r->lo))
		return "range: LO is not an integer";
	if (!anon_parse_int64(dots + 2, &r->hi))
		return "range: HI is not an integer";
	if (r->hi <= r->lo)
		return "range: HI must be greater than LO";
	r->range_size = (uint64_t)r->hi - (uint64_t)r->lo + 1;  /* 0 means all 2^64 values */
	return NULL;
}

const char fpe_rule_names[] = "digits, hex[:lower|upper], lower, upper, alpha, alnum, "
	"alphabet:CHARS, luhn, luhn-fail, range:LO..HI";

/* At most 40 bytes of a parameter, for messages (anon_error escapes what is not printable). */
#define QUOTED(s, n) (int)((n) > 40 ? 40 : (n)), (s), (n) > 40 ? "..." : ""

const char *fpe_rule_parse(struct fpe_rule *r, const char *text)
{
	memset(r, 0, sizeof *r);
	if (!text)
		text = "digits";
	const char *colon = strchr(text, ':');
	size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
	const char *arg = colon ? colon + 1 : NULL;
	const char *chars = NULL;
	r->kind = FPE_KIND_ALPHABET;
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(text, s, nlen) == 0)
	if (IS("alphabet")) {
		r->name = "alphabet";
		if (!arg)
			return "alphabet needs its characters: alphabet:CHARS";
		chars = arg;
	} else if (IS("range")) {
		r->kind = FPE_KIND_RANGE;
		r->name = "range";
		if (!arg)
			return "range needs its bounds: range:LO..HI";
		const char *why = parse_range(r, arg);
		if (why)
			return why;
		chars = fpe_alphabet_named("digits");
	} else if (IS("hex")) {
		/* The numerals are those of plain hex whatever the case, so hex:upper decrypts
		 * what hex encrypted from upper-case values. */
		if (!arg) {
			r->name = "hex";
			r->hex = FPE_HEX_INPUT;
			chars = "0123456789abcdef";
		} else if (strcmp(arg, "lower") == 0) {
			r->name = "hex:lower";
			r->hex = FPE_HEX_LOWER;
			chars = "0123456789abcdef";
		} else if (strcmp(arg, "upper") == 0) {
			r->name = "hex:upper";
			r->hex = FPE_HEX_UPPER;
			chars = "0123456789ABCDEF";
		} else {
			snprintf(r->msg, sizeof r->msg, "hex: unknown parameter \"%.*s%s\" (lower, upper)",
				 QUOTED(arg, strlen(arg)));
			return r->msg;
		}
	} else {
		static const char *const plain[] = { "digits", "lower", "upper", "alpha", "alnum",
						     "luhn", "luhn-fail" };
		for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
			if (strlen(plain[i]) == nlen && memcmp(text, plain[i], nlen) == 0)
				r->name = plain[i];
		if (!r->name) {
			snprintf(r->msg, sizeof r->msg, "unknown rule \"%.*s%s\" (%s)",
				 QUOTED(text, nlen), fpe_rule_names);
			return r->msg;
		}
		if (arg) {
			snprintf(r->msg, sizeof r->msg, "%s: unknown parameter \"%.*s%s\" (%s takes "
				 "none)", r->name, QUOTED(arg, strlen(arg)), r->name);
			return r->msg;
		}
		if (IS("luhn") || IS("luhn-fail")) {
			r->kind = IS("luhn") ? FPE_KIND_LUHN : FPE_KIND_LUHN_FAIL;
			chars = fpe_alphabet_named("digits");
		} else {
			chars = fpe_alphabet_named(r->name);
		}
	}
#undef IS
	const char *why = fpe_alphabet_init(&r->alpha, chars, strlen(chars));
	if (why)
		return why;
	if (r->hex) {
		/* Read hex digits in either case: those of the other case are refused by
		 * fpe_rule_apply, never passed through as characters outside the alphabet. */
		for (int c = 0; c < 6; c++) {
			r->alpha.byte_map['a' + c] = 10 + c;
			r->alpha.byte_map['A' + c] = 10 + c;
		}
	}
	return NULL;
}

const char *fpe_rule_set_match(struct fpe_rule *r, const char *pattern)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err,
				       &off, NULL);
	if (!re)
		return "--match: invalid regular expression";
	uint32_t groups = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (groups == 0) {
		pcre2_code_free(re);
		return "--match: the pattern has no capture group";
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  /* the interpreter is the fallback */
	r->match = re;
	r->groups = groups;
	return NULL;
}

uint32_t fpe_rule_groups(const struct fpe_rule *r)
{
	return r->match ? r->groups : 0;
}

bool fpe_range_small(const struct fpe_rule *r)
{
	if (r->kind != FPE_KIND_RANGE || !r->range_radix || r->range_size == 0 ||
	    r->range_size >= UINT32_MAX)  /* tables hold 32-bit offsets */
		return false;
	return (fpe_u128)r->range_size * FPE_RANGE_WALK_MAX < pow_sat(r->range_radix, r->range_n);
}

/* A small range's walk, once for every offset: each walk from an offset in the range steps
 * through the values outside it that follow it on its cycle, up to the next offset inside;
 * the cycles partition the domain, so all the walks together take at most one pass over it
 * (10^6 cipher calls). The decrypting table is the inverse of the encrypting one, which is
 * what walking backwards gives. */
static const char *range_tabulate(struct fpe_rule *r)
{
	const uint64_t size = r->range_size;  /* < 10^6/16 when small */
	r->range_enc = malloc(size * sizeof *r->range_enc);
	r->range_dec = malloc(size * sizeof *r->range_dec);
	if (!r->range_enc || !r->range_dec)
		return "out of memory";
	memset(r->range_dec, 0xff, size * sizeof *r->range_dec);
	struct fpe_aes own = fpe_cipher_aes(r->cipher);
	for (uint64_t x = 0; x < size; x++) {
		uint64_t y;
		const char *why = fpe_range_walk(r, &own, NULL, x, false, &y);
		if (why)
			return why;
		if (r->range_dec[y] != UINT32_MAX)
			return "range: the cycle-walk is not a permutation (internal error)";
		r->range_enc[x] = (uint32_t)y;
		r->range_dec[y] = (uint32_t)x;
	}
	return NULL;
}

const char *fpe_rule_prepare(struct fpe_rule *r)
{
	if (r->kind == FPE_KIND_RANGE) {
		range_domain(r, r->cipher->algo);
		if (!r->range_radix)
			return "range: no FPE domain fits";
	}
	struct fpe_aes own = fpe_cipher_aes(r->cipher);  /* one thread: before any worker */
	unsigned radix = r->kind == FPE_KIND_RANGE ? r->range_radix : r->alpha.radix;
	for (size_t n = 2; n < FPE_PLAN_CACHE; n++) {
		if (r->kind == FPE_KIND_RANGE && n != r->range_n)
			continue;
		if (fpe_check(r->cipher->algo, radix, n, r->tlen))
			continue;
		struct fpe_plan *p = malloc(sizeof *p);
		if (!p)
			return "out of memory";
		const char *why = fpe_plan_init_aes(p, r->cipher, &own, r->tweak, r->tlen, radix, n);
		if (why) {
			free(p);
			return why;
		}
		r->plans[n] = p;
	}
	if (r->kind == FPE_KIND_RANGE && !r->plans[r->range_n])
		return fpe_check(r->cipher->algo, radix, r->range_n, r->tlen);
	if (fpe_range_small(r) && !r->tweak_per_row)
		return range_tabulate(r);
	return NULL;
}

void fpe_rule_free(struct fpe_rule *r)
{
	for (size_t n = 0; n < FPE_PLAN_CACHE; n++)
		free(r->plans[n]);
	/* a small range's whole permutation: as secret as the key */
	if (r->range_enc)
		OPENSSL_cleanse(r->range_enc, r->range_size * sizeof *r->range_enc);
	if (r->range_dec)
		OPENSSL_cleanse(r->range_dec, r->range_size * sizeof *r->range_dec);
	free(r->range_enc);
	free(r->range_dec);
	pcre2_code_free(r->match);
	fpe_alphabet_free(&r->alpha);
	memset(r, 0, sizeof *r);
}

const char *fpe_work_init(struct fpe_work *w, const struct fpe_cipher *c, uint32_t max_groups)
{
	memset(w, 0, sizeof *w);
	w->cipher = c;
	if (fpe_aes_init(&w->aes, c) != 0)
		return "cannot copy the AES context";
	if (max_groups) {
		w->match_data = pcre2_match_data_create(max_groups + 1, NULL);
		if (!w->match_data) {
			fpe_work_free(w);
			return "out of memory";
		}
		w->groups = max_groups;
	}
	return NULL;
}

void fpe_work_free(struct fpe_work *w)
{
	fpe_aes_free(&w->aes);
	pcre2_match_data_free(w->match_data);
	w->match_data = NULL;
}

/* ---- applying ------------------------------------------------------------------------------- */

/* Run the cipher over nums[0..n) with the cached plan for the fixed tweak, or a fresh one. */
static const char *crypt_numerals(const struct fpe_rule *r, struct fpe_work *w,
				  const unsigned char *tweak, size_t tlen, unsigned radix,
				  uint16_t *nums, size_t n)
{
	if (!tweak && n < FPE_PLAN_CACHE && r->plans[n])
		return fpe_plan_run_aes(r->plans[n], &w->aes, nums, nums, r->decrypt);
	struct fpe_plan plan;
	const char *why = fpe_plan_init_aes(&plan, r->cipher, &w->aes, tweak ? tweak : r->tweak,
					    tweak ? tlen : r->tlen, radix, n);
	return why ? why : fpe_plan_run_aes(&plan, &w->aes, nums, nums, r->decrypt);
}

const char *fpe_range_walk(const struct fpe_rule *r, struct fpe_aes *aes,
			   const struct fpe_plan *plan, uint64_t off, bool decrypt, uint64_t *out)
{
	uint16_t nums[FPE_PLAN_CACHE];
	if (!plan)
		plan = r->plans[r->range_n];
	/* Cycle-walking: the permutation of radix^n restricted to the range by applying it again
	 * until the result falls inside; it ends because off's cycle comes back to off. */
	do {
		fpe_str(off, r->range_radix, nums, r->range_n);
		const char *why = fpe_plan_run_aes(plan, aes, nums, nums, decrypt);
		if (why)
			return why;
		/* the domain is at most 2^64 (4^32 for the full int64 range) */
		off = (uint64_t)fpe_num(nums, r->range_n, r->range_radix);
	} while (r->range_size && off >= r->range_size);
	*out = off;
	return NULL;
}

static const char *apply_range(const struct fpe_rule *r, struct fpe_work *w,
			       const unsigned char *tweak, size_t tlen, const unsigned char *in,
			       size_t len, struct anon_buf *out)
{
	char text[32];
	int64_t x;
	if (len >= sizeof text)
		return "not an integer";
	memcpy(text, in, len);
	text[len] = 0;
	if (!anon_parse_int64(text, &x))
		return "not an integer";
	if (x < r->lo || x > r->hi)
		return "value outside the range";
	uint64_t off = (uint64_t)x - (uint64_t)r->lo;
	if (!tweak && r->range_enc) {
		off = (r->decrypt ? r->range_dec : r->range_enc)[off];
	} else {
		/* One plan for every step of the walk (the cached one for the fixed tweak). */
		struct fpe_plan own;
		const struct fpe_plan *plan = NULL;
		if (tweak) {
			const char *why = fpe_plan_init_aes(&own, r->cipher, &w->aes, tweak, tlen,
							    r->range_radix, r->range_n);
			if (why)
				return why;
			plan = &own;
		}
		const char *why = fpe_range_walk(r, &w->aes, plan, off, r->decrypt, &off);
		if (why)
			return why;
	}
	int k = snprintf(text, sizeof text, "%" PRId64, (int64_t)((uint64_t)r->lo + off));
	anon_buf_add(out, text, (size_t)k);
	return NULL;
}

/* Is byte offset pos inside one of the capture groups? */
static bool captured(const PCRE2_SIZE *ov, int groups, size_t pos)
{
	for (int g = 1; g < groups; g++)
		if (ov[2 * g] != PCRE2_UNSET && pos >= ov[2 * g] && pos < ov[2 * g + 1])
			return true;
	return false;
}

/* The message for a value with more symbols than the algorithm's maxlen. */
static const char *too_long(const struct fpe_rule *r)
{
	enum fpe_algo algo = r->cipher->algo;
	return fpe_check(algo, r->alpha.radix, fpe_maxlen(algo, r->alpha.radix) + 1,
			 algo == FPE_FF3_1 ? FPE_FF3_TWEAK : 0);
}

const char *fpe_rule_apply(const struct fpe_rule *r, struct fpe_work *w, const unsigned char *tweak,
			   size_t tlen, const unsigned char *in, size_t len, struct anon_buf *out)
{
	if (w->cipher != r->cipher || fpe_rule_groups(r) > w->groups)
		return "the worker state does not fit the rule (internal error)";
	if (r->kind == FPE_KIND_RANGE)
		return apply_range(r, w, tweak, tlen, in, len, out);

	const struct fpe_alphabet *a = &r->alpha;
	const size_t maxlen = fpe_maxlen(r->cipher->algo, a->radix);
	uint16_t *nums = w->nums;
	uint32_t *pos = w->pos;
	size_t n = 0;

	int groups = 0;
	const PCRE2_SIZE *ov = NULL;
	if (r->match) {
		groups = pcre2_match(r->match, in, len, 0, 0, w->match_data, NULL);
		if (groups == PCRE2_ERROR_NOMATCH)
			return "value does not match the --match pattern";
		if (groups < 0)
			return groups <= PCRE2_ERROR_UTF8_ERR1 && groups >= PCRE2_ERROR_UTF8_ERR21
				       ? "invalid UTF-8"
				       : "--match failed";
		ov = pcre2_get_ovector_pointer(w->match_data);
	}

	/* The Luhn check digit is the value's last digit, captured or not. */
	bool luhn = r->kind == FPE_KIND_LUHN || r->kind == FPE_KIND_LUHN_FAIL;
	size_t check_pos = SIZE_MAX;
	if (luhn) {
		for (size_t i = len; i-- > 0;)
			if (in[i] >= '0' && in[i] <= '9') {
				check_pos = i;
				break;
			}
		if (check_pos == SIZE_MAX)
			return "domain too small: radix^length must be at least 1000000";
	}

	bool saw_upper = false, saw_lower = false;  /* hex letters among the symbols */
	if (a->ascii) {
		/* Bytes >= 0x80 are never in an ASCII alphabet: they stay, byte for byte. */
		for (size_t i = 0; i < len; i++) {
			unsigned char c = in[i];
			int32_t v = c < 128 ? a->byte_map[c] : -1;
			if (v < 0 || i == check_pos || (ov && !captured(ov, groups, i)))
				continue;
			if (n == maxlen)
				return too_long(r);
			if (r->hex) {
				saw_lower |= c >= 'a' && c <= 'f';
				saw_upper |= c >= 'A' && c <= 'F';
			}
			nums[n] = (uint16_t)v;
			pos[n++] = (uint32_t)i;
		}
	} else {
		for (size_t i = 0; i < len;) {
			uint32_t cp = in[i];
			size_t l = 1;
			if (cp >= 0x80 && (l = anon_utf8_decode(in + i, len - i, &cp)) == 0)
				return "invalid UTF-8";
			int32_t v = fpe_alphabet_find(a, cp);
			if (v >= 0 && i != check_pos && (!ov || captured(ov, groups, i))) {
				if (n == maxlen)
					return too_long(r);
				nums[n] = (uint16_t)v;
				pos[n++] = (uint32_t)i;
			}
			i += l;
		}
	}
	/* Decryption must give back the case the value had: a rule that could not is refused
	 * before anything is encrypted. */
	if (r->hex == FPE_HEX_INPUT && saw_upper && saw_lower)
		return "hex: upper- and lower-case letters in one value (decrypting could not "
		       "restore them: use hex:lower or hex:upper)";
	if (r->hex == FPE_HEX_LOWER && saw_upper)
		return "hex:lower: an upper-case hex letter (decrypting would give it back in lower "
		       "case: use hex or hex:upper)";
	if (r->hex == FPE_HEX_UPPER && saw_lower)
		return "hex:upper: a lower-case hex letter (decrypting would give it back in upper "
		       "case: use hex or hex:lower)";
	const char *why = crypt_numerals(r, w, tweak, tlen, a->radix, nums, n);
	if (why)
		return why;

	size_t start = out->len;
	if (a->ascii) {
		anon_buf_add(out, in, len);
		unsigned char *o = out->p + start;
		const bool upper = r->hex == FPE_HEX_INPUT && saw_upper;
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)a->cps[nums[k]];
			o[pos[k]] = upper && c >= 'a' && c <= 'f' ? (unsigned char)(c - 'a' + 'A') : c;
		}
	} else {
		anon_buf_reserve(out, 4 * len);
		size_t k = 0;
		for (size_t i = 0; i < len;) {
			uint32_t cp;
			size_t l = in[i] < 0x80 ? 1 : anon_utf8_decode(in + i, len - i, &cp);
			if (k < n && pos[k] == i) {
				out->len += anon_utf8_encode(a->cps[nums[k++]], out->p + out->len);
			} else {
				memcpy(out->p + out->len, in + i, l);
				out->len += l;
			}
			i += l;
		}
	}

	if (luhn) {
		/* The check digit keeps its distance from a valid one ("luhn"), so decrypt inverts
		 * every input; "luhn-fail" moves a valid number's digit one step away. */
		unsigned char *o = out->p + start;
		int defect = (in[check_pos] - '0' - anon_luhn_check_digit(in, check_pos) + 10) % 10;
		if (r->kind == FPE_KIND_LUHN_FAIL) {
			if (!r->decrypt)
				defect = defect == 0 ? 1 : defect;
			else
				defect = defect == 1 ? 0 : defect;
		}
		/* ASCII alphabet: output offsets are the input's */
		o[check_pos] = (unsigned char)('0' + (anon_luhn_check_digit(o, check_pos) + defect) % 10);
	}
	return NULL;
}
