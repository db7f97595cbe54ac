/* anon-mask: redaction and partial masking with retention, PCRE2 patterns, and
 * deterministic fakes.  The rules live in rules.c and fake.c; this file is the command. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mask.h"

enum { OPT_MASK_CHAR = 900, OPT_FIXED_LENGTH, OPT_WHERE, OPT_ON_MISMATCH };

static const struct option longopts[] = {
	{ "mask-char", required_argument, NULL, OPT_MASK_CHAR },
	{ "fixed-length", required_argument, NULL, OPT_FIXED_LENGTH },
	{ "where", required_argument, NULL, OPT_WHERE },
	{ "on-mismatch", required_argument, NULL, OPT_ON_MISMATCH },
	{ 0 },
};

/* --where COL~PATTERN */
struct where {
	char *spec;
	struct anon_ref *ref;
	pcre2_code *re;             /* its match data is the workers' (struct mask_worker) */
};

/* The tool state: read-only from start() on, but for the figures worker_free() adds up. */
struct mask_state {
	struct mask_opts opts;
	struct fake_ctx fake;
	struct where *where;
	size_t nwhere;
	uint64_t *mismatched;    /* per -c, by ordinal: values that did not fit the rule */
	uint64_t outside_where;  /* fields left alone because their row failed --where */
};

/* A worker's state: what masking a value changes, so that workers share nothing else. */
struct mask_worker {
	struct mask_work *cols;      /* per -c, by ordinal */
	size_t ncols;
	pcre2_match_data **where_md; /* per --where */
	EVP_MAC_CTX *hmac;           /* the fakes' HMAC, the worker's copy; NULL without fakes */
	uint64_t outside_where;
};

/* calloc that never returns NULL, even for n == 0. */
static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

static int mask_option(struct anon_run *run, int opt, const char *arg)
{
	struct mask_state *st = anon_tool_state(run);
	switch (opt) {
	case OPT_MASK_CHAR: {
		uint32_t cp;
		size_t n = strlen(arg);
		if (n == 0 || anon_utf8_decode((const unsigned char *)arg, n, &cp) != n || cp == 0) {
			anon_error("--mask-char takes one character");
			return EX_USAGE;
		}
		memcpy(st->opts.mask_char, arg, n);
		st->opts.mask_len = n;
		return 0;
	}
	case OPT_FIXED_LENGTH: {
		uint64_t n;
		if (!anon_parse_uint64(arg, &n) || n > 4096) {
			anon_error("--fixed-length takes a number of characters, 0 to 4096");
			return EX_USAGE;
		}
		st->opts.fixed_length = (long)n;
		return 0;
	}
	case OPT_ON_MISMATCH:
		if (strcmp(arg, "mask") == 0)
			st->opts.on_mismatch = MISMATCH_MASK;
		else if (strcmp(arg, "keep") == 0)
			st->opts.on_mismatch = MISMATCH_KEEP;
		else if (strcmp(arg, "null") == 0)
			st->opts.on_mismatch = MISMATCH_NULL;
		else {
			anon_error("--on-mismatch takes keep, mask or null");
			return EX_USAGE;
		}
		return 0;
	case OPT_WHERE: {
		const char *tilde = strchr(arg, '~');
		if (!tilde || tilde == arg || tilde[1] == '\0') {
			anon_error("--where takes COLUMN~PATTERN");
			return EX_USAGE;
		}
		struct where *w = realloc(st->where, (st->nwhere + 1) * sizeof(*w));
		if (!w)
			anon_die(EX_SOFTWARE, "out of memory");
		st->where = w;
		w = &st->where[st->nwhere];
		memset(w, 0, sizeof(*w));
		if (!(w->spec = strndup(arg, (size_t)(tilde - arg))))
			anon_die(EX_SOFTWARE, "out of memory");
		char err[300];
		/* The column tested may hold anything: invalid UTF-8 simply does not match. */
		if (!(w->re = anon_mask_compile(tilde + 1, PCRE2_MATCH_INVALID_UTF, NULL,
						err, sizeof(err)))) {
			anon_error("--where %s: %s", w->spec, err);
			free(w->spec);
			return EX_USAGE;
		}
		st->nwhere++;
		return 0;
	}
	}
	return EX_USAGE;
}

static const char *const kind_names[] = {
	[MASK_REDACT] = "redact", [MASK_NULL] = "null", [MASK_CONST] = "const",
	[MASK_LABEL] = "label", [MASK_FIRST] = "first", [MASK_LAST] = "last",
	[MASK_PARTIAL] = "partial", [MASK_EMAIL] = "email", [MASK_PHONE] = "phone",
	[MASK_CARD] = "card", [MASK_REGEX] = "regex", [MASK_KEEP] = "keep", [MASK_FAKE] = "fake",
};

