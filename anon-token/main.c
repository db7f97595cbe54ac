/* anon-token: tokens that keep joins working. keyed: irreversible deterministic tokens (an
 * HMAC in base32, digits or alnum); siv: reversible deterministic tokens without state
 * (AES-SIV, RFC 5297); vault: random tokens kept in a vault (SQLite or PostgreSQL) that
 * holds no value in clear, written to the output only once the vault has committed them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "token.h"

#define MAX_TRIES 64          /* random tokens drawn for one value before giving up */
#define CACHE_DEFAULT 1048576 /* --cache */
#define CACHE_MIN 4096
#define VAULT_CHUNK_ROWS 262144 /* rows a chunk while many values are new: see chunk() */
#define VAULT_CHUNK_BYTES (32 << 20)

struct tool {
	struct tok_rule defaults;
	bool detokenize, stats, purge;
	const char *vault_spec;
	int64_t ttl;
	size_t cache_max;
	enum vault_sync sync;

	/* start(): read-only after */
	const struct anon_run *run;
	struct anon_column *cols;
	size_t ncols;
	unsigned jobs;
	bool any_keyed, any_siv, any_vault;
	EVP_MAC_CTX *keyed_mac, *fp_mac; /* keyed templates, never used on a value */
	EVP_CIPHER_CTX *seal, *unseal;   /* vault: AES-SIV of the values, keyed */
	unsigned char ns[NS_LEN];
	struct fpcache snapshot;         /* the vault's tokens, when they fit the cache */
	bool have_snapshot;
	struct vault *first;             /* opened by check(), used by start(), then closed */

	/* folded by worker_free */
	uint64_t created, found, cached, collisions, exhausted, retries, resets;
};

/* A worker's own copies of everything that changes per value, and its vault connection. */
struct worker {
	struct tool *t;
	EVP_MAC_CTX *keyed_mac, *fp_mac;
	EVP_CIPHER_CTX **siv_enc, **siv_dec; /* per column (NULL when not siv) */
	EVP_CIPHER_CTX **siv_work; /* per siv column: reused from value to value (crypto.c) */
	EVP_CIPHER_CTX *seal, *unseal, *work;
	struct vault *vault;
	struct fpcache cache;                /* committed tokens seen by this worker */
	struct vmap map;                     /* this chunk's values */
	struct anon_buf scratch, sealed, field;
	uint32_t *pending;
	const struct fpentry **guess;        /* from_memory: each pending value's snapshot entry */
	size_t npending, cappending;
	struct ventry **items;
	size_t capitems;
	size_t made;             /* values of this chunk given new tokens (resolve) */
	struct tokref *tokref;   /* new_tokens: the batch's tokens, sorted */
	size_t ntokref;
	bool read_first;                     /* look values up before taking the write lock */
	bool chunk_failed;
	struct tok_bytes random;
	unsigned char pool[4096];
	uint64_t created, found, cached, collisions, exhausted, retries;
};

enum {
	OPT_MODE = 256, OPT_PREFIX, OPT_LENGTH, OPT_FORMAT, OPT_KEEP_LENGTH, OPT_CONTEXT,
	OPT_VAULT, OPT_TTL, OPT_CACHE, OPT_VAULT_SYNC, OPT_STATS, OPT_PURGE,
};

static const struct option longopts[] = {
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "token-format", required_argument, NULL, OPT_FORMAT },
	{ "keep-length", no_argument, NULL, OPT_KEEP_LENGTH },
	{ "context", required_argument, NULL, OPT_CONTEXT },
	{ "detokenize", no_argument, NULL, 'D' },
	{ "vault", required_argument, NULL, OPT_VAULT },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "vault-sync", required_argument, NULL, OPT_VAULT_SYNC },
	{ "vault-stats", no_argument, NULL, OPT_STATS },
	{ "purge-expired", no_argument, NULL, OPT_PURGE },
	{ NULL, 0, NULL, 0 },
};

/* ---- options and rules ---------------------------------------------------------------------- */

static int option(struct anon_run *run, int opt, const char *arg)
{
	struct tool *t = anon_tool_state(run);
	int64_t n;
	switch (opt) {
	case OPT_MODE:
		if (strcmp(arg, "keyed") == 0)
			t->defaults.mode = MODE_KEYED;
		else if (strcmp(arg, "siv") == 0)
			t->defaults.mode = MODE_SIV;
		else if (strcmp(arg, "vault") == 0)
			t->defaults.mode = MODE_VAULT;
		else {
			anon_error("--mode takes keyed, siv or vault");
			return EX_USAGE;
		}
		return 0;
	case OPT_PREFIX:
		if (strlen(arg) > TOK_MAX_PREFIX || strchr(arg, ',')) {
			anon_error("--prefix takes at most %d bytes, without a comma", TOK_MAX_PREFIX);
			return EX_USAGE;
		}
		strcpy(t->defaults.prefix, arg);
		t->defaults.prefix_set = true;
		return 0;
	case OPT_LENGTH:
		if (!anon_parse_int64(arg, &n) || n < 1 || n > TOK_MAX_LENGTH) {
			anon_error("--length takes a number of characters from 1 to %d",
				   TOK_MAX_LENGTH);
			return EX_USAGE;
		}
		t->defaults.length = (size_t)n;
		t->defaults.length_set = true;
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "base32") == 0)
			t->defaults.format = FMT_BASE32;
		else if (strcmp(arg, "digits") == 0)
			t->defaults.format = FMT_DIGITS;
		else if (strcmp(arg, "alnum") == 0)
			t->defaults.format = FMT_ALNUM;
		else {
			anon_error("--token-format takes base32, digits or alnum");
			return EX_USAGE;
		}
		t->defaults.format_set = true;
		return 0;
	case OPT_KEEP_LENGTH:
		t->defaults.keep_length = true;
		return 0;
	case OPT_CONTEXT:
		if (strchr(arg, ',') || strlen(arg) > 200) {
			anon_error("--context takes a name of at most 200 bytes, without a comma");
			return EX_USAGE;
		}
		free(t->defaults.context);
		t->defaults.context = strdup(arg);
		if (!t->defaults.context)
			anon_die(EX_SOFTWARE, "out of memory");
		return 0;
	case 'D':
		t->detokenize = true;
		return 0;
	case OPT_VAULT:
		t->vault_spec = arg;
		return 0;
	case OPT_TTL:
		if (!tok_parse_ttl(arg, &t->ttl)) {
			anon_error("--ttl takes a duration such as 3600s, 90m, 12h, 30d or 2w");
			return EX_USAGE;
		}
		return 0;
	case OPT_CACHE:
		if (!anon_parse_int64(arg, &n) || n < CACHE_MIN || n > 100000000) {
			anon_error("--cache takes a number of tokens from %d to 100000000", CACHE_MIN);
			return EX_USAGE;
		}
		t->cache_max = (size_t)n;
		return 0;
	case OPT_VAULT_SYNC:
		if (strcmp(arg, "full") == 0)
			t->sync = SYNC_FULL;
		else if (strcmp(arg, "normal") == 0)
			t->sync = SYNC_NORMAL;
		else {
			anon_error("--vault-sync takes full or normal");
			return EX_USAGE;
		}
		return 0;
	case OPT_STATS:
		t->stats = true;
		return 0;
	case OPT_PURGE:
		t->purge = true;
		return 0;
	}
	return EX_USAGE;
}

