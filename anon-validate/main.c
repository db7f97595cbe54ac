/* anon-validate: checks what a pipeline is about to release, so that anonymized data can be a
 * CI gate: structure, required fields, types, ranges, uniqueness, leftover personal data
 * (addresses, phone numbers, cards, SSNs, IBANs, IP addresses), deny-listed values,
 * k-anonymity and l-diversity, and a policy of the columns that may leave.  It writes a JSON
 * verdict and an audit record, and exits 1 when a check fails; with --pass it copies the
 * input through unchanged, so a failing check ends the output with the rollback line.
 *
 * Workers count into their own state (struct vworker), one slot per table; worker_free folds
 * each into the run's slots, exactly: counts add up, the rows shown are the smallest line
 * numbers, and the sets merge key by key, so the verdict does not depend on --jobs.
 *
 * lib closes standard output when its run ends, and calls finish() also on the way out of a
 * run that stops early, without saying so; so the verdict is written after anon_main returns
 * (the input was read whole), or from an on_exit handler when the run stopped (marked
 * "complete": false, with the exit status). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "state.h"

/* ---- options --------------------------------------------------------------------------------- */

enum { OPT_EXPECT = 256, OPT_REQUIRE, OPT_TYPE, OPT_RANGE, OPT_UNIQUE, OPT_PII, OPT_PII_COLS,
       OPT_DENY, OPT_KANON, OPT_LDIV, OPT_POLICY, OPT_POLICY_INIT, OPT_SUGGEST, OPT_SAMPLE,
       OPT_VERDICT, OPT_PASS };

static const struct option longopts[] = {
	{ "expect-columns", required_argument, NULL, OPT_EXPECT },
	{ "require", required_argument, NULL, OPT_REQUIRE },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "unique", required_argument, NULL, OPT_UNIQUE },
	{ "pii", required_argument, NULL, OPT_PII },
	{ "pii-columns", required_argument, NULL, OPT_PII_COLS },
	{ "deny-list", required_argument, NULL, OPT_DENY },
	{ "k-anon", required_argument, NULL, OPT_KANON },
	{ "l-div", required_argument, NULL, OPT_LDIV },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "policy-init", no_argument, NULL, OPT_POLICY_INIT },
	{ "suggest", no_argument, NULL, OPT_SUGGEST },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "verdict", required_argument, NULL, OPT_VERDICT },
	{ "pass", no_argument, NULL, OPT_PASS },
	{ NULL, 0, NULL, 0 },
};

