/* fpe_core.c: FF1/FF3-1 limits computed with integers, refusals, and round trips of random
 * numeral strings for many radixes and every allowed length; FF1's 64-bit, 128-bit and
 * bignum paths must agree; threads sharing one keyed cipher and its plans, each with its own
 * AES context, get what one thread gets. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fpe.h"
#include "tap.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	/* xorshift64*: reproducible test data, not for keys */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static void test_limits(void)
{
	static const struct { unsigned radix; size_t minlen, ff3max; } t[] = {
		{ 2, 20, 192 }, { 4, 10, 96 }, { 10, 6, 56 }, { 16, 5, 48 }, { 26, 5, 40 },
		{ 32, 4, 38 }, { 36, 4, 36 }, { 62, 4, 32 }, { 64, 4, 32 }, { 85, 4, 28 },
		{ 256, 3, 24 }, { 65536, 2, 12 },
	};
	bool all = true;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (fpe_minlen(t[i].radix) != t[i].minlen || fpe_ff3_maxlen(t[i].radix) != t[i].ff3max) {
			all = false;
			printf("# radix %u: minlen %zu ff3max %zu\n", t[i].radix,
			       fpe_minlen(t[i].radix), fpe_ff3_maxlen(t[i].radix));
		}
	}
	ok(all, "minlen and FF3-1 maxlen match the reference table (radix 64 sits on 2^96)");
	ok(fpe_check(FPE_FF1, 10, 5, 0) != NULL, "FF1 radix 10 length 5 refused (10^5 < 10^6)");
	ok(fpe_check(FPE_FF1, 10, 6, 0) == NULL, "FF1 radix 10 length 6 accepted");
	ok(fpe_check(FPE_FF1, 2, 19, 0) != NULL && fpe_check(FPE_FF1, 2, 20, 0) == NULL,
	   "radix 2 needs 20 symbols");
	ok(fpe_check(FPE_FF1, 10, FPE_FF1_MAXLEN + 1, 0) != NULL, "FF1 longer than our maxlen refused");
	ok(fpe_check(FPE_FF3_1, 10, 56, 7) == NULL && fpe_check(FPE_FF3_1, 10, 57, 7) != NULL,
	   "FF3-1 radix 10 maxlen 56");
	ok(fpe_check(FPE_FF3_1, 64, 32, 7) == NULL && fpe_check(FPE_FF3_1, 64, 34, 7) != NULL,
	   "FF3-1 radix 64 refuses 34 symbols (Bouncy Castle's case)");
	ok(fpe_check(FPE_FF3_1, 10, 10, 8) != NULL && fpe_check(FPE_FF3_1, 10, 10, 0) != NULL,
	   "FF3-1 tweak must be 7 bytes");
	ok(fpe_check(FPE_FF1, 10, 10, FPE_FF1_MAX_TWEAK + 1) != NULL, "FF1 tweak over 256 bytes refused");
	ok(fpe_check(FPE_FF1, 1, 30, 0) != NULL && fpe_check(FPE_FF1, 65537, 3, 0) != NULL,
	   "radix 1 and 65537 refused");

	struct fpe_cipher c;
	unsigned char key[40] = { 0 };
	ok(fpe_cipher_init(&c, FPE_FF1, key, 15) == -1 && fpe_cipher_init(&c, FPE_FF1, key, 40) == -1 &&
	   fpe_cipher_init(&c, FPE_FF1, key, 0) == -1, "key lengths other than 16/24/32 refused");
	ok(fpe_cipher_init(&c, FPE_FF1, key, 24) == 0 && c.key_bits == 192, "AES-192 key accepted");
	uint16_t x[8] = { 1, 2, 3, 4, 5, 6, 7, 10 };
	ok(fpe_crypt(&c, NULL, 0, 10, x, x, 8, false) != NULL, "a numeral >= radix is refused");
	fpe_cipher_free(&c);
}

/* Round trips over random values for a radix and every length in [minlen, top]. */
static void roundtrip(enum fpe_algo algo, unsigned radix, size_t top, int reps)
{
	unsigned char key[32], tweak[16];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)rnd();
	for (int i = 0; i < 16; i++)
		tweak[i] = (unsigned char)rnd();
	size_t tlen = algo == FPE_FF3_1 ? 7 : (size_t)(rnd() % 17);
	struct fpe_cipher c;
	fpe_cipher_init(&c, algo, key, 16 + 8 * (size_t)(rnd() % 3));
	size_t maxlen = fpe_maxlen(algo, radix);
	if (top > maxlen)
		top = maxlen;
	uint16_t *x = malloc(top * sizeof *x), *y = malloc(top * sizeof *y), *z = malloc(top * sizeof *z);
	long bad = 0, same = 0, runs = 0, cross = 0;
	for (size_t n = fpe_minlen(radix); n <= top; n++) {
		struct fpe_plan plan, big;
		if (fpe_plan_init(&plan, &c, tweak, tlen, radix, n)) {
			bad++;
			continue;
		}
		big = plan;
		fpe_plan_force_big(&big);
		for (int r = 0; r < reps; r++) {
			for (size_t i = 0; i < n; i++)
				x[i] = (uint16_t)(rnd() % radix);
			runs++;
			if (fpe_plan_run(&plan, x, y, false) || fpe_plan_run(&plan, y, z, true) ||
			    memcmp(x, z, n * sizeof *x)) {
				bad++;
				continue;
			}
			same += memcmp(x, y, n * sizeof *x) == 0;
			if (algo == FPE_FF1 && plan.path != FPE_PATH_BIG) {
				cross++;
				if (fpe_plan_run(&big, x, z, false) || memcmp(y, z, n * sizeof *y))
					bad++;
			}
		}
	}
	ok(bad == 0 && same <= runs / 100 + 1, "%s radix %u lengths %zu..%zu: %ld round trips, %ld "
	   "checked against bignums, %ld failures, %ld fixed points",
	   algo == FPE_FF1 ? "FF1" : "FF3-1", radix, fpe_minlen(radix), top, runs, cross, bad, same);
	free(x), free(y), free(z);
	fpe_cipher_free(&c);
}