static json_t *rule_params(const struct tok_rule *r)
{
	json_t *p = json_pack("{s:s}", "mode", tok_mode_name(r->mode));
	json_object_set_new(p, "format", json_string(tok_format_name(r->format)));
	if (r->mode != MODE_SIV)
		json_object_set_new(p, "length", r->keep_length ? json_string("keep") :
						 json_integer((json_int_t)r->length));
	json_object_set_new(p, "prefix", json_string(r->prefix));
	json_object_set_new(p, "context", r->context[0] ? json_string(r->context) : json_null());
	return p;
}

static int rule(struct anon_run *run, struct anon_column *col)
{
	struct tool *t = anon_tool_state(run);
	struct tok_rule *r = calloc(1, sizeof *r);
	char err[200];
	if (!r)
		anon_die(EX_SOFTWARE, "out of memory");
	if (!tok_rule_parse(col->rule, &t->defaults, r, err, sizeof err) ||
	    !tok_rule_check(r, t->detokenize, err, sizeof err)) {
		anon_error("column '%s': %s", col->spec, err);
		tok_rule_clear(r);
		free(r);
		return EX_USAGE;
	}
	tok_rule_finish(r);
	double bits = tok_bits(r->format, r->length);
	if (r->mode == MODE_KEYED && bits < 64 && !anon_run_quiet(run))
		anon_warn("column '%s': %zu %s characters hold %.0f bits: two of 2^%.0f distinct "
			  "values share a token with probability about 1/2 (see anon-token(1))",
			  col->spec, r->length, tok_format_name(r->format), bits, bits / 2);
	col->state = r;
	col->params = rule_params(r);
	return 0;
}

static void rule_free(struct anon_column *col)
{
	tok_rule_clear(col->state);
	free(col->state);
}

/* ---- --vault-stats and --purge-expired: the vault alone, no input ------------------------ */

static void iso_time(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return;
	time_t s = (time_t)json_integer_value(v);
	struct tm tm;
	char buf[32];
	gmtime_r(&s, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(o, key, json_string(buf));
}

static int admin(struct tool *t)
{
	int code = 0;
	unsigned char ns[NS_LEN] = { 0 };
	struct vault *v = vault_open(t->vault_spec, ns, t->sync, false, &code);
	if (!v)
		return code;
	json_t *o = json_pack("{s:s}", "vault", v->ops->name);
	int64_t now = (int64_t)time(NULL);
	if (t->purge) {
		uint64_t removed = 0;
		if ((code = v->ops->purge(v, now, &removed)))
			goto out;
		json_object_set_new(o, "purged", json_integer((json_int_t)removed));
	}
	if (t->stats) {
		if ((code = v->ops->stats(v, now, o)))
			goto out;
		iso_time(o, "oldest");
		iso_time(o, "newest");
	}
	char *s = json_dumps(o, JSON_COMPACT);
	if (!s)
		anon_die(EX_SOFTWARE, "out of memory");
	printf("%s\n", s);
	free(s);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		anon_error("stdout: write error");
		code = EX_IOERR;
	}
out:
	json_decref(o);
	v->ops->close(v);
	return code;
}

static int check(struct anon_run *run)
{
	struct tool *t = anon_tool_state(run);
	size_t ncols;
	struct anon_column *cols = anon_run_columns(run, &ncols);
	if (!t->vault_spec) {
		const char *env = getenv("ANON_TOKEN_VAULT");
		t->vault_spec = env && *env ? env : NULL;
	}
	if (t->stats || t->purge) {
		if (ncols || t->detokenize) {
			anon_error("--vault-stats and --purge-expired read no input: no -c or -D");
			return EX_USAGE;
		}
		if (!t->vault_spec) {
			anon_error("--vault-stats and --purge-expired need --vault (or ANON_TOKEN_VAULT)");
			return EX_USAGE;
		}
		/* they read no input and write no rows: done here, before lib opens anything */
		exit(admin(t));
	}
	/* each column's rule was checked; the options alone, when no column has one */
	char err[200];
	if (ncols == 0 && !tok_rule_check(&t->defaults, t->detokenize, err, sizeof err)) {
		anon_error("%s", err);
		return EX_USAGE;
	}
	bool vault = false;
	for (size_t i = 0; i < ncols; i++)
		vault |= ((struct tok_rule *)cols[i].state)->mode == MODE_VAULT;
	if (vault && !t->vault_spec) {
		anon_error("vault tokens need --vault sqlite:FILE or postgres:CONNINFO (or "
			   "ANON_TOKEN_VAULT)");
		return EX_USAGE;
	}
	if (t->ttl && (!vault || t->detokenize)) {
		anon_error("--ttl sets when new vault tokens expire: it needs a vault column, and "
			   "no -D");
		return EX_USAGE;
	}
	if (t->vault_spec && !*t->vault_spec) {
		anon_error("--vault needs sqlite:FILE or postgres:CONNINFO");
		return EX_USAGE;
	}
	/* A vault that cannot be opened is a configuration error: said now, before lib opens
	 * the output (a failure later ends it with the rollback line). Its namespace comes
	 * with the key, in start(). */
	if (vault) {
		int code = 0;
		unsigned char none[NS_LEN] = { 0 };
		t->first = vault_open(t->vault_spec, none, t->sync, !t->detokenize, &code);
		if (!t->first)
			return code;
	}
	return 0;
}

