/* rule.c: the rules of anon-noise: parsing RULE[:args], deriving the noise scale on the
 * column's grid, and transforming one value.  No lib calls here, so the unit tests can
 * drive every rule directly; main.c does the glue. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "noise.h"

#define DAY_MIN ANON_NOISE_DAY_MIN  /* 4714-11-24 BC */
#define DAY_MAX ANON_NOISE_DAY_MAX  /* 9999-12-31 */

static bool dec_of(const char *s, struct anon_noise_dec *v)
{
	v->set = anon_noise_dec_parse((const unsigned char *)s, strlen(s), &v->mant, &v->ndec);
	return v->set;
}

static bool date_of(const char *s, int64_t *days)
{
	struct anon_noise_date d;
	size_t n = strlen(s);
	if (!anon_noise_date_parse((const unsigned char *)s, n, &d) || d.has_time)
		return false;
	*days = d.days;
	return true;
}

/* clamp=LO..HI, numbers or dates (a date column then). */
static const char *parse_clamp(struct anon_noise_rule *r, const char *v)
{
	const char *dots = strstr(v, "..");
	if (!dots || (size_t)(dots - v) >= sizeof(r->clamp_text[0]) ||
	    strlen(dots + 2) >= sizeof(r->clamp_text[1]))
		return "clamp wants LO..HI";
	memcpy(r->clamp_text[0], v, (size_t)(dots - v));
	r->clamp_text[0][dots - v] = '\0';
	strcpy(r->clamp_text[1], dots + 2);
	int64_t a, b;
	if (date_of(r->clamp_text[0], &a) && date_of(r->clamp_text[1], &b)) {
		if (a > b)
			return "clamp: LO is after HI";
		r->vtype = ANON_NOISE_DATE;
		r->lo_u = a, r->hi_u = b;
	} else {
		if (!dec_of(r->clamp_text[0], &r->clamp_lo) || !dec_of(r->clamp_text[1], &r->clamp_hi))
			return "clamp wants two numbers or two dates (YYYY-MM-DD)";
		/* compare exactly: both on the finer grid, in 128 bits */
		int nd = r->clamp_lo.ndec > r->clamp_hi.ndec ? r->clamp_lo.ndec : r->clamp_hi.ndec;
		i128 l = (i128)r->clamp_lo.mant * anon_noise_pow10(nd - r->clamp_lo.ndec);
		i128 h = (i128)r->clamp_hi.mant * anon_noise_pow10(nd - r->clamp_hi.ndec);
		if (l > h)
			return "clamp: LO is greater than HI";
		r->vtype = ANON_NOISE_NUMBER;
	}
	r->clamp = true;
	return NULL;
}

static bool positive(const struct anon_noise_dec *v)
{
	return v->set && v->mant > 0;
}

/* Each rule and what it takes, for the messages that list the choices (main.c's --help text
 * says the same at more length). */
