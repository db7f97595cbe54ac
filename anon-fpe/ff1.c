/* ff1.c: FF1 (SP 800-38G Rev.1, Algorithms 7 and 8).
 * While radix^v <= 2^96 (b <= 12, d <= 16) the halves live in 128-bit integers and each
 * round is one AES block: the CBC-MAC over P and the tweak blocks is computed once per plan.
 * Longer values take the bignum path, which follows the standard's text step by step. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "fpe.h"

#define ROUNDS 10

/* P = [1]^1 [2]^1 [1]^1 [radix]^3 [10]^1 [u mod 256]^1 [n]^4 [t]^4 */
static void ff1_p_block(const struct fpe_plan *p, unsigned char out[16])
{
	out[0] = 1, out[1] = 2, out[2] = 1;
	out[3] = (unsigned char)(p->radix >> 16);
	out[4] = (unsigned char)(p->radix >> 8);
	out[5] = (unsigned char)p->radix;
	out[6] = 10;
	out[7] = (unsigned char)(p->u & 0xff);
	for (int i = 0; i < 4; i++) {
		out[8 + i] = (unsigned char)((uint64_t)p->n >> (24 - 8 * i));
		out[12 + i] = (unsigned char)((uint64_t)p->tlen >> (24 - 8 * i));
	}
}

static size_t bytelen_u128(fpe_u128 x)
{
	size_t len = 0;
	while (x) {
		len++;
		x >>= 8;
	}
	return len;
}

const char *fpe_ff1_prepare(struct fpe_plan *p, struct fpe_aes *aes)
{
	p->u = p->n / 2;
	p->v = p->n - p->u;
	p->mod_u = fpe_pow96(p->radix, p->u);
	p->mod_v = fpe_pow96(p->radix, p->v);
	if (p->mod_v == 0) {
		p->path = FPE_PATH_BIG;  /* b and d are computed with bignums there */
		return NULL;
	}
	p->b = bytelen_u128(p->mod_v - 1);
	p->d = 4 * ((p->b + 3) / 4) + 4;
	p->path = p->d <= 8 ? FPE_PATH_U64 : FPE_PATH_U128;

	/* Q = T || 0^pad || [i]^1 || [NUM(B)]^b with |Q| a multiple of 16: every block of P||Q but
	 * the last is fixed, so chain through them now. */
	size_t pad = (16 - (p->tlen + p->b + 1) % 16) % 16;
	size_t qlen = p->tlen + pad + 1 + p->b;
	unsigned char block[16], chain[16];
	ff1_p_block(p, block);
	if (!fpe_aes_block(aes, block, chain))
		return "AES failed";
	/* Byte j of Q is the tweak, then zeros; the last block starts at qlen - 16. */
	for (size_t off = 0; off < qlen; off += 16) {
		for (size_t j = 0; j < 16; j++) {
			size_t q = off + j;
			block[j] = q < p->tlen ? p->tweak[q] : 0;
		}
		if (off + 16 == qlen) {
			for (size_t j = 0; j < 16; j++)
				block[j] ^= chain[j];
			p->x_hi = fpe_load_be64(block);
			p->x_lo = fpe_load_be64(block + 8);
			break;
		}
		for (size_t j = 0; j < 16; j++)
			block[j] ^= chain[j];
		if (!fpe_aes_block(aes, block, chain))
			return "AES failed";
	}
	return NULL;
}

/* One round's PRF output y = NUM(S) for the half `half`: the last block of Q is the fixed head
 * (already in x), then [i]^1 and [half]^b, so R = CIPH(x xor ([i] || [half]^b)). */
static inline bool ff1_round(const struct fpe_plan *p, struct fpe_aes *aes, unsigned i,
			     fpe_u128 half, fpe_u128 *y)
{
	unsigned char block[16], r[16];
	fpe_u128 tail = (fpe_u128)i << (8 * p->b) | half;
	fpe_store_be64(block, p->x_hi ^ (uint64_t)(tail >> 64));
	fpe_store_be64(block + 8, p->x_lo ^ (uint64_t)tail);
	if (!fpe_aes_block(aes, block, r))
		return false;
	uint64_t hi = fpe_load_be64(r), lo = fpe_load_be64(r + 8);
	switch (p->d) {
	case 8: *y = hi; break;
	case 12: *y = (fpe_u128)hi << 32 | lo >> 32; break;
	default: *y = (fpe_u128)hi << 64 | lo; break;
	}
	return true;
}