/* ---- start: keys and templates ---------------------------------------------------------- */

static EVP_MAC_CTX *hmac_template(const char *purpose)
{
	unsigned char key[32];
	anon_key_derive(purpose, key, sizeof key);
	EVP_MAC_CTX *ctx = tok_hmac_template(key, sizeof key);
	OPENSSL_cleanse(key, sizeof key);
	return ctx;
}

static EVP_CIPHER_CTX *siv_template(const unsigned char key[64], bool enc, const char *ad)
{
	return tok_siv_template("AES-256-SIV", key, enc, ad, ad ? strlen(ad) : 0);
}

/* What the fingerprint MAC reads before the value: the token's shape and the context, so
 * one value has one token per shape, and columns with the same shape share it. */
static void vault_class(struct tok_rule *r, struct anon_buf *b)
{
	char len[24];
	b->len = 0;
	anon_buf_addstr(b, "v1");
	anon_buf_addc(b, 0);
	anon_buf_addstr(b, tok_format_name(r->format));
	anon_buf_addc(b, 0);
	if (r->keep_length)
		snprintf(len, sizeof len, "keep");
	else
		snprintf(len, sizeof len, "%zu", r->length);
	anon_buf_addstr(b, len);
	anon_buf_addc(b, 0);
	anon_buf_addstr(b, r->prefix);
	anon_buf_addc(b, 0);
	anon_buf_addstr(b, r->context);
	anon_buf_addc(b, 0);
}

struct snapshot_scan {
	struct fpcache *c;
	int64_t now;
};

static bool snapshot_add(void *arg, const unsigned char *fp, const unsigned char *tok,
			 size_t toklen, int64_t expires)
{
	struct snapshot_scan *s = arg;
	if (expires && expires <= s->now)
		return true; /* each use checks again: one that expires later is left then */
	return fpcache_append(s->c, fp, tok, toklen, expires);
}

/* A vault whose namespace fits the cache is read in one sequential scan: lookups of values
 * it holds then cost no query. Tokens are never changed once committed (an expired one is
 * replaced only after its expiry, and expiries are checked on every use). */
static void take_snapshot(struct tool *t, struct vault *v)
{
	uint64_t hint = 0;
	bool complete = false;
	if (!v->ops->scan || v->ops->size_hint(v, &hint) || hint == 0 || hint > t->cache_max)
		return;
	fpcache_init(&t->snapshot, (size_t)hint, (size_t)hint);
	struct snapshot_scan s = { &t->snapshot, (int64_t)time(NULL) };
	if (v->ops->scan(v, (size_t)hint, &complete, snapshot_add, &s) || !complete) {
		fpcache_free(&t->snapshot);
		return;
	}
	fpcache_index(&t->snapshot);
	t->have_snapshot = true;
}

static int start(struct anon_run *run)
{
	struct tool *t = anon_tool_state(run);
	t->run = run;
	t->cols = anon_run_columns(run, &t->ncols);
	t->jobs = anon_run_jobs(run);
	if (t->ncols == 0)
		return 0; /* nothing selected: a passthrough needs no key */
	for (size_t i = 0; i < t->ncols; i++) {
		const struct tok_rule *r = t->cols[i].state;
		t->any_keyed |= r->mode == MODE_KEYED;
		t->any_siv |= r->mode == MODE_SIV;
		t->any_vault |= r->mode == MODE_VAULT;
	}
	if (t->any_keyed)
		t->keyed_mac = hmac_template("keyed");
	unsigned char key[64];
	if (t->any_siv) {
		anon_key_derive("siv", key, sizeof key);
		for (size_t i = 0; i < t->ncols; i++) {
			struct tok_rule *r = t->cols[i].state;
			if (r->mode != MODE_SIV)
				continue;
			if (t->detokenize)
				r->siv_dec = siv_template(key, false, r->context);
			else
				r->siv_enc = siv_template(key, true, r->context);
		}
		OPENSSL_cleanse(key, sizeof key);
	}
	if (!t->any_vault)
		return 0;
	/* chunk() asks for chunks of up to 256k rows (32 MiB) when they serve: see there */
	anon_run_set_chunk(run, VAULT_CHUNK_ROWS, VAULT_CHUNK_BYTES);
	anon_run_set_chunk_rows(run, ANON_CHUNK_ROWS);
	t->fp_mac = hmac_template("vault-fp");
	anon_key_derive("vault-seal", key, sizeof key);
	t->seal = siv_template(key, true, NULL);
	t->unseal = siv_template(key, false, NULL);
	OPENSSL_cleanse(key, sizeof key);
	anon_key_derive("vault-ns", t->ns, NS_LEN);
	/* classes: columns whose fingerprints read the same prefix share tokens */
	struct anon_buf b = {0};
	size_t ncls = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		struct tok_rule *r = t->cols[i].state;
		if (r->mode != MODE_VAULT)
			continue;
		vault_class(r, &b);
		r->fpin = malloc(b.len);
		if (!r->fpin)
			anon_die(EX_SOFTWARE, "out of memory");
		memcpy(r->fpin, b.p, b.len);
		r->fpinlen = b.len;
		r->cls = 0;
		for (size_t k = 0; k < i && !r->cls; k++) {
			const struct tok_rule *o = t->cols[k].state;
			if (o->mode == MODE_VAULT && o->fpinlen == b.len &&
			    memcmp(o->fpin, b.p, b.len) == 0)
				r->cls = o->cls;
		}
		if (!r->cls)
			r->cls = ++ncls; /* 0 is the detokenizing map's */
	}
	anon_buf_free(&b);
	/* the vault check() opened (and made when missing): read whole when small */
	memcpy(t->first->ns, t->ns, NS_LEN);
	if (!t->detokenize)
		take_snapshot(t, t->first);
	t->first->ops->close(t->first);
	t->first = NULL;
	return 0;
}

