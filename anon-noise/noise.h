/* noise.h: what the files of anon-noise share: the random bit source, the exact CKS20
 * samplers, fixed-point and date codecs, and the rules.  Everything here is integer-only
 * except the utility figures and the Gaussian calibration (see rule.c). */
#ifndef NOISE_H
#define NOISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

typedef unsigned __int128 u128;
typedef __int128 i128;

/* ---- random bits (rng.c) ------------------------------------------------------------------ */
/* A bit reservoir over a byte stream: the OpenSSL DRBG (RAND_priv_bytes) or a ChaCha20
 * keystream.  Bytes are read as little-endian 64-bit words and bits are taken least
 * significant first; a w-bit draw puts the first bit taken in its bit 0.  This order is
 * part of the --seed contract (golden vectors depend on it). */
struct anon_noise_rng {
	EVP_CIPHER_CTX *chacha;  /* NULL: the DRBG */
	unsigned char *store;    /* what the rng owns and wipes */
	size_t store_size;
	unsigned char *buf;      /* the bytes being read: the store, or one row's part of it */
	size_t size, pos;        /* pos == size: empty */
	uint64_t bits;           /* unread bits, low first */
	unsigned nbits;
	uint64_t bytes_used;     /* bytes drawn from the stream, for tests and the audit */
	/* By row (anon_noise_rng_rows): a row's draws are a keystream of its own, so they do not
	 * depend on which rows were drawn before it, nor on which worker draws it. */
	bool by_row;
	uint32_t stream;
	uint64_t line;           /* the row being drawn for */
	uint64_t window_line;    /* first line of the slices in the store; UINT64_MAX: none */
	bool past_slice;         /* the row has read its slice and goes on in its own stream */
	uint32_t own_block;      /* next block of that stream */
};

/* Called when the DRBG or the cipher fails; must not return (main.c exits 70). */
extern void (*anon_noise_rng_fatal)(const char *why);

void anon_noise_rng_secure(struct anon_noise_rng *r, size_t bufsize);
/* ChaCha20 (RFC 8439) with a 32-byte key and the 16-byte OpenSSL IV
 * (32-bit little-endian block counter, then the 96-bit nonce). */
void anon_noise_rng_chacha(struct anon_noise_rng *r, size_t bufsize, const unsigned char key[32],
			   const unsigned char iv[16]);
/* Restart a ChaCha20 rng with a new key (same IV layout); keeps its context and buffer. */
void anon_noise_rng_rekey(struct anon_noise_rng *r, const unsigned char key[32],
			  const unsigned char iv[16]);
/* Test mode: key = SHA-256("anon-noise/test/v1" || seed as decimal), nonce = stream, as one
 * sequence of draws (the samplers' tests). */
void anon_noise_rng_seeded(struct anon_noise_rng *r, size_t bufsize, uint64_t seed,
			   uint32_t stream);
/* Test mode as the command uses it: the same key, and draws addressed by (stream, row) with
 * anon_noise_rng_at, whatever the order rows come in.  Row L of stream s (s < 2^31) reads
 * first its slice, ChaCha20 block L mod 2^32 under nonce (s, L >> 32, 1) (words of the nonce
 * little-endian), then, if it needs more, blocks 0, 1, ... under nonce
 * (s + 2^31, L mod 2^32, L >> 32).  Slices are computed ANON_NOISE_WINDOW lines at a time,
 * so consecutive rows cost one cipher call between them. */
#define ANON_NOISE_WINDOW 32
void anon_noise_rng_rows(struct anon_noise_rng *r, uint64_t seed, uint32_t stream);
/* Draw for row `line` from here on (by-row rngs only). */
static inline void anon_noise_rng_at(struct anon_noise_rng *r, uint64_t line)
{
	r->line = line;
	r->past_slice = false;
	r->own_block = 0;
	r->pos = r->size = 0;
	r->bits = 0;
	r->nbits = 0;
}
/* Zero the bytes and bits without releasing anything, so a thread still drawing at exit
 * reads zeros rather than freed memory. */
void anon_noise_rng_wipe(struct anon_noise_rng *r);
void anon_noise_rng_free(struct anon_noise_rng *r);
uint64_t anon_noise_rng_word(struct anon_noise_rng *r); /* next little-endian word */

/* w bits, 1 <= w <= 64. */
static inline uint64_t anon_noise_bits(struct anon_noise_rng *r, unsigned w)
{
	uint64_t v;
	if (r->nbits >= w) {
		v = w == 64 ? r->bits : r->bits & ((UINT64_C(1) << w) - 1);
		r->bits = w == 64 ? 0 : r->bits >> w;
		r->nbits -= w;
		return v;
	}
	unsigned have = r->nbits, need = w - have;
	uint64_t word = anon_noise_rng_word(r);
	v = have ? r->bits | (word << have) : word;
	if (w < 64)
		v &= (UINT64_C(1) << w) - 1;
	r->bits = need == 64 ? 0 : word >> need;
	r->nbits = 64 - need;
	return v;
}