static struct check *add_check(struct vstate *st, enum ck kind, const char *cols)
{
	st->checks = xrealloc(st->checks, (st->nchecks + 1) * sizeof *st->checks);
	struct check *c = &st->checks[st->nchecks++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->specs = cols_split(cols, &c->ncols);
	for (size_t i = 0; i < c->ncols; i++)
		if (!*c->specs[i]) {
			anon_error("--%s: an empty column name in '%s'",
				   kind == CK_KANON ? "k-anon" : ck_names[kind], cols);
			return NULL;
		}
	return c;
}

/* "SPEC<sep>ARG" split at the last separator (specs may hold it inside quotes; ARG never). */
static bool split_last(const char *arg, char sep, char **spec, const char **rest)
{
	const char *at = strrchr(arg, sep);
	if (!at || at == arg || !at[1])
		return false;
	*spec = strndup(arg, (size_t)(at - arg));
	*rest = at + 1;
	return *spec != NULL;
}

static bool parse_count(const char *s, uint64_t *v)
{
	return anon_parse_uint64(s, v) && *v >= 1;
}

static int option(struct anon_run *run, int opt, const char *arg)
{
	struct vstate *st = anon_tool_state(run);
	struct check *c;
	char *spec = NULL;
	const char *rest, *why;
	uint64_t n;
	switch (opt) {
	case OPT_EXPECT:
		if (st->has_expect) {
			anon_error("--expect-columns is given once, with every column");
			return EX_USAGE;
		}
		st->has_expect = true;
		st->expect = cols_split(arg, &st->nexpect);
		return 0;
	case OPT_REQUIRE:
		return add_check(st, CK_REQUIRE, arg) ? 0 : EX_USAGE;
	case OPT_UNIQUE:
		return add_check(st, CK_UNIQUE, arg) ? 0 : EX_USAGE;
	case OPT_TYPE: {
		enum vtype t;
		if (!split_last(arg, '=', &spec, &rest) || !vtype_parse(rest, &t)) {
			anon_error("--type takes COL=TYPE, TYPE one of int, numeric, bool, date, "
				   "timestamp, email, uuid, text");
			free(spec);
			return EX_USAGE;
		}
		c = add_check(st, CK_TYPE, spec);
		free(spec);
		if (!c || c->ncols != 1) {
			anon_error("--type names one column");
			return EX_USAGE;
		}
		c->type = t;
		return 0;
	}
	case OPT_RANGE:
		if (!split_last(arg, '=', &spec, &rest)) {
			anon_error("--range takes COL=LO..HI");
			return EX_USAGE;
		}
		c = add_check(st, CK_RANGE, spec);
		free(spec);
		if (!c || c->ncols != 1) {
			anon_error("--range names one column");
			return EX_USAGE;
		}
		if (!range_parse(rest, &c->range, &why)) {
			anon_error("--range %s: %s", arg, why);
			return EX_USAGE;
		}
		return 0;
	case OPT_PII:
		if (!pii_parse_kinds(arg, &st->pii_kinds)) {
			anon_error("--pii takes all, or a list of email, phone, card, ssn, iban, ip");
			return EX_USAGE;
		}
		return 0;
	case OPT_PII_COLS:
		if (st->pii_specs) {
			anon_error("--pii-columns is given once, with every column");
			return EX_USAGE;
		}
		st->pii_specs = cols_split(arg, &st->npii);
		return 0;
	case OPT_DENY:
		st->deny_paths = xrealloc(st->deny_paths, (st->ndeny_paths + 1) * sizeof(char *));
		st->deny_paths[st->ndeny_paths++] = (char *)arg;
		return 0;
	case OPT_KANON:
		if (!split_last(arg, ':', &spec, &rest) || !parse_count(rest, &n)) {
			anon_error("--k-anon takes COLS:K, K a whole number of rows (1 or more)");
			free(spec);
			return EX_USAGE;
		}
		for (size_t i = 0; i < st->nchecks; i++)
			if (st->checks[i].kind == CK_KANON) {
				anon_error("--k-anon is given once (its columns are the quasi-identifiers)");
				free(spec);
				return EX_USAGE;
			}
		c = add_check(st, CK_KANON, spec);
		free(spec);
		if (!c)
			return EX_USAGE;
		c->k = n;
		return 0;
	case OPT_LDIV: {
		struct check *k = NULL;
		for (size_t i = 0; i < st->nchecks; i++)
			if (st->checks[i].kind == CK_KANON)
				k = &st->checks[i];
		if (!split_last(arg, ':', &spec, &rest) || !parse_count(rest, &n)) {
			anon_error("--l-div takes COL:L, L a whole number of values (1 or more)");
			free(spec);
			return EX_USAGE;
		}
		if (!k) {
			anon_error("--l-div comes after --k-anon, whose columns make its classes");
			free(spec);
			return EX_USAGE;
		}
		k->ldiv = xrealloc(k->ldiv, (k->nldiv + 1) * sizeof *k->ldiv);
		k->ldiv[k->nldiv++] = (struct ldiv){ spec, NULL, n };
		return 0;
	}
	case OPT_POLICY:
		st->policy_path = arg;
		return 0;
	case OPT_POLICY_INIT:
	case OPT_SUGGEST: {
		enum mode m = opt == OPT_SUGGEST ? MODE_SUGGEST : MODE_POLICY_INIT;
		if (st->mode != MODE_CHECK && st->mode != m) {
			anon_error("--suggest and --policy-init are two runs");
			return EX_USAGE;
		}
		st->mode = m;
		return 0;
	}
	case OPT_SAMPLE:
		if (!parse_count(arg, &st->sample)) {
			anon_error("--sample takes a number of rows (1 or more)");
			return EX_USAGE;
		}
		return 0;
	case OPT_VERDICT:
		st->verdict_path = arg;
		return 0;
	case OPT_PASS:
		st->pass = true;
		return 0;
	}
	return EX_USAGE;
}

static int rule(struct anon_run *run, struct anon_column *col)
{
	anon_error("-c %s: anon-validate changes no column; name columns in its checks "
		   "(--require, --type, --pii-columns, ...)", col->spec);
	return EX_USAGE;
}

static bool any_check(const struct vstate *st)
{
	return st->nchecks || st->pii_kinds || st->npii || st->ndeny_paths || st->has_expect ||
	       st->policy_path;
}

static int check(struct anon_run *run)
{
	struct vstate *st = anon_tool_state(run);
	st->run = run;
	if (st->mode != MODE_CHECK) {
		const char *m = st->mode == MODE_SUGGEST ? "--suggest" : "--policy-init";
		if (any_check(st) || st->pass || st->verdict_path) {
			anon_error("%s reads raw input and prints what it finds: it takes no check, "
				   "--pass or --verdict", m);
			return EX_USAGE;
		}
	}
	if (st->sample && st->mode != MODE_SUGGEST) {
		anon_error("--sample goes with --suggest");
		return EX_USAGE;
	}
	if (!st->sample)
		st->sample = 100000;
	if (st->mode == MODE_CHECK && !any_check(st))
		st->pii_kinds = PII_ALL; /* a bare anon-validate FILE looks for personal data */
	if (st->npii && !st->pii_kinds)
		st->pii_kinds = PII_ALL;
	/* columns: resolved by lib at each table's start, like -c (a name a file lacks is 64) */
	for (size_t i = 0; i < st->nchecks; i++) {
		struct check *c = &st->checks[i];
		c->refs = xcalloc(c->ncols, sizeof *c->refs);
		for (size_t j = 0; j < c->ncols; j++)
			c->refs[j] = anon_ref_add(run, c->specs[j]);
		for (size_t j = 0; j < c->nldiv; j++)
			c->ldiv[j].ref = anon_ref_add(run, c->ldiv[j].spec);
	}
	st->pii_refs = xcalloc(st->npii, sizeof *st->pii_refs);
	for (size_t j = 0; j < st->npii; j++)
		st->pii_refs[j] = anon_ref_add(run, st->pii_specs[j]);
	if (st->policy_path) {
		int code;
		if (!policy_load(&st->policy, st->policy_path, &code))
			return code;
	}
	if (st->verdict_path) {
		st->verdict_fd = open(st->verdict_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (st->verdict_fd < 0) {
			anon_error("--verdict: %s: %s", st->verdict_path, strerror(errno));
			return EX_CANTCREAT;
		}
	}
	anon_run_set_output(run, st->pass ? ANON_OUTPUT_PASS : ANON_OUTPUT_NONE);
	st->started = true; /* past the command line: every way out writes a verdict */
	return 0;
}

/* ---- start: keys, patterns, the deny-list --------------------------------------------------- */

static EVP_MAC_CTX *mac_new(const char *purpose)
{
	unsigned char key[32];
	anon_key_derive(purpose, key, sizeof key);
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!ctx || !EVP_MAC_init(ctx, key, sizeof key, params))
		anon_die(EX_SOFTWARE, "HMAC-SHA256 is not available in this OpenSSL");
	EVP_MAC_free(mac);
	OPENSSL_cleanse(key, sizeof key);
	return ctx;
}

static EVP_MAC_CTX *mac_dup(EVP_MAC_CTX *t)
{
	EVP_MAC_CTX *c = t ? EVP_MAC_CTX_dup(t) : NULL;
	if (t && !c)
		anon_die(EX_SOFTWARE, "cannot copy the HMAC context");
	return c;
}

/* HMAC-SHA256 of the values (each after its length, so no two lists give the same bytes),
 * cut to 128 bits. */
static void mac128(EVP_MAC_CTX *ctx, const struct anon_field *v, size_t n, unsigned char out[16])
{
	unsigned char d[32];
	size_t outl;
	if (!EVP_MAC_init(ctx, NULL, 0, NULL))
		anon_die(EX_SOFTWARE, "HMAC failed");
	for (size_t i = 0; i < n; i++) {
		unsigned char len[4] = { (unsigned char)(v[i].len >> 24), (unsigned char)(v[i].len >> 16),
					 (unsigned char)(v[i].len >> 8), (unsigned char)v[i].len };
		if (n > 1 && !EVP_MAC_update(ctx, len, 4))
			anon_die(EX_SOFTWARE, "HMAC failed");
		if (!EVP_MAC_update(ctx, v[i].p, v[i].len))
			anon_die(EX_SOFTWARE, "HMAC failed");
	}
	if (!EVP_MAC_final(ctx, d, &outl, sizeof d))
		anon_die(EX_SOFTWARE, "HMAC failed");
	memcpy(out, d, 16);
	OPENSSL_cleanse(d, sizeof d);
}

static bool blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The form deny-listed values are compared in: ASCII letters in lower case, every run of
 * blanks one space, none at either end. */
static void normalize(struct anon_buf *b, const unsigned char *p, size_t n)
{
	b->len = 0;
	anon_buf_reserve(b, n + 1);
	bool sp = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (blank(c)) {
			sp = b->len > 0;
			continue;
		}
		if (sp)
			b->p[b->len++] = ' ';
		sp = false;
		b->p[b->len++] = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
	}
}

