/* sets.c: what a worker gathers and the main thread merges, built so that the merge gives
 * exactly what one worker would have: counts with the smallest line numbers, sets of 128-bit
 * keyed hashes that remember the first line of each key, and tables of exact byte keys. */
#include <stdlib.h>
#include <string.h>

#include "validate.h"

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

void *xrealloc(void *p, size_t size)
{
	if (!(p = realloc(p, size ? size : 1)))
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		anon_die(EX_SOFTWARE, "out of memory");
	return d;
}

/* ---- rows shown -------------------------------------------------------------------------------- */

static void rowlist_put(struct rowlist *r, uint64_t line)
{
	if (r->n == ROWS_SHOWN && line >= r->line[ROWS_SHOWN - 1])
		return;
	unsigned i = r->n < ROWS_SHOWN ? r->n++ : ROWS_SHOWN - 1;
	while (i > 0 && r->line[i - 1] > line) {
		r->line[i] = r->line[i - 1];
		i--;
	}
	r->line[i] = line;
}

void rowlist_add(struct rowlist *r, uint64_t line)
{
	r->count++;
	rowlist_put(r, line);
}

void rowlist_merge(struct rowlist *into, const struct rowlist *from)
{
	into->count += from->count;
	for (unsigned i = 0; i < from->n; i++)
		rowlist_put(into, from->line[i]);
}

json_t *rowlist_json(const struct rowlist *r)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < r->n; i++)
		json_array_append_new(a, json_integer((json_int_t)r->line[i]));
	return a;
}

/* ---- 128-bit hash sets ------------------------------------------------------------------------ */

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static struct hslot *hset_slot(const struct hset *s, uint64_t a, uint64_t b)
{
	size_t mask = s->cap - 1, i = (size_t)(a ^ (b >> 7)) & mask;
	while (s->slot[i].a != a || s->slot[i].b != b) {
		if (s->slot[i].a == 0 && s->slot[i].b == 0)
			return &s->slot[i];
		i = (i + 1) & mask;
	}
	return &s->slot[i];
}

static void hset_grow(struct hset *s)
{
	struct hset t = { xcalloc(s->cap ? s->cap * 2 : 1024, sizeof *t.slot),
			  s->cap ? s->cap * 2 : 1024, s->n };
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].a || s->slot[i].b)
			*hset_slot(&t, s->slot[i].a, s->slot[i].b) = s->slot[i];
	free(s->slot);
	*s = t;
}

static void key_words(const unsigned char key[16], uint64_t *a, uint64_t *b)
{
	*a = load64(key);
	*b = load64(key + 8);
	if (*a == 0 && *b == 0)
		*b = 1; /* the empty slot's pattern: one key in 2^128 shares a slot with another */
}

static uint64_t hset_put(struct hset *s, uint64_t a, uint64_t b, uint64_t line)
{
	if ((s->n + 1) * 10 > s->cap * 7)
		hset_grow(s);
	struct hslot *e = hset_slot(s, a, b);
	if (e->a == 0 && e->b == 0) {
		e->a = a;
		e->b = b;
		e->line = line;
		s->n++;
		return 0;
	}
	/* the later occurrence is the duplicate, whichever order the rows came in */
	uint64_t dup = line > e->line ? line : e->line;
	if (line < e->line)
		e->line = line;
	return dup;
}

uint64_t hset_add(struct hset *s, const unsigned char key[16], uint64_t line)
{
	uint64_t a, b;
	key_words(key, &a, &b);
	return hset_put(s, a, b, line);
}

bool hset_has(const struct hset *s, const unsigned char key[16])
{
	uint64_t a, b;
	if (!s->cap)
		return false;
	key_words(key, &a, &b);
	const struct hslot *e = hset_slot(s, a, b);
	return e->a == a && e->b == b;
}

void hset_merge(struct hset *into, struct hset *from, struct rowlist *dups)
{
	if (into->n == 0) { /* the first worker's set: taken over, not copied */
		struct hset t = *into;
		*into = *from;
		*from = t;
		return;
	}
	for (size_t i = 0; i < from->cap; i++) {
		const struct hslot *e = &from->slot[i];
		if (!e->a && !e->b)
			continue;
		uint64_t dup = hset_put(into, e->a, e->b, e->line);
		if (dup)
			rowlist_add(dups, dup);
	}
}