static const struct {
	const char *name;
	enum anon_noise_kind kind;
	const char *takes;
} kinds[] = {
	{ "laplace", ANON_NOISE_LAPLACE, "epsilon, sensitivity, clamp, scale, decimals" },
	{ "gaussian", ANON_NOISE_GAUSSIAN, "epsilon, delta, sensitivity, clamp, sigma, decimals" },
	{ "dateshift", ANON_NOISE_DATESHIFT, "days, group" },
	{ "round", ANON_NOISE_ROUND, "a step: round:N" },
	{ "bucket", ANON_NOISE_BUCKET, "a step and optionally label: bucket:N[,label]" },
	{ "topcode", ANON_NOISE_TOPCODE, "a number or a date: topcode:N" },
	{ "bottomcode", ANON_NOISE_BOTTOMCODE, "a number or a date: bottomcode:N" },
	{ "truncate", ANON_NOISE_TRUNCATE, "year, month, day or hour: truncate:UNIT" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define RULE_LIST "laplace, gaussian, dateshift, round, bucket, topcode, bottomcode or truncate"

/* Messages that name what was given live here until the next parse (main thread only). */
static char parse_msg[320];

static const char *said(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *said(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(parse_msg, sizeof(parse_msg), fmt, ap);
	va_end(ap);
	return parse_msg;
}

/* key=value parameters of the noise rules and dateshift, each at most once. */
static const char *parse_param(struct anon_noise_rule *r, const char *takes, char *a,
			       unsigned *seen)
{
	static const char *const keys[] = {
		"epsilon", "sensitivity", "scale", "sigma", "delta", "clamp", "decimals", "days",
		"group",
	};
	char *eq = strchr(a, '=');
	if (!eq)
		return said("%s: '%s' is not key=value (%s takes %s)", r->name, a, r->name, takes);
	*eq = '\0';
	const char *k = a, *v = eq + 1;
	size_t ki;
	for (ki = 0; ki < sizeof(keys) / sizeof(keys[0]); ki++)
		if (!strcmp(keys[ki], k))
			break;
	/* a key is known to a rule when its list of parameters names it, as a whole word */
	const char *at = ki < sizeof(keys) / sizeof(keys[0]) ? strstr(takes, k) : NULL;
	size_t kl = strlen(k);
	if (!at || (at != takes && at[-1] != ' ') || (at[kl] != ',' && at[kl] != '\0'))
		return said("%s: unknown parameter '%s' (%s takes %s)", r->name, k, r->name, takes);
	if (*seen & (1u << ki))
		return said("%s: %s is given twice", r->name, k);
	*seen |= 1u << ki;
	if (!*v)
		return said("%s: %s wants a value (%s=...)", r->name, k, k);
	if (!strcmp(k, "epsilon")) {
		if (!dec_of(v, &r->epsilon) || !positive(&r->epsilon))
			return said("%s: epsilon must be a positive decimal number (at most 18 "
			    "digits), not '%s'", r->name, v);
	} else if (!strcmp(k, "sensitivity")) {
		if (!dec_of(v, &r->sensitivity) || !positive(&r->sensitivity))
			return said("%s: sensitivity must be a positive decimal number (at most 18 "
			    "digits), not '%s'", r->name, v);
	} else if (!strcmp(k, "scale")) {
		if (!dec_of(v, &r->scale) || !positive(&r->scale))
			return said("%s: scale must be a positive decimal number (at most 18 digits), "
			    "not '%s'", r->name, v);
	} else if (!strcmp(k, "sigma")) {
		if (!dec_of(v, &r->sigma) || !positive(&r->sigma))
			return said("%s: sigma must be a positive decimal number (at most 18 digits), "
			    "not '%s'", r->name, v);
	} else if (!strcmp(k, "delta")) {
		if (!dec_of(v, &r->delta) || !positive(&r->delta) ||
		    r->delta.mant >= anon_noise_pow10(r->delta.ndec))
			return said("%s: delta must be a decimal number strictly between 0 and 1, "
			    "not '%s'", r->name, v);
	} else if (!strcmp(k, "clamp")) {
		const char *e = parse_clamp(r, v);
		if (e)
			return said("%s: %s, not '%s'", r->name, e, v);
	} else if (!strcmp(k, "decimals")) {
		struct anon_noise_dec dd;
		if (!dec_of(v, &dd) || dd.ndec || dd.mant < 0 || dd.mant > ANON_NOISE_DIGITS)
			return said("%s: decimals must be an integer from 0 to %d, not '%s'", r->name,
			    ANON_NOISE_DIGITS, v);
		r->decimals = (int)dd.mant;
	} else if (!strcmp(k, "days")) {
		struct anon_noise_dec dd;
		if (!dec_of(v, &dd) || dd.ndec || dd.mant < 1 || dd.mant > 365250)
			return said("%s: days must be an integer from 1 to 365250, not '%s'", r->name, v);
		r->days = dd.mant;
	} else {  /* group */
		if (strlen(v) >= sizeof(r->group))
			return said("%s: the group name is longer than %zu bytes", r->name,
			    sizeof(r->group) - 1);
		strcpy(r->group, v);
	}
	return NULL;
}

/* The positional arguments of the generalization rules. */
static const char *parse_positional(struct anon_noise_rule *r, const char *takes, const char *a,
				    int npos)
{
	if (npos == 0) {
		if (r->kind == ANON_NOISE_TRUNCATE) {
			static const char *const units[] = { "year", "month", "day", "hour" };
			for (int u = 0; u < 4; u++)
				if (!strcmp(a, units[u])) {
					r->unit = (enum anon_noise_trunc)u;
					return NULL;
				}
			return said("truncate: unknown unit '%s' (year, month, day or hour)", a);
		}
		if ((r->kind == ANON_NOISE_TOPCODE || r->kind == ANON_NOISE_BOTTOMCODE) &&
		    date_of(a, &r->date_arg)) {
			r->date_mode = true;
			return NULL;
		}
		if (!dec_of(a, &r->step))
			return r->kind == ANON_NOISE_TOPCODE || r->kind == ANON_NOISE_BOTTOMCODE ?
			    said("%s: the limit must be a decimal number (at most 18 digits) or a date "
			    "(YYYY-MM-DD), not '%s'", r->name, a) :
			    said("%s: the step must be a decimal number (at most 18 digits), not '%s'",
			    r->name, a);
		if ((r->kind == ANON_NOISE_ROUND || r->kind == ANON_NOISE_BUCKET) && r->step.mant <= 0)
			return said("%s: the step must be positive, not '%s'", r->name, a);
		return NULL;
	}
	if (npos == 1 && r->kind == ANON_NOISE_BUCKET) {
		if (!strcmp(a, "label")) {
			r->label = true;
			return NULL;
		}
		return said("bucket: unknown argument '%s' (bucket takes %s)", a, takes);
	}
	return said("%s: too many arguments (%s takes %s)", r->name, r->name, takes);
}

const char *anon_noise_rule_parse(struct anon_noise_rule *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->decimals = -1;
	r->data_d = -1;
	r->eps_eff = r->delta_eff = r->rho = -1;
	if (!text || !*text)
		return "a rule is required (" RULE_LIST ")";
	size_t nlen = strcspn(text, ":");
	size_t i;
	for (i = 0; i < NKINDS; i++)
		if (strlen(kinds[i].name) == nlen && !strncmp(kinds[i].name, text, nlen))
			break;
	if (i == NKINDS)
		return said("unknown rule '%.*s' (the rules are " RULE_LIST ")",
		    nlen > 64 ? 64 : (int)nlen, text);
	r->kind = kinds[i].kind;
	r->name = kinds[i].name;
	const char *takes = kinds[i].takes;
	const char *args = text[nlen] ? text + nlen + 1 : "";

	char *copy = strdup(args), *save = NULL;
	if (!copy)
		return "out of memory";
	const char *why = NULL;
	int npos = 0;
	unsigned seen = 0;
	for (char *a = strtok_r(copy, ",", &save); a && !why; a = strtok_r(NULL, ",", &save)) {
		if (r->kind <= ANON_NOISE_DATESHIFT)
			why = parse_param(r, takes, a, &seen);
		else
			why = parse_positional(r, takes, a, npos++);
	}
	free(copy);
	if (why)
		return why;

	switch (r->kind) {
	case ANON_NOISE_LAPLACE:
		if (!r->scale.set && !r->epsilon.set)
			return "laplace wants epsilon=E with sensitivity=S or clamp=LO..HI, or scale=B";
		if (r->epsilon.set && !r->sensitivity.set && !r->clamp)
			return "laplace: epsilon needs sensitivity=S or clamp=LO..HI";
		break;
	case ANON_NOISE_GAUSSIAN:
		if (!r->sigma.set && !r->epsilon.set)
			return "gaussian wants epsilon=E,delta=D with sensitivity=S or clamp=LO..HI, "
			    "or sigma=G";
		if (r->epsilon.set && (!r->delta.set || (!r->sensitivity.set && !r->clamp)))
			return "gaussian: epsilon needs delta=D and sensitivity=S or clamp=LO..HI";
		if (r->delta.set && !r->epsilon.set)
			return "gaussian: delta needs epsilon";
		break;
	case ANON_NOISE_DATESHIFT:
		if (!r->days)
			return "dateshift wants days=N (and optionally group=NAME)";
		break;
	case ANON_NOISE_TRUNCATE:
		if (npos != 1)
			return "truncate wants a unit: year, month, day or hour (truncate:year)";
		break;
	default:
		if (npos < 1)
			return said("%s wants %s", r->name, takes);
		break;
	}
	if (r->decimals >= 0 && r->vtype == ANON_NOISE_DATE)
		return said("%s: decimals does not apply to a date clamp", r->name);
	/* Check the parameters now, so that a usage error is reported before any row: on the
	 * grid given, or else on the coarsest the data may choose (whole numbers), on which a
	 * first value's finer grid falls back when the parameters do not fit it. */
	if (r->kind == ANON_NOISE_LAPLACE || r->kind == ANON_NOISE_GAUSSIAN) {
		struct anon_noise_rule probe = *r;
		int d = r->decimals < 0 ? 0 : r->decimals;
		const char *e = anon_noise_rule_grid(&probe,
		    r->vtype == ANON_NOISE_DATE ? ANON_NOISE_DATE : ANON_NOISE_NUMBER, d);
		if (e && r->decimals < 0 && r->vtype == ANON_NOISE_NUMBER && probe.vtype ==
		    ANON_NOISE_NUMBER && !strcmp(e, "clamp range holds no value on the grid"))
			return said("%s: clamp=%s..%s holds no whole number: give decimals=N, the "
			    "column's decimals", r->name, r->clamp_text[0], r->clamp_text[1]);
		if (e)
			return r->decimals < 0 ? e : said("%s (decimals=%d)", e, r->decimals);
	}
	return NULL;
}

/* OpenDP / CKS20 cdp_delta: any alpha > 1 gives a valid bound, so the float search can only
 * err toward a larger delta. */
double anon_noise_cdp_delta(double rho, double eps)
{
	if (rho <= 0)
		return 0;
	double amin = 1.01, amax = (eps + 1) / (2 * rho) + 2, alpha = amin;
	for (int i = 0; i < 200; i++) {
		alpha = (amin + amax) / 2;
		double deriv = (2 * alpha - 1) * rho - eps + log1p(-1.0 / alpha);
		if (deriv < 0)
			amin = alpha;
		else
			amax = alpha;
	}
	double delta = exp((alpha - 1) * (alpha * rho - eps) + alpha * log1p(-1 / alpha)) /
	    (alpha - 1.0);
	return delta < 1 ? delta : 1;
}

/* ceil(v * 10^d) for a positive decimal, in 128 bits; on a grid so fine that it overflows,
 * the largest u128, which every limit refuses. */
static u128 units_ceil(const struct anon_noise_dec *v, int d)
{
	u128 x;
	if (v->ndec <= d)
		return __builtin_mul_overflow((u128)(uint64_t)v->mant,
		    anon_noise_pow10u(d - v->ndec), &x) ? ~(u128)0 : x;
	uint64_t div = (uint64_t)anon_noise_pow10(v->ndec - d);
	return ((uint64_t)v->mant + div - 1) / div;
}

static const char *grid(struct anon_noise_rule *r, enum anon_noise_vtype t, int d)
{
	if (r->vtype != ANON_NOISE_UNSET && r->vtype != t)
		return t == ANON_NOISE_DATE ? "a date where the rule expects a number" :
		    "a number where the rule expects a date";
	if (t == ANON_NOISE_DATE && r->decimals > 0)
		return "decimals does not apply to dates";
	r->vtype = t;
	r->d = t == ANON_NOISE_DATE ? 0 : d;
	if (r->kind != ANON_NOISE_LAPLACE && r->kind != ANON_NOISE_GAUSSIAN)
		return NULL;
	if (r->clamp && t == ANON_NOISE_NUMBER) {
		/* bounds off the grid move inward, which only narrows the range */
		if (!anon_noise_dec_rescale(r->clamp_lo.mant, r->clamp_lo.ndec, r->d,
		    ANON_NOISE_CEIL, &r->lo_u) ||
		    !anon_noise_dec_rescale(r->clamp_hi.mant, r->clamp_hi.ndec, r->d,
		    ANON_NOISE_FLOOR, &r->hi_u))
			return "clamp bounds too large for the grid";
		if (r->lo_u > r->hi_u)
			return "clamp range holds no value on the grid";
	}
	/* Sensitivity in units: bounded mode needs no rounding slack; metric mode pays one
	 * unit because inputs with more decimals than the grid are rounded (dates are exact). */
	u128 du = 0;
	r->bounded = false;
	if (r->sensitivity.set) {
		du = units_ceil(&r->sensitivity, r->d) + (t == ANON_NOISE_NUMBER);
	}
	if (r->clamp) {
		u128 width = (u128)r->hi_u - (u128)r->lo_u;  /* hi >= lo: exact modulo 2^128 */
		if (!r->sensitivity.set || width <= du) {
			du = width;
			r->bounded = true;
		}
	}
	if (du > ANON_NOISE_SCALE_MAX)
		return "sensitivity too large for the grid";
	r->delta_u = (uint64_t)du;
	r->eps_eff = r->delta_eff = r->rho = -1;

	if (r->kind == ANON_NOISE_LAPLACE) {
		u128 T = 0;
		if (r->epsilon.set) {
			/* T = ceil(du / eps) = ceil(du * 10^k / m): never less noise than asked */
			u128 num = du * (uint64_t)anon_noise_pow10(r->epsilon.ndec);
			u128 m = (uint64_t)r->epsilon.mant;
			T = (num + m - 1) / m;
		}
		if (r->scale.set) {
			u128 b = units_ceil(&r->scale, r->d);
			if (b > T)
				T = b;
		}
		if (T > ANON_NOISE_SCALE_MAX)
			return "laplace: scale too large for the grid (use fewer decimals)";
		r->scale_u = (uint64_t)T;
		if (du)
			r->eps_eff = (double)du / (double)T;
		else if (r->bounded)
			r->eps_eff = 0;  /* a one-point clamp releases nothing */
		return NULL;
	}

	u128 s = 0;
	if (r->sigma.set)
		s = units_ceil(&r->sigma, r->d);
	if (r->epsilon.set) {
		double eps = (double)r->epsilon.mant / (double)anon_noise_pow10(r->epsilon.ndec);
		double delta = (double)r->delta.mant / (double)anon_noise_pow10(r->delta.ndec);
		double ddu = (double)du;
		/* smallest sigma_u whose delta, with a margin for float error, is within delta */
		uint64_t lo = 1, hi = ANON_NOISE_SIGMA_MAX;
		if (anon_noise_cdp_delta(ddu * ddu / (2.0 * (double)hi * (double)hi), eps) *
		    (1 + 1e-9) > delta)
			return "gaussian: sigma too large for the grid (use fewer decimals or a "
			    "larger delta)";
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			double rho = ddu * ddu / (2.0 * (double)mid * (double)mid);
			if (anon_noise_cdp_delta(rho, eps) * (1 + 1e-9) <= delta)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo > s)
			s = lo;
	}
	if (s > ANON_NOISE_SIGMA_MAX)
		return "gaussian: sigma too large for the grid (use fewer decimals)";
	r->scale_u = (uint64_t)s;
	if (du) {
		r->rho = (double)du * (double)du / (2.0 * (double)s * (double)s);
		if (r->epsilon.set) {
			r->eps_eff = (double)r->epsilon.mant /
			    (double)anon_noise_pow10(r->epsilon.ndec);
			r->delta_eff = anon_noise_cdp_delta(r->rho, r->eps_eff) * (1 + 1e-9);
		}
	}
	return NULL;
}

/* The derivation runs on a copy and lands only when it succeeds: a grid on which the
 * parameters fail (a scale beyond 2^62 at 18 decimals) must not leave the rule ready with a
 * zero scale, or the next values would go out without noise. */
const char *anon_noise_rule_grid(struct anon_noise_rule *r, enum anon_noise_vtype t, int d)
{
	struct anon_noise_rule g = *r;
	const char *e = grid(&g, t, d);
	if (e)
		return e;
	r->vtype = g.vtype;
	r->d = g.d;
	r->data_d = g.data_d;
	r->lo_u = g.lo_u;
	r->hi_u = g.hi_u;
	r->delta_u = g.delta_u;
	r->scale_u = g.scale_u;
	r->eps_eff = g.eps_eff;
	r->delta_eff = g.delta_eff;
	r->rho = g.rho;
	r->bounded = g.bounded;
	atomic_store_explicit(&r->ready, true, memory_order_release);
	return NULL;
}

/* ---- per-entity shift ----------------------------------------------------------------------- */

void anon_noise_shift_init(struct anon_noise_shift *sh, const unsigned char subkey[32])
{
	static const unsigned char zero[32], iv[16];
	memcpy(sh->subkey, subkey, 32);
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!mac || !(sh->mac = EVP_MAC_CTX_new(mac)) ||
	    !EVP_MAC_init(sh->mac, sh->subkey, 32, params))
		anon_noise_rng_fatal("cannot set up HMAC-SHA256");
	EVP_MAC_free(mac);
	/* a small buffer: each entity reads only a few bytes of its own stream */
	anon_noise_rng_chacha(&sh->stream, 64, zero, iv);
	sh->ready = true;
}

void anon_noise_shift_dup(struct anon_noise_shift *dst, const struct anon_noise_shift *src)
{
	static const unsigned char zero[32], iv[16];
	memset(dst, 0, sizeof(*dst));
	if (!(dst->mac = EVP_MAC_CTX_dup(src->mac)))
		anon_noise_rng_fatal("cannot copy the HMAC context");
	anon_noise_rng_chacha(&dst->stream, 64, zero, iv);
	dst->ready = true;
}

void anon_noise_shift_free(struct anon_noise_shift *sh)
{
	if (!sh->ready)
		return;
	EVP_MAC_CTX_free(sh->mac);
	anon_noise_rng_free(&sh->stream);
	OPENSSL_cleanse(sh->subkey, sizeof(sh->subkey));
	sh->ready = false;
}

static void mac_lp(EVP_MAC_CTX *m, const void *p, size_t n)
{
	unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
		(unsigned char)(n >> 8), (unsigned char)n };
	if (!EVP_MAC_update(m, len, 4) || !EVP_MAC_update(m, p, n))
		anon_noise_rng_fatal("HMAC failed");
}

