/* ff3.c: FF3-1 (SP 800-38G Rev.1 draft 2019, Algorithms 9 and 10).
 * Its maxlen keeps every half below 2^96, so it never needs bignums. The three reversals
 * (key bytes, AES block, numeral strings) are folded in: the cipher holds REVB(K), the halves
 * are kept as NUM(REV(X)), and the block is assembled directly in reversed byte order. */
#include <string.h>

#include "fpe.h"

#define ROUNDS 8

const char *fpe_ff3_prepare(struct fpe_plan *p)
{
	const unsigned char *t = p->tweak;
	p->u = (p->n + 1) / 2;
	p->v = p->n - p->u;
	p->mod_u = fpe_pow96(p->radix, p->u);
	p->mod_v = fpe_pow96(p->radix, p->v);
	if (p->mod_u == 0)
		return "value too long for FF3-1";
	p->path = FPE_PATH_U128;
	/* T_L = T[0..27] || 0^4,  T_R = T[32..55] || T[28..31] || 0^4 */
	p->tl[0] = t[0], p->tl[1] = t[1], p->tl[2] = t[2], p->tl[3] = t[3] & 0xf0;
	p->tr[0] = t[4], p->tr[1] = t[5], p->tr[2] = t[6], p->tr[3] = (unsigned char)(t[3] << 4);
	return NULL;
}

/* y = NUM(REVB(CIPH(REVB(W xor [i]^4 || [half]^12)))): REVB turns the big-endian fields
 * into little-endian ones, so the block is half in 12 little-endian bytes, then W reversed. */
static inline bool ff3_round(const struct fpe_plan *p, struct fpe_aes *aes, unsigned i,
			     fpe_u128 half, fpe_u128 *y)
{
	const unsigned char *w = (i & 1) ? p->tl : p->tr;
	unsigned char block[16], s[16];
	fpe_store_le(block, half, 12);
	block[12] = w[3] ^ (unsigned char)i;
	block[13] = w[2];
	block[14] = w[1];
	block[15] = w[0];
	if (!fpe_aes_block(aes, block, s))
		return false;
	*y = fpe_load_le(s, 16);
	return true;
}

/* y mod m for m <= 2^96. With m <= 2^32 (and inv its reciprocal), y = hi*2^64 + lo reduces
 * without division as ((hi mod m) * (2^64 mod m) + lo mod m) mod m, each product < 2^64. */
static inline fpe_u128 mod96(fpe_u128 y, fpe_u128 m, uint64_t inv)
{
	if (inv) {
		uint64_t m64 = (uint64_t)m;
		uint64_t two64 = fpe_mod64(UINT64_MAX, m64, inv) + 1;  /* 2^64 mod m, maybe = m */
		uint64_t h = fpe_mod64(fpe_mod64((uint64_t)(y >> 64), m64, inv) * two64, m64, inv);
		uint64_t r = h + fpe_mod64((uint64_t)y, m64, inv);
		return r >= m64 ? r - m64 : r;
	}
	if ((m >> 64) == 0) {
		uint64_t m64 = (uint64_t)m;
		uint64_t hi = (uint64_t)(y >> 64) % m64;
		return (((fpe_u128)hi << 64) | (uint64_t)y) % m64;
	}
	return y % m;
}

const char *fpe_ff3_run(const struct fpe_plan *p, struct fpe_aes *aes, const uint16_t *in,
			uint16_t *out, bool decrypt)
{
	fpe_u128 a = fpe_num_rev(in, p->u, p->radix);
	fpe_u128 b = fpe_num_rev(in + p->u, p->v, p->radix);
	fpe_u128 y;
	if (!decrypt) {
		for (unsigned i = 0; i < ROUNDS; i++) {
			fpe_u128 mod = (i & 1) ? p->mod_v : p->mod_u;
			if (!ff3_round(p, aes, i, b, &y))
				return "AES failed";
			fpe_u128 c = a + mod96(y, mod, (i & 1) ? p->inv_v : p->inv_u);
			if (c >= mod)
				c -= mod;
			a = b;
			b = c;
		}
	} else {
		for (unsigned i = ROUNDS; i-- > 0;) {
			fpe_u128 mod = (i & 1) ? p->mod_v : p->mod_u;
			if (!ff3_round(p, aes, i, a, &y))
				return "AES failed";
			fpe_u128 ym = mod96(y, mod, (i & 1) ? p->inv_v : p->inv_u);
			fpe_u128 c = b >= ym ? b - ym : b + (mod - ym);
			b = a;
			a = c;
		}
	}
	fpe_str_rev(a, p->radix, out, p->u);
	fpe_str_rev(b, p->radix, out + p->u, p->v);
	return NULL;
}
