/* cache.c: the two maps of the vault mode. fpcache: fingerprint -> token for values the
 * vault is known to hold (committed), bounded, shared read-only when preloaded or owned by
 * a worker. vmap: one chunk's distinct values and what they resolve to. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "token.h"

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

static size_t pow2_at_least(size_t n)
{
	size_t c = 16;
	while (c < n)
		c *= 2;
	return c;
}

/* ---- fpcache -------------------------------------------------------------------------------- */

/* A fingerprint is a MAC: its bytes are already uniform. Bytes 0-7 place it, bytes 8-11
 * are kept in the slot beside the entry's index, so a probe reads no entry but its own. */
static inline size_t fp_slot(const unsigned char *fp)
{
	uint64_t h;
	memcpy(&h, fp, sizeof h);
	return (size_t)h;
}

static inline uint64_t fp_tag(const unsigned char *fp)
{
	uint32_t t;
	memcpy(&t, fp + 8, sizeof t);
	return (uint64_t)t << 32;
}

void fpcache_index(struct fpcache *c);

/* A table read at random, as a cache of a million tokens is: past a few MiB, in 2 MiB pages
 * where the kernel gives them on request (transparent_hugepage=madvise, Debian's default).
 * Each random read of a table in 4 KiB pages also misses the TLB, which covers a few MiB. */
enum { HUGE_PAGE = 2 << 20 };

static void *table_alloc(size_t bytes, bool zero)
{
	void *p;
	if (bytes < 2 * HUGE_PAGE)
		return xcalloc(1, bytes);
	if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
		anon_die(EX_SOFTWARE, "out of memory");
	madvise(p, bytes, MADV_HUGEPAGE); /* advice: without it, small pages */
	if (zero)
		memset(p, 0, bytes);
	return p;
}

/* Room for cap entries (the table grows up to max as entries come). */
static void fpcache_size(struct fpcache *c, size_t cap)
{
	struct fpentry *e = table_alloc(cap * sizeof *e, false);
	if (c->n)
		memcpy(e, c->e, c->n * sizeof *e);
	free(c->e);
	c->e = e;
	c->cap = cap;
	free(c->slots);
	c->mask = pow2_at_least(cap + cap / 3 + 1) - 1; /* load at most 3/4 */
	c->slots = table_alloc((c->mask + 1) * sizeof *c->slots, true);
	fpcache_index(c);
}

void fpcache_index(struct fpcache *c)
{
	/* a slot is a cache miss: ask for the one of a few entries ahead */
	enum { AHEAD = 16 };
	for (size_t k = 0; k < c->n; k++) {
		if (k + AHEAD < c->n)
			__builtin_prefetch(&c->slots[fp_slot(c->e[k + AHEAD].fp) & c->mask], 1);
		size_t i;
		for (i = fp_slot(c->e[k].fp) & c->mask; c->slots[i]; i = (i + 1) & c->mask)
			;
		c->slots[i] = fp_tag(c->e[k].fp) | (k + 1);
	}
}

bool fpcache_append(struct fpcache *c, const unsigned char *fp, const unsigned char *tok,
		    size_t len, int64_t expires)
{
	if (c->n == c->cap || len > UINT32_MAX || c->arena.len + len > c->arena_max)
		return false;
	struct fpentry *e = &c->e[c->n++];
	memcpy(e->fp, fp, FP_LEN);
	e->off = (uint32_t)c->arena.len;
	e->len = (uint32_t)len;
	e->expires = expires;
	anon_buf_add(&c->arena, tok, len);
	return true;
}

void fpcache_init(struct fpcache *c, size_t max, size_t expect)
{
	memset(c, 0, sizeof *c);
	c->max = max ? max : 1;
	c->arena_max = c->max * 64;
	size_t cap = expect < 1024 ? 1024 : expect;
	fpcache_size(c, cap < c->max ? cap : c->max);
}

void fpcache_free(struct fpcache *c)
{
	free(c->slots);
	free(c->e);
	anon_buf_free(&c->arena);
	memset(c, 0, sizeof *c);
}

void fpcache_clear(struct fpcache *c)
{
	memset(c->slots, 0, (c->mask + 1) * sizeof *c->slots);
	c->n = 0;
	c->arena.len = 0;
	c->resets++;
}

/* The slot of fp: its entry's, or the empty one where it would go. */
static size_t fp_find(const struct fpcache *c, const unsigned char *fp)
{
	uint64_t tag = fp_tag(fp);
	size_t i;
	for (i = fp_slot(fp) & c->mask; c->slots[i]; i = (i + 1) & c->mask)
		if ((c->slots[i] & 0xffffffff00000000u) == tag &&
		    memcmp(c->e[(c->slots[i] & 0xffffffffu) - 1].fp, fp, FP_LEN) == 0)
			break;
	return i;
}

void fpcache_prefetch(const struct fpcache *c, const unsigned char *fp)
{
	__builtin_prefetch(&c->slots[fp_slot(fp) & c->mask]);
}

const struct fpentry *fpcache_probe(const struct fpcache *c, const unsigned char *fp)
{
	if (!c->slots)
		return NULL;
	uint64_t tag = fp_tag(fp);
	for (size_t i = fp_slot(fp) & c->mask; c->slots[i]; i = (i + 1) & c->mask)
		if ((c->slots[i] & 0xffffffff00000000u) == tag) {
			const struct fpentry *e = &c->e[(c->slots[i] & 0xffffffffu) - 1];
			__builtin_prefetch(e);
			return e;
		}
	return NULL;
}