static void bloom_bits(const struct vstate *st, uint64_t h, uint64_t *a, uint64_t *b)
{
	*a = h & st->deny_bloom_mask;
	*b = (h >> 32) & st->deny_bloom_mask;
}

static void bloom_set(struct vstate *st, uint64_t h)
{
	uint64_t a, b;
	bloom_bits(st, h, &a, &b);
	st->deny_bloom[a / 64] |= 1ull << (a % 64);
	st->deny_bloom[b / 64] |= 1ull << (b % 64);
}

static bool bloom_has(const struct vstate *st, const unsigned char *p, size_t n)
{
	uint64_t a, b;
	bloom_bits(st, hash_bytes(st->seed, p, n), &a, &b);
	return (st->deny_bloom[a / 64] >> (a % 64) & 1) && (st->deny_bloom[b / 64] >> (b % 64) & 1);
}

/* Read the deny-lists once (a file may be a pipe): each value's HMAC goes into the set, its
 * seeded fast hash into the Bloom filter, sized once every value is known (16 bits a value,
 * 2^16 to 2^28 bits). */
static void deny_load(struct vstate *st)
{
	EVP_MAC_CTX *ctx = mac_dup(st->mac_deny);
	struct anon_buf norm = { 0 };
	uint64_t *fast = NULL;
	size_t nfast = 0, capfast = 0;
	for (size_t f = 0; f < st->ndeny_paths; f++) {
		const char *path = st->deny_paths[f];
		FILE *in = fopen(path, "r");
		if (!in)
			anon_die(EX_NOINPUT, "--deny-list: %s: %s", path, strerror(errno));
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		while ((len = getline(&line, &cap, in)) >= 0) {
			normalize(&norm, (unsigned char *)line, (size_t)len);
			if (norm.len == 0)
				continue;
			struct anon_field v = { norm.p, norm.len, false };
			unsigned char h[16];
			mac128(ctx, &v, 1, h);
			if (hset_add(&st->deny, h, 1) != 0)
				continue; /* listed twice */
			st->deny_values++;
			if (nfast == capfast) {
				capfast = capfast ? capfast * 2 : 1024;
				fast = xrealloc(fast, capfast * sizeof *fast);
			}
			fast[nfast++] = hash_bytes(st->seed, norm.p, norm.len);
			if (norm.len < 1024)
				st->deny_len[norm.len / 64] |= 1ull << (norm.len % 64);
			else
				st->deny_long = true;
			size_t words = 1;
			for (size_t i = 0; i < norm.len; i++)
				words += norm.p[i] == ' ';
			if (words < 32)
				st->deny_words |= 1u << words;
		}
		OPENSSL_cleanse(line, cap);
		free(line);
		if (ferror(in))
			anon_die(EX_IOERR, "--deny-list: %s: %s", path, strerror(errno));
		fclose(in);
	}
	if (norm.p)
		OPENSSL_cleanse(norm.p, norm.cap);
	anon_buf_free(&norm);
	EVP_MAC_CTX_free(ctx);
	if (st->deny_values == 0)
		anon_die(EX_CONFIG, "--deny-list: no value to look for (one value a line)");
	uint64_t bits = 1u << 16;
	while (bits < nfast * 16 && bits < (1u << 28))
		bits *= 2;
	st->deny_bloom = xcalloc(bits / 64, sizeof *st->deny_bloom);
	st->deny_bloom_mask = bits - 1;
	for (size_t i = 0; i < nfast; i++)
		bloom_set(st, fast[i]);
	free(fast);
}

static int start(struct anon_run *run)
{
	struct vstate *st = anon_tool_state(run);
	if (st->pii_kinds || st->mode == MODE_SUGGEST) {
		char err[200];
		if (!(st->det = detectors_new(st->mode == MODE_SUGGEST, err, sizeof err)))
			anon_die(EX_SOFTWARE, "the detectors do not compile: %s", err);
	}
	bool unique = false;
	for (size_t i = 0; i < st->nchecks; i++)
		unique |= st->checks[i].kind == CK_UNIQUE;
	if (unique)
		st->mac_unique = mac_new("unique");
	if (RAND_bytes((unsigned char *)&st->seed, sizeof st->seed) != 1)
		anon_die(EX_SOFTWARE, "no randomness for the tables' seed");
	if (st->ndeny_paths) {
		st->mac_deny = mac_new("deny-list");
		deny_load(st);
	}
	/* the sample is the first rows of the input: chunks one at a time, in order */
	if (st->mode == MODE_SUGGEST)
		anon_run_in_order(run, true);
	return 0;
}

/* ---- slots ------------------------------------------------------------------------------------ */

static struct slot *slot_new(const struct vstate *st, const char *name)
{
	struct slot *s = xcalloc(1, sizeof *s);
	s->name = xstrdup(name);
	s->t = xcalloc(st->nchecks, sizeof *s->t);
	for (size_t i = 0; i < st->nchecks; i++) {
		const struct check *c = &st->checks[i];
		struct tally *t = &s->t[i];
		t->seen = xcalloc(c->ncols, sizeof *t->seen);
		t->fail = xcalloc(c->kind == CK_REQUIRE ? c->ncols : 1, sizeof *t->fail);
		ktab_init(&t->classes, st->seed);
		t->pairs = xcalloc(c->nldiv, sizeof *t->pairs);
		for (size_t j = 0; j < c->nldiv; j++)
			ktab_init(&t->pairs[j], st->seed);
	}
	s->pii_seen = xcalloc(st->npii, sizeof *s->pii_seen);
	if (st->npii)
		s->pii = xcalloc(st->npii * PII_NKINDS, sizeof *s->pii);
	return s;
}