static int mask_rule(struct anon_run *run, struct anon_column *col)
{
	struct mask_state *st = anon_tool_state(run);
	struct mask_rule *r = calloc(1, sizeof(*r));
	if (!r)
		anon_die(EX_SOFTWARE, "out of memory");
	char err[300];
	if (anon_mask_rule_parse(r, col->rule, col->spec, err, sizeof(err)) < 0) {
		anon_error("-c %s: %s", col->spec, err);
		free(r);
		return EX_USAGE;
	}
	r->fake_ctx = &st->fake;
	col->state = r;
	json_t *p = json_object();
	json_object_set_new(p, "rule", json_string(kind_names[r->kind]));
	switch (r->kind) {
	case MASK_FIRST:
	case MASK_LAST:
	case MASK_PARTIAL:
		json_object_set_new(p, "keep_first", json_integer((json_int_t)r->keep_first));
		json_object_set_new(p, "keep_last", json_integer((json_int_t)r->keep_last));
		break;
	case MASK_EMAIL:
		json_object_set_new(p, "keep", json_string(r->tld ? "tld" : "domain"));
		break;
	case MASK_CARD:
		json_object_set_new(p, "keep_bin", json_boolean(r->bin));
		break;
	case MASK_REGEX:
	case MASK_KEEP:
		json_object_set_new(p, "groups", json_integer(r->ncaps));
		break;
	case MASK_FAKE:
		json_object_set_new(p, "kind", json_string(strchr(col->rule, ':') + 1));
		break;
	default:
		break;
	}
	col->params = p;
	return 0;
}

static const char *hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	return out;
}

/* Load the dictionaries the fake: rules need and key their HMAC: only then is a key
 * required, so a run without fakes works without one. */
static int start_fakes(struct anon_run *run, struct mask_state *st)
{
	size_t ncols;
	struct anon_column *cols = anon_run_columns(run, &ncols);
	unsigned need = 0;
	for (size_t i = 0; i < ncols; i++) {
		struct mask_rule *r = cols[i].state;
		if (r->kind == MASK_FAKE)
			need |= anon_fake_dicts_needed(r->fake);
	}
	if (!need)
		return 0;
	const char *dir = anon_fake_datadir();
	if (!dir) {
		anon_error("fake: no dictionaries in $ANON_DATADIR/fake, ../data/fake beside the "
			   "program, or %s/fake", ANON_DATADIR);
		return EX_CONFIG;
	}
	for (int d = 0; d < FAKE_NDICTS; d++) {
		char err[PATH_MAX + 64];
		if ((need & 1u << d) && anon_fake_dict_load(&st->fake, d, dir, err, sizeof(err)) < 0) {
			anon_error("fake: %s", err);
			return EX_CONFIG;
		}
	}
	/* The audit record names each dictionary's SHA-256: a changed list changes fakes. */
	for (size_t i = 0; i < ncols; i++) {
		struct mask_rule *r = cols[i].state;
		if (r->kind != MASK_FAKE)
			continue;
		json_t *dicts = json_object();
		unsigned used = anon_fake_dicts_needed(r->fake);
		for (int d = 0; d < FAKE_NDICTS; d++) {
			char h[65];
			if (used & 1u << d)
				json_object_set_new(dicts, anon_fake_dict_name(d),
						    json_string(hex(st->fake.dicts[d].sha256, 32, h)));
		}
		json_object_set_new(cols[i].params, "dictionaries_sha256", dicts);
	}
	unsigned char key[32];
	anon_key_derive("mask-fake", key, sizeof(key));
	int rc = anon_fake_key(&st->fake, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0) {
		anon_error("fake: OpenSSL HMAC-SHA256 unavailable");
		return EX_SOFTWARE;
	}
	return 0;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		anon_die(EX_SOFTWARE, "out of memory");
	return d;
}

/* The name a flat table gives the column `spec` selects, as lib resolves it (select.c): a
 * quoted spec is a name; otherwise a name of the header, else a column number. NULL when the
 * input names no columns (headerless, no --schema). The caller frees it. */
