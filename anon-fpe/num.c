/* num.c: the AES key, domain limits computed with integers only, numeral strings <-> integers,
 * and the plan that dispatches to FF1 or FF3-1. */
#include <string.h>

#include <openssl/crypto.h>

#include "fpe.h"

int fpe_cipher_init(struct fpe_cipher *c, enum fpe_algo algo, const unsigned char *key,
		    size_t keylen)
{
	const char *name;
	switch (keylen) {
	case 16: name = "AES-128-ECB"; break;
	case 24: name = "AES-192-ECB"; break;
	case 32: name = "AES-256-ECB"; break;
	default: return -1;
	}
	memset(c, 0, sizeof *c);
	c->algo = algo;
	c->key_bits = (unsigned)keylen * 8;
	unsigned char k[32];
	/* FF3-1 builds its key schedule from REVB(K). */
	for (size_t i = 0; i < keylen; i++)
		k[i] = algo == FPE_FF3_1 ? key[keylen - 1 - i] : key[i];
	EVP_CIPHER *aes = EVP_CIPHER_fetch(NULL, name, NULL);
	c->ecb = EVP_CIPHER_CTX_new();
	int ok = aes && c->ecb && EVP_EncryptInit_ex2(c->ecb, aes, k, NULL, NULL) == 1 &&
		 EVP_CIPHER_CTX_set_padding(c->ecb, 0) == 1;
	OPENSSL_cleanse(k, sizeof k);
	EVP_CIPHER_free(aes);
	if (!ok) {
		fpe_cipher_free(c);
		return -2;
	}
	return 0;
}

void fpe_cipher_free(struct fpe_cipher *c)
{
	EVP_CIPHER_CTX_free(c->ecb);
	c->ecb = NULL;
}

int fpe_aes_init(struct fpe_aes *a, const struct fpe_cipher *c)
{
	a->ecb = EVP_CIPHER_CTX_new();
	if (!a->ecb || !c->ecb || EVP_CIPHER_CTX_copy(a->ecb, c->ecb) != 1) {
		fpe_aes_free(a);
		return -2;
	}
	return 0;
}

void fpe_aes_free(struct fpe_aes *a)
{
	EVP_CIPHER_CTX_free(a->ecb);
	a->ecb = NULL;
}

bool fpe_aes_block(struct fpe_aes *a, const unsigned char in[16], unsigned char out[16])
{
	int outl;
	return EVP_EncryptUpdate(a->ecb, out, &outl, in, 16) == 1 && outl == 16;
}

/* ---- limits --------------------------------------------------------------------------------- */

size_t fpe_minlen(unsigned radix)
{
	uint64_t p = 1;
	size_t n = 0;
	while (p < FPE_MIN_DOMAIN) {
		p *= radix;
		n++;
	}
	return n < 2 ? 2 : n;
}

size_t fpe_ff3_maxlen(unsigned radix)
{
	/* k = the largest integer with radix^k <= 2^96; radix 64 lands exactly on 2^96. */
	const fpe_u128 limit = (fpe_u128)1 << 96;
	fpe_u128 p = 1;
	size_t k = 0;
	while (p * radix <= limit) {
		p *= radix;
		k++;
	}
	return 2 * k;
}

size_t fpe_maxlen(enum fpe_algo algo, unsigned radix)
{
	return algo == FPE_FF3_1 ? fpe_ff3_maxlen(radix) : FPE_FF1_MAXLEN;
}

const char *fpe_check(enum fpe_algo algo, unsigned radix, size_t n, size_t tlen)
{
	if (radix < 2 || radix > FPE_MAX_RADIX)
		return "radix must be 2..65536";
	if (n < fpe_minlen(radix))
		return "domain too small: radix^length must be at least 1000000";
	if (n > fpe_maxlen(algo, radix))
		return algo == FPE_FF3_1 ? "value too long for FF3-1 (2*floor(log_radix(2^96)) symbols)"
					 : "value too long for FF1 (more than 4096 symbols)";
	if (algo == FPE_FF3_1 && tlen != FPE_FF3_TWEAK)
		return "FF3-1 tweak must be exactly 7 bytes (56 bits)";
	if (algo == FPE_FF1 && tlen > FPE_FF1_MAX_TWEAK)
		return "FF1 tweak longer than 256 bytes";
	return NULL;
}

/* ---- numeral strings ------------------------------------------------------------------------ */

fpe_u128 fpe_pow96(unsigned radix, size_t m)
{
	const fpe_u128 limit = (fpe_u128)1 << 96;
	fpe_u128 p = 1;
	for (size_t i = 0; i < m; i++) {
		p *= radix;
		if (p > limit)
			return 0;
	}
	return p;
}

