/* fpe.h: anon-fpe's private interface: NIST SP 800-38G Rev.1 FF1 and FF3-1 over numeral
 * strings (ff1.c, ff3.c, num.c), alphabets (alphabet.c) and the per-value rules (rule.c). */
#ifndef FPE_H
#define FPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "anon.h"

typedef unsigned __int128 fpe_u128;

enum fpe_algo { FPE_FF1, FPE_FF3_1 };

#define FPE_MIN_DOMAIN 1000000u  /* radix^n >= 10^6, SP 800-38G Rev.1 */
#define FPE_MAX_RADIX 65536u
#define FPE_FF1_MAXLEN 4096      /* our FF1 maxlen: bignum work grows with n^2 */
#define FPE_FF1_MAX_TWEAK 256    /* our FF1 maxTlen, in bytes */
#define FPE_FF3_TWEAK 7          /* FF3-1 tweaks are exactly 56 bits */

/* Threads. The keyed cipher, the plans and the rules are READ-ONLY once anon-fpe's start()
 * returns: --jobs workers share them without locks. What mutates per value (the AES context,
 * PCRE2 match data, scratch numerals) lives in a struct fpe_aes / struct fpe_work that each
 * thread owns. Functions without an aes/work argument use the cipher's own context and are
 * for one thread only: tests, and start() before any worker exists. */

/* One AES key, expanded once: keyed with K for FF1 and with REVB(K) for FF3-1. `ecb` is the
 * keyed template that each thread copies (fpe_aes_init); only single-threaded callers
 * encrypt with it directly. */
struct fpe_cipher {
	enum fpe_algo algo;
	unsigned key_bits;
	EVP_CIPHER_CTX *ecb;
};

/* 0 on success; -1 when keylen is not 16, 24 or 32; -2 when OpenSSL fails. */
int fpe_cipher_init(struct fpe_cipher *c, enum fpe_algo algo, const unsigned char *key,
		    size_t keylen);
void fpe_cipher_free(struct fpe_cipher *c);

/* One thread's AES context for a cipher: a copy of its keyed template (no re-keying). */
struct fpe_aes {
	EVP_CIPHER_CTX *ecb;
};
/* 0, or -2 when OpenSSL fails. Not concurrently with a use of the template (worker_init). */
int fpe_aes_init(struct fpe_aes *a, const struct fpe_cipher *c);
void fpe_aes_free(struct fpe_aes *a);
/* The cipher's own template as an fpe_aes: single-threaded use only (see above). */
static inline struct fpe_aes fpe_cipher_aes(const struct fpe_cipher *c)
{
	return (struct fpe_aes){ c->ecb };
}
/* One AES block; false when OpenSSL fails. */
bool fpe_aes_block(struct fpe_aes *a, const unsigned char in[16], unsigned char out[16]);

/* Everything about one (key, tweak, radix, length) that does not depend on the value, so
 * that a column with a fixed tweak computes it once per length. */
enum fpe_path { FPE_PATH_U64, FPE_PATH_U128, FPE_PATH_BIG };
struct fpe_plan {
	const struct fpe_cipher *cipher;
	enum fpe_path path;
	unsigned radix;
	size_t n, u, v;
	fpe_u128 mod_u, mod_v;        /* radix^u, radix^v (not for FPE_PATH_BIG) */
	uint64_t inv_u, inv_v;        /* floor((2^64-1)/mod) when mod <= 2^32, else 0 */
	/* FF1 */
	size_t b, d;
	uint64_t x_hi, x_lo;           /* CBC-MAC chain over P and the tweak blocks, XORed with
				        * the fixed head of the last block of Q (big-endian) */
	const unsigned char *tweak;    /* caller's bytes, kept for the bignum path */
	size_t tlen;
	/* FF3-1 */
	unsigned char tl[4], tr[4];
};

/* Why (algo, radix, n, tweak length) is outside the standard or our limits, or NULL. */
const char *fpe_check(enum fpe_algo algo, unsigned radix, size_t n, size_t tlen);
/* The shortest n with radix^n >= 10^6, and FF3-1's maxlen 2*floor(log_radix(2^96)). */
size_t fpe_minlen(unsigned radix);
size_t fpe_ff3_maxlen(unsigned radix);
size_t fpe_maxlen(enum fpe_algo algo, unsigned radix);

/* Prepare a plan; NULL on success, else what is wrong (domain, tweak length, OpenSSL).
 * FF1 runs AES over the tweak here, with the calling thread's aes. The tweak bytes must
 * outlive the plan. A prepared plan is read-only: any thread may run it with its own aes. */
const char *fpe_plan_init_aes(struct fpe_plan *p, const struct fpe_cipher *c,
			      struct fpe_aes *aes, const unsigned char *tweak, size_t tlen,
			      unsigned radix, size_t n);
/* Use the bignum code whatever the size (tests compare both paths). FF1 only. */
void fpe_plan_force_big(struct fpe_plan *p);
/* Encrypt (or decrypt) the numerals in[0..n), each < radix, into out (which may be in),
 * with the calling thread's aes (a copy of the plan's cipher).
 * NULL on success, else a message (a numeral out of range, OpenSSL failure). */
