/* token.h: what the files of anon-token share: rules, token shapes, the caches and the
 * vault back ends (SQLite, PostgreSQL). */
#ifndef TOKEN_H
#define TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "anon.h"

/* ---- rules (rule.c) ------------------------------------------------------------------------ */
enum tok_mode { MODE_KEYED, MODE_SIV, MODE_VAULT };
enum tok_format { FMT_BASE32, FMT_DIGITS, FMT_ALNUM, FMT_BASE64URL };

#define TOK_MAX_LENGTH 256   /* --length */
#define TOK_MAX_PREFIX 64

/* A column's rule, or the defaults the options set for every column. */
struct tok_rule {
	enum tok_mode mode;
	enum tok_format format;  /* base64url only for siv, which has no other */
	size_t length;           /* token body length; 0: the format's default (keyed, vault) */
	bool keep_length;        /* vault: the body is as long as the value */
	bool format_set, length_set, prefix_set;
	char prefix[TOK_MAX_PREFIX + 1];
	char *context;           /* owned; "" when none */

	/* filled in start(), read-only after */
	size_t cls;              /* vault: values of one class share tokens (same shape, context) */
	unsigned char *fpin;     /* vault: what the fingerprint MAC reads before the value */
	size_t fpinlen;
	EVP_CIPHER_CTX *siv_enc, *siv_dec; /* siv: keyed, associated data absorbed */
};

const char *tok_mode_name(enum tok_mode m);
const char *tok_format_name(enum tok_format f);
/* The default body length of a format: at least 128 bits. */
size_t tok_default_length(enum tok_format f);
/* Bits of a body of len symbols of the format. */
double tok_bits(enum tok_format f, size_t len);
/* Parse RULE (NULL: the defaults) over the defaults d into *r (a fresh copy of d).
 * Returns false with a message in err. */
bool tok_rule_parse(const char *text, const struct tok_rule *d, struct tok_rule *r, char *err,
		    size_t errlen);
/* Whether a combination is valid once everything is known; false with a message. */
bool tok_rule_check(const struct tok_rule *r, bool detokenize, char *err, size_t errlen);
/* After the checks: the shape's defaults (siv's base64url, a keep-length token's empty
 * prefix, the format's default length). */
void tok_rule_finish(struct tok_rule *r);
void tok_rule_clear(struct tok_rule *r);
/* Parse a --ttl: N followed by s, m, h, d or w (seconds when no unit). */
bool tok_parse_ttl(const char *s, int64_t *seconds);

/* ---- token text (codec.c) ------------------------------------------------------------------ */
/* A source of bytes: the MAC stream of a keyed token, or random bytes for a vault token. */
struct tok_bytes {
	const unsigned char *p;
	size_t n, pos;
	void (*refill)(struct tok_bytes *b); /* makes p[0..n) new bytes and pos 0 */
	void *arg;
};
/* Append len symbols of the format drawn from src, without bias (rejection sampling for
 * digits and alnum; base32 takes 5 bits a symbol). With no_lead_zero, a digits body never
 * starts with 0 (an integer column would drop it). */
void tok_body(enum tok_format f, size_t len, bool no_lead_zero, struct tok_bytes *src,
	      struct anon_buf *out);
/* base64url without padding (RFC 4648 section 5). */
void tok_b64url_encode(const unsigned char *p, size_t n, struct anon_buf *out);
/* Strict: only the alphabet, no padding, no length of 1 mod 4, unused bits zero. Returns the
 * decoded length, or (size_t)-1. out has room for n * 3 / 4 bytes. */
size_t tok_b64url_decode(const unsigned char *s, size_t n, unsigned char *out);
/* Characters of a value: UTF-8 code points when it is valid UTF-8, else bytes. */
size_t tok_value_chars(const unsigned char *p, size_t n);

/* ---- crypto (crypto.c) -------------------------------------------------------------------- */
#define TOK_TAG_LEN 16

/* HMAC-SHA256 keyed once; tok_hmac computes HMAC(pre || p) on a copy's context. */
EVP_MAC_CTX *tok_hmac_template(const unsigned char *key, size_t keylen);
EVP_MAC_CTX *tok_hmac_dup(const EVP_MAC_CTX *tmpl);
bool tok_hmac(EVP_MAC_CTX *ctx, const void *pre, size_t prelen, const void *p, size_t n,
	      unsigned char out[32]);
/* An AES-SIV context ("AES-256-SIV": a 64-byte key) keyed for encryption or decryption,
 * with one associated-data string absorbed (none when adlen is 0). Templates come from
 * these two functions only: each has an id that says which work context holds its state.
 * tok_siv_template first checks that reusing a context gives what a fresh copy gives. */
EVP_CIPHER_CTX *tok_siv_template(const char *cipher, const unsigned char *key, bool enc,
				 const void *ad, size_t adlen);