/* Room for n columns in the per-column arrays (a dump's COPY without a column list may have
 * rows of any width). */
static void slot_widen(const struct vstate *st, struct slot *s, size_t n)
{
	if (n <= s->width)
		return;
	size_t old = s->width;
	if (!st->npii) {
		s->pii = xrealloc(s->pii, n * PII_NKINDS * sizeof *s->pii);
		memset(s->pii + old * PII_NKINDS, 0, (n - old) * PII_NKINDS * sizeof *s->pii);
	}
	s->deny = xrealloc(s->deny, n * sizeof *s->deny);
	memset(s->deny + old, 0, (n - old) * sizeof *s->deny);
	s->sug = xrealloc(s->sug, n * sizeof *s->sug);
	memset(s->sug + old, 0, (n - old) * sizeof *s->sug);
	s->width = n;
}

static void slot_free(const struct vstate *st, struct slot *s)
{
	for (size_t i = 0; i < st->nchecks; i++) {
		struct tally *t = &s->t[i];
		free(t->seen);
		free(t->fail);
		hset_free(&t->set);
		ktab_free(&t->classes);
		for (size_t j = 0; j < st->checks[i].nldiv; j++)
			ktab_free(&t->pairs[j]);
		free(t->pairs);
	}
	free(s->t);
	free(s->pii);
	free(s->pii_seen);
	free(s->deny);
	free(s->sug);
	for (size_t i = 0; i < s->ncols; i++)
		free(s->cols[i]);
	free(s->cols);
	json_decref(s->expect);
	json_decref(s->policy);
	free(s->name);
	free(s);
}