fpe_u128 fpe_num(const uint16_t *x, size_t m, unsigned radix)
{
	if (radix == 10 && m <= 19) {
		uint64_t v = 0;
		for (size_t i = 0; i < m; i++)
			v = v * 10 + x[i];
		return v;
	}
	fpe_u128 v = 0;
	for (size_t i = 0; i < m; i++)
		v = v * radix + x[i];
	return v;
}

fpe_u128 fpe_num_rev(const uint16_t *x, size_t m, unsigned radix)
{
	fpe_u128 v = 0;
	for (size_t i = m; i-- > 0;)
		v = v * radix + x[i];
	return v;
}

/* Least significant numeral first into x[0..m) with stride: 1 for STR_rev, -1 for STR. */
static void str_digits(fpe_u128 v, unsigned radix, uint16_t *x, size_t m, ptrdiff_t step)
{
	size_t i = 0;
	/* 128-bit division is a library call; most values fit 64 bits after a few digits. */
	for (; i < m && (v >> 64) != 0; i++, x += step) {
		*x = (uint16_t)(v % radix);
		v /= radix;
	}
	uint64_t w = (uint64_t)v;
	if (radix == 10) {
		for (; i < m; i++, x += step) {
			*x = (uint16_t)(w % 10);
			w /= 10;
		}
	} else {
		for (; i < m; i++, x += step) {
			*x = (uint16_t)(w % radix);
			w /= radix;
		}
	}
}

void fpe_str(fpe_u128 v, unsigned radix, uint16_t *x, size_t m)
{
	if (m)
		str_digits(v, radix, x + m - 1, m, -1);
}

void fpe_str_rev(fpe_u128 v, unsigned radix, uint16_t *x, size_t m)
{
	str_digits(v, radix, x, m, 1);
}

/* ---- plans ---------------------------------------------------------------------------------- */

const char *fpe_plan_init_aes(struct fpe_plan *p, const struct fpe_cipher *c,
			      struct fpe_aes *aes, const unsigned char *tweak, size_t tlen,
			      unsigned radix, size_t n)
{
	const char *why = fpe_check(c->algo, radix, n, tlen);
	if (why)
		return why;
	memset(p, 0, sizeof *p);
	p->cipher = c;
	p->radix = radix;
	p->n = n;
	p->tweak = tweak;
	p->tlen = tlen;
	const char *why2 = c->algo == FPE_FF1 ? fpe_ff1_prepare(p, aes) : fpe_ff3_prepare(p);
	const fpe_u128 small = (fpe_u128)1 << 32;
	if (p->mod_u && p->mod_u <= small)
		p->inv_u = UINT64_MAX / (uint64_t)p->mod_u;
	if (p->mod_v && p->mod_v <= small)
		p->inv_v = UINT64_MAX / (uint64_t)p->mod_v;
	return why2;
}

void fpe_plan_force_big(struct fpe_plan *p)
{
	if (p->cipher->algo == FPE_FF1)
		p->path = FPE_PATH_BIG;
}

const char *fpe_plan_run_aes(const struct fpe_plan *p, struct fpe_aes *aes, const uint16_t *in,
			     uint16_t *out, bool decrypt)
{
	for (size_t i = 0; i < p->n; i++)
		if (in[i] >= p->radix)
			return "numeral outside the radix";
	return p->cipher->algo == FPE_FF1 ? fpe_ff1_run(p, aes, in, out, decrypt)
					  : fpe_ff3_run(p, aes, in, out, decrypt);
}

/* ---- single-threaded conveniences: the cipher's own context ----------------------------- */

const char *fpe_plan_init(struct fpe_plan *p, const struct fpe_cipher *c,
			  const unsigned char *tweak, size_t tlen, unsigned radix, size_t n)
{
	struct fpe_aes own = fpe_cipher_aes(c);
	return fpe_plan_init_aes(p, c, &own, tweak, tlen, radix, n);
}

const char *fpe_plan_run(const struct fpe_plan *p, const uint16_t *in, uint16_t *out, bool decrypt)
{
	struct fpe_aes own = fpe_cipher_aes(p->cipher);
	return fpe_plan_run_aes(p, &own, in, out, decrypt);
}

const char *fpe_crypt(const struct fpe_cipher *c, const unsigned char *tweak, size_t tlen,
		      unsigned radix, const uint16_t *in, uint16_t *out, size_t n, bool decrypt)
{
	struct fpe_plan plan;
	const char *why = fpe_plan_init(&plan, c, tweak, tlen, radix, n);
	return why ? why : fpe_plan_run(&plan, in, out, decrypt);
}