EVP_CIPHER_CTX *tok_siv_dup(const EVP_CIPHER_CTX *tmpl);
/* seal: out = tag || ciphertext (RFC 5297's V || C), n + 16 bytes; one more associated-data
 * string when adlen > 0. open: in = tag || ciphertext; false when it does not
 * authenticate. work is a context of the caller's that each call overwrites; a value of
 * 16 bytes or more without associated data of its own reuses what the last call left in
 * work (OpenSSL's speed mode) when that was the same template's, else work starts from a
 * copy of tmpl. One work context per thread; a worker that alternates templates on it
 * copies every time. */
bool tok_siv_seal(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		  size_t adlen, const unsigned char *in, size_t n, unsigned char *out);
bool tok_siv_open(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		  size_t adlen, const unsigned char *in, size_t n, unsigned char *out);
/* The reference path: every value from a fresh copy of tmpl (same bytes, slower). */
bool tok_siv_seal_copy(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		       size_t adlen, const unsigned char *in, size_t n, unsigned char *out);
bool tok_siv_open_copy(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		       size_t adlen, const unsigned char *in, size_t n, unsigned char *out);
/* Whether tmpl's values may reuse a work context (its cipher passed the self-check). */
bool tok_siv_reuses(const EVP_CIPHER_CTX *tmpl);

/* The bytes of a keyed token: HMAC(context || 0 || value), then HMAC(that || counter), the
 * counter a 32-bit big-endian number from 1, as long as the body needs more. */
struct tok_keyed_stream {
	struct tok_bytes b;
	EVP_MAC_CTX *mac;
	unsigned char first[32], block[32];
	uint32_t counter;
};
void tok_keyed_start(struct tok_keyed_stream *k, EVP_MAC_CTX *mac, const char *context,
		     const unsigned char *value, size_t n);

/* ---- caches (cache.c) ---------------------------------------------------------------------- */
#define FP_LEN 16

/* fingerprint -> token, bounded: at most max entries and max * 64 bytes of tokens (it grows
 * to that as entries come); when full it starts again empty. */
struct fpentry {
	unsigned char fp[FP_LEN];
	int64_t expires;         /* 0: never */
	uint32_t off, len;       /* the token in the arena */
};
struct fpcache {
	uint64_t *slots;         /* fingerprint bytes 8-11 << 32 | entry index + 1; 0 empty */
	size_t mask;
	struct fpentry *e;
	size_t n, cap, max;
	struct anon_buf arena;
	size_t arena_max;
	uint64_t resets;
};
/* expect: the entries to make room for at once (the table grows from there) */
void fpcache_init(struct fpcache *c, size_t max, size_t expect);
void fpcache_free(struct fpcache *c);
void fpcache_clear(struct fpcache *c);
const struct fpentry *fpcache_get(const struct fpcache *c, const unsigned char *fp);
/* Loading many entries known to be distinct (a vault's, whose fingerprints are UNIQUE):
 * append them without looking (false when full), then index them all at once. */
bool fpcache_append(struct fpcache *c, const unsigned char *fp, const unsigned char *tok,
		    size_t len, int64_t expires);
void fpcache_index(struct fpcache *c);
/* Ask the CPU for the memory fpcache_get(c, fp) will read first (a cache that holds a
 * million tokens is far bigger than the CPU's caches). */
void fpcache_prefetch(const struct fpcache *c, const unsigned char *fp);
/* fpcache_get in two steps, for many fingerprints in turn: a lookup reads a slot, then an
 * entry, then its token, each a cache miss in a large cache. probe reads the (prefetched)
 * slot and asks for the entry its tag names, a guess; confirm reads the entry, and asks for
 * the token. Between them, the other lookups' memory comes in. */
const struct fpentry *fpcache_probe(const struct fpcache *c, const unsigned char *fp);
const struct fpentry *fpcache_confirm(const struct fpcache *c, const unsigned char *fp,
				      const struct fpentry *guess);
static inline const unsigned char *fpcache_token(const struct fpcache *c,
						 const struct fpentry *e)
{
	return c->arena.p + e->off;
}
/* false when the entry does not fit at all (a token larger than the arena) */
bool fpcache_put(struct fpcache *c, const unsigned char *fp, const unsigned char *tok,
		 size_t len, int64_t expires);