int64_t anon_noise_shift_days(struct anon_noise_shift *sh, const char *group, int64_t days,
			      const unsigned char *entity, size_t len)
{
	static const unsigned char iv[16];
	unsigned char key[32];
	size_t klen = 0;
	/* k = HMAC(subkey, lp("dateshift") lp(group) lp(entity)) keys this entity's stream */
	if (!EVP_MAC_init(sh->mac, NULL, 0, NULL))
		anon_noise_rng_fatal("HMAC failed");
	mac_lp(sh->mac, "dateshift", 9);
	mac_lp(sh->mac, group, strlen(group));
	mac_lp(sh->mac, entity, len);
	if (!EVP_MAC_final(sh->mac, key, &klen, sizeof(key)))
		anon_noise_rng_fatal("HMAC failed");
	anon_noise_rng_rekey(&sh->stream, key, iv);
	OPENSSL_cleanse(key, sizeof(key));
	return -days + (int64_t)anon_noise_uniform64(&sh->stream, (uint64_t)(2 * days + 1));
}

/* ---- utility figures ------------------------------------------------------------------------ */

/* floor(v / 2^k) for negative v too */
static int64_t bin_of(int64_t v, int k)
{
	return v >> k; /* gcc shifts signed values arithmetically: the floor */
}

/* The smallest k whose aligned bins span [lo, hi] in ANON_NOISE_HIST_BINS bins. */
static int span_k(int64_t lo, int64_t hi, int k)
{
	while (k < 63 && bin_of(hi, k) - bin_of(lo, k) >= ANON_NOISE_HIST_BINS)
		k++;
	return k;
}