static const char *ff1_run_u128(const struct fpe_plan *p, struct fpe_aes *aes,
				const uint16_t *in, uint16_t *out, bool decrypt)
{
	fpe_u128 a = fpe_num(in, p->u, p->radix);
	fpe_u128 b = fpe_num(in + p->u, p->v, p->radix);
	fpe_u128 y;
	if (!decrypt) {
		for (unsigned i = 0; i < ROUNDS; i++) {
			fpe_u128 mod = (i & 1) ? p->mod_v : p->mod_u;
			if (!ff1_round(p, aes, i, b, &y))
				return "AES failed";
			fpe_u128 c = a + y % mod;
			if (c >= mod)
				c -= mod;
			a = b;
			b = c;
		}
	} else {
		for (unsigned i = ROUNDS; i-- > 0;) {
			fpe_u128 mod = (i & 1) ? p->mod_v : p->mod_u;
			if (!ff1_round(p, aes, i, a, &y))
				return "AES failed";
			fpe_u128 ym = y % mod;
			fpe_u128 c = b >= ym ? b - ym : b + (mod - ym);
			b = a;
			a = c;
		}
	}
	fpe_str(a, p->radix, out, p->u);
	fpe_str(b, p->radix, out + p->u, p->v);
	return NULL;
}

/* d = 8 and radix^v <= 2^32: everything in 64 bits (16-digit cards land here). The tail
 * [i]^1 || [half]^b fits the low 8 bytes of the block since b <= 4. */
static const char *ff1_run_u64(const struct fpe_plan *p, struct fpe_aes *aes,
			       const uint16_t *in, uint16_t *out, bool decrypt)
{
	uint64_t a = (uint64_t)fpe_num(in, p->u, p->radix);
	uint64_t b = (uint64_t)fpe_num(in + p->u, p->v, p->radix);
	const uint64_t mods[2] = { (uint64_t)p->mod_u, (uint64_t)p->mod_v };
	const uint64_t invs[2] = { p->inv_u, p->inv_v };
	const unsigned shift = 8 * (unsigned)p->b;
	unsigned char block[16], r[16];
	fpe_store_be64(block, p->x_hi);
	for (unsigned k = 0; k < ROUNDS; k++) {
		unsigned i = decrypt ? ROUNDS - 1 - k : k;
		uint64_t mod = mods[i & 1];
		uint64_t half = decrypt ? a : b;
		fpe_store_be64(block + 8, p->x_lo ^ ((uint64_t)i << shift | half));
		if (!fpe_aes_block(aes, block, r))
			return "AES failed";
		uint64_t ym = fpe_mod64(fpe_load_be64(r), mod, invs[i & 1]);
		if (!decrypt) {
			uint64_t c = a + ym;  /* a, ym < 2^32: no overflow */
			if (c >= mod)
				c -= mod;
			a = b;
			b = c;
		} else {
			uint64_t c = b >= ym ? b - ym : b + (mod - ym);
			b = a;
			a = c;
		}
	}
	fpe_str(a, p->radix, out, p->u);
	fpe_str(b, p->radix, out + p->u, p->v);
	return NULL;
}

/* ---- bignum path ---------------------------------------------------------------------------- */

static bool bn_from_numerals(BIGNUM *x, const uint16_t *s, size_t m, unsigned radix)
{
	BN_zero(x);
	for (size_t i = 0; i < m; i++)
		if (!BN_mul_word(x, radix) || !BN_add_word(x, s[i]))
			return false;
	return true;
}

static bool bn_to_numerals(const BIGNUM *x, uint16_t *s, size_t m, unsigned radix)
{
	BIGNUM *t = BN_dup(x);
	if (!t)
		return false;
	for (size_t i = m; i-- > 0;) {
		BN_ULONG r = BN_div_word(t, radix);
		if (r == (BN_ULONG)-1) {
			BN_free(t);
			return false;
		}
		s[i] = (uint16_t)r;
	}
	BN_free(t);
	return true;
}

