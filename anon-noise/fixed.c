/* fixed.c: decimal text <-> exact fixed-point integers.  Values never pass through a double:
 * the grid is decimal because CSV values are decimal strings, and printf("%g") would both
 * cost ~300 ns and round.  Values are 128-bit so that numeric(38,s) columns, and bigint
 * columns' sums, fit whole; parameters stay 64-bit (see noise.h). */
#include <string.h>

#include "noise.h"

static const int64_t pow10_tab[19] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
	1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
};

#define P19 ((u128)10000000000000000000u)
static const u128 pow10u_tab[ANON_NOISE_DIGITS + 1] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
	1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
	P19, P19 * 10, P19 * 100, P19 * 1000, P19 * 10000, P19 * 100000, P19 * 1000000,
	P19 * 10000000, P19 * 100000000, P19 * 1000000000, P19 * 10000000000,
	P19 * 100000000000, P19 * 1000000000000, P19 * 10000000000000,
	P19 * 100000000000000, P19 * 1000000000000000, P19 * 10000000000000000,
	P19 * 100000000000000000, P19 * 1000000000000000000, P19 * P19,
};

int64_t anon_noise_pow10(int d)
{
	return pow10_tab[d];
}

u128 anon_noise_pow10u(int d)
{
	return pow10u_tab[d];
}

bool anon_noise_dec_parse(const unsigned char *s, size_t n, int64_t *mant, int *ndec)
{
	size_t i = 0;
	bool neg = false, digits = false;
	uint64_t v = 0;
	int nd = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		digits = true;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			digits = true;
			if (++nd > ANON_NOISE_DEC_MAX || v > (UINT64_MAX - 9) / 10)
				return false;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
	}
	if (!digits || i != n || v > (uint64_t)INT64_MAX)
		return false;
	*mant = neg ? -(int64_t)v : (int64_t)v;
	*ndec = nd;
	return true;
}

/* The mantissa grows one digit at a time and must stay below 10^38: before a digit is
 * appended it must be below 10^37. */
#define MANT_LIMIT (P19 * 1000000000000000000)  /* 10^37 */

/* Digits accumulate in 64 bits while they cannot overflow (below 10^18, one more digit
 * stays below 2^64), as all but the widest values do, and in 128 bits after: 128-bit
 * multiplication costs three of the 64-bit kind. */
struct acc {
	uint64_t v64;
	u128 v;
	bool wide, big;
};

static inline void acc_digit(struct acc *a, unsigned c)
{
	if (!a->wide) {
		if (a->v64 < 1000000000000000000u) {
			a->v64 = a->v64 * 10 + c;
			return;
		}
		a->v = a->v64;
		a->wide = true;
	}
	if (a->v >= MANT_LIMIT)
		a->big = true;  /* keep reading: bad syntax is reported before size */
	else
		a->v = a->v * 10 + c;
}

static inline u128 acc_value(const struct acc *a)
{
	return a->wide ? a->v : a->v64;
}

int anon_noise_num_parse(const unsigned char *s, size_t n, i128 *mant, int *ndec)
{
	size_t i = 0;
	bool neg = false, digits = false;
	struct acc a = { 0 };
	int nd = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < n && (unsigned)(s[i] - '0') < 10; i++) {
		digits = true;
		acc_digit(&a, (unsigned)(s[i] - '0'));
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && (unsigned)(s[i] - '0') < 10; i++) {
			digits = true;
			nd++;
			acc_digit(&a, (unsigned)(s[i] - '0'));
		}
	}
	if (!digits || i != n)
		return 1;
	if (nd > ANON_NOISE_DIGITS)
		return 3;
	if (a.big)
		return 2;
	u128 v = acc_value(&a);
	*mant = neg ? -(i128)v : (i128)v;
	*ndec = nd;
	return 0;
}