const char *fpe_plan_run_aes(const struct fpe_plan *p, struct fpe_aes *aes, const uint16_t *in,
			     uint16_t *out, bool decrypt);
/* The same with the cipher's own context: one thread only (tests, start()). */
const char *fpe_plan_init(struct fpe_plan *p, const struct fpe_cipher *c,
			  const unsigned char *tweak, size_t tlen, unsigned radix, size_t n);
const char *fpe_plan_run(const struct fpe_plan *p, const uint16_t *in, uint16_t *out,
			 bool decrypt);
/* plan_init + plan_run, one thread only. */
const char *fpe_crypt(const struct fpe_cipher *c, const unsigned char *tweak, size_t tlen,
		      unsigned radix, const uint16_t *in, uint16_t *out, size_t n, bool decrypt);

/* ff1.c and ff3.c, called by fpe_plan_*() */
const char *fpe_ff1_prepare(struct fpe_plan *p, struct fpe_aes *aes);
const char *fpe_ff1_run(const struct fpe_plan *p, struct fpe_aes *aes, const uint16_t *in,
			uint16_t *out, bool decrypt);
const char *fpe_ff3_prepare(struct fpe_plan *p);
const char *fpe_ff3_run(const struct fpe_plan *p, struct fpe_aes *aes, const uint16_t *in,
			uint16_t *out, bool decrypt);

/* num.c: numeral strings <-> integers */
fpe_u128 fpe_num(const uint16_t *x, size_t m, unsigned radix);     /* most significant first */
fpe_u128 fpe_num_rev(const uint16_t *x, size_t m, unsigned radix); /* least significant first */
void fpe_str(fpe_u128 v, unsigned radix, uint16_t *x, size_t m);
void fpe_str_rev(fpe_u128 v, unsigned radix, uint16_t *x, size_t m);
/* radix^m when it is at most 2^96, else 0 */
fpe_u128 fpe_pow96(unsigned radix, size_t m);

/* Integers as len <= 16 big- or little-endian bytes. */
static inline fpe_u128 fpe_load_le(const unsigned char *s, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	fpe_u128 v = 0;
	__builtin_memcpy(&v, s, len);
	return v;
#else
	fpe_u128 v = 0;
	for (size_t j = len; j-- > 0;)
		v = v << 8 | s[j];
	return v;
#endif
}
static inline void fpe_store_le(unsigned char *s, fpe_u128 v, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__builtin_memcpy(s, &v, len);
#else
	for (size_t j = 0; j < len; j++, v >>= 8)
		s[j] = (unsigned char)v;
#endif
}
/* x mod m for 64-bit x and m <= 2^32 without a division: inv = floor((2^64-1)/m) makes
 * the quotient estimate short by at most 2. */
