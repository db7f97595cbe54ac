/* date.c: ISO dates and timestamps as day numbers (Howard Hinnant's public-domain
 * days_from_civil / civil_from_days), so date noise and shifts are plain integer sums.
 * The calendar is proleptic Gregorian with a year 0, as PostgreSQL's: year 0 is 1 BC (a leap
 * year), -43 is 44 BC; only the text says "BC". */
#include <string.h>
#include <strings.h>

#include "noise.h"

int64_t anon_noise_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void anon_noise_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const unsigned char *s, size_t k, int *out)
{
	int v = 0;
	for (size_t i = 0; i < k; i++) {
		if ((unsigned)(s[i] - '0') >= 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool anon_noise_date_like(const unsigned char *s, size_t n)
{
	int v;
	return n >= 10 && digits(s, 4, &v) && s[4] == '-' && digits(s + 5, 2, &v) &&
	    s[7] == '-' && digits(s + 8, 2, &v);
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;  /* C's % keeps -4 % 4 == 0 */
}

/* A zone suffix: Z, +HH, +HHMM, +HH:MM or +HH:MM:SS. */
static bool zone_ok(const unsigned char *s, size_t n)
{
	int v;
	if (n == 1 && s[0] == 'Z')
		return true;
	if (n < 3 || (s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &v) || v > 15)
		return false;
	if (n == 3)
		return true;
	if (n == 5)
		return digits(s + 3, 2, &v) && v < 60;
	if (n == 6 || n == 9) {
		if (s[3] != ':' || !digits(s + 4, 2, &v) || v >= 60)
			return false;
		return n == 6 || (s[6] == ':' && digits(s + 7, 2, &v) && v < 60);
	}
	return false;
}

/* PostgreSQL writes a BC date or timestamp with " BC" after everything else, the zone
 * included: "0044-03-15 12:00:00+00 BC".  It reads "bc" too. */
static bool bc_suffix(const unsigned char *s, size_t n)
{
	return n >= 13 && s[n - 3] == ' ' && !strncasecmp((const char *)s + n - 2, "BC", 2);
}

bool anon_noise_date_parse(const unsigned char *s, size_t n, struct anon_noise_date *d)
{
	int y = 0, m = 0, dd = 0;
	if (!anon_noise_date_like(s, n))
		return false;
	d->bc = bc_suffix(s, n);
	if (d->bc)
		n -= 3;
	d->end = n;
	digits(s, 4, &y);
	digits(s + 5, 2, &m);
	digits(s + 8, 2, &dd);
	if (y < 1)
		return false;  /* there is no year 0000, AD or BC */
	if (d->bc)
		y = 1 - y;
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || dd < 1 || dd > mdays[m - 1] + (m == 2 && leap(y)))
		return false;
	d->year = y, d->month = m, d->day = dd;
	d->days = anon_noise_days_from_civil(y, (unsigned)m, (unsigned)dd);
	d->has_time = false;
	d->time_end = 10;
	if (n == 10)
		return true;
	size_t i = 10;
	int hh = 0, mm = 0, ss = 0;
	if ((s[i] != ' ' && s[i] != 'T') || n < i + 6 || !digits(s + i + 1, 2, &hh) ||
	    s[i + 3] != ':' || !digits(s + i + 4, 2, &mm) || hh > 23 || mm > 59)
		return false;
	i += 6;
	if (i < n && s[i] == ':') {
		if (n < i + 3 || !digits(s + i + 1, 2, &ss) || ss > 60)
			return false;
		i += 3;
		if (i < n && s[i] == '.') {
			size_t f = ++i;
			while (i < n && (unsigned)(s[i] - '0') < 10)
				i++;
			if (i == f)
				return false;
		}
	}
	d->has_time = true;
	d->time_end = i;
	return i == n || zone_ok(s + i, n - i);
}

bool anon_noise_date_format_ymd(int64_t y, unsigned m, unsigned d, char out[10], bool *bc)
{
	*bc = y <= 0;
	uint64_t ty = *bc ? (uint64_t)(1 - y) : (uint64_t)y;  /* year 0 is 1 BC */
	if (ty < 1 || ty > 9999)
		return false;
	out[0] = (char)('0' + ty / 1000);
	out[1] = (char)('0' + ty / 100 % 10);
	out[2] = (char)('0' + ty / 10 % 10);
	out[3] = (char)('0' + ty % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	return true;
}

bool anon_noise_date_format(int64_t days, char out[10], bool *bc)
{
	int64_t y;
	unsigned m, d;
	/* PostgreSQL's range; checked first so huge noise cannot overflow below */
	if (days < ANON_NOISE_DAY_MIN || days > ANON_NOISE_DAY_MAX)
		return false;
	anon_noise_civil_from_days(days, &y, &m, &d);
	return anon_noise_date_format_ymd(y, m, d, out, bc);
}

size_t anon_noise_date_put(unsigned char *out, const char date[10], bool bc,
			   const unsigned char *s, const struct anon_noise_date *dt)
{
	memcpy(out, date, 10);
	memcpy(out + 10, s + 10, dt->end - 10);
	size_t len = dt->end;
	if (bc) {
		memcpy(out + len, " BC", 3);
		len += 3;
	}
	return len;
}
