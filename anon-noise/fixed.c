/* fixed.c: decimal text <-> exact fixed-point integers.  Values never pass through a double:
 * the grid is decimal because CSV values are decimal strings, and printf("%g") would both
 * cost ~300 ns and round. */
#include <string.h>

#include "noise.h"

static const int64_t pow10_tab[19] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
	1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
};

int64_t anon_noise_pow10(int d)
{
	return pow10_tab[d];
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

bool anon_noise_dec_rescale(int64_t mant, int ndec, int d, enum anon_noise_round mode,
			    int64_t *out)
{
	if (ndec <= d) {
		int64_t m = pow10_tab[d - ndec];
		__int128 x = (__int128)mant * m;
		if (x > INT64_MAX || x < -INT64_MAX)
			return false;
		*out = (int64_t)x;
		return true;
	}
	int64_t div = pow10_tab[ndec - d];
	int64_t q = mant / div, r = mant % div;
	if (r < 0) {  /* floor division */
		q--;
		r += div;
	}
	if (mode == ANON_NOISE_CEIL && r)
		q++;
	else if (mode == ANON_NOISE_HALF_EVEN && (2 * (__int128)r > div ||
		 (2 * (__int128)r == div && (q & 1))))
		q++;
	*out = q;
	return true;
}

int anon_noise_fixed_parse(const unsigned char *s, size_t n, int d, int64_t *out)
{
	const unsigned char *e = s + n;
	bool neg = false, digits = false;
	uint64_t v = 0;
	if (s < e && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	/* 19 digits always fit in a uint64; beyond, check each step */
	for (; s < e && (unsigned)(*s - '0') < 10; s++) {
		digits = true;
		if (v > (UINT64_MAX - 9) / 10)
			return 2;
		v = v * 10 + (unsigned)(*s - '0');
	}
	int nd = 0;
	unsigned first_dropped = 0;
	bool sticky = false;
	if (s < e && *s == '.') {
		for (s++; s < e && (unsigned)(*s - '0') < 10; s++) {
			digits = true;
			unsigned c = (unsigned)(*s - '0');
			if (nd < d) {
				if (v > (UINT64_MAX - 9) / 10)
					return 2;
				v = v * 10 + c;
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
	if (nd < d) {
		u128 x = (u128)v * (uint64_t)pow10_tab[d - nd];
		if (x > (u128)INT64_MAX)
			return 2;
		v = (uint64_t)x;
	} else if (nd > d) {
		/* half to even on the magnitude: symmetric for negative values */
		if (first_dropped > 5 || (first_dropped == 5 && (sticky || (v & 1))))
			v++;
	}
	if (v > (uint64_t)INT64_MAX)
		return 2;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

size_t anon_noise_fixed_format(int64_t v, int d, char *out)
{
	char tmp[48];
	char *p = tmp + sizeof(tmp);
	uint64_t m = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	int i = 0;
	do {
		*--p = (char)('0' + m % 10);
		m /= 10;
		if (++i == d)
			*--p = '.';
	} while (m || i <= d);
	if (*p == '.')
		*--p = '0';
	if (v < 0)
		*--p = '-';
	size_t len = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(out, p, len);
	return len;
}