static char *flat_name(const char *spec, const struct anon_table *t)
{
	if (!t->cols)
		return NULL;
	if (spec[0] == '"')
		return anon_mask_spec_column(spec);
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i], spec) == 0)
			return xstrdup(spec);
	if (strspn(spec, "0123456789") == strlen(spec) && *spec) {
		unsigned long k = strtoul(spec, NULL, 10);
		if (k >= 1 && k <= t->ncols)
			return xstrdup(t->cols[k - 1]);
	}
	return NULL;
}

/* label takes the column's name as the input spells it, decoded. In a dump that is the spec's
 * last identifier, set by rule(): lib matched the COPY column by that very name. A file names
 * its columns only now (its header, or --schema), and may be selected by number: its labels
 * are set here, on the main thread, before any of its rows reaches a worker (a file has one
 * table), so the rules are read-only again by the time anything reads them. */
static int mask_table(struct anon_run *run, const struct anon_table *t)
{
	if (t->name)
		return 0;
	size_t ncols;
	struct anon_column *cols = anon_run_columns(run, &ncols);
	for (size_t i = 0; i < ncols; i++) {
		struct mask_rule *r = cols[i].state;
		if (r->kind != MASK_LABEL)
			continue;
		char *name = flat_name(cols[i].spec, t);
		if (name)
			anon_mask_label_set(r, name);
		free(name);
	}
	return 0;
}

/* References are made once every option is parsed rather than while parsing them, so that
 * --where may come before -f pgdump. */
static int mask_check(struct anon_run *run)
{
	struct mask_state *st = anon_tool_state(run);
	for (size_t i = 0; i < st->nwhere; i++)
		st->where[i].ref = anon_ref_add(run, st->where[i].spec);
	return 0;
}

static int mask_start(struct anon_run *run)
{
	struct mask_state *st = anon_tool_state(run);
	size_t ncols;
	anon_run_columns(run, &ncols);
	st->mismatched = xcalloc(ncols, sizeof(*st->mismatched));
	return start_fakes(run, st);
}

/* Each worker matches into match data of its own and hashes fakes with its own copy of the
 * keyed HMAC: the compiled patterns, the rules and the dictionaries are shared. */
static void *mask_worker_init(struct anon_run *run)
{
	const struct mask_state *st = anon_tool_state(run);
	size_t ncols;
	struct anon_column *cols = anon_run_columns(run, &ncols);
	struct mask_worker *w = xcalloc(1, sizeof(*w));
	w->hmac = anon_fake_hmac_dup(&st->fake);
	w->ncols = ncols;
	w->cols = xcalloc(ncols, sizeof(*w->cols));
	for (size_t i = 0; i < ncols; i++) {
		struct mask_work *cw = &w->cols[cols[i].ordinal];
		anon_mask_work_init(cw, cols[i].state);
		cw->hmac = w->hmac;
	}
	w->where_md = xcalloc(st->nwhere, sizeof(*w->where_md));
	for (size_t i = 0; i < st->nwhere; i++)
		if (!(w->where_md[i] = pcre2_match_data_create_from_pattern(st->where[i].re, NULL)))
			anon_die(EX_SOFTWARE, "out of memory");
	return w;
}

/* Add the worker's figures to the run's, then release it. */
static void mask_worker_free(struct anon_run *run, void *worker)
{
	struct mask_state *st = anon_tool_state(run);
	struct mask_worker *w = worker;
	st->outside_where += w->outside_where;
	for (size_t i = 0; i < w->ncols; i++) {
		st->mismatched[i] += w->cols[i].mismatched;
		anon_mask_work_free(&w->cols[i]);
	}
	for (size_t i = 0; i < st->nwhere; i++)
		pcre2_match_data_free(w->where_md[i]);
	EVP_MAC_CTX_free(w->hmac);
	free(w->where_md);
	free(w->cols);
	free(w);
}

/* Whether the row passes every --where.  A NULL never matches; a table without the column
 * (pgdump) is not held back, so a rule never leaks for want of a column. */
static bool where_match(const struct mask_state *st, struct mask_worker *w,
			const struct anon_rowinfo *row)
{
	for (size_t i = 0; i < st->nwhere; i++) {
		const struct where *wh = &st->where[i];
		struct anon_field f;
		if (!anon_row_get(row, wh->ref, &f))
			continue;
		if (f.null || pcre2_match(wh->re, f.p, f.len, 0, 0, w->where_md[i], NULL) < 0)
			return false;
	}
	return true;
}

