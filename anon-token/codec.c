/* codec.c: token text. Bodies of base32, digits or alnum symbols drawn without bias from a
 * byte stream (a MAC for keyed tokens, random bytes for vault tokens), and base64url. */
#include <string.h>

#include "token.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";  /* RFC 4648 section 6 */
static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static inline unsigned char next_byte(struct tok_bytes *b)
{
	if (b->pos == b->n)
		b->refill(b);
	return b->p[b->pos++];
}

void tok_body(enum tok_format f, size_t len, bool no_lead_zero, struct tok_bytes *src,
	      struct anon_buf *out)
{
	anon_buf_reserve(out, len);
	unsigned char *w = out->p + out->len;
	size_t i = 0;
	switch (f) {
	case FMT_BASE32: {
		/* 5 bits a symbol, most significant first, as base32 of the stream would be:
		 * 5 bytes give 8 symbols */
		while (len - i >= 8 && src->n - src->pos >= 5) {
			const unsigned char *b = src->p + src->pos;
			uint64_t v = (uint64_t)b[0] << 32 | (uint64_t)b[1] << 24 | (uint64_t)b[2] << 16 |
				     (uint64_t)b[3] << 8 | b[4];
			for (int k = 0; k < 8; k++)
				w[i + (size_t)k] = (unsigned char)b32[(v >> (35 - 5 * k)) & 31];
			src->pos += 5;
			i += 8;
		}
		uint32_t acc = 0;
		unsigned bits = 0;
		while (i < len) {
			if (bits < 5) {
				acc = (acc << 8) | next_byte(src);
				bits += 8;
			}
			w[i++] = (unsigned char)b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
		break;
	}
	case FMT_DIGITS:
		while (i < len) {
			unsigned char c = next_byte(src);
			if (c >= 250)
				continue; /* 250 = 25 * 10: each digit equally likely */
			if (i == 0 && no_lead_zero && c % 10 == 0)
				continue;
			w[i++] = (unsigned char)('0' + c % 10);
		}
		break;
	case FMT_ALNUM:
		while (i < len) {
			unsigned char c = next_byte(src);
			if (c >= 248)
				continue; /* 248 = 4 * 62 */
			w[i++] = (unsigned char)alnum[c % 62];
		}
		break;
	case FMT_BASE64URL:
		while (i < len)
			w[i++] = (unsigned char)b64[next_byte(src) & 63];
		break;
	}
	out->len += len;
}

void tok_b64url_encode(const unsigned char *d, size_t n, struct anon_buf *out)
{
	anon_buf_reserve(out, (n * 4 + 2) / 3);
	unsigned char *w = out->p + out->len;
	size_t i = 0, k = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		w[k++] = (unsigned char)b64[v >> 18];
		w[k++] = (unsigned char)b64[(v >> 12) & 63];
		w[k++] = (unsigned char)b64[(v >> 6) & 63];
		w[k++] = (unsigned char)b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)d[i] << 16;
		w[k++] = (unsigned char)b64[v >> 18];
		w[k++] = (unsigned char)b64[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
		w[k++] = (unsigned char)b64[v >> 18];
		w[k++] = (unsigned char)b64[(v >> 12) & 63];
		w[k++] = (unsigned char)b64[(v >> 6) & 63];
	}
	out->len += k;
}

/* A symbol's value, or XX for a byte outside the alphabet (the high bit: one test for a
 * group of four). */
#define XX 0xff
static const unsigned char b64val[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
#undef XX

size_t tok_b64url_decode(const unsigned char *s, size_t n, unsigned char *out)
{
	if (n % 4 == 1)
		return (size_t)-1;
	size_t i = 0, k = 0;
	for (; n - i >= 4; i += 4) {
		uint32_t a = b64val[s[i]], b = b64val[s[i + 1]], c = b64val[s[i + 2]],
			 d = b64val[s[i + 3]];
		if ((a | b | c | d) & 0x80)
			return (size_t)-1;
		uint32_t v = a << 18 | b << 12 | c << 6 | d;
		out[k++] = (unsigned char)(v >> 16);
		out[k++] = (unsigned char)(v >> 8);
		out[k++] = (unsigned char)v;
	}
	if (i == n)
		return k;
	/* a tail of 2 or 3 symbols: 1 or 2 bytes, and 4 or 2 bits over */
	uint32_t a = b64val[s[i]], b = b64val[s[i + 1]], c = n - i == 3 ? b64val[s[i + 2]] : 0;
	if ((a | b | c) & 0x80)
		return (size_t)-1;
	uint32_t v = a << 18 | b << 12 | c << 6;
	out[k++] = (unsigned char)(v >> 16);
	if (n - i == 3)
		out[k++] = (unsigned char)(v >> 8);
	/* one encoding per byte string: the bits left over must be zero */
	if ((n - i == 2 ? v & 0xffff : v & 0xff) != 0)
		return (size_t)-1;
	return k;
}

size_t tok_value_chars(const unsigned char *p, size_t n)
{
	return anon_utf8_valid(p, n) ? anon_utf8_count(p, n) : n;
}