/* Move the counts of h into the layout (k, base) that spans h's bins: each of h's bins lies
 * inside one bin of the coarser layout, so nothing is approximated. */
static void hist_relayout(struct anon_noise_hist *h, int k, int64_t base)
{
	uint64_t in[ANON_NOISE_HIST_BINS] = { 0 }, out[ANON_NOISE_HIST_BINS] = { 0 };
	for (int i = 0; i < ANON_NOISE_HIST_BINS; i++) {
		if (!h->in[i] && !h->out[i])
			continue;
		int64_t b = ((h->base + i) >> (k - h->k)) - base;
		in[b] += h->in[i];
		out[b] += h->out[i];
	}
	memcpy(h->in, in, sizeof in);
	memcpy(h->out, out, sizeof out);
	h->k = k;
	h->base = base;
}

/* Widen h so that [lo, hi] (units) lies in its bins. */
static void hist_cover(struct anon_noise_hist *h, int64_t lo, int64_t hi)
{
	int64_t mn = lo < h->min ? lo : h->min, mx = hi > h->max ? hi : h->max;
	int k = span_k(mn, mx, h->k);
	int64_t base = bin_of(mn, k);
	if (k != h->k || base != h->base)
		hist_relayout(h, k, base);
	h->min = mn;
	h->max = mx;
}