static void random_refill(struct tok_bytes *b)
{
	struct worker *w = b->arg;
	if (RAND_bytes(w->pool, sizeof w->pool) != 1)
		anon_die(EX_SOFTWARE, "the random generator failed");
	b->p = w->pool;
	b->n = sizeof w->pool;
	b->pos = 0;
}

static void *worker_init(struct anon_run *run)
{
	struct tool *t = anon_tool_state(run);
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		anon_die(EX_SOFTWARE, "out of memory");
	w->t = t;
	w->read_first = true;
	if (t->keyed_mac)
		w->keyed_mac = tok_hmac_dup(t->keyed_mac);
	if (t->any_siv || t->any_vault) {
		w->siv_enc = calloc(t->ncols, sizeof *w->siv_enc);
		w->siv_dec = calloc(t->ncols, sizeof *w->siv_dec);
		w->siv_work = calloc(t->ncols, sizeof *w->siv_work);
		w->work = EVP_CIPHER_CTX_new();
		if (!w->siv_enc || !w->siv_dec || !w->siv_work || !w->work)
			anon_die(EX_SOFTWARE, "out of memory");
		for (size_t i = 0; i < t->ncols; i++) {
			const struct tok_rule *r = t->cols[i].state;
			if (r->siv_enc)
				w->siv_enc[i] = tok_siv_dup(r->siv_enc);
			if (r->siv_dec)
				w->siv_dec[i] = tok_siv_dup(r->siv_dec);
			if ((r->siv_enc || r->siv_dec) && !(w->siv_work[i] = EVP_CIPHER_CTX_new()))
				anon_die(EX_SOFTWARE, "out of memory");
		}
	}
	if (t->any_vault) {
		w->fp_mac = tok_hmac_dup(t->fp_mac);
		w->seal = tok_siv_dup(t->seal);
		w->unseal = tok_siv_dup(t->unseal);
		int code = 0;
		w->vault = vault_open(t->vault_spec, t->ns, t->sync, !t->detokenize, &code);
		if (!w->vault)
			anon_exit(code);
		size_t per = t->cache_max / t->jobs;
		fpcache_init(&w->cache, per < CACHE_MIN ? CACHE_MIN : per, 0);
		w->random.refill = random_refill;
		w->random.arg = w;
		w->random.pos = w->random.n = 0;
	}
	return w;
}

static void worker_free(struct anon_run *run, void *arg)
{
	struct tool *t = anon_tool_state(run);
	struct worker *w = arg;
	t->created += w->created;
	t->found += w->found;
	t->cached += w->cached;
	t->collisions += w->collisions;
	t->exhausted += w->exhausted;
	t->retries += w->retries;
	t->resets += w->cache.resets;
	if (w->vault) {
		if (w->vault->in_write)
			w->vault->ops->rollback(w->vault);
		w->vault->ops->close(w->vault);
	}
	EVP_MAC_CTX_free(w->keyed_mac);
	EVP_MAC_CTX_free(w->fp_mac);
	for (size_t i = 0; (w->siv_enc || w->siv_dec) && i < t->ncols; i++) {
		EVP_CIPHER_CTX_free(w->siv_enc[i]);
		EVP_CIPHER_CTX_free(w->siv_dec[i]);
		EVP_CIPHER_CTX_free(w->siv_work[i]);
	}
	free(w->siv_enc);
	free(w->siv_dec);
	free(w->siv_work);
	EVP_CIPHER_CTX_free(w->seal);
	EVP_CIPHER_CTX_free(w->unseal);
	EVP_CIPHER_CTX_free(w->work);
	fpcache_free(&w->cache);
	vmap_free(&w->map);
	anon_buf_free(&w->scratch);
	anon_buf_free(&w->field);
	if (w->sealed.p)
		OPENSSL_cleanse(w->sealed.p, w->sealed.cap);
	anon_buf_free(&w->sealed);
	free(w->pending);
	free(w->guess);
	free(w->items);
	free(w->tokref);
	OPENSSL_cleanse(w->pool, sizeof w->pool);
	free(w);
}

/* ---- crypto on one value ------------------------------------------------------------------ */

static void keyed_token(struct worker *w, const struct tok_rule *r, const struct anon_field *in,
			struct anon_buf *o)
{
	struct tok_keyed_stream k;
	tok_keyed_start(&k, w->keyed_mac, r->context, in->p, in->len);
	anon_buf_addstr(o, r->prefix);
	tok_body(r->format, r->length, true, &k.b, o); /* (the MAC is the token: no secret) */
}

static void siv_token(struct worker *w, const struct anon_column *col, const struct tok_rule *r,
		      const struct anon_field *in, struct anon_buf *o)
{
	struct anon_buf *s = &w->sealed;
	s->len = 0;
	anon_buf_reserve(s, in->len + TOK_TAG_LEN);
	if (!tok_siv_seal(w->siv_work[col->ordinal], w->siv_enc[col->ordinal], NULL, 0, in->p, in->len, s->p))
		anon_die(EX_SOFTWARE, "AES-SIV failed");
	anon_buf_addstr(o, r->prefix);
	tok_b64url_encode(s->p, in->len + TOK_TAG_LEN, o);
}