static inline uint64_t fpe_mod64(uint64_t x, uint64_t m, uint64_t inv)
{
	uint64_t q = (uint64_t)(((fpe_u128)x * inv) >> 64);
	uint64_t r = x - q * m;
	while (r >= m)
		r -= m;
	return r;
}
static inline uint64_t fpe_load_be64(const unsigned char *s)
{
	uint64_t v;
	__builtin_memcpy(&v, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}
static inline void fpe_store_be64(unsigned char *s, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	__builtin_memcpy(s, &v, 8);
}

/* ---- alphabets (alphabet.c) ----------------------------------------------------------------- */
struct fpe_symbol {
	uint32_t cp;
	uint32_t numeral;
};
struct fpe_alphabet {
	unsigned radix;
	bool ascii;             /* every symbol is ASCII: values are handled byte by byte */
	int32_t byte_map[128];  /* ASCII symbol -> numeral, -1 when not in the alphabet */
	uint32_t *cps;          /* numeral -> code point */
	struct fpe_symbol *sorted; /* non-ASCII symbols sorted by code point */
	size_t nsorted;
	char *text;             /* the alphabet as UTF-8, for the audit record */
};
/* NULL on success, else why the alphabet is refused (invalid UTF-8, duplicate, size). */
const char *fpe_alphabet_init(struct fpe_alphabet *a, const char *utf8, size_t len);
/* A named alphabet (digits hex lower upper alpha alnum), or NULL when the name is unknown. */
const char *fpe_alphabet_named(const char *name);
void fpe_alphabet_free(struct fpe_alphabet *a);
/* The numeral of code point cp, or -1. */
int32_t fpe_alphabet_find(const struct fpe_alphabet *a, uint32_t cp);

/* ---- rules: what one -c COL=RULE does to a value (rule.c) ---------------------------------- */
enum fpe_kind { FPE_KIND_ALPHABET, FPE_KIND_LUHN, FPE_KIND_LUHN_FAIL, FPE_KIND_RANGE };

/* The hex rules read hex letters in either case. hex writes the case of the value's letters
 * (lower when it has none; both in one value is a data error), so a ciphertext without
 * letters decrypts to lower case. hex:lower and hex:upper write their own case and refuse a
 * letter of the other one, so every value they take decrypts back exactly. */
enum fpe_hex { FPE_HEX_NONE, FPE_HEX_INPUT, FPE_HEX_LOWER, FPE_HEX_UPPER };

#define FPE_PLAN_CACHE 64   /* plans kept per rule for a fixed tweak, by length */
/* range: with the fixed tweak is tabulated when its FPE domain holds more than this many
 * times its values, i.e. when cycle-walking would take more than this many cipher calls per
 * value on average: with the 10^6 minimum domain, ranges of fewer than 62500 values. */
#define FPE_RANGE_WALK_MAX 16

/* A rule: read-only once fpe_rule_prepare() returns (shared by every thread). */
struct fpe_rule {
	enum fpe_kind kind;
	const char *name;            /* "digits", "hex:upper", "alphabet", "luhn", "range", ... */
	enum fpe_hex hex;
	struct fpe_alphabet alpha;
	/* range:LO..HI is FF1 (or FF3-1) over radix^n >= HI-LO+1, cycle-walking */
	int64_t lo, hi;
	uint64_t range_size;         /* HI-LO+1, 0 meaning 2^64 */
	unsigned range_radix;
	size_t range_n;
	/* A small range's cycle-walk for the fixed tweak, tabulated by prepare: offset (value-LO)
	 * -> offset, encrypting and decrypting; NULL when the range is walked per value. */
	uint32_t *range_enc, *range_dec;
	/* --match: only characters inside capture groups are encrypted */
	void *match;                 /* pcre2_code * */
	uint32_t groups;             /* its capture groups (each thread's match data holds them) */
	/* set by the tool before prepare */
	const struct fpe_cipher *cipher;
	const unsigned char *tweak;  /* the fixed tweak (--tweak, or the default) */
	size_t tlen;
	bool tweak_per_row;          /* --tweak-column: values come with their own tweak, so a
				      * range is never tabulated */
	bool decrypt;
	struct fpe_plan *plans[FPE_PLAN_CACHE];  /* for the fixed tweak, by n; filled by prepare */
	char msg[200];               /* fpe_rule_parse's message when it names the parameter */
};

/* What applying rules mutates: one per thread, for rules of one cipher. */
struct fpe_work {
	const struct fpe_cipher *cipher;
	struct fpe_aes aes;          /* this thread's copy of the cipher's context */
	void *match_data;            /* pcre2_match_data * for up to `groups` groups, or NULL */
	uint32_t groups;
	uint16_t nums[FPE_FF1_MAXLEN + 1];  /* a value's numerals and their byte offsets */
	uint32_t pos[FPE_FF1_MAXLEN + 1];
};
/* For rules of cipher c whose --match patterns have at most max_groups capture groups
 * (fpe_rule_groups). NULL on success, else a message (OpenSSL, memory). */
const char *fpe_work_init(struct fpe_work *w, const struct fpe_cipher *c, uint32_t max_groups);
void fpe_work_free(struct fpe_work *w);

/* The rules and their parameters, for messages: "digits, hex[:lower|upper], ..." */
extern const char fpe_rule_names[];
/* Parse a rule's text (NULL = digits). NULL on success, else a message for a usage error
 * (which may live in r: use it before fpe_rule_free). */
const char *fpe_rule_parse(struct fpe_rule *r, const char *text);
/* Compile --match PATTERN into the rule; NULL or a message. */
const char *fpe_rule_set_match(struct fpe_rule *r, const char *pattern);
/* The capture groups of the rule's --match pattern (0 without one). */
uint32_t fpe_rule_groups(const struct fpe_rule *r);
/* After cipher, tweak, tweak_per_row and direction are set: plans for the fixed tweak and the
 * lengths a column is likely to hold, and a small range's tables. One thread only, before any
 * work runs the rule (start()): it uses the cipher's own context. NULL or a message. */
const char *fpe_rule_prepare(struct fpe_rule *r);
/* Is the rule a range: small enough to tabulate (domain > FPE_RANGE_WALK_MAX * its size)?
 * After prepare; true also with tweak_per_row, where it is walked per value all the same. */
bool fpe_range_small(const struct fpe_rule *r);
void fpe_rule_free(struct fpe_rule *r);
/* Transform one value into out (appended), with the calling thread's work (for the rule's
 * cipher). tweak NULL means the rule's fixed tweak.
 * NULL on success, else a data error message that never contains the value. */
const char *fpe_rule_apply(const struct fpe_rule *r, struct fpe_work *w, const unsigned char *tweak,
			   size_t tlen, const unsigned char *in, size_t len, struct anon_buf *out);
/* range: the cycle-walk itself on an offset (value-LO) in [0, range_size): apply the plan
 * (NULL: the rule's plan for the fixed tweak) again until the result is inside the range.
 * What the tables cache; tests compare both. NULL or a message. */
const char *fpe_range_walk(const struct fpe_rule *r, struct fpe_aes *aes,
			   const struct fpe_plan *plan, uint64_t off, bool decrypt, uint64_t *out);

#endif