static bool same_name(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- workers ----------------------------------------------------------------------------------- */

static void *worker_init(struct anon_run *run)
{
	const struct vstate *st = anon_tool_state(run);
	struct vworker *w = xcalloc(1, sizeof *w);
	if (st->det && !(w->ds = detect_scratch_new(st->det)))
		anon_die(EX_SOFTWARE, "out of memory");
	w->mac_unique = mac_dup(st->mac_unique);
	w->mac_deny = mac_dup(st->mac_deny);
	return w;
}

static struct slot *worker_slot(const struct vstate *st, struct vworker *w,
				const struct anon_rowinfo *r)
{
	if (w->cur && w->cur->key == r->table)
		return w->cur;
	struct slot *s;
	for (s = w->slots; s; s = s->next)
		if (s->key == r->table || same_name(s->name, r->table))
			break;
	if (!s) {
		s = slot_new(st, r->table);
		s->next = w->slots;
		w->slots = s;
	}
	s->key = r->table;
	return w->cur = s;
}

static void merge_tally(const struct check *c, struct tally *into, struct tally *from)
{
	for (size_t j = 0; j < c->ncols; j++)
		into->seen[j] |= from->seen[j];
	for (size_t j = 0; j < (c->kind == CK_REQUIRE ? c->ncols : 1); j++)
		rowlist_merge(&into->fail[j], &from->fail[j]);
	into->values += from->values;
	if (c->kind == CK_UNIQUE)
		hset_merge(&into->set, &from->set, &into->fail[0]);
	if (c->kind == CK_KANON) {
		ktab_merge(&into->classes, &from->classes);
		for (size_t j = 0; j < c->nldiv; j++)
			ktab_merge(&into->pairs[j], &from->pairs[j]);
	}
}

static void merge_slot(struct vstate *st, struct slot *w)
{
	struct slot *s;
	for (s = st->slots; s; s = s->next)
		if (same_name(s->name, w->name))
			break;
	if (!s) { /* every table starts in table(): not reached */
		s = slot_new(st, w->name);
		*st->tail = s;
		st->tail = &s->next;
	}
	s->rows += w->rows;
	for (size_t i = 0; i < st->nchecks; i++)
		merge_tally(&st->checks[i], &s->t[i], &w->t[i]);
	slot_widen(st, s, w->width);
	for (size_t i = 0; i < st->npii; i++)
		s->pii_seen[i] |= w->pii_seen[i];
	for (size_t i = 0; i < pii_width(st, w) * PII_NKINDS && w->pii; i++)
		rowlist_merge(&s->pii[i], &w->pii[i]);
	for (size_t i = 0; i < w->width; i++) {
		rowlist_merge(&s->deny[i], &w->deny[i]);
		struct sugcol *a = &s->sug[i];
		const struct sugcol *b = &w->sug[i];
		a->values += b->values;
		a->names += b->names;
		a->dates += b->dates;
		for (int k = 0; k < PII_NKINDS; k++) {
			a->hits[k] += b->hits[k];
			a->whole[k] += b->whole[k];
		}
	}
}

static void worker_free(struct anon_run *run, void *arg)
{
	struct vstate *st = anon_tool_state(run);
	struct vworker *w = arg;
	while (w->slots) {
		struct slot *s = w->slots;
		w->slots = s->next;
		merge_slot(st, s);
		slot_free(st, s);
	}
	detect_scratch_free(w->ds);
	EVP_MAC_CTX_free(w->mac_unique);
	EVP_MAC_CTX_free(w->mac_deny);
	if (w->norm.p)
		OPENSSL_cleanse(w->norm.p, w->norm.cap);
	if (w->key.p)
		OPENSSL_cleanse(w->key.p, w->key.cap);
	anon_buf_free(&w->key);
	anon_buf_free(&w->norm);
	free(w->words);
	free(w);
}

/* ---- table(): the checks of a table's columns, before any of its rows ------------------------ */

static const char *table_label(const char *name)
{
	return name ? name : "the input";
}

/* A column for messages: 'name', or column N when the name looks like data. */
static void col_label(char *out, size_t n, const char *name, size_t i)
{
	const char *p = anon_name_printable(name);
	if (p)
		snprintf(out, n, "'%s'", p);
	else
		snprintf(out, n, "column %zu", i + 1);
}

/* The column a --expect-columns entry names, as a file's header or a dump's table writes it:
 * NULL when the entry names another table. */
static char *expect_name(const char *spec, const char *table)
{
	char *parts[3], *name = NULL;
	int np = anon_spec_split(spec, parts);
	if (!table) /* a header's names may hold dots: "a.b" is one name unless quoted */
		name = xstrdup(spec[0] == '"' && np == 1 ? parts[0] : spec);
	else if (np == 1 || (np > 1 && spec_names_table(table, parts, np)))
		name = xstrdup(parts[np - 1]);
	for (int i = 0; i < np; i++)
		free(parts[i]);
	return name;
}

static bool check_expect(struct vstate *st, struct slot *s, const struct anon_table *t)
{
	char **want = xcalloc(st->nexpect, sizeof *want);
	size_t nwant = 0;
	for (size_t i = 0; i < st->nexpect; i++)
		if ((want[nwant] = expect_name(st->expect[i], t->name)))
			nwant++;
	json_t *e = json_object(), *missing = json_array(), *unexpected = json_array();
	bool order = true;
	const char *where = table_label(t->name);
	if (!t->cols)
		anon_error("%s names no columns: give --schema, so --expect-columns has names to "
			   "compare", where);
	else if (nwant == 0)
		anon_error("%s is not expected: --expect-columns names none of its columns", where);
	for (size_t i = 0; i < nwant; i++) {
		bool found = false;
		for (size_t j = 0; j < t->ncols && t->cols; j++)
			found |= strcmp(t->cols[j], want[i]) == 0;
		if (!found) {
			json_array_append_new(missing, jstr(want[i]));
			if (t->cols)
				anon_error("%s lacks '%s', which --expect-columns names", where,
					   want[i]);
		}
		if (!t->cols || i >= t->ncols || strcmp(t->cols[i], want[i]) != 0)
			order = false;
	}
	for (size_t j = 0; j < t->ncols && t->cols; j++) {
		bool found = false;
		for (size_t i = 0; i < nwant; i++)
			found |= strcmp(t->cols[j], want[i]) == 0;
		if (found)
			continue;
		json_array_append_new(unexpected, col_json(t->cols[j], j));
		char lab[100];
		col_label(lab, sizeof lab, t->cols[j], j);
		anon_error("%s has %s, which --expect-columns does not name", where, lab);
	}
	bool same = t->cols && nwant > 0 && json_array_size(missing) == 0 &&
		    json_array_size(unexpected) == 0;
	if (same && (!order || nwant != t->ncols)) {
		anon_error("%s has the columns --expect-columns names, in another order", where);
		order = false;
	}
	json_object_set_new(e, "check", json_string("expect-columns"));
	json_object_set_new(e, "table", jstr(t->name));
	json_object_set_new(e, "line", json_integer((json_int_t)t->line));
	json_object_set_new(e, "passed", json_boolean(same && order));
	json_object_set_new(e, "missing", missing);
	json_object_set_new(e, "unexpected", unexpected);
	json_object_set_new(e, "order", json_boolean(order));
	s->expect = e;
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	return same && order;
}

static bool check_policy(struct vstate *st, struct slot *s, const struct anon_table *t)
{
	json_t *e = json_object(), *unlisted = json_array(), *todo = json_array();
	json_object_set_new(e, "check", json_string("policy"));
	json_object_set_new(e, "table", jstr(t->name));
	json_object_set_new(e, "line", json_integer((json_int_t)t->line));
	size_t shown = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *nm = t->cols ? t->cols[i] : NULL;
		struct policy_entry *pe = nm ? policy_find(&st->policy, t->name, nm) : NULL;
		if (pe && strcmp(pe->rule, "TODO") != 0)
			continue;
		json_array_append_new(pe ? todo : unlisted, col_json(nm, i));
		if (shown++ < 5) {
			char lab[100];
			col_label(lab, sizeof lab, nm, i);
			anon_error(pe ? "%s: %s of %s is still marked TODO (line %u): replace it with keep "
					"or the rule a stage applies" :
					"%s does not list %s of %s: every column that may reach the "
					"output must be in the policy%.0u",
				   st->policy.path, lab, table_label(t->name), pe ? pe->line : 0);
		}
	}
	if (shown > 5)
		anon_error("%s: and %zu more columns of %s", st->policy.path, shown - 5,
			   table_label(t->name));
	if (!t->cols)
		anon_error("%s names no columns: give --schema, so --policy has names to look up",
			   table_label(t->name));
	bool passed = t->cols && json_array_size(unlisted) == 0 && json_array_size(todo) == 0;
	json_object_set_new(e, "passed", json_boolean(passed));
	json_object_set_new(e, "columns", json_integer((json_int_t)t->ncols));
	json_object_set_new(e, "unlisted", unlisted);
	json_object_set_new(e, "unreviewed", todo);
	s->policy = e;
	return passed;
}

static void policy_init_table(struct vstate *st, const struct anon_table *t)
{
	struct anon_buf *b = &st->init;
	char parts[2][256];
	int np = 0;
	if (t->name) { /* "schema.table": written back part by part, quoted where need be */
		const char *dot = strchr(t->name, '.');
		if (dot && (size_t)(dot - t->name) < sizeof parts[0] && strlen(dot + 1) < sizeof parts[1]) {
			snprintf(parts[0], sizeof parts[0], "%.*s", (int)(dot - t->name), t->name);
			snprintf(parts[1], sizeof parts[1], "%s", dot + 1);
			np = 2;
		} else if (strlen(t->name) < sizeof parts[0]) {
			snprintf(parts[0], sizeof parts[0], "%s", t->name);
			np = 1;
		}
		anon_buf_addstr(b, "\n# ");
		anon_buf_addstr(b, t->name);
		anon_buf_addc(b, '\n');
	}
	if (!t->cols) {
		char msg[120];
		snprintf(msg, sizeof msg, "# %s names no columns: give --schema\n", table_label(t->name));
		anon_buf_addstr(b, msg);
		return;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (!anon_name_printable(t->cols[i]) && !t->name) {
			char msg[160];
			snprintf(msg, sizeof msg, "# column %zu: its name looks like a value (is the first "
				 "line a header?): name it here by hand\n", i + 1);
			anon_buf_addstr(b, msg);
			continue;
		}
		for (int k = 0; k < np; k++) {
			ident_quote(b, parts[k]);
			anon_buf_addc(b, '.');
		}
		if (t->name)
			ident_quote(b, t->cols[i]);
		else if (strchr(t->cols[i], '"') || strchr(t->cols[i], '#') ||
			 strpbrk(t->cols[i], " \t"))
			ident_quote(b, t->cols[i]);
		else
			anon_buf_addstr(b, t->cols[i]); /* a header name, dots and all */
		anon_buf_addstr(b, " TODO\n");
	}
}