static enum anon_status siv_detokenize(struct worker *w, const struct anon_column *col,
				       const struct tok_rule *r, const struct anon_field *in,
				       struct anon_buf *o, const char **err)
{
	size_t pl = strlen(r->prefix);
	if (in->len < pl || memcmp(in->p, r->prefix, pl) != 0) {
		*err = "not a token: it does not start with the prefix";
		return ANON_ERR;
	}
	struct anon_buf *s = &w->sealed;
	s->len = 0;
	anon_buf_reserve(s, (in->len - pl) * 3 / 4 + 1);
	size_t n = tok_b64url_decode(in->p + pl, in->len - pl, s->p);
	if (n == (size_t)-1 || n <= TOK_TAG_LEN) {
		*err = "not a siv token (not base64url of a sealed value)";
		return ANON_ERR;
	}
	anon_buf_reserve(o, n - TOK_TAG_LEN);
	if (!tok_siv_open(w->siv_work[col->ordinal], w->siv_dec[col->ordinal], NULL, 0, s->p, n, o->p + o->len)) {
		*err = "the token does not authenticate (altered, or made with another key, "
		       "domain or context)";
		return ANON_ERR;
	}
	o->len += n - TOK_TAG_LEN;
	return ANON_OK;
}

/* ---- the vault: a chunk's lookups and inserts --------------------------------------------- */

static void fingerprint(struct worker *w, const struct tok_rule *r, const unsigned char *p,
			size_t n, unsigned char fp[FP_LEN])
{
	unsigned char mac[32];
	if (!tok_hmac(w->fp_mac, r->fpin, r->fpinlen, p, n, mac))
		anon_die(EX_SOFTWARE, "HMAC-SHA256 failed");
	memcpy(fp, mac, FP_LEN);
}

/* A new random token for e (into the map's arena: toff/tlen). */
static void gen_token(struct worker *w, struct ventry *e)
{
	const struct tok_rule *r = e->rule;
	struct vmap *m = &w->map;
	const unsigned char *val = vmap_bytes(m, e->koff);
	size_t len = r->keep_length ? tok_value_chars(val, e->klen) : r->length;
	struct anon_buf *b = &w->scratch;
	b->len = 0;
	anon_buf_addstr(b, r->prefix);
	/* a digits token keeps an integer's length: no leading 0 unless the value has one */
	e->lead_zero = r->keep_length && e->klen && val[0] == '0';
	tok_body(r->format, len, !e->lead_zero, &w->random, b);
	e->toff = vmap_store(m, b->p, b->len);
	e->tlen = (uint32_t)b->len;
}

/* e's value sealed under its token: AES-SIV with the namespace and the token as associated
 * data, so a sealed value opens only beside its own token (coff/clen). */
static void seal_value(struct worker *w, struct ventry *e)
{
	struct vmap *m = &w->map;
	struct anon_buf *ad = &w->scratch;
	ad->len = 0;
	anon_buf_add(ad, w->t->ns, NS_LEN);
	anon_buf_add(ad, vmap_bytes(m, e->toff), e->tlen);
	struct anon_buf *s = &w->sealed;
	s->len = 0;
	anon_buf_reserve(s, e->klen + TOK_TAG_LEN);
	/* the value moves: vmap_store may grow the arena, so seal from its copy */
	if (!tok_siv_seal(w->work, w->seal, ad->p, ad->len, vmap_bytes(m, e->koff), e->klen, s->p))
		anon_die(EX_SOFTWARE, "AES-SIV failed");
	e->coff = vmap_store(m, s->p, e->klen + TOK_TAG_LEN);
	e->clen = e->klen + TOK_TAG_LEN;
}

static void new_token(struct worker *w, struct ventry *e)
{
	gen_token(w, e);
	seal_value(w, e);
}

/* Tokens of one shape (rule, length, leading zero allowed) are drawn alike. */
static bool same_shape(const struct ventry *x, const struct ventry *y)
{
	return x->rule == y->rule && x->tlen == y->tlen && x->lead_zero == y->lead_zero;
}

/* Items of one shape together, each shape's in fingerprint order. */
static int by_shape_fp(const void *a, const void *b)
{
	const struct ventry *x = *(struct ventry *const *)a, *y = *(struct ventry *const *)b;
	if (x->rule != y->rule)
		return (uintptr_t)x->rule < (uintptr_t)y->rule ? -1 : 1;
	if (x->tlen != y->tlen)
		return x->tlen < y->tlen ? -1 : 1;
	if (x->lead_zero != y->lead_zero)
		return x->lead_zero ? 1 : -1;
	return memcmp(x->fp, y->fp, FP_LEN);
}

struct tokref {
	const unsigned char *p;
	uint32_t off, len;
};

static int by_token(const void *a, const void *b)
{
	const struct tokref *x = a, *y = b;
	return memcmp(x->p, y->p, x->len);
}

/* New tokens for items[0..n), and their sealed values, so that the vault's two indexes
 * grow in order: the items sorted by fingerprint, and within each shape the batch's random
 * tokens sorted and handed out in that order. A B-tree insert in order touches one page
 * where random inserts touch one each, and SQLite's WAL writes every page a commit touched:
 * this is what makes a batch of new tokens cheap. Which value gets which of the batch's
 * tokens follows the order of keyed fingerprints: unpredictable without the key, and each
 * token is still uniformly random of its shape. */
static void new_tokens(struct worker *w, struct ventry **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gen_token(w, items[i]);
	qsort(items, n, sizeof *items, by_shape_fp);
	if (w->ntokref < n) {
		free(w->tokref);
		w->ntokref = n;
		w->tokref = malloc(n * sizeof *w->tokref);
		if (!w->tokref)
			anon_die(EX_SOFTWARE, "out of memory");
	}
	/* the arena does not move here: nothing is stored until the tokens are handed out */
	for (size_t i = 0; i < n; i++)
		w->tokref[i] = (struct tokref){ vmap_bytes(&w->map, items[i]->toff), items[i]->toff,
						items[i]->tlen };
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && same_shape(items[a], items[b]); b++)
			;
		qsort(w->tokref + a, b - a, sizeof *w->tokref, by_token);
		for (size_t i = a; i < b; i++)
			items[i]->toff = w->tokref[i].off;
	}
	for (size_t i = 0; i < n; i++)
		seal_value(w, items[i]);
}

