/* sampler.c: exact discrete Laplace and Gaussian samplers of Canonne, Kamath and Steinke
 * ("The Discrete Gaussian for Differential Privacy", 2020), in integer and rational
 * arithmetic only.  A double anywhere here would reopen Mironov's attack (see the man page).
 * The only random primitive is a uniform integer by rejection. */
#include "noise.h"

static inline unsigned bitlen64(uint64_t x)
{
	return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

static inline uint64_t below64(struct anon_noise_rng *r, uint64_t d)
{
	if (d <= 1)
		return 0;
	unsigned w = bitlen64(d - 1);
	uint64_t x;
	do
		x = anon_noise_bits(r, w);
	while (x >= d);
	return x;
}

uint64_t anon_noise_uniform64(struct anon_noise_rng *r, uint64_t d)
{
	return below64(r, d);
}

u128 anon_noise_uniform(struct anon_noise_rng *r, u128 d)
{
	if (d <= 1)
		return 0;
	u128 m = d - 1;
	if ((uint64_t)(m >> 64) == 0) {
		/* d <= 2^64: d - 1 fits, and so does every candidate */
		unsigned w = bitlen64((uint64_t)m);
		u128 x;
		do
			x = anon_noise_bits(r, w);
		while (x >= d);
		return x;
	}
	unsigned whi = bitlen64((uint64_t)(m >> 64));
	u128 x;
	do {
		uint64_t lo = anon_noise_bits(r, 64);
		uint64_t hi = anon_noise_bits(r, whi);
		x = ((u128)hi << 64) | lo;
	} while (x >= d);
	return x;
}

bool anon_noise_bernoulli(struct anon_noise_rng *r, u128 n, u128 d)
{
	if ((uint64_t)(d >> 64) == 0)
		return below64(r, (uint64_t)d) < n;
	return anon_noise_uniform(r, d) < n;
}

/* The common case of bernoulli_exp1 in 64 bits (the Laplace path): same draws, same law. */
static inline bool bexp1_64(struct anon_noise_rng *r, uint64_t n, uint64_t d)
{
	if (n == 0)
		return true;
	uint64_t k = 1, dk = d;
	for (;;) {
		if (below64(r, dk) >= n)
			return k & 1;
		k++;
		if (__builtin_add_overflow(dk, d, &dk))
			break;
	}
	/* d*k left 64 bits (k > 2^32 or so; never in practice): carry on in 128 bits */
	while (anon_noise_bernoulli(r, n, (u128)d * k))
		k++;
	return k & 1;
}

/* exp(-n/d) for 0 <= n/d <= 1: K is the first k with Bernoulli(n/(dk)) = 0; P(K odd) = e^-g. */
bool anon_noise_bernoulli_exp1(struct anon_noise_rng *r, u128 n, u128 d)
{
	if ((uint64_t)(d >> 64) == 0)
		return bexp1_64(r, (uint64_t)n, (uint64_t)d);
	if (n == 0)
		return true;
	u128 k = 1;
	/* d*k stays far below 2^128: d < 2^100 here and P(K > k) = g^k / k!. */
	while (anon_noise_bernoulli(r, n, d * k))
		k++;
	return k & 1;
}

/* Bernoulli(e^-1) as bernoulli_exp1(1, 1): K-1 successes of Bernoulli(1/k). */
static inline bool bexp_one(struct anon_noise_rng *r)
{
	uint64_t k = 1;
	while (below64(r, k) == 0)
		k++;
	return k & 1;
}

bool anon_noise_bernoulli_exp(struct anon_noise_rng *r, u128 n, u128 d)
{
	if ((uint64_t)(d >> 64) == 0 && (uint64_t)(n >> 64) == 0) {
		uint64_t n64 = (uint64_t)n, d64 = (uint64_t)d;
		while (n64 > d64) {
			if (!bexp_one(r))
				return false;
			n64 -= d64;
		}
		return bexp1_64(r, n64, d64);
	}
	while (n > d) {
		/* e^-(n/d) = e^-1 * e^-((n-d)/d): stop at the first failed factor */
		if (!anon_noise_bernoulli_exp1(r, 1, 1))
			return false;
		n -= d;
	}
	return anon_noise_bernoulli_exp1(r, n, d);
}

uint64_t anon_noise_geometric_slow(struct anon_noise_rng *r, u128 n, u128 d)
{
	uint64_t k = 0;
	while (anon_noise_bernoulli_exp(r, n, d))
		k++;
	return k;
}

uint64_t anon_noise_geometric_fast(struct anon_noise_rng *r, uint64_t s, uint64_t t)
{
	uint64_t u;
	do
		u = below64(r, t);  /* P(u) proportional to e^(-u/t) once accepted */
	while (!bexp1_64(r, u, t));
	uint64_t v = 0;  /* geometric_slow(1, 1) */
	while (bexp_one(r))
		v++;
	u128 x = (u128)t * v + u;
	if (s != 1)
		x /= s;
	/* Saturating the output is post-processing; it happens with probability ~e^-(2^24). */
	return (uint64_t)(x >> 64) ? UINT64_MAX : (uint64_t)x;
}

int64_t anon_noise_laplace(struct anon_noise_rng *r, uint64_t t, uint64_t s)
{
	if (t == 0)
		return 0;
	for (;;) {
		bool neg = anon_noise_bits(r, 1);
		uint64_t m = anon_noise_geometric_fast(r, s, t);
		if (neg && m == 0)
			continue;  /* "-0" would double P(0) */
		if (m > INT64_MAX)
			m = INT64_MAX;
		return neg ? -(int64_t)m : (int64_t)m;
	}
}

int64_t anon_noise_gaussian(struct anon_noise_rng *r, uint64_t sigma)
{
	if (sigma == 0)
		return 0;
	uint64_t t = sigma + 1;
	u128 s2 = (u128)sigma * sigma;
	u128 st = (u128)sigma * t;
	u128 den = 2 * st * st;  /* 2 sigma^2 t^2 < 2^99 for sigma <= 2^24 */
	for (;;) {
		int64_t y = anon_noise_laplace(r, t, 1);
		u128 ay = y < 0 ? (u128)(-(y + 1)) + 1 : (u128)y;
		u128 yt = ay * t;
		u128 q = yt > s2 ? yt - s2 : s2 - yt;
		/* Accept with exp(-q^2 / (2 sigma^2 t^2)).  q^2 overflows in the far tail, so
		 * with q = a*st + r the exponent is a^2/2 + a*r/st + r^2/(2 st^2), and
		 * exp(-(x+y+z)) is the AND of three independent draws. */
		u128 a, rem;
		if ((uint64_t)(q >> 64) == 0) {
			a = (uint64_t)q / (uint64_t)st;
			rem = (uint64_t)q - (uint64_t)a * (uint64_t)st;
		} else {
			a = q / st;
			rem = q - a * st;
		}
		if (a != 0 && !anon_noise_bernoulli_exp(r, a * a, 2))
			continue;
		if (a != 0 && rem != 0 && !anon_noise_bernoulli_exp(r, a * rem, st))
			continue;
		if (anon_noise_bernoulli_exp(r, rem * rem, den))
			return y;
	}
}