static int table(struct anon_run *run, const struct anon_table *t)
{
	struct vstate *st = anon_tool_state(run);
	struct slot *s = slot_new(st, t->name);
	s->line = t->line;
	s->ncols = t->ncols;
	s->cols = xcalloc(t->ncols, sizeof *s->cols);
	for (size_t i = 0; i < t->ncols; i++)
		s->cols[i] = xstrdup(t->cols ? t->cols[i] : NULL);
	if (!t->cols) {
		free(s->cols);
		s->cols = NULL;
	}
	*st->tail = s;
	st->tail = &s->next;
	if (st->mode == MODE_POLICY_INIT) {
		policy_init_table(st, t);
		return 0;
	}
	bool ok = true;
	if (st->has_expect)
		ok &= check_expect(st, s, t);
	if (st->policy_path)
		ok &= check_policy(st, s, t);
	return ok ? 0 : ANON_EX_CHECK;
}

/* ---- row() ------------------------------------------------------------------------------------ */

static void scan_pii(const struct vstate *st, struct vworker *w, struct rowlist *tally,
		     const struct anon_field *f, uint64_t line)
{
	if (f->null || f->len == 0)
		return;
	unsigned hits = detect_pii(st->det, w->ds, st->pii_kinds, f->p, f->len, NULL);
	while (hits) {
		int k = __builtin_ctz(hits);
		rowlist_add(&tally[k], line);
		hits &= hits - 1;
	}
}

static bool deny_len(const struct vstate *st, size_t n)
{
	return n >= 1024 ? st->deny_long : (st->deny_len[n / 64] >> (n % 64)) & 1;
}

static bool deny_has(const struct vstate *st, struct vworker *w, const unsigned char *p, size_t n)
{
	if (!deny_len(st, n) || !bloom_has(st, p, n))
		return false;
	struct anon_field v = { p, n, false };
	unsigned char h[16];
	mac128(w->mac_deny, &v, 1, h);
	return hset_has(&st->deny, h);
}

static bool opener(unsigned char c)
{
	return c == '"' || c == '\'' || c == '(' || c == '[' || c == '{' || c == '<';
}

static bool closer(unsigned char c)
{
	return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == '>' || c == '.' ||
	       c == ',' || c == ';' || c == ':' || c == '!' || c == '?';
}

/* Is a deny-listed value the whole field, or a run of whole words of it (punctuation around
 * the run aside)? */
static bool deny_match(const struct vstate *st, struct vworker *w, const struct anon_field *f)
{
	if (f->null || f->len == 0)
		return false;
	normalize(&w->norm, f->p, f->len);
	const unsigned char *p = w->norm.p;
	size_t n = w->norm.len;
	if (n == 0)
		return false;
	if (deny_has(st, w, p, n))
		return true;
	size_t nw = 0;
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && p[e] != ' ')
			e++;
		if (nw == w->capwords) {
			w->capwords = w->capwords ? w->capwords * 2 : 32;
			w->words = xrealloc(w->words, w->capwords * sizeof *w->words);
		}
		w->words[nw].s = i;
		w->words[nw].e = e;
		nw++;
		i = e + 1;
	}
	for (size_t k = 1; k < 32 && k <= nw; k++) {
		if (!(st->deny_words & (1u << k)))
			continue;
		for (size_t i = 0; i + k <= nw; i++) {
			size_t s = w->words[i].s, e = w->words[i + k - 1].e;
			if (k < nw && deny_has(st, w, p + s, e - s))
				return true;
			size_t s2 = s, e2 = e;
			while (s2 < e2 && opener(p[s2]))
				s2++;
			while (e2 > s2 && closer(p[e2 - 1]))
				e2--;
			if ((s2 != s || e2 != e) && e2 > s2 && deny_has(st, w, p + s2, e2 - s2))
				return true;
		}
	}
	return false;
}

static void unique_row(const struct check *c, struct tally *t, struct vworker *w,
		       const struct anon_rowinfo *r)
{
	struct anon_field v[16], *vals = c->ncols <= 16 ? v : xcalloc(c->ncols, sizeof *vals);
	size_t j;
	for (j = 0; j < c->ncols; j++)
		if (!anon_row_get(r, c->refs[j], &vals[j]) || vals[j].null)
			break; /* a NULL is never a duplicate, as in a UNIQUE constraint */
	if (j == c->ncols) {
		for (j = 0; j < c->ncols; j++)
			t->seen[j] = true;
		unsigned char h[16];
		mac128(w->mac_unique, vals, c->ncols, h);
		t->values++;
		uint64_t dup = hset_add(&t->set, h, r->line);
		if (dup)
			rowlist_add(&t->fail[0], dup);
	}
	if (vals != v)
		free(vals);
}

static void key_add(struct anon_buf *b, const struct anon_field *f)
{
	unsigned char hdr[5] = { f->null ? 0 : 1, (unsigned char)(f->len >> 24),
				 (unsigned char)(f->len >> 16), (unsigned char)(f->len >> 8),
				 (unsigned char)f->len };
	anon_buf_add(b, hdr, f->null ? 1 : 5);
	if (!f->null)
		anon_buf_add(b, f->p, f->len);
}

static void kanon_row(const struct check *c, struct tally *t, struct vworker *w,
		      const struct anon_rowinfo *r)
{
	struct anon_field f;
	w->key.len = 0;
	for (size_t j = 0; j < c->ncols; j++) {
		if (!anon_row_get(r, c->refs[j], &f))
			return;
		key_add(&w->key, &f);
	}
	for (size_t j = 0; j < c->ncols; j++)
		t->seen[j] = true;
	t->values++;
	size_t klen = w->key.len;
	ktab_add(&t->classes, w->key.p, klen, 0, 1, r->line);
	for (size_t j = 0; j < c->nldiv; j++) {
		if (!anon_row_get(r, c->ldiv[j].ref, &f) || f.null)
			continue;
		w->key.len = klen;
		key_add(&w->key, &f);
		ktab_add(&t->pairs[j], w->key.p, w->key.len, (uint32_t)klen, 1, r->line);
	}
}