const struct fpentry *fpcache_confirm(const struct fpcache *c, const unsigned char *fp,
				      const struct fpentry *guess)
{
	if (!guess)
		return NULL;
	if (memcmp(guess->fp, fp, FP_LEN) != 0)
		return fpcache_get(c, fp); /* two fingerprints share 32 bits: 1 in 4 billion */
	__builtin_prefetch(c->arena.p + guess->off);
	return guess;
}

const struct fpentry *fpcache_get(const struct fpcache *c, const unsigned char *fp)
{
	if (!c->slots)
		return NULL;
	uint64_t s = c->slots[fp_find(c, fp)];
	return s ? &c->e[(s & 0xffffffffu) - 1] : NULL;
}

bool fpcache_put(struct fpcache *c, const unsigned char *fp, const unsigned char *tok,
		 size_t len, int64_t expires)
{
	if (len > c->arena_max || len > UINT32_MAX)
		return false;
	if (c->n == c->max || c->arena.len + len > c->arena_max)
		fpcache_clear(c); /* bounded: start again rather than track ages */
	else if (c->n == c->cap)
		fpcache_size(c, c->cap * 2 < c->max ? c->cap * 2 : c->max);
	size_t i = fp_find(c, fp);
	struct fpentry *e;
	if (c->slots[i]) {
		/* a newer row for this value (its old one expired): take the new token */
		e = &c->e[(c->slots[i] & 0xffffffffu) - 1];
	} else {
		e = &c->e[c->n];
		memcpy(e->fp, fp, FP_LEN);
		c->slots[i] = fp_tag(fp) | ++c->n;
	}
	e->off = (uint32_t)c->arena.len;
	e->len = (uint32_t)len;
	e->expires = expires;
	anon_buf_add(&c->arena, tok, len);
	return true;
}

/* ---- vmap ----------------------------------------------------------------------------------- */

/* A fast 64-bit hash for the chunk map (not a MAC: its keys never leave the process). */
uint64_t tok_hash(const unsigned char *p, size_t n, uint64_t seed)
{
	const uint64_t m = 0x9e3779b97f4a7c15ull;
	uint64_t h = seed ^ (n * m);
	while (n >= 8) {
		uint64_t k;
		memcpy(&k, p, 8);
		k *= m;
		k ^= k >> 29;
		h = (h ^ k) * 0xbf58476d1ce4e5b9ull;
		p += 8;
		n -= 8;
	}
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k |= (uint64_t)p[i] << (8 * i);
	h = (h ^ (k * m)) * 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

void vmap_reset(struct vmap *m)
{
	if (m->slots && m->n)
		memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
	m->n = 0;
	m->arena.len = 0;
}

void vmap_free(struct vmap *m)
{
	free(m->slots);
	free(m->e);
	/* the arena held values in clear */
	if (m->arena.p)
		OPENSSL_cleanse(m->arena.p, m->arena.cap);
	anon_buf_free(&m->arena);
	memset(m, 0, sizeof *m);
}

static void vmap_grow(struct vmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct ventry *e = realloc(m->e, cap * sizeof *e);
	if (!e)
		anon_die(EX_SOFTWARE, "out of memory");
	m->e = e;
	m->cap = cap;
	free(m->slots);
	m->mask = pow2_at_least(cap * 2) - 1;
	m->slots = xcalloc(m->mask + 1, sizeof *m->slots);
	for (size_t k = 0; k < m->n; k++) {
		size_t i = (size_t)m->e[k].h & m->mask;
		while (m->slots[i])
			i = (i + 1) & m->mask;
		m->slots[i] = (uint32_t)(k + 1);
	}
}

uint32_t vmap_store(struct vmap *m, const void *p, size_t n)
{
	if (m->arena.len + n > UINT32_MAX)
		anon_die(EX_SOFTWARE, "a chunk of values is too large");
	uint32_t off = (uint32_t)m->arena.len;
	anon_buf_add(&m->arena, p, n);
	return off;
}

static size_t vmap_slot(const struct vmap *m, uint64_t h, uint32_t cls, const unsigned char *k,
			size_t n)
{
	for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
		uint32_t s = m->slots[i];
		if (!s)
			return i;
		const struct ventry *e = &m->e[s - 1];
		if (e->h == h && e->cls == cls && e->klen == n &&
		    memcmp(m->arena.p + e->koff, k, n) == 0)
			return i;
	}
}

const struct ventry *vmap_find(const struct vmap *m, uint32_t cls, const unsigned char *k,
			       size_t n)
{
	if (!m->slots)
		return NULL;
	uint32_t s = m->slots[vmap_slot(m, tok_hash(k, n, cls), cls, k, n)];
	return s ? &m->e[s - 1] : NULL;
}

struct ventry *vmap_get(struct vmap *m, uint32_t cls, const unsigned char *k, size_t n,
			bool *added)
{
	if (m->n == m->cap)
		vmap_grow(m);
	uint64_t h = tok_hash(k, n, cls);
	size_t i = vmap_slot(m, h, cls, k, n);
	*added = !m->slots[i];
	if (!*added)
		return &m->e[m->slots[i] - 1];
	struct ventry *e = &m->e[m->n];
	memset(e, 0, sizeof *e);
	e->h = h;
	e->cls = cls;
	e->klen = (uint32_t)n;
	e->koff = vmap_store(m, k, n);
	m->slots[i] = (uint32_t)++m->n;
	return e;
}