/* The input buffer may be the output buffer. */
static void test_in_place(void)
{
	unsigned char key[16] = { 1 };
	struct fpe_cipher c;
	fpe_cipher_init(&c, FPE_FF1, key, 16);
	uint16_t x[16], y[16];
	for (int i = 0; i < 16; i++)
		x[i] = y[i] = (uint16_t)(i % 10);
	uint16_t z[16];
	fpe_crypt(&c, NULL, 0, 10, x, z, 16, false);
	fpe_crypt(&c, NULL, 0, 10, y, y, 16, false);
	ok(memcmp(y, z, sizeof y) == 0, "in-place encryption gives the same result");
	fpe_cipher_free(&c);
}

/* --jobs: several threads run the same read-only plans, each with its own copy of the AES
 * context (fpe_aes_init), and also prepare per-value plans (FF1 runs AES over the tweak). */
#define THREADS 4
#define VALUES 2000
struct job {
	const struct fpe_cipher *c;
	const struct fpe_plan *plan;        /* shared, prepared by the main thread */
	const uint16_t (*in)[16];
	uint16_t (*out)[16], (*tweaked)[16];
	long bad;
};

static void *thread_main(void *arg)
{
	struct job *j = arg;
	struct fpe_aes aes;
	if (fpe_aes_init(&aes, j->c) != 0) {
		j->bad = -1;
		return NULL;
	}
	for (int rep = 0; rep < 3; rep++)
		for (int v = 0; v < VALUES; v++) {
			uint16_t back[16];
			unsigned char tweak[8];
			memcpy(tweak, j->in[v], sizeof tweak);
			struct fpe_plan own;
			j->bad += fpe_plan_run_aes(j->plan, &aes, j->in[v], j->out[v], false) != NULL;
			j->bad += fpe_plan_run_aes(j->plan, &aes, j->out[v], back, true) != NULL ||
				  memcmp(back, j->in[v], sizeof back) != 0;
			size_t tlen = j->c->algo == FPE_FF3_1 ? 7 : 8;
			j->bad += fpe_plan_init_aes(&own, j->c, &aes, tweak, tlen, 10, 16) != NULL ||
				  fpe_plan_run_aes(&own, &aes, j->in[v], j->tweaked[v], false) != NULL;
		}
	fpe_aes_free(&aes);
	return NULL;
}

static void test_threads(enum fpe_algo algo)
{
	unsigned char key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)rnd();
	struct fpe_cipher c;
	fpe_cipher_init(&c, algo, key, 32);
	size_t tlen = algo == FPE_FF3_1 ? 7 : 0;
	const unsigned char zero[8] = { 0 };
	struct fpe_plan plan;
	fpe_plan_init(&plan, &c, zero, tlen, 10, 16);
	static uint16_t in[VALUES][16], want[VALUES][16], want_t[VALUES][16];
	static uint16_t out[THREADS][VALUES][16], tweaked[THREADS][VALUES][16];
	for (int v = 0; v < VALUES; v++)
		for (int i = 0; i < 16; i++)
			in[v][i] = (uint16_t)(rnd() % 10);
	/* what one thread with the cipher's own context gets */
	for (int v = 0; v < VALUES; v++) {
		unsigned char tweak[8];
		memcpy(tweak, in[v], sizeof tweak);
		fpe_plan_run(&plan, in[v], want[v], false);
		fpe_crypt(&c, tweak, algo == FPE_FF3_1 ? 7 : 8, 10, in[v], want_t[v], 16, false);
	}
	struct job jobs[THREADS];
	pthread_t tid[THREADS];
	long bad = 0;
	for (int k = 0; k < THREADS; k++) {
		jobs[k] = (struct job){ &c, &plan, (const uint16_t (*)[16])in, out[k], tweaked[k], 0 };
		if (pthread_create(&tid[k], NULL, thread_main, &jobs[k]) != 0)
			bad++;
	}
	for (int k = 0; k < THREADS; k++) {
		pthread_join(tid[k], NULL);
		bad += jobs[k].bad != 0;
		bad += memcmp(out[k], want, sizeof want) != 0;
		bad += memcmp(tweaked[k], want_t, sizeof want_t) != 0;
	}
	ok(bad == 0, "%s: %d threads share one cipher and plan, each with its own AES context, and "
	   "agree with one thread", algo == FPE_FF1 ? "FF1" : "FF3-1", THREADS);
	fpe_cipher_free(&c);
}

int main(void)
{
	test_limits();
	test_in_place();
	test_threads(FPE_FF1);
	test_threads(FPE_FF3_1);
	static const unsigned radixes[] = { 2, 3, 10, 16, 26, 36, 52, 62, 64, 85, 255, 256, 1000,
					    65535, 65536 };
	for (size_t i = 0; i < sizeof radixes / sizeof radixes[0]; i++) {
		roundtrip(FPE_FF1, radixes[i], 80, 20);
		roundtrip(FPE_FF3_1, radixes[i], 200, 20);
	}
	roundtrip(FPE_FF1, 10, 600, 2);  /* long values: the bignum path */
	return tap_done();
}