static const char *ff1_run_big(const struct fpe_plan *p, struct fpe_aes *aes,
			       const uint16_t *in, uint16_t *out, bool decrypt)
{
	const char *why = "bignum arithmetic failed";
	size_t u = p->u, v = p->v;
	BN_CTX *bn = BN_CTX_new();
	unsigned char *buf = NULL;
	if (!bn)
		return why;
	BN_CTX_start(bn);
	BIGNUM *a = BN_CTX_get(bn), *b = BN_CTX_get(bn), *y = BN_CTX_get(bn);
	BIGNUM *c = BN_CTX_get(bn), *mod_u = BN_CTX_get(bn), *mod_v = BN_CTX_get(bn);
	BIGNUM *rad = BN_CTX_get(bn), *lim = BN_CTX_get(bn);
	if (!lim || !BN_set_word(rad, p->radix) || !BN_set_word(lim, u) ||
	    !BN_exp(mod_u, rad, lim, bn) || !BN_set_word(lim, v) || !BN_exp(mod_v, rad, lim, bn) ||
	    !BN_copy(lim, mod_v) || !BN_sub_word(lim, 1))
		goto out;
	/* b = byte length of radix^v - 1, exactly; d = 4*ceil(b/4) + 4 */
	size_t bl = (size_t)BN_num_bytes(lim);
	size_t d = 4 * ((bl + 3) / 4) + 4;
	size_t pad = (16 - (p->tlen + bl + 1) % 16) % 16;
	size_t pqlen = 16 + p->tlen + pad + 1 + bl;
	size_t slen = (d + 15) / 16 * 16;
	buf = malloc(pqlen + slen);
	if (!buf)
		goto out;
	unsigned char *pq = buf, *s = buf + pqlen;
	ff1_p_block(p, pq);
	if (p->tlen)
		memcpy(pq + 16, p->tweak, p->tlen);
	memset(pq + 16 + p->tlen, 0, pad);
	if (!bn_from_numerals(a, in, u, p->radix) || !bn_from_numerals(b, in + u, v, p->radix))
		goto out;
	for (unsigned k = 0; k < ROUNDS; k++) {
		unsigned i = decrypt ? ROUNDS - 1 - k : k;
		BIGNUM *mod = (i & 1) ? mod_v : mod_u;
		pq[16 + p->tlen + pad] = (unsigned char)i;
		if (BN_bn2binpad(decrypt ? a : b, pq + pqlen - bl, (int)bl) < 0)
			goto out;
		/* R = CBC-MAC(P || Q), then S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) ... */
		unsigned char chain[16] = { 0 }, blk[16];
		for (size_t off = 0; off < pqlen; off += 16) {
			for (int j = 0; j < 16; j++)
				blk[j] = chain[j] ^ pq[off + j];
			if (!fpe_aes_block(aes, blk, chain)) {
				why = "AES failed";
				goto out;
			}
		}
		memcpy(s, chain, 16);
		for (size_t j = 1; j * 16 < d; j++) {
			memcpy(blk, chain, 16);
			for (int q = 0; q < 8; q++)
				blk[15 - q] ^= (unsigned char)((uint64_t)j >> (8 * q));
			if (!fpe_aes_block(aes, blk, s + 16 * j)) {
				why = "AES failed";
				goto out;
			}
		}
		if (!BN_bin2bn(s, (int)d, y))
			goto out;
		if (!decrypt) {
			if (!BN_add(c, a, y) || !BN_nnmod(c, c, mod, bn))
				goto out;
			BN_swap(a, b);  /* A = B */
			BN_swap(b, c);  /* B = c */
		} else {
			if (!BN_sub(c, b, y) || !BN_nnmod(c, c, mod, bn))
				goto out;
			BN_swap(b, a);  /* B = A */
			BN_swap(a, c);  /* A = c */
		}
	}
	if (bn_to_numerals(a, out, u, p->radix) && bn_to_numerals(b, out + u, v, p->radix))
		why = NULL;
out:
	free(buf);
	BN_CTX_end(bn);
	BN_CTX_free(bn);
	return why;
}

const char *fpe_ff1_run(const struct fpe_plan *p, struct fpe_aes *aes, const uint16_t *in,
			uint16_t *out, bool decrypt)
{
	switch (p->path) {
	case FPE_PATH_U64:
		return ff1_run_u64(p, aes, in, out, decrypt);
	case FPE_PATH_U128:
		return ff1_run_u128(p, aes, in, out, decrypt);
	default:
		return ff1_run_big(p, aes, in, out, decrypt);
	}
}