static enum anon_status mask_apply(const struct anon_rowinfo *row,
				   const struct anon_column *col, const struct anon_field *in,
				   struct anon_field *out, struct anon_buf *scratch,
				   const char **errmsg)
{
	const struct mask_state *st = anon_tool_state(row->run);
	struct mask_worker *w = row->worker;
	if (st->nwhere && !where_match(st, w, row)) {
		w->outside_where++;
		return ANON_KEEP;
	}
	const struct mask_rule *r = col->state;
	if (!row->utf8 && r->kind != MASK_REDACT && r->kind != MASK_NULL && r->kind != MASK_CONST &&
	    r->kind != MASK_LABEL) {
		*errmsg = "the dump's client_encoding is not UTF8, and this rule counts characters "
			  "(dump with pg_dump -E UTF8)";
		return ANON_ERR;
	}
	return anon_mask_apply(r, &w->cols[col->ordinal], &st->opts, in, out, scratch, errmsg);
}

static int mask_finish(struct anon_run *run, json_t *record)
{
	const struct mask_state *st = anon_tool_state(run);
	static const char *const mismatch[] = { "mask", "keep", "null" };
	json_t *m = json_object();
	json_object_set_new(m, "mask_char", json_stringn((const char *)st->opts.mask_char,
							  st->opts.mask_len));
	json_object_set_new(m, "fixed_length", st->opts.fixed_length >= 0
			    ? json_integer(st->opts.fixed_length) : json_null());
	json_object_set_new(m, "on_mismatch", json_string(mismatch[st->opts.on_mismatch]));
	json_object_set_new(m, "where_columns", json_integer((json_int_t)st->nwhere));
	json_object_set_new(m, "outside_where", json_integer((json_int_t)st->outside_where));
	json_t *mis = json_object();
	size_t ncols;
	struct anon_column *cols = anon_run_columns(run, &ncols);
	for (size_t i = 0; i < ncols; i++) {
		/* NULL when the run ends before start(): nothing counted yet. */
		uint64_t n = st->mismatched ? st->mismatched[cols[i].ordinal] : 0;
		if (cols[i].state)
			json_object_set_new(mis, cols[i].spec, json_integer((json_int_t)n));
	}
	json_object_set_new(m, "mismatched", mis);
	json_object_set_new(record, "mask", m);
	return 0;
}

static void mask_rule_free(struct anon_column *col)
{
	anon_mask_rule_free(col->state);
	free(col->state);
}

static const struct anon_tool tool = {
	.name = "anon-mask",
	.synopsis = "[options] [--mask-char C] [--fixed-length N] [--where COL~PATTERN]\n"
		    "       [--on-mismatch keep|mask|null] -c COLUMN[=RULE] ... [FILE]",
	.help = "rules (-c COLUMN=RULE; a column without a rule is redacted):\n"
		"  redact[:TEXT]             replace with TEXT (default ***)\n"
		"  null                      make the field NULL\n"
		"  const:TEXT                replace with TEXT\n"
		"  label                     replace with <COLUMN NAME>, as the input names it\n"
		"  first:N                   keep the first N characters, mask the rest\n"
		"  last:N                    keep the last N characters, mask the rest\n"
		"  partial:F,L               keep the first F and the last L characters\n"
		"  email[:domain|tld]        mask the local part, keep the domain (or its tld)\n"
		"  phone                     keep separators, +country code and the last 4 digits\n"
		"  card[:bin]                keep the last 4 digits (and the first 6 with bin)\n"
		"  regex:PATTERN             mask what a PCRE2 pattern (or its groups) matches\n"
		"  keep:PATTERN              keep what it (or its groups) matches, mask the rest\n"
		"  fake:KIND                 a keyed, deterministic fake (needs a key); KIND is\n"
		"                            first_name, last_name, full_name, email, city,\n"
		"                            company or street\n"
		"options:\n"
		"      --mask-char C         mask with character C (default *)\n"
		"      --fixed-length N      write each masked run as N mask characters (0-4096)\n"
		"      --where COL~PATTERN   mask only rows whose COL matches (repeat: all must)\n"
		"      --on-mismatch MODE    a value that does not fit its rule: mask (default),\n"
		"                            keep or null\n",
	.longopts = longopts,
	.needs_key = false,
	.rule_required = false,
	.option = mask_option,
	.rule = mask_rule,
	.check = mask_check,
	.start = mask_start,
	.table = mask_table,
	.worker_init = mask_worker_init,
	.worker_free = mask_worker_free,
	.apply = mask_apply,
	.finish = mask_finish,
	.rule_free = mask_rule_free,
};

int main(int argc, char **argv)
{
	static struct mask_state state;
	anon_mask_opts_init(&state.opts);
	return anon_main(&tool, &state, argc, argv);
}