static void checks_row(const struct vstate *st, struct vworker *w, struct slot *s,
		       const struct anon_rowinfo *r)
{
	struct anon_field f;
	for (size_t i = 0; i < st->nchecks; i++) {
		const struct check *c = &st->checks[i];
		struct tally *t = &s->t[i];
		switch (c->kind) {
		case CK_REQUIRE:
			for (size_t j = 0; j < c->ncols; j++) {
				if (!anon_row_get(r, c->refs[j], &f))
					continue;
				t->seen[j] = true;
				if (f.null || f.len == 0)
					rowlist_add(&t->fail[j], r->line);
			}
			break;
		case CK_TYPE:
		case CK_RANGE:
			if (!anon_row_get(r, c->refs[0], &f))
				break;
			t->seen[0] = true;
			if (f.null)
				break; /* --require is the check for NULLs */
			if (c->kind == CK_TYPE ? !vtype_check(c->type, f.p, f.len, r->utf8)
					       : !range_check(&c->range, f.p, f.len))
				rowlist_add(&t->fail[0], r->line);
			break;
		case CK_UNIQUE:
			unique_row(c, t, w, r);
			break;
		case CK_KANON:
			kanon_row(c, t, w, r);
			break;
		}
	}
}

static void suggest_row(struct vstate *st, struct vworker *w, struct slot *s,
			const struct anon_rowinfo *r)
{
	if (atomic_fetch_add(&st->sampled, 1) >= st->sample)
		return;
	size_t n = anon_row_width(r);
	slot_widen(st, s, n);
	for (size_t i = 0; i < n; i++) {
		struct anon_field f;
		anon_row_field(r, i, &f);
		if (f.null || f.len == 0)
			continue;
		struct sugcol *c = &s->sug[i];
		unsigned whole, hits = detect_pii(st->det, w->ds, PII_ALL, f.p, f.len, &whole);
		c->values++;
		for (int k = 0; k < PII_NKINDS; k++) {
			c->hits[k] += (hits >> k) & 1;
			c->whole[k] += (whole >> k) & 1;
		}
		c->names += !hits && detect_name(st->det, w->ds, f.p, f.len);
		c->dates += vtype_check(VT_DATE, f.p, f.len, true) ||
			    vtype_check(VT_TIMESTAMP, f.p, f.len, true);
	}
}

static enum anon_status row(const struct anon_rowinfo *r, const char **errmsg)
{
	struct vstate *st = anon_tool_state(r->run);
	struct vworker *w = r->worker;
	struct slot *s = worker_slot(st, w, r);
	s->rows++;
	if (st->mode == MODE_POLICY_INIT)
		return ANON_OK;
	if (st->mode == MODE_SUGGEST) {
		suggest_row(st, w, s, r);
		return ANON_OK;
	}
	checks_row(st, w, s, r);
	struct anon_field f;
	for (size_t j = 0; j < st->npii; j++) {
		if (!anon_row_get(r, st->pii_refs[j], &f))
			continue;
		s->pii_seen[j] = true;
		scan_pii(st, w, &s->pii[j * PII_NKINDS], &f, r->line);
	}
	bool all = st->pii_kinds && !st->npii;
	if (all || st->ndeny_paths) {
		size_t n = anon_row_width(r);
		slot_widen(st, s, n);
		for (size_t i = 0; i < n; i++) {
			anon_row_field(r, i, &f);
			if (all)
				scan_pii(st, w, &s->pii[i * PII_NKINDS], &f, r->line);
			if (st->ndeny_paths && deny_match(st, w, &f))
				rowlist_add(&s->deny[i], r->line);
		}
	}
	return ANON_OK;
}


static int finish(struct anon_run *run, json_t *rec)
{
	struct vstate *st = anon_tool_state(run);
	struct anon_counts n;
	anon_run_counts(run, &n);
	st->finished = true;
	const char *fmt = json_string_value(json_object_get(rec, "format"));
	st->format = fmt && strcmp(fmt, "csv") != 0 ? xstrdup(fmt) : NULL;
	if (st->mode == MODE_POLICY_INIT) {
		json_object_set_new(rec, "mode", json_string("policy-init"));
		return 0;
	}
	if (st->mode == MODE_SUGGEST) {
		json_object_set_new(rec, "mode", json_string("suggest"));
		json_object_set_new(rec, "sample", json_integer((json_int_t)st->sample));
		suggest_text(st, rec);
		return 0;
	}
	json_decref(st->verdict);
	st->verdict = verdict_summary(st, &n, rec);
	json_object_set(rec, "verdict", st->verdict);
	/* the header of the verdict document, from lib's record */
	json_t *head = json_object();
	json_object_set_new(head, "tool", json_string("anon-validate"));
	json_object_set_new(head, "version", json_string(ANON_VERSION));
	static const char *const from_rec[] = { "input", "format", "run_id", NULL };
	for (int i = 0; from_rec[i]; i++)
		if (json_object_get(rec, from_rec[i]))
			json_object_set(head, from_rec[i], json_object_get(rec, from_rec[i]));
	json_object_update(head, st->verdict);
	json_decref(st->verdict);
	st->verdict = head;
	st->status = json_is_true(json_object_get(head, "passed")) ? 0 : ANON_EX_CHECK;
	return st->status;
}

/* ---- the way out ----------------------------------------------------------------------------- */

static bool write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		c += k;
		n -= (size_t)k;
	}
	return true;
}

/* Write what the run made: the verdict, the suggestion or the starting policy. complete: the
 * run ended normally (anon_main returned). Returns the exit status. */