static void done_with(struct ventry *e, uint32_t off, uint32_t len, int64_t expires)
{
	e->state = V_DONE;
	e->roff = off;
	e->rlen = len;
	e->expires = expires;
}

/* Keep the entries of items[0..n) that are still pending; returns the new count. */
static size_t still_pending(struct ventry **items, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i]->state == V_PENDING)
			items[k++] = items[i];
	return k;
}

/* In the write transaction: insert, then look up what did not go in (another process made
 * the value's token first, or our random token was taken), until every value has one. */
static int write_step(struct worker *w, struct ventry **items, size_t n, int64_t now)
{
	const struct vault_ops *ops = w->vault->ops;
	struct tool *t = w->t;
	int64_t expires = t->ttl ? now + t->ttl : 0;
	int rc = ops->begin_write(w->vault);
	if (rc)
		return rc;
	/* a list of its own (the caller's stays whole for a retry): room for it after the
	 * caller's, see chunk() */
	struct ventry **todo = items + n;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i]->expired)
			todo[k++] = items[i];
	if (k && (rc = ops->delete_expired(w->vault, todo, k, now)))
		return rc;
	memcpy(todo, items, n * sizeof *todo);
	items = todo;
	for (int round = 0; n; round++) {
		if ((rc = ops->insert(w->vault, &w->map, items, n, now, expires)))
			return rc;
		size_t left = 0;
		for (size_t i = 0; i < n; i++) {
			struct ventry *e = items[i];
			if (e->hit) {
				done_with(e, e->toff, e->tlen, expires);
				e->created = true;
			} else {
				items[left++] = e;
			}
		}
		n = left;
		if (!n)
			break;
		if ((rc = ops->find_fp(w->vault, &w->map, items, n)))
			return rc;
		size_t nexpired = 0;
		for (size_t i = 0; i < n; i++) {
			struct ventry *e = items[i];
			if (e->hit && (!e->expires || e->expires > now)) {
				done_with(e, e->roff, e->rlen, e->expires);
				w->found++;
			} else if (e->hit) {
				items[nexpired++] = e; /* expired: removed, then our token goes in */
			} else if (round + 1 >= MAX_TRIES) {
				e->state = V_ERR;
				e->err = "no free token of this length: the vault holds every token "
					 "of this shape";
				w->exhausted++;
			} else {
				new_token(w, e); /* our random token is another value's */
				w->collisions++;
			}
		}
		if (nexpired && (rc = ops->delete_expired(w->vault, items, nexpired, now)))
			return rc;
		n = still_pending(items, n);
	}
	return 0;
}

static int resolve(struct worker *w, struct ventry **items, size_t n)
{
	const struct vault_ops *ops = w->vault->ops;
	int64_t now = (int64_t)time(NULL);
	size_t total = n, hits = 0;
	int rc;
	if (w->read_first) {
		if ((rc = ops->find_fp(w->vault, &w->map, items, n)))
			return rc;
		for (size_t i = 0; i < n; i++) {
			struct ventry *e = items[i];
			if (!e->hit)
				continue;
			if (e->expires && e->expires <= now) {
				e->expired = true;
				continue;
			}
			done_with(e, e->roff, e->rlen, e->expires);
			/* a committed row: safe to remember now */
			fpcache_put(&w->cache, e->fp, vmap_bytes(&w->map, e->roff), e->rlen,
				    e->expires);
			w->found++;
			hits++;
		}
		n = still_pending(items, n);
	}
	w->made = n;
	if (n) {
		/* tokens and sealed values before the lock, so it is held briefly */
		new_tokens(w, items, n);
		uint64_t found_before = w->found;
		for (int attempt = 0;; attempt++) {
			rc = write_step(w, items, n, now);
			if (rc != VAULT_RETRY)
				break;
			/* a deadlock or serialization failure: nothing of it stands */
			ops->rollback(w->vault);
			if (attempt == 10) {
				anon_error("vault: the write transaction failed 10 times in a row");
				return EX_IOERR;
			}
			w->retries++;
			w->found = found_before;
			for (size_t i = 0; i < n; i++) {
				items[i]->state = V_PENDING;
				items[i]->created = false;
			}
		}
		if (rc)
			return rc;
		hits += (size_t)(w->found - found_before);
	}
	/* When most values are new, looking them up first is a wasted query; when most are
	 * known, inserting first wastes a sealed value each and takes the write lock. */
	w->read_first = hits * 5 >= total;
	return 0;
}

static int detokenize_chunk(struct worker *w, struct ventry **items, size_t n)
{
	int rc = w->vault->ops->find_token(w->vault, &w->map, items, n);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL);
	struct vmap *m = &w->map;
	for (size_t i = 0; i < n; i++) {
		struct ventry *e = items[i];
		if (!e->hit) {
			e->state = V_ERR;
			e->err = "the token is not in the vault (or was made with another key or "
				 "domain)";
			continue;
		}
		if (e->expires && e->expires <= now) {
			e->state = V_ERR;
			e->err = "the token has expired";
			continue;
		}
		struct anon_buf *ad = &w->scratch;
		ad->len = 0;
		anon_buf_add(ad, w->t->ns, NS_LEN);
		anon_buf_add(ad, vmap_bytes(m, e->koff), e->klen);
		struct anon_buf *s = &w->sealed;
		s->len = 0;
		anon_buf_reserve(s, e->clen);
		if (e->clen <= TOK_TAG_LEN ||
		    !tok_siv_open(w->work, w->unseal, ad->p, ad->len, vmap_bytes(m, e->coff), e->clen,
			      s->p)) {
			e->state = V_ERR;
			e->err = "the vault's record of this token does not authenticate";
			continue;
		}
		uint32_t off = vmap_store(m, s->p, e->clen - TOK_TAG_LEN);
		OPENSSL_cleanse(s->p, e->clen - TOK_TAG_LEN);
		done_with(e, off, e->clen - TOK_TAG_LEN, e->expires);
	}
	return 0;
}

