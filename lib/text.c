/* text.c: UTF-8, Luhn and strict number parsing, shared by every tool that reads text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"

size_t anon_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	uint32_t v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

size_t anon_utf8_encode(uint32_t cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

bool anon_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		size_t l = anon_utf8_decode(s + i, n - i, &cp);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

size_t anon_utf8_count(const unsigned char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += (s[i] & 0xc0) != 0x80;
	return count;
}

bool anon_luhn_valid(const unsigned char *s, size_t n)
{
	int sum = 0, ndigits = 0;
	for (size_t i = n; i-- > 0;) {
		if (s[i] < '0' || s[i] > '9')
			continue;
		int d = s[i] - '0';
		if (ndigits++ & 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return ndigits > 0 && sum % 10 == 0;
}

int anon_luhn_check_digit(const unsigned char *s, size_t n)
{
	/* The check digit will stand rightmost, so the last payload digit is doubled. */
	int sum = 0, k = 0;
	for (size_t i = n; i-- > 0;) {
		if (s[i] < '0' || s[i] > '9')
			continue;
		int d = s[i] - '0';
		if ((k++ & 1) == 0)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return (10 - sum % 10) % 10;
}

int anon_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool anon_hex_decode(const char *s, size_t n, unsigned char *out)
{
	if (n % 2)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = anon_hex_digit((unsigned char)s[2 * i]);
		int lo = anon_hex_digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

bool anon_parse_int64(const char *s, int64_t *out)
{
	if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool anon_parse_uint64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool anon_parse_double(const char *s, double *out)
{
	if (!*s || strchr(" \t\n", *s))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || v != v)
		return false;
	*out = v;
	return true;
}
