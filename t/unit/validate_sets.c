/* validate_sets.c: what anon-validate's workers gather merges to exactly what one worker
 * would have gathered, however the rows were shared out: the rows shown, the duplicates of a
 * set of 128-bit hashes, and the classes of a table of byte keys. */
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "tap.h"

static uint64_t rng = 7;
static uint64_t next(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 17;
}

static bool same_rows(const struct rowlist *a, const struct rowlist *b)
{
	return a->count == b->count && a->n == b->n &&
	       memcmp(a->line, b->line, a->n * sizeof a->line[0]) == 0;
}

/* The 16-byte key of value v (a stand-in for an HMAC). */
static void key_of(uint64_t v, unsigned char k[16])
{
	uint64_t a = v * 0x9e3779b97f4a7c15ULL + 1, b = ~v;
	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
}

int main(void)
{
	/* rows shown: the smallest lines, whatever the order and the split */
	struct rowlist one = { 0 }, parts[3] = { { 0 } };
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t line = (i * 7919) % 1000 + 1;
		rowlist_add(&one, line);
		rowlist_add(&parts[next() % 3], line);
	}
	ok(one.count == 1000 && one.n == ROWS_SHOWN && one.line[0] == 1 && one.line[9] == 10,
	   "rowlist keeps the %d smallest lines", ROWS_SHOWN);
	struct rowlist merged = { 0 };
	for (int i = 2; i >= 0; i--)
		rowlist_merge(&merged, &parts[i]);
	ok(same_rows(&one, &merged), "rowlists merged in any order equal one rowlist");

	/* a set of keys with their first line: duplicates are every later occurrence */
	enum { ROWS = 50000, WORKERS = 4 };
	struct hset seq = { 0 }, w[WORKERS] = { { 0 } };
	struct rowlist dseq = { 0 }, dw[WORKERS] = { { 0 } };
	uint64_t *vals = malloc(ROWS * sizeof *vals);
	for (int i = 0; i < ROWS; i++)
		vals[i] = next() % 30000;
	/* one worker, rows in order */
	for (int i = 0; i < ROWS; i++) {
		unsigned char k[16];
		key_of(vals[i], k);
		uint64_t d = hset_add(&seq, k, (uint64_t)i + 2);
		if (d)
			rowlist_add(&dseq, d);
	}
	/* four workers, chunks of 100 rows dealt out at random, each worker's rows in its order */
	for (int c = 0; c < ROWS / 100; c++) {
		int who = (int)(next() % WORKERS);
		for (int i = c * 100; i < (c + 1) * 100; i++) {
			unsigned char k[16];
			key_of(vals[i], k);
			uint64_t d = hset_add(&w[who], k, (uint64_t)i + 2);
			if (d)
				rowlist_add(&dw[who], d);
		}
	}
	struct hset all = { 0 };
	struct rowlist dall = { 0 };
	for (int i = WORKERS - 1; i >= 0; i--) {
		rowlist_merge(&dall, &dw[i]);
		hset_merge(&all, &w[i], &dall);
	}
	ok(all.n == seq.n, "merged set: %zu distinct keys, one worker %zu", all.n, seq.n);
	ok(dall.count == ROWS - seq.n, "duplicates: %llu, rows - distinct = %zu",
	   (unsigned long long)dall.count, (size_t)ROWS - seq.n);
	ok(same_rows(&dseq, &dall), "the duplicate rows shown are those of one worker");
	unsigned char k[16];
	key_of(vals[0], k);
	ok(hset_has(&all, k), "a key added is in the set");
	key_of(999999, k);
	ok(!hset_has(&all, k), "a key never added is not");
	ok(hset_bytes(&seq) == seq.cap * 24 && seq.n * 10 <= seq.cap * 7,
	   "24 bytes a slot, at most 70%% full (%zu keys, %zu slots)", seq.n, seq.cap);
	unsigned char zero[16] = { 0 };
	struct hset z = { 0 };
	ok(hset_add(&z, zero, 5) == 0 && hset_has(&z, zero) && hset_add(&z, zero, 9) == 9,
	   "the all-zero key is a key like another");

	/* classes of byte keys: counts and first lines merge exactly */
	struct ktab kt, kw[WORKERS];
	ktab_init(&kt, 1);
	for (int i = 0; i < WORKERS; i++)
		ktab_init(&kw[i], 1);
	for (int i = 0; i < ROWS; i++) {
		char key[32];
		int n = snprintf(key, sizeof key, "class-%llu", (unsigned long long)(vals[i] % 997));
		ktab_add(&kt, key, (size_t)n, 0, 1, (uint64_t)i + 2);
		ktab_add(&kw[(i / 100) % WORKERS], key, (size_t)n, 0, 1, (uint64_t)i + 2);
	}
	struct ktab km;
	ktab_init(&km, 99); /* another seed: only the index depends on it */
	for (int i = 0; i < WORKERS; i++)
		ktab_merge(&km, &kw[i]);
	bool same = km.n == kt.n;
	for (size_t i = 0; i < kt.n && same; i++) {
		const struct kent *e = &kt.e[i];
		const struct kent *f = ktab_find(&km, ktab_key(&kt, e), e->len);
		same = f && f->count == e->count && f->minline == e->minline;
	}
	ok(same, "merged classes: the same %zu classes, counts and first lines", kt.n);
	ok(ktab_find(&kt, "class-x", 7) == NULL, "a class never added is not found");
	ok(ktab_find(&kt, "class-1", 7) == NULL || ktab_find(&kt, "class-1", 7)->len == 7,
	   "keys are compared whole");

	hset_free(&seq);
	hset_free(&all);
	hset_free(&z);
	for (int i = 0; i < WORKERS; i++) {
		hset_free(&w[i]);
		ktab_free(&kw[i]);
	}
	ktab_free(&kt);
	ktab_free(&km);
	free(vals);
	return tap_done();
}