/* ---- exact samplers (sampler.c) ----------------------------------------------------------- */
/* Uniform on [0, d) by rejection on bitlen(d-1) bits; d >= 1. */
uint64_t anon_noise_uniform64(struct anon_noise_rng *r, uint64_t d);
u128 anon_noise_uniform(struct anon_noise_rng *r, u128 d);
bool anon_noise_bernoulli(struct anon_noise_rng *r, u128 n, u128 d);      /* P = n/d */
bool anon_noise_bernoulli_exp1(struct anon_noise_rng *r, u128 n, u128 d); /* exp(-n/d), n<=d */
bool anon_noise_bernoulli_exp(struct anon_noise_rng *r, u128 n, u128 d);  /* exp(-n/d) */
uint64_t anon_noise_geometric_slow(struct anon_noise_rng *r, u128 n, u128 d);
/* P(k) = (1 - e^(-s/t)) e^(-k s/t), k >= 0; saturates at UINT64_MAX. */
uint64_t anon_noise_geometric_fast(struct anon_noise_rng *r, uint64_t s, uint64_t t);
/* P(x) proportional to exp(-|x| s/t), scale t/s; t == 0 gives 0.  Saturates at +-INT64_MAX. */
int64_t anon_noise_laplace(struct anon_noise_rng *r, uint64_t t, uint64_t s);
/* P(x) proportional to exp(-x^2 / (2 sigma^2)); sigma <= ANON_NOISE_SIGMA_MAX. */
#define ANON_NOISE_SIGMA_MAX (UINT64_C(1) << 24)
#define ANON_NOISE_SCALE_MAX (UINT64_C(1) << 62)
int64_t anon_noise_gaussian(struct anon_noise_rng *r, uint64_t sigma);

/* ---- decimal fixed point (fixed.c) -------------------------------------------------------- */
/* Parameters (epsilon, scale, clamp, steps) are 64-bit with at most 18 decimals; values are
 * 128-bit: at most 38 significant digits and 38 decimals, which holds numeric(38,s) and every
 * bigint.  PostgreSQL's numeric goes further; such a value is a data error that says so. */
#define ANON_NOISE_DEC_MAX 18
#define ANON_NOISE_DIGITS 38
#define ANON_NOISE_NUM_MAX ((i128)(anon_noise_pow10u(ANON_NOISE_DIGITS) - 1))
enum anon_noise_round { ANON_NOISE_FLOOR, ANON_NOISE_CEIL, ANON_NOISE_HALF_EVEN };
/* Parse [+-]digits[.digits] (or .digits) exactly: *mant / 10^*ndec.  False on syntax or
 * when the mantissa does not fit an int64 or there are more than 18 decimals (parameters). */
bool anon_noise_dec_parse(const unsigned char *s, size_t n, int64_t *mant, int *ndec);
/* A value, the same way into 128 bits.  Returns 0, or 1 for bad syntax, 2 for more than 38
 * significant digits, 3 for more than 38 decimals. */
int anon_noise_num_parse(const unsigned char *s, size_t n, i128 *mant, int *ndec);
/* The same value in units of 10^-d (d <= 38), rounded as asked.  False when the result is
 * 10^38 or more in magnitude. */
bool anon_noise_dec_rescale(i128 mant, int ndec, int d, enum anon_noise_round mode,
			    i128 *out);
/* The hot path: parse straight into units of 10^-d, rounding half to even beyond d decimals.
 * Returns 0, or 1 for bad syntax, 2 for out of range (10^38 units or more). */
int anon_noise_fixed_parse(const unsigned char *s, size_t n, int d, i128 *out);
/* Write v * 10^-d with exactly d decimals; returns the length (at most 41 + d bytes). */
size_t anon_noise_fixed_format(i128 v, int d, char *out);
int64_t anon_noise_pow10(int d); /* 0 <= d <= 18 */
u128 anon_noise_pow10u(int d);   /* 0 <= d <= 38 */

/* PostgreSQL's special values: NaN, Infinity, -Infinity (numeric, float), infinity and
 * -infinity (date, timestamp, timestamptz), in any case, and inf, +inf, -inf. */
bool anon_noise_special(const unsigned char *s, size_t n);