bool anon_noise_dec_rescale(i128 mant, int ndec, int d, enum anon_noise_round mode, i128 *out)
{
	if (ndec <= d) {
		i128 x;
		int64_t x64;
		if (mant >= INT64_MIN && mant <= INT64_MAX && d - ndec <= 18 &&
		    !__builtin_mul_overflow((int64_t)mant, pow10_tab[d - ndec], &x64)) {
			*out = x64;  /* the usual case, without a 128-bit multiplication */
			return true;
		}
		if (d - ndec > ANON_NOISE_DIGITS ||
		    __builtin_mul_overflow(mant, (i128)pow10u_tab[d - ndec], &x) ||
		    x > ANON_NOISE_NUM_MAX || x < -ANON_NOISE_NUM_MAX)
			return false;
		*out = x;
		return true;
	}
	/* ndec <= 38 and d >= 0: the divisor is at most 10^38, which an i128 holds */
	i128 div = (i128)pow10u_tab[ndec - d];
	i128 q = mant / div, r = mant % div;
	if (r < 0) {  /* floor division */
		q--;
		r += div;
	}
	if (mode == ANON_NOISE_CEIL && r)
		q++;
	else if (mode == ANON_NOISE_HALF_EVEN && (r > div - r || (r == div - r && (q & 1))))
		q++;
	*out = q;
	return true;
}

int anon_noise_fixed_parse(const unsigned char *s, size_t n, int d, i128 *out)
{
	const unsigned char *e = s + n;
	bool neg = false, digits = false;
	struct acc a = { 0 };
	if (s < e && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	for (; s < e && (unsigned)(*s - '0') < 10; s++) {
		digits = true;
		acc_digit(&a, (unsigned)(*s - '0'));
	}
	int nd = 0;
	unsigned first_dropped = 0;
	bool sticky = false;
	if (s < e && *s == '.') {
		for (s++; s < e && (unsigned)(*s - '0') < 10; s++) {
			digits = true;
			unsigned c = (unsigned)(*s - '0');
			if (nd < d) {
				acc_digit(&a, c);
				nd++;
			} else if (nd++ == d) {
				first_dropped = c;
			} else if (c) {
				sticky = true;
			}
		}
	}
	if (!digits || s != e)
		return 1;
	if (a.big)
		return 2;
	u128 v = acc_value(&a);
	if (nd < d) {
		if (v > (u128)ANON_NOISE_NUM_MAX / pow10u_tab[d - nd])
			return 2;
		v *= pow10u_tab[d - nd];
	} else if (nd > d) {
		/* half to even on the magnitude: symmetric for negative values */
		if (first_dropped > 5 || (first_dropped == 5 && (sticky || (v & 1))))
			v++;
	}
	if (v > (u128)ANON_NOISE_NUM_MAX)
		return 2;
	*out = neg ? -(i128)v : (i128)v;
	return 0;
}

/* The digits of m, most significant first, into the end of buf; returns where they start.
 * Values that fit 64 bits (nearly all) avoid the 128-bit division. */
static char *digits_of(u128 m, char *end)
{
	char *p = end;
	uint64_t lo = (uint64_t)m;
	if (m > UINT64_MAX) {
		uint64_t hi = (uint64_t)(m / P19);
		lo = (uint64_t)(m % P19);
		for (int i = 0; i < 19; i++, lo /= 10)
			*--p = (char)('0' + lo % 10);
		lo = hi;
	}
	do {
		*--p = (char)('0' + lo % 10);
		lo /= 10;
	} while (lo);
	return p;
}

size_t anon_noise_fixed_format(i128 v, int d, char *out)
{
	char tmp[48];
	u128 m = v < 0 ? (u128)(-(v + 1)) + 1 : (u128)v;
	char *p = digits_of(m, tmp + sizeof(tmp));
	size_t k = (size_t)(tmp + sizeof(tmp) - p), len = 0;
	if (v < 0)
		out[len++] = '-';
	if (k <= (size_t)d) {
		/* 0.000ddd */
		out[len++] = '0';
		out[len++] = '.';
		memset(out + len, '0', (size_t)d - k);
		len += (size_t)d - k;
		memcpy(out + len, p, k);
		return len + k;
	}
	memcpy(out + len, p, k - (size_t)d);
	len += k - (size_t)d;
	if (d) {
		out[len++] = '.';
		memcpy(out + len, p + k - d, (size_t)d);
		len += (size_t)d;
	}
	return len;
}