static int64_t units(double v, double unit)
{
	double u = nearbyint(v / unit);
	return u >= 9.2e18 ? INT64_MAX / 2 : u <= -9.2e18 ? -INT64_MAX / 2 : (int64_t)u;
}

void anon_noise_hist_add(struct anon_noise_hist *h, double in, double out, double unit)
{
	int64_t a = units(in, unit), b = units(out, unit);
	int64_t lo = a < b ? a : b, hi = a < b ? b : a;
	if (!h->started) {
		memset(h, 0, sizeof *h);
		h->unit = unit;
		h->k = span_k(lo, hi, 0);
		h->base = bin_of(lo, h->k);
		h->min = lo;
		h->max = hi;
		h->started = true;
	} else if (lo < h->min || hi > h->max) {
		hist_cover(h, lo, hi);
	}
	h->in[bin_of(a, h->k) - h->base]++;
	h->out[bin_of(b, h->k) - h->base]++;
	h->n++;
	h->abs_err += (unsigned __int128)(a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a);
}

void anon_noise_hist_merge(struct anon_noise_hist *into, const struct anon_noise_hist *from)
{
	if (!from->started)
		return;
	if (!into->started) {
		*into = *from;
		return;
	}
	struct anon_noise_hist f = *from;
	hist_cover(into, f.min, f.max);
	/* the same layout for both: what spans the union at no finer a width than either */
	if (f.k > into->k)
		hist_relayout(into, f.k, bin_of(into->min, f.k));
	hist_relayout(&f, into->k, into->base);
	for (int i = 0; i < ANON_NOISE_HIST_BINS; i++) {
		into->in[i] += f.in[i];
		into->out[i] += f.out[i];
	}
	into->n += f.n;
	into->abs_err += f.abs_err;
}