/* ---- dates and timestamps (date.c) -------------------------------------------------------- */
/* YYYY-MM-DD, optionally followed by ' ' or 'T', HH:MM[:SS[.f...]] and a zone
 * (Z, +HH, +HHMM, +HH:MM, +HH:MM:SS), and " BC" at the very end as PostgreSQL writes it.
 * Everything after the date is kept verbatim by the rules, so the column's format survives;
 * the era is written anew. */
struct anon_noise_date {
	int64_t days;       /* since 1970-01-01 */
	int year, month, day;  /* year proleptic Gregorian with a year 0: 1 BC is 0 */
	bool has_time;
	bool bc;            /* the text ends in " BC" */
	size_t time_end;    /* bytes of date + time (the zone starts here) */
	size_t end;         /* bytes before " BC" (the whole text without it) */
};
/* PostgreSQL's dates: 4714-11-24 BC to 9999-12-31 (it goes further, in more digits). */
#define ANON_NOISE_DAY_MIN (-2440588)
#define ANON_NOISE_DAY_MAX 2932896
bool anon_noise_date_parse(const unsigned char *s, size_t n, struct anon_noise_date *d);
int64_t anon_noise_days_from_civil(int64_t y, unsigned m, unsigned d);
void anon_noise_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Write YYYY-MM-DD for a day number, *bc when it is before year 1; false outside
 * ANON_NOISE_DAY_MIN..ANON_NOISE_DAY_MAX. */
bool anon_noise_date_format(int64_t days, char out[10], bool *bc);
/* The same from a year (0 = 1 BC), month and day; false when the year has more than 4 digits. */
bool anon_noise_date_format_ymd(int64_t y, unsigned m, unsigned d, char out[10], bool *bc);
/* A value out of the date written, what follows it in s (time and zone, as parsed into dt)
 * and the era; returns the length (at most dt->end + 3). */
size_t anon_noise_date_put(unsigned char *out, const char date[10], bool bc,
			   const unsigned char *s, const struct anon_noise_date *dt);
/* True when s looks like a date (starts with dddd-dd-dd), to tell dates from numbers. */
bool anon_noise_date_like(const unsigned char *s, size_t n);

/* ---- rules (rule.c) ----------------------------------------------------------------------- */
enum anon_noise_kind {
	ANON_NOISE_LAPLACE, ANON_NOISE_GAUSSIAN, ANON_NOISE_DATESHIFT, ANON_NOISE_ROUND,
	ANON_NOISE_BUCKET, ANON_NOISE_TOPCODE, ANON_NOISE_BOTTOMCODE, ANON_NOISE_TRUNCATE,
};
enum anon_noise_vtype { ANON_NOISE_UNSET, ANON_NOISE_NUMBER, ANON_NOISE_DATE };
enum anon_noise_trunc { ANON_NOISE_YEAR, ANON_NOISE_MONTH, ANON_NOISE_DAY, ANON_NOISE_HOUR };

#define ANON_NOISE_HIST_BINS 20
/* Utility figures: a 20-bin histogram of the values in and out, in one pass with no bounds
 * known up front. Its layout is a function of the smallest and largest value alone: bins are
 * 2^k grid units wide (the smallest k that spans them), aligned on multiples of 2^k, the
 * first bin holding the smallest value. So counts are exact, histograms of parts of the data
 * merge into exactly the histogram of the whole, and the figures do not depend on --jobs or
 * on the order of the rows. The error sum is kept in grid units, as an integer. */
struct anon_noise_hist {
	double unit;               /* one grid unit (10^-decimals, or one day) */
	int k;                     /* bins are 2^k units wide */
	int64_t base;              /* the first bin, counted in bins from 0 */
	int64_t min, max;          /* values seen, in units */
	uint64_t in[ANON_NOISE_HIST_BINS], out[ANON_NOISE_HIST_BINS];
	uint64_t n;
	unsigned __int128 abs_err; /* sum of |out - in|, in units */
	bool started;
};
void anon_noise_hist_add(struct anon_noise_hist *h, double in, double out, double unit);
/* Add the figures of `from` (another worker's) to `into`: exact. */
void anon_noise_hist_merge(struct anon_noise_hist *into, const struct anon_noise_hist *from);
/* The first bin's lower edge and a bin's width, in the column's values. */
double anon_noise_hist_lo(const struct anon_noise_hist *h);
double anon_noise_hist_width(const struct anon_noise_hist *h);
double anon_noise_hist_mean_abs_error(const struct anon_noise_hist *h);

/* A decimal parameter exactly: mant / 10^ndec. */
struct anon_noise_dec {
	int64_t mant;
	int ndec;
	bool set;
};

