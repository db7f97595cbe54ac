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
	pcre2_code *re;
	pcre2_match_data *md;
};

struct mask_state {
	struct mask_opts opts;
	struct fake_ctx fake;
	struct where *where;
	size_t nwhere;
	uint64_t outside_where;  /* fields left alone because their row failed --where */
};

static int mask_option(struct anon_ctx *ctx, int opt, const char *arg)
{
	struct mask_state *st = anon_tool_state(ctx);
	switch (opt) {
	case OPT_MASK_CHAR: {
		uint32_t cp;
		size_t n = strlen(arg);
		if (n == 0 || anon_utf8_decode((const unsigned char *)arg, n, &cp) != n || cp == 0) {
			anon_warn("--mask-char takes one character");
			return EX_USAGE;
		}
		memcpy(st->opts.mask_char, arg, n);
		st->opts.mask_len = n;
		return 0;
	}
	case OPT_FIXED_LENGTH: {
		uint64_t n;
		if (!anon_parse_uint64(arg, &n) || n > 4096) {
			anon_warn("--fixed-length takes a number of characters, 0 to 4096");
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
			anon_warn("--on-mismatch takes keep, mask or null");
			return EX_USAGE;
		}
		return 0;
	case OPT_WHERE: {
		const char *tilde = strchr(arg, '~');
		if (!tilde || tilde == arg || tilde[1] == '\0') {
			anon_warn("--where takes COLUMN~PATTERN");
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
			anon_warn("--where %s: %s", w->spec, err);
			free(w->spec);
			return EX_USAGE;
		}
		if (!(w->md = pcre2_match_data_create(1, NULL)))
			anon_die(EX_SOFTWARE, "out of memory");
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

static int mask_rule(struct anon_ctx *ctx, struct anon_column *col)
{
	struct mask_state *st = anon_tool_state(ctx);
	struct mask_rule *r = calloc(1, sizeof(*r));
	if (!r)
		anon_die(EX_SOFTWARE, "out of memory");
	char err[300];
	if (anon_mask_rule_parse(r, col->rule, col->spec, err, sizeof(err)) < 0) {
		anon_warn("-c %s: %s", col->spec, err);
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
static int start_fakes(struct anon_ctx *ctx, struct mask_state *st)
{
	size_t ncols;
	struct anon_column *cols = anon_ctx_columns(ctx, &ncols);
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
		anon_warn("fake: no dictionaries in $ANON_DATADIR/fake, ../data/fake beside the "
			  "program, or %s/fake", ANON_DATADIR);
		return EX_CONFIG;
	}
	for (int d = 0; d < FAKE_NDICTS; d++) {
		char err[PATH_MAX + 64];
		if ((need & 1u << d) && anon_fake_dict_load(&st->fake, d, dir, err, sizeof(err)) < 0) {
			anon_warn("fake: %s", err);
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
		anon_warn("fake: OpenSSL HMAC-SHA256 unavailable");
		return EX_SOFTWARE;
	}
	return 0;
}

static int mask_start(struct anon_ctx *ctx)
{
	struct mask_state *st = anon_tool_state(ctx);
	/* References are made here rather than while parsing options, so that --where may
	 * come before -f pgdump. */
	for (size_t i = 0; i < st->nwhere; i++)
		st->where[i].ref = anon_ref_add(ctx, st->where[i].spec);
	return start_fakes(ctx, st);
}

/* Whether the row passes every --where.  A NULL never matches; a table without the column
 * (pgdump) is not held back, so a rule never leaks for want of a column. */
static bool where_match(struct mask_state *st, const struct anon_rowinfo *row)
{
	for (size_t i = 0; i < st->nwhere; i++) {
		struct where *w = &st->where[i];
		struct anon_field f;
		if (!anon_row_get(row, w->ref, &f))
			continue;
		if (f.null || pcre2_match(w->re, f.p, f.len, 0, 0, w->md, NULL) < 0)
			return false;
	}
	return true;
}

static enum anon_status mask_apply(const struct anon_rowinfo *row, struct anon_column *col,
				   const struct anon_field *in, struct anon_field *out,
				   struct anon_buf *scratch, const char **errmsg)
{
	struct mask_state *st = anon_tool_state(row->ctx);
	if (st->nwhere && !where_match(st, row)) {
		st->outside_where++;
		return ANON_KEEP;
	}
	const struct mask_rule *r = col->state;
	if (!row->utf8 && r->kind != MASK_REDACT && r->kind != MASK_NULL && r->kind != MASK_CONST &&
	    r->kind != MASK_LABEL) {
		*errmsg = "the dump's client_encoding is not UTF8, and this rule counts characters "
			  "(dump with pg_dump -E UTF8)";
		return ANON_ERR;
	}
	return anon_mask_apply(col->state, &st->opts, in, out, scratch, errmsg);
}

static void mask_audit(struct anon_ctx *ctx, json_t *record)
{
	struct mask_state *st = anon_tool_state(ctx);
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
	struct anon_column *cols = anon_ctx_columns(ctx, &ncols);
	for (size_t i = 0; i < ncols; i++) {
		struct mask_rule *r = cols[i].state;
		if (r)
			json_object_set_new(mis, cols[i].spec, json_integer((json_int_t)r->mismatched));
	}
	json_object_set_new(m, "mismatched", mis);
	json_object_set_new(record, "mask", m);
}

static const struct anon_tool tool = {
	.name = "anon-mask",
	.synopsis = "[options] [--mask-char C] [--fixed-length N] [--where COL~PATTERN]\n"
		    "       [--on-mismatch keep|mask|null] -c COLUMN[=RULE] ... [FILE]",
	.longopts = longopts,
	.needs_key = false,
	.rule_required = false,
	.option = mask_option,
	.rule = mask_rule,
	.start = mask_start,
	.apply = mask_apply,
	.audit = mask_audit,
};

int main(int argc, char **argv)
{
	static struct mask_state state;
	anon_mask_opts_init(&state.opts);
	return anon_main(&tool, &state, argc, argv);
}