static int emit(struct vstate *st, int code, bool complete)
{
	if (!st->started || st->emitted)
		return code;
	st->emitted = true;
	if (st->mode != MODE_CHECK) {
		if (!complete)
			return code; /* a partial suggestion or policy would mislead */
		struct anon_buf *b = st->mode == MODE_SUGGEST ? &st->suggest : &st->init;
		if (st->mode == MODE_POLICY_INIT) {
			struct anon_buf out = { 0 };
			anon_buf_addstr(&out, "# anon-validate policy: every column that may reach the "
				"output, one a line, followed by\n# keep (it passes as it is) or by the "
				"rule a stage applies (hash:email, mask:phone,\n# fpe:luhn-fail, "
				"noise:truncate:year, ...). Written by anon-validate --policy-init:\n# "
				"review every line; a column still marked TODO fails the gate.\n");
			anon_buf_add(&out, b->p, b->len);
			bool ok = write_all(st->out_fd, out.p, out.len);
			anon_buf_free(&out);
			if (!ok) {
				anon_error("stdout: %s", strerror(errno));
				return EX_IOERR;
			}
			return code;
		}
		if (!write_all(st->out_fd, b->p, b->len)) {
			anon_error("stdout: %s", strerror(errno));
			return EX_IOERR;
		}
		return code;
	}
	json_t *v = st->verdict ? json_incref(st->verdict) : json_object();
	if (!st->verdict) { /* the run stopped before its checks were summed */
		json_object_set_new(v, "tool", json_string("anon-validate"));
		json_object_set_new(v, "version", json_string(ANON_VERSION));
		json_object_set_new(v, "checks", json_array());
	}
	/* the members in the order a reader wants them: what ran, how it ended, then the checks */
	json_t *o = json_object();
	static const char *const first[] = { "tool", "version", "input", "format", "run_id", NULL };
	for (int i = 0; first[i]; i++)
		if (json_object_get(v, first[i]))
			json_object_set(o, first[i], json_object_get(v, first[i]));
	json_object_set_new(o, "passed", json_boolean(complete && code == 0 &&
						     json_is_true(json_object_get(v, "passed"))));
	json_object_set_new(o, "complete", json_boolean(complete));
	json_object_set_new(o, "exit_code", json_integer(code));
	json_object_update_missing(o, v);
	json_decref(v);
	char *text = verdict_text(o);
	json_decref(o);
	int fd = st->verdict_path ? st->verdict_fd : st->pass ? STDERR_FILENO : st->out_fd;
	bool ok = text && write_all(fd, text, strlen(text));
	free(text);
	if (st->verdict_path && close(st->verdict_fd) != 0)
		ok = false;
	if (!ok) {
		anon_error("%s: %s", st->verdict_path ? st->verdict_path : "the verdict", strerror(errno));
		return complete && code == 0 ? EX_IOERR : code;
	}
	return code;
}

static void on_exit_emit(int status, void *arg)
{
	emit(arg, status, false);
}

static void state_free(struct vstate *st)
{
	for (size_t i = 0; i < st->nchecks; i++) {
		struct check *c = &st->checks[i];
		cols_free(c->specs, c->ncols);
		free(c->refs);
		range_free(&c->range);
		for (size_t j = 0; j < c->nldiv; j++)
			free(c->ldiv[j].spec);
		free(c->ldiv);
	}
	while (st->slots) {
		struct slot *s = st->slots;
		st->slots = s->next;
		slot_free(st, s);
	}
	free(st->checks);
	cols_free(st->pii_specs, st->npii);
	free(st->pii_refs);
	cols_free(st->expect, st->nexpect);
	free(st->deny_paths);
	policy_free(&st->policy);
	hset_free(&st->deny);
	detectors_free(st->det);
	EVP_MAC_CTX_free(st->mac_unique);
	EVP_MAC_CTX_free(st->mac_deny);
	anon_buf_free(&st->init);
	anon_buf_free(&st->suggest);
	free(st->deny_bloom);
	json_decref(st->verdict);
	free((char *)st->format);
}

static const struct anon_tool tool = {
	.name = "anon-validate",
	.synopsis = "[options] [--pass] [--verdict FILE] [--expect-columns COLS] [--require COLS]\n"
		    "       [--type COL=TYPE] [--range COL=LO..HI] [--unique COLS] [--pii KINDS]\n"
		    "       [--pii-columns COLS] [--deny-list FILE] [--k-anon COLS:K [--l-div COL:L]]\n"
		    "       [--policy FILE] [FILE]\n"
		    "       anon-validate --suggest [--sample N] [FILE]\n"
		    "       anon-validate --policy-init [FILE]",
	.help = "checks (any number; none given: --pii all):\n"
		"      --expect-columns COLS  the header is exactly these columns (at its start)\n"
		"      --require COLS        never NULL or empty\n"
		"      --type COL=TYPE       int numeric bool date timestamp email uuid text\n"
		"      --range COL=LO..HI    decimal or date bounds (either end may be left out)\n"
		"      --unique COLS         no two rows share these columns' values\n"
		"      --pii KINDS           all, or email,phone,card,ssn,iban,ip\n"
		"      --pii-columns COLS    where to look (default: every column)\n"
		"      --deny-list FILE      values (one a line) that must appear in no field\n"
		"      --k-anon COLS:K       every class of these columns holds K rows or more\n"
		"      --l-div COL:L         ... and L distinct values of COL (after --k-anon)\n"
		"      --policy FILE         every column must be listed (at its table's start)\n"
		"output:\n"
		"      --verdict FILE        the JSON verdict (default: stdout; stderr with --pass)\n"
		"      --pass                copy the input to stdout unchanged\n"
		"modes:\n"
		"      --suggest [--sample N]  what the first N rows (100000) hold, and a pipeline\n"
		"      --policy-init         a starting policy from the input's columns\n",
	.longopts = longopts,
	.option = option,
	.rule = rule,
	.check = check,
	.start = start,
	.worker_init = worker_init,
	.worker_free = worker_free,
	.table = table,
	.row = row,
	.finish = finish,
};

int main(int argc, char **argv)
{
	static struct vstate st;
	st.mode = MODE_CHECK;
	st.verdict_fd = -1;
	st.tail = &st.slots;
	/* lib closes standard output when its run ends: the verdict goes to a copy of it */
	st.out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	on_exit(on_exit_emit, &st);
	int rc = anon_main(&tool, &st, argc, argv);
	rc = emit(&st, rc, true);
	if (st.out_fd >= 0)
		close(st.out_fd);
	state_free(&st);
	return rc;
}