double anon_noise_hist_lo(const struct anon_noise_hist *h)
{
	return ldexp((double)h->base, h->k) * h->unit;
}

double anon_noise_hist_width(const struct anon_noise_hist *h)
{
	return ldexp(1.0, h->k) * h->unit;
}

double anon_noise_hist_mean_abs_error(const struct anon_noise_hist *h)
{
	return h->n ? (double)h->abs_err * h->unit / (double)h->n : 0;
}

/* ---- applying a rule ------------------------------------------------------------------------ */

bool anon_noise_special(const unsigned char *s, size_t n)
{
	size_t i = n && (s[0] == '+' || s[0] == '-');
	const char *w = (const char *)s + i;
	size_t k = n - i;
	return (k == 8 && !strncasecmp(w, "infinity", 8)) || (k == 3 && !strncasecmp(w, "inf", 3)) ||
	    (!i && k == 3 && !strncasecmp(w, "nan", 3));
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t s;
	if (__builtin_add_overflow(a, b, &s))
		return b > 0 ? INT64_MAX : -INT64_MAX;
	return s;
}

/* A value plus noise: |x| < 10^38 and |noise| < 2^63 cannot overflow 128 bits; the sum is
 * held within what the grid can write, which is post-processing. */
static i128 sat_add_num(i128 x, int64_t noise)
{
	i128 y = x + noise;
	return y > ANON_NOISE_NUM_MAX ? ANON_NOISE_NUM_MAX :
	    y < -ANON_NOISE_NUM_MAX ? -ANON_NOISE_NUM_MAX : y;
}

/* Floor division for n > 0, |x| < 10^38; 64-bit when both fit, as nearly all values do
 * (a 128-bit division is a library call). */
static i128 floor_div(i128 x, i128 n, i128 *rem)
{
	i128 q, r;
	if (x >= INT64_MIN && x <= INT64_MAX && n <= INT64_MAX) {
		q = (int64_t)x / (int64_t)n;
		r = (int64_t)x % (int64_t)n;
	} else {
		q = x / n;
		r = x % n;
	}
	if (r < 0) {
		q--;
		r += n;
	}
	*rem = r;
	return q;
}

/* i128 to double through int64 when it fits: the 128-bit conversion is a library call. */
static double to_double(i128 x)
{
	return x >= INT64_MIN && x <= INT64_MAX ? (double)(int64_t)x : (double)x;
}

static const char *num_error(int code, const unsigned char *s, size_t n)
{
	switch (code) {
	case 1:
		return anon_noise_date_like(s, n) ? "a date where the rule expects a number" :
		    "not a number";
	case 2:
		return "number out of range: at most 38 significant digits";
	default:
		return "number out of range: at most 38 decimals";
	}
}

/* Zero the time digits from position `from` on (11: the hour, 14: the minutes). */
static void zero_time(unsigned char *o, size_t from, size_t end)
{
	for (size_t i = from; i < end; i++)
		if (o[i] >= '0' && o[i] <= '9')
			o[i] = '0';
}

/* Workers may reach a rule's first value at once: one lock orders the only write to a rule
 * after start, and `ready` (release) publishes it to the workers that read it (acquire). */
static pthread_mutex_t grid_lock = PTHREAD_MUTEX_INITIALIZER;

/* The grid from the first value: its decimals, or, when the parameters do not fit a grid
 * that fine (a scale beyond 2^62 units, a sigma beyond 2^24), the finest coarser one they
 * fit.  Parsing checked them on whole numbers, so some grid always fits: the column's
 * precision never turns a parameter into a data error. */
static const char *grid_from_value(struct anon_noise_rule *r, const unsigned char *s, size_t n)
{
	const char *e = NULL;
	pthread_mutex_lock(&grid_lock);
	if (!atomic_load_explicit(&r->ready, memory_order_relaxed)) {
		i128 m;
		int nd, pe;
		if (anon_noise_date_like(s, n)) {
			e = anon_noise_rule_grid(r, ANON_NOISE_DATE, 0);
		} else if (r->decimals >= 0) {
			e = anon_noise_rule_grid(r, ANON_NOISE_NUMBER, r->decimals);
		} else if ((pe = anon_noise_num_parse(s, n, &m, &nd))) {
			e = num_error(pe, s, n);
		} else {
			r->data_d = nd;  /* read only once ready is published */
			for (int d = nd; d >= 0; d--) {
				const char *ed = anon_noise_rule_grid(r, ANON_NOISE_NUMBER, d);
				if (d == nd)
					e = ed;
				if (!ed) {
					e = NULL;
					break;
				}
			}
		}
	}
	pthread_mutex_unlock(&grid_lock);
	return e;
}