/* The pending values whose tokens are in memory: the snapshot's, then the worker's cache.
 * A snapshot of a large vault is far larger than the CPU's caches, and a lookup in it reads
 * a slot, an entry, then the token, each a cache miss: one pass a step over all the chunk's
 * values, each asking for what the next pass reads (the slots were asked for as the values
 * came in), so the misses overlap. */
static void from_memory(struct worker *w, int64_t now)
{
	struct tool *t = w->t;
	const struct fpcache *snap = &t->snapshot;
	size_t n = w->npending, k = 0;
	if (t->have_snapshot) {
		for (size_t i = 0; i < n; i++)
			w->guess[i] = fpcache_probe(snap, w->map.e[w->pending[i]].fp);
		for (size_t i = 0; i < n; i++)
			w->guess[i] = fpcache_confirm(snap, w->map.e[w->pending[i]].fp, w->guess[i]);
	}
	for (size_t i = 0; i < n; i++) {
		struct ventry *e = &w->map.e[w->pending[i]];
		const struct fpcache *from = snap;
		const struct fpentry *ce = t->have_snapshot ? w->guess[i] : NULL;
		if (!ce || (ce->expires && ce->expires <= now)) {
			from = &w->cache;
			ce = fpcache_get(&w->cache, e->fp);
		}
		if (ce && (!ce->expires || ce->expires > now)) {
			uint32_t off = vmap_store(&w->map, fpcache_token(from, ce), ce->len);
			done_with(e, off, ce->len, ce->expires);
			w->cached++;
		} else {
			w->pending[k++] = w->pending[i];
		}
	}
	w->npending = k;
}

/* Every selected value of the chunk: the vault's tokens for them, looked up or made in one
 * transaction that commit() ends. apply() then only reads the map. */