/* One chunk's values: (class, key bytes) -> result bytes, in an arena that the chunk owns. */
enum vstate { V_PENDING, V_DONE, V_ERR };
struct ventry {
	uint64_t h;
	uint32_t cls;
	uint32_t koff, klen;     /* the value (tokenize) or the token (detokenize) */
	uint32_t roff, rlen;     /* the token (tokenize) or the value (detokenize) */
	const struct tok_rule *rule;
	unsigned char fp[FP_LEN];
	int64_t expires;         /* tokenize: of the row found; 0 none */
	unsigned char state;     /* enum vstate */
	bool expired;            /* a row was found, but has expired */
	bool created;            /* this run made it (commit() caches it) */
	bool hit;                /* set by a back end: found, or inserted */
	bool lead_zero;          /* a new digits token may begin with 0 (the value does) */
	const char *err;         /* V_ERR: why, never the value */
	/* a new token and its sealed value, made before the write transaction */
	uint32_t toff, tlen, coff, clen;
};
struct vmap {
	uint32_t *slots;
	size_t mask;
	struct ventry *e;
	size_t n, cap;
	struct anon_buf arena;
};
uint64_t tok_hash(const unsigned char *p, size_t n, uint64_t seed);
void vmap_reset(struct vmap *m);
void vmap_free(struct vmap *m);
/* The entry of (cls, key), added PENDING when absent (*added set). */
struct ventry *vmap_get(struct vmap *m, uint32_t cls, const unsigned char *k, size_t n,
			bool *added);
const struct ventry *vmap_find(const struct vmap *m, uint32_t cls, const unsigned char *k,
			       size_t n);
static inline const unsigned char *vmap_bytes(const struct vmap *m, uint32_t off)
{
	return m->arena.p + off;
}
/* Append bytes to the arena; returns their offset. */
uint32_t vmap_store(struct vmap *m, const void *p, size_t n);

/* ---- vault back ends (vault.c, vault-sqlite.c, vault-pg.c) --------------------------------- */
#define NS_LEN 8

struct vault;
/* What a back end does; every call returns 0, or an exit code after anon_error(). */
struct vault_ops {
	const char *name;
	void (*close)(struct vault *v);
	/* fingerprint lookups of items[0..n): a row found sets hit, the token (roff/rlen, in
	 * the map's arena) and expires */
	int (*find_fp)(struct vault *v, struct vmap *m, struct ventry **items, size_t n);
	/* token lookups (detokenize; the key is the token): hit, the sealed value (coff/clen)
	 * and expires */
	int (*find_token)(struct vault *v, struct vmap *m, struct ventry **items, size_t n);
	int (*begin_write)(struct vault *v);
	/* insert each item's new token (toff/tlen) and sealed value (coff/clen); hit tells
	 * which went in (the others met an existing fingerprint or token). A deadlock or
	 * serialization failure returns VAULT_RETRY: roll back and run the step again. */
	int (*insert)(struct vault *v, struct vmap *m, struct ventry **items, size_t n,
		      int64_t created, int64_t expires);
	/* delete the expired rows of these fingerprints */
	int (*delete_expired)(struct vault *v, struct ventry **items, size_t n, int64_t now);
	int (*commit)(struct vault *v);
	int (*rollback)(struct vault *v);
	/* up to limit rows of the namespace, oldest first; false from the callback stops */
	int (*scan)(struct vault *v, size_t limit, bool *complete,
		    bool (*each)(void *arg, const unsigned char *fp, const unsigned char *tok,
				 size_t toklen, int64_t expires),
		    void *arg);
	/* rows ever made in the vault (an upper bound of any namespace's count), cheaply */
	int (*size_hint)(struct vault *v, uint64_t *n);
	int (*stats)(struct vault *v, int64_t now, json_t *out);
	int (*purge)(struct vault *v, int64_t now, uint64_t *removed);
};
#define VAULT_RETRY (-1)
struct vault {
	const struct vault_ops *ops;
	unsigned char ns[NS_LEN];
	bool in_write;           /* a write transaction is open */
};

enum vault_sync { SYNC_FULL, SYNC_NORMAL };
/* Open a vault: "sqlite:PATH", a plain PATH, "postgres:CONNINFO", "postgresql:CONNINFO" or a
 * "postgres://" or "postgresql://" URI. Without create, a vault that does not exist is an
 * error. Returns NULL after anon_error(); *code is the exit status. */
struct vault *vault_open(const char *spec, const unsigned char ns[NS_LEN], enum vault_sync sync,
			 bool create, int *code);
const char *vault_kind(const char *spec); /* "sqlite" or "postgres" */

/* --vault-stats: each namespace's counts (ns in upper-case hex), then the totals into out. */
struct vault_totals {
	int64_t tokens, ttl, expired, oldest, newest;
	json_t *by;
};
void vault_totals_add(struct vault_totals *s, const char *ns, int64_t tokens, int64_t ttl,
		      int64_t expired, int64_t oldest, int64_t newest);
void vault_totals_put(struct vault_totals *s, json_t *out);

struct vault *vault_sqlite_open(const char *path, enum vault_sync sync, bool create,
				int *code);
struct vault *vault_pg_open(const char *conninfo, bool create, int *code);

#define VAULT_TABLE "anon_token_vault"

#endif