static int apply_noise(struct anon_noise_rule *r, struct anon_noise_slot *w,
		       const unsigned char *s, size_t n, unsigned char *out, size_t *outlen,
		       const char **errmsg)
{
	if (!atomic_load_explicit(&r->ready, memory_order_acquire)) {
		const char *e = grid_from_value(r, s, n);
		if (e) {
			*errmsg = e;
			return -1;
		}
	}
	/* drawn before the value is read, so the stream never depends on the data */
	int64_t noise;
	if (r->kind == ANON_NOISE_LAPLACE)
		noise = anon_noise_laplace(w->rng, r->scale_u, 1);
	else
		noise = anon_noise_gaussian(w->rng, r->scale_u);
	if (r->vtype == ANON_NOISE_DATE) {
		struct anon_noise_date dt;
		if (!anon_noise_date_parse(s, n, &dt)) {
			*errmsg = anon_noise_date_like(s, n) ? "not a valid date or timestamp" :
			    "a number where the rule expects a date";
			return -1;
		}
		int64_t x = dt.days;
		if (r->clamp)
			x = x < r->lo_u ? (int64_t)r->lo_u : x > r->hi_u ? (int64_t)r->hi_u : x;
		int64_t y = sat_add(x, noise);
		/* keeping the result a date PostgreSQL holds is post-processing */
		y = y < DAY_MIN ? DAY_MIN : y > DAY_MAX ? DAY_MAX : y;
		char date[10];
		bool bc;
		anon_noise_date_format(y, date, &bc);
		*outlen = anon_noise_date_put(out, date, bc, s, &dt);
		anon_noise_hist_add(&w->hist, (double)dt.days, (double)y, 1);
		return 0;
	}
	i128 x;
	int e = anon_noise_fixed_parse(s, n, r->d, &x);
	if (e) {
		*errmsg = num_error(e, s, n);
		return -1;
	}
	i128 in = x;
	if (r->clamp)
		x = x < r->lo_u ? r->lo_u : x > r->hi_u ? r->hi_u : x;
	i128 y = sat_add_num(x, noise);
	*outlen = anon_noise_fixed_format(y, r->d, (char *)out);
	double unit = 1.0 / (double)anon_noise_pow10u(r->d);
	anon_noise_hist_add(&w->hist, to_double(in) * unit, to_double(y) * unit, unit);
	return 0;
}

static int apply_date(const struct anon_noise_rule *r, struct anon_noise_slot *w,
		      const unsigned char *s, size_t n, const unsigned char *entity,
		      size_t entity_len, bool have_entity, unsigned char *out, size_t *outlen,
		      const char **errmsg)
{
	struct anon_noise_date dt;
	if (!anon_noise_date_parse(s, n, &dt)) {
		*errmsg = anon_noise_date_like(s, n) || r->kind == ANON_NOISE_DATESHIFT ||
		    r->kind == ANON_NOISE_TRUNCATE ? "not a valid date or timestamp" :
		    "a number where the rule expects a date";
		return -1;
	}
	int64_t y = dt.days;
	char date[10];
	bool bc;
	switch (r->kind) {
	case ANON_NOISE_DATESHIFT: {
		int64_t shift;
		if (have_entity) {
			if (!entity_len) {
				*errmsg = "the entity column is NULL or empty";
				return -1;
			}
			if (w->have_last && w->last_len == entity_len &&
			    !memcmp(w->last_entity, entity, entity_len)) {
				shift = w->last_shift;
			} else {
				shift = anon_noise_shift_days(w->shift, r->group, r->days, entity,
				    entity_len);
				if (w->last_cap < entity_len) {
					anon_noise_slot_free(w);
					w->last_cap = entity_len < 64 ? 64 : entity_len;
					if (!(w->last_entity = malloc(w->last_cap)))
						anon_noise_rng_fatal("out of memory");
				}
				memcpy(w->last_entity, entity, entity_len);
				w->last_len = entity_len;
				w->last_shift = shift;
				w->have_last = true;
			}
		} else {
			shift = -r->days + (int64_t)anon_noise_uniform64(w->rng,
			    (uint64_t)(2 * r->days + 1));
		}
		y += shift;
		if (!anon_noise_date_format(y, date, &bc)) {
			*errmsg = "shifted date out of range (4714-11-24 BC to 9999-12-31)";
			return -1;
		}
		*outlen = anon_noise_date_put(out, date, bc, s, &dt);
		break;
	}
	case ANON_NOISE_TRUNCATE: {
		int month = r->unit == ANON_NOISE_YEAR ? 1 : dt.month;
		int day = r->unit <= ANON_NOISE_MONTH ? 1 : dt.day;
		y = anon_noise_days_from_civil(dt.year, (unsigned)month, (unsigned)day);
		if (y < DAY_MIN || y > DAY_MAX) {
			*errmsg = "truncated date out of range (4714-11-24 BC to 9999-12-31)";
			return -1;
		}
		anon_noise_date_format_ymd(dt.year, (unsigned)month, (unsigned)day, date, &bc);
		*outlen = anon_noise_date_put(out, date, bc, s, &dt);
		zero_time(out, r->unit == ANON_NOISE_HOUR ? 14 : 11, dt.time_end);
		break;
	}
	default: /* topcode, bottomcode with a date limit: compare calendar dates */
		if (r->kind == ANON_NOISE_TOPCODE ? dt.days > r->date_arg : dt.days < r->date_arg) {
			y = r->date_arg;
			anon_noise_date_format(y, date, &bc);
			*outlen = anon_noise_date_put(out, date, bc, s, &dt);
			zero_time(out, 11, dt.time_end);
		} else {
			memcpy(out, s, n);  /* within the limit: untouched, byte for byte */
			*outlen = n;
		}
		break;
	}
	anon_noise_hist_add(&w->hist, (double)dt.days, (double)y, 1);
	return 0;
}