static int vault_chunk(struct worker *w, const struct anon_chunk *c)
{
	struct tool *t = w->t;
	w->chunk_failed = false;
	vmap_reset(&w->map);
	w->npending = 0;
	size_t rows = anon_chunk_rows(c);
	int64_t now = (int64_t)time(NULL);
	for (size_t k = 0; k < t->ncols; k++) {
		const struct anon_column *col = &t->cols[k];
		const struct tok_rule *r = col->state;
		if (r->mode != MODE_VAULT)
			continue;
		uint32_t cls = t->detokenize ? 0 : (uint32_t)r->cls;
		for (size_t i = 0; i < rows; i++) {
			struct anon_field f;
			if (!anon_chunk_field(c, i, col, &w->field, &f) || f.null || f.len == 0)
				continue;
			bool added;
			struct ventry *e = vmap_get(&w->map, cls, f.p, f.len, &added);
			if (!added)
				continue;
			e->rule = r;
			if (t->detokenize && !anon_utf8_valid(f.p, f.len)) {
				/* no token is: the vault is not asked */
				e->state = V_ERR;
				e->err = "not a token (not text)";
				continue;
			}
			if (!t->detokenize) {
				fingerprint(w, r, f.p, f.len, e->fp);
				if (t->have_snapshot)
					fpcache_prefetch(&t->snapshot, e->fp);
			}
			if (w->npending == w->cappending) {
				w->cappending = w->cappending ? 2 * w->cappending : 1024;
				w->pending = realloc(w->pending, w->cappending * sizeof *w->pending);
				w->guess = realloc(w->guess, w->cappending * sizeof *w->guess);
				if (!w->pending || !w->guess)
					anon_die(EX_SOFTWARE, "out of memory");
			}
			w->pending[w->npending++] = (uint32_t)(e - w->map.e);
		}
	}
	if (!t->detokenize)
		from_memory(w, now);
	size_t n = w->npending;
	if (!n)
		return 0;
	/* entries no longer move once the chunk's values are in: pointers from here on, with
	 * room for a second list of the same length (write_step's) */
	if (2 * n > w->capitems) {
		w->capitems = 2 * n;
		free(w->items);
		w->items = malloc(w->capitems * sizeof *w->items);
		if (!w->items)
			anon_die(EX_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		w->items[i] = &w->map.e[w->pending[i]];
	int rc = t->detokenize ? detokenize_chunk(w, w->items, n) : resolve(w, w->items, n);
	if (rc) {
		w->chunk_failed = true;
		return rc < 0 ? EX_IOERR : rc;
	}
	return 0;
}

/* The chunk size follows what the chunks hold. New tokens cost a write transaction a chunk,
 * and a commit writes every index page the chunk touched, about as many for 4096 rows as for
 * 128k in a large vault: while a quarter of a chunk's values or more are new, chunks of 256k
 * rows (1M new tokens: 3.5 times faster with 128k than 4096, and 12% faster again with 256k,
 * for 100 MiB more memory). Values known already cost no transaction, and a map of 4096
 * values stays in the CPU's cache where one of 128k does not (1M known values: 1.7 s with
 * 128k-row chunks, 1.15 s with 4096, on one machine). */
static int chunk(void *arg, const struct anon_chunk *c)
{
	struct worker *w = arg;
	struct tool *t = w->t;
	if (!t->any_vault)
		return 0;
	w->made = 0;
	int rc = vault_chunk(w, c);
	if (!t->detokenize)
		anon_run_set_chunk_rows(t->run, w->made * 4 >= w->map.n && w->made ?
						    VAULT_CHUNK_ROWS : ANON_CHUNK_ROWS);
	return rc;
}

/* The chunk's rows leave only after this returns 0: its new tokens are in the vault. */
static int commit(void *arg)
{
	struct worker *w = arg;
	if (!w->vault || !w->vault->in_write)
		return 0;
	if (w->chunk_failed) {
		w->vault->ops->rollback(w->vault);
		return 0; /* the chunk stops the run already, with none of its rows */
	}
	int rc = w->vault->ops->commit(w->vault);
	if (rc)
		return rc < 0 ? EX_IOERR : rc;
	for (size_t i = 0; i < w->map.n; i++) {
		const struct ventry *e = &w->map.e[i];
		if (e->created) {
			fpcache_put(&w->cache, e->fp, vmap_bytes(&w->map, e->roff), e->rlen,
				    e->expires);
			w->created++;
		}
	}
	return 0;
}

static enum anon_status apply(const struct anon_rowinfo *row, const struct anon_column *col,
			      const struct anon_field *in, struct anon_field *out,
			      struct anon_buf *o, const char **err)
{
	struct worker *w = row->worker;
	const struct tok_rule *r = col->state;
	enum anon_status st = ANON_OK;
	switch (r->mode) {
	case MODE_KEYED:
	case MODE_SIV:
		if (w->t->detokenize) {
			st = siv_detokenize(w, col, r, in, o, err);
			break;
		}
		if (r->mode == MODE_KEYED)
			keyed_token(w, r, in, o);
		else
			siv_token(w, col, r, in, o);
		break;
	case MODE_VAULT: {
		const struct ventry *e = vmap_find(&w->map, w->t->detokenize ? 0 : (uint32_t)r->cls,
						   in->p, in->len);
		if (!e || e->state == V_PENDING)
			anon_die(EX_SOFTWARE, "internal error: a value the chunk did not resolve");
		if (e->state == V_ERR) {
			*err = e->err;
			return ANON_ERR;
		}
		anon_buf_add(o, vmap_bytes(&w->map, e->roff), e->rlen);
		break;
	}
	}
	if (st != ANON_OK)
		return st;
	out->p = o->p;
	out->len = o->len;
	out->null = false;
	return ANON_OK;
}

static int finish(struct anon_run *run, json_t *rec)
{
	struct tool *t = anon_tool_state(run);
	json_object_set_new(rec, "direction", json_string(t->detokenize ? "detokenize" :
							  "tokenize"));
	if (!t->any_vault)
		return 0;
	json_t *v = json_pack("{s:s}", "backend", vault_kind(t->vault_spec));
	if (!t->detokenize) {
		json_object_set_new(v, "tokens_created", json_integer((json_int_t)t->created));
		json_object_set_new(v, "collisions", json_integer((json_int_t)t->collisions));
		json_object_set_new(v, "exhausted", json_integer((json_int_t)t->exhausted));
		json_object_set_new(v, "cache_hits", json_integer((json_int_t)t->cached));
		json_object_set_new(v, "cache_resets", json_integer((json_int_t)t->resets));
		json_object_set_new(v, "snapshot", json_integer(t->have_snapshot ?
								(json_int_t)t->snapshot.n : 0));
		json_object_set_new(v, "ttl_seconds", t->ttl ? json_integer(t->ttl) : json_null());
	}
	json_object_set_new(v, "lookups_found", json_integer((json_int_t)t->found));
	json_object_set_new(v, "retries", json_integer((json_int_t)t->retries));
	json_object_set_new(rec, "vault", v);
	return 0;
}

static const struct anon_tool tool = {
	.name = "anon-token",
	.synopsis = "[options] [--mode keyed|siv|vault] [-D] [--vault SPEC]\n"
		    "       -c COLUMN[=RULE] ... [FILE]\n"
		    "       anon-token --vault SPEC --vault-stats | --purge-expired",
	.help = "rules (-c COLUMN=RULE; RULE is MODE, MODE:PARAMS or PARAMS, default --mode):\n"
		"  keyed                     irreversible: PREFIX + base32 of an HMAC (default)\n"
		"  siv                       reversible without a vault: PREFIX + base64url of\n"
		"                            AES-SIV(value)\n"
		"  vault                     random tokens kept in --vault\n"
		"  params: base32|digits|alnum, length=N, keep-length (vault), prefix=P,\n"
		"          context=NAME (separates a column's tokens from the others')\n"
		"options:\n"
		"      --mode MODE           keyed (default), siv or vault\n"
		"      --token-format FMT    base32 (default), digits or alnum\n"
		"      --length N            token characters after the prefix (default: 128 bits:\n"
		"                            26 base32, 39 digits, 22 alnum)\n"
		"      --keep-length         vault tokens as long as their values (no prefix)\n"
		"      --prefix P            text before every token (default tok_)\n"
		"      --context NAME        the context of every column (default none)\n"
		"  -D, --detokenize          tokens back to values (siv, vault)\n"
		"      --vault SPEC          sqlite:FILE or postgres:CONNINFO (env ANON_TOKEN_VAULT)\n"
		"      --ttl DURATION        new vault tokens expire after it (30d, 12h, 90m, 3600s)\n"
		"      --cache N             vault tokens held in memory (default 1048576)\n"
		"      --vault-sync MODE     sqlite: full (default; survives power loss) or normal\n"
		"      --vault-stats         print the vault's counts as JSON; reads no input\n"
		"      --purge-expired       remove expired tokens from the vault; reads no input\n",
	.shortopts = "D",
	.longopts = longopts,
	.needs_key = true,
	.option = option,
	.rule = rule,
	.check = check,
	.start = start,
	.worker_init = worker_init,
	.worker_free = worker_free,
	.chunk = chunk,
	.apply = apply,
	.commit = commit,
	.finish = finish,
	.rule_free = rule_free,
};

int main(int argc, char **argv)
{
	struct tool t = { .cache_max = CACHE_DEFAULT, .sync = SYNC_FULL };
	strcpy(t.defaults.prefix, "tok_");
	t.defaults.context = strdup("");
	if (!t.defaults.context)
		return EX_SOFTWARE;
	int rc = anon_main(&tool, &t, argc, argv);
	/* the templates: each worker freed its own copies */
	EVP_MAC_CTX_free(t.keyed_mac);
	EVP_MAC_CTX_free(t.fp_mac);
	EVP_CIPHER_CTX_free(t.seal);
	EVP_CIPHER_CTX_free(t.unseal);
	fpcache_free(&t.snapshot);
	if (t.first)
		t.first->ops->close(t.first);
	tok_rule_clear(&t.defaults);
	return rc;
}