void hset_free(struct hset *s)
{
	free(s->slot);
	memset(s, 0, sizeof *s);
}

size_t hset_bytes(const struct hset *s)
{
	return s->cap * sizeof *s->slot;
}

/* ---- tables of byte keys -------------------------------------------------------------------- */

/* A fast 64-bit hash for the table's index only: keys are compared whole, so a collision costs
 * time, never a wrong count; the seed is random per run, so crafted input cannot make every key
 * collide. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t hash_bytes(uint64_t seed, const void *key, size_t n)
{
	const unsigned char *p = key;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
	while (n >= 8) {
		h = (h ^ load64(p)) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	uint64_t t = 0;
	if (n)
		memcpy(&t, p, n);
	return mix(h ^ t);
}

void ktab_init(struct ktab *t, uint64_t seed)
{
	memset(t, 0, sizeof *t);
	t->seed = seed;
}

/* The index: 8-byte slots (the hash's top 32 bits, and the entry's number + 1; 0 is empty),
 * at most 70 % full. The entries themselves are dense, in the order keys first came: a new
 * key costs one probe of the small index, and appends. */
static uint64_t *ktab_probe(const struct ktab *t, uint64_t h, const void *key, size_t len)
{
	size_t mask = t->capidx - 1, i = (size_t)h & mask;
	uint32_t tag = (uint32_t)(h >> 32);
	for (;;) {
		uint64_t *slot = &t->idx[i];
		if (*slot == 0)
			return slot;
		if ((uint32_t)(*slot >> 32) == tag) {
			const struct kent *e = &t->e[(uint32_t)*slot - 1];
			if (e->hash == h && e->len == len &&
			    memcmp(t->arena.p + e->off, key, len) == 0)
				return slot;
		}
		i = (i + 1) & mask;
	}
}

static void ktab_grow(struct ktab *t)
{
	size_t cap = t->capidx ? t->capidx * 2 : 256;
	free(t->idx);
	t->idx = xcalloc(cap, sizeof *t->idx);
	t->capidx = cap;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t h = t->e[i].hash;
		size_t j = (size_t)h & (cap - 1);
		while (t->idx[j])
			j = (j + 1) & (cap - 1);
		t->idx[j] = (h >> 32) << 32 | (uint64_t)(i + 1);
	}
}

struct kent *ktab_add(struct ktab *t, const void *key, size_t len, uint32_t prefix,
		      uint64_t count, uint64_t line)
{
	if ((t->n + 1) * 10 > t->capidx * 7)
		ktab_grow(t);
	uint64_t h = hash_bytes(t->seed, key, len);
	uint64_t *slot = ktab_probe(t, h, key, len);
	struct kent *e;
	if (*slot == 0) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 256;
			t->e = realloc(t->e, t->cap * sizeof *t->e);
			if (!t->e)
				anon_die(EX_SOFTWARE, "out of memory");
		}
		e = &t->e[t->n++];
		*e = (struct kent){ .hash = h, .off = t->arena.len, .len = (uint32_t)len,
				    .prefix = prefix, .minline = line };
		anon_buf_add(&t->arena, key, len);
		*slot = (h >> 32) << 32 | (uint64_t)t->n;
	} else {
		e = &t->e[(uint32_t)*slot - 1];
		if (line < e->minline)
			e->minline = line;
	}
	e->count += count;
	return e;
}

struct kent *ktab_find(const struct ktab *t, const void *key, size_t len)
{
	if (!t->capidx)
		return NULL;
	uint64_t *slot = ktab_probe(t, hash_bytes(t->seed, key, len), key, len);
	return *slot ? &t->e[(uint32_t)*slot - 1] : NULL;
}

void ktab_merge(struct ktab *into, struct ktab *from)
{
	if (into->n == 0 && into->seed == from->seed) { /* taken over, not copied */
		struct ktab t = *into;
		*into = *from;
		*from = t;
		return;
	}
	for (size_t i = 0; i < from->n; i++) {
		const struct kent *e = &from->e[i];
		ktab_add(into, from->arena.p + e->off, e->len, e->prefix, e->count, e->minline);
	}
}

void ktab_free(struct ktab *t)
{
	free(t->e);
	free(t->idx);
	anon_buf_free(&t->arena);
	uint64_t seed = t->seed;
	memset(t, 0, sizeof *t);
	t->seed = seed;
}