static int apply_number(const struct anon_noise_rule *r, struct anon_noise_slot *w,
			const unsigned char *s, size_t n, unsigned char *out, size_t *outlen,
			const char **errmsg)
{
	i128 mant, x, step, y, rem, res;
	int nd;
	int pe = anon_noise_num_parse(s, n, &mant, &nd);
	if (pe) {
		*errmsg = num_error(pe, s, n);
		return -1;
	}
	/* exact on the finer of the value's grid and the step's */
	int d = nd > r->step.ndec ? nd : r->step.ndec;
	if (!anon_noise_dec_rescale(mant, nd, d, ANON_NOISE_FLOOR, &x) ||
	    !anon_noise_dec_rescale(r->step.mant, r->step.ndec, d, ANON_NOISE_FLOOR, &step)) {
		*errmsg = num_error(2, s, n);
		return -1;
	}
	size_t len;
	switch (r->kind) {
	case ANON_NOISE_ROUND: {
		i128 q = floor_div(x, step, &rem);
		/* nearest multiple; a tie goes to the even multiple */
		if (rem > step - rem || (rem == step - rem && (q & 1)))
			q++;
		int64_t r64;
		if (q >= INT64_MIN && q <= INT64_MAX && step <= INT64_MAX &&
		    !__builtin_mul_overflow((int64_t)q, (int64_t)step, &r64))
			res = r64;  /* the usual case, without a 128-bit multiplication */
		else if (__builtin_mul_overflow(q, step, &res))
			res = ANON_NOISE_NUM_MAX + 1;
		break;
	}
	case ANON_NOISE_BUCKET:
		res = floor_div(x, step, &rem) * step;  /* |res| <= |x| + step: no overflow */
		break;
	case ANON_NOISE_TOPCODE:
		res = x > step ? step : x;
		break;
	default:
		res = x < step ? step : x;
		break;
	}
	if (res > ANON_NOISE_NUM_MAX || res < -ANON_NOISE_NUM_MAX) {
		*errmsg = "result out of range: at most 38 significant digits";
		return -1;
	}
	y = res;
	if ((r->kind == ANON_NOISE_TOPCODE || r->kind == ANON_NOISE_BOTTOMCODE) && y == x) {
		memcpy(out, s, n);  /* within the limit: untouched, byte for byte */
		len = n;
	} else {
		len = anon_noise_fixed_format(y, d, (char *)out);
		if (r->kind == ANON_NOISE_BUCKET && r->label) {
			i128 hi = res + step - 1;  /* inclusive upper end, in the same units */
			if (hi > ANON_NOISE_NUM_MAX) {
				*errmsg = "result out of range: at most 38 significant digits";
				return -1;
			}
			out[len++] = '-';
			len += anon_noise_fixed_format(hi, d, (char *)out + len);
		}
	}
	*outlen = len;
	double unit = 1.0 / (double)anon_noise_pow10u(d);
	anon_noise_hist_add(&w->hist, to_double(x) * unit, to_double(y) * unit, unit);
	return 0;
}

int anon_noise_rule_apply(struct anon_noise_rule *r, struct anon_noise_slot *w,
			  const unsigned char *s, size_t n, const unsigned char *entity,
			  size_t entity_len, bool have_entity, unsigned char *out, size_t *outlen,
			  const char **errmsg)
{
	/* What PostgreSQL holds beyond the calendar and the numbers stays as it is, as NULL
	 * does: no rule has a value to give it, and one of them must not stop a whole dump.
	 * The noise rules draw nothing for it, and it sets no grid. */
	if (anon_noise_special(s, n)) {
		w->special++;
		return 1;
	}
	switch (r->kind) {
	case ANON_NOISE_LAPLACE:
	case ANON_NOISE_GAUSSIAN:
		return apply_noise(r, w, s, n, out, outlen, errmsg);
	case ANON_NOISE_DATESHIFT:
	case ANON_NOISE_TRUNCATE:
		return apply_date(r, w, s, n, entity, entity_len, have_entity, out, outlen, errmsg);
	case ANON_NOISE_TOPCODE:
	case ANON_NOISE_BOTTOMCODE:
		if (r->date_mode)
			return apply_date(r, w, s, n, NULL, 0, false, out, outlen, errmsg);
		return apply_number(r, w, s, n, out, outlen, errmsg);
	default:
		if (anon_noise_date_like(s, n)) {
			*errmsg = "a date where the rule expects a number";
			return -1;
		}
		return apply_number(r, w, s, n, out, outlen, errmsg);
	}
}

/* The cache holds an entity's value and its shift: wiped, as both say something of a person. */
void anon_noise_slot_free(struct anon_noise_slot *w)
{
	if (w->last_entity) {
		OPENSSL_cleanse(w->last_entity, w->last_cap);
		free(w->last_entity);
	}
	w->last_entity = NULL;
	w->last_len = w->last_cap = 0;
	w->last_shift = 0;
	w->have_last = false;
}