/* Per-entity date shifts: the HMAC subkey and a stream re-keyed per entity.  The run keeps
 * one made from the subkey; each worker draws with a copy of its own (anon_noise_shift_dup). */
struct anon_noise_shift {
	unsigned char subkey[32];      /* zero in a copy: its HMAC context holds the key */
	EVP_MAC_CTX *mac;
	struct anon_noise_rng stream;  /* re-keyed per entity */
	bool ready;
};

/* A rule as parsed.  Workers share it: apply changes nothing in it but the grid, which the
 * first value fixes once (under a lock) when decimals= does not. */
struct anon_noise_rule {
	enum anon_noise_kind kind;
	const char *name;           /* "laplace", ... */
	/* laplace / gaussian parameters as given */
	struct anon_noise_dec epsilon, delta, sensitivity, scale, sigma, step;
	bool clamp;
	struct anon_noise_dec clamp_lo, clamp_hi;  /* numbers; dates go straight to lo_u/hi_u */
	char clamp_text[2][40];     /* as given, for the audit */
	int decimals;               /* -1: from the first value */
	enum anon_noise_vtype vtype;
	/* derived when the grid is known; read them only once `ready` reads true (acquire) */
	atomic_bool ready;
	int d;                      /* grid 10^-d (0 for dates: one day) */
	int data_d;                 /* the first value's decimals, when they chose the grid: more
				     * than d when the parameters do not fit so fine a grid */
	i128 lo_u, hi_u;            /* clamp in units (days for dates) */
	uint64_t delta_u;           /* sensitivity in units (0: unknown) */
	uint64_t scale_u;           /* Laplace T, or Gaussian sigma_u */
	double eps_eff, delta_eff, rho;  /* effective figures; < 0 when unknown */
	bool bounded;
	/* generalization */
	bool label;
	enum anon_noise_trunc unit;
	int64_t date_arg;           /* topcode/bottomcode with a date */
	bool date_mode;
	/* dateshift */
	int64_t days;
	char group[64];
	/* set by the caller: the rule draws random bits (stream: its number among those that
	 * do, in -c order), or shifts dates per entity */
	bool random;
	uint32_t stream;
	bool per_entity;
};

/* What applying one rule changes, one per worker and column: the random stream, the
 * utility figures, and the last entity's shift (rows of one person often come together). */
struct anon_noise_slot {
	struct anon_noise_rng *rng;       /* rules that draw (laplace, gaussian, plain dateshift) */
	struct anon_noise_shift *shift;   /* per-entity dateshift */
	struct anon_noise_hist hist;
	uint64_t special;                 /* NaN, infinity... kept as they were */
	int64_t last_shift;
	unsigned char *last_entity;
	size_t last_len, last_cap;
	bool have_last;
};
/* Release (and wipe) the entity cache; the rng and shift belong to the caller. */
void anon_noise_slot_free(struct anon_noise_slot *w);

/* Parse RULE[:args] (the text after COL=).  Returns NULL, or a message for a usage error that
 * names what was given and the choices (valid until the next call; main thread only). */
const char *anon_noise_rule_parse(struct anon_noise_rule *r, const char *text);
/* Fix the grid (d decimals, or a date column) and derive scale and epsilon; NULL or why not,
 * and then the rule is left as it was. */
const char *anon_noise_rule_grid(struct anon_noise_rule *r, enum anon_noise_vtype t, int d);
/* Transform one value s[0..n) into out (room for n + 128 bytes), drawing from and counting
 * in `w`.  entity: the --entity field (NULL when none).  Returns 0 (*outlen set), 1 for a
 * special value (anon_noise_special) that stays as it was, or -1 with *errmsg.  Safe on
 * several threads at once, each with its own slot. */
int anon_noise_rule_apply(struct anon_noise_rule *r, struct anon_noise_slot *w,
			  const unsigned char *s, size_t n, const unsigned char *entity,
			  size_t entity_len, bool have_entity, unsigned char *out, size_t *outlen,
			  const char **errmsg);
/* The per-entity day shift (dateshift with --entity). */
int64_t anon_noise_shift_days(struct anon_noise_shift *sh, const char *group, int64_t days,
			      const unsigned char *entity, size_t len);
void anon_noise_shift_init(struct anon_noise_shift *sh, const unsigned char subkey[32]);
/* A worker's own copy of an initialised shift: its HMAC context and stream. */
void anon_noise_shift_dup(struct anon_noise_shift *dst, const struct anon_noise_shift *src);
void anon_noise_shift_free(struct anon_noise_shift *sh);
/* Gaussian calibration (CKS20 / OpenDP cdp_delta): delta of rho-zCDP at epsilon. */
double anon_noise_cdp_delta(double rho, double eps);

#endif
