/* anon-fpe: format-preserving encryption of columns with NIST SP 800-38G Rev.1 FF1 (default)
 * or FF3-1, reversible with -D; the algorithms live in ff1.c/ff3.c, the rules in rule.c.
 * The tool state and the rules are read-only once start() returns; each --jobs worker has
 * its own AES context, match data and SHA-256 context (struct fpe_worker). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "anon.h"
#include "fpe.h"

struct fpe_tool {
	enum fpe_algo algo;
	bool decrypt;
	bool key_raw;
	unsigned key_bits;                /* --key-bits, 0 when not given */
	unsigned char tweak[FPE_FF1_MAX_TWEAK];
	size_t tlen;
	bool tweak_given;
	const char *tweak_hex;
	const char *tweak_column;
	struct anon_ref *tweak_ref;
	const char *match;
	uint32_t max_groups;              /* capture groups of the rules' --match patterns */
	struct fpe_cipher cipher;         /* keyed in start(): the template workers copy */
	EVP_MD *sha256;                   /* --tweak-column: tweak = SHA-256(label, value) */
};

/* What one worker mutates per value. */
struct fpe_worker {
	struct fpe_work work;             /* AES context, --match data, scratch numerals */
	EVP_MD_CTX *md;                   /* --tweak-column */
};

enum { OPT_ALGO = 256, OPT_KEY_RAW, OPT_KEY_BITS, OPT_TWEAK, OPT_TWEAK_COLUMN, OPT_MATCH,
       OPT_DECRYPT };

static const struct option longopts[] = {
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "decrypt", no_argument, NULL, OPT_DECRYPT },
	{ "key-raw", no_argument, NULL, OPT_KEY_RAW },
	{ "key-bits", required_argument, NULL, OPT_KEY_BITS },
	{ "tweak", required_argument, NULL, OPT_TWEAK },
	{ "tweak-column", required_argument, NULL, OPT_TWEAK_COLUMN },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ NULL, 0, NULL, 0 },
};

static const char *algo_name(enum fpe_algo a)
{
	return a == FPE_FF1 ? "FF1" : "FF3-1";
}

static int option(struct anon_run *run, int opt, const char *arg)
{
	struct fpe_tool *t = anon_tool_state(run);
	int64_t n;
	switch (opt) {
	case 'D':
	case OPT_DECRYPT:
		t->decrypt = true;
		return 0;
	case OPT_ALGO:
		if (strcmp(arg, "ff1") == 0)
			t->algo = FPE_FF1;
		else if (strcmp(arg, "ff3-1") == 0)
			t->algo = FPE_FF3_1;
		else {
			anon_error("--algo takes ff1 or ff3-1");
			return EX_USAGE;
		}
		return 0;
	case OPT_KEY_RAW:
		t->key_raw = true;
		return 0;
	case OPT_KEY_BITS:
		if (!anon_parse_int64(arg, &n) || (n != 128 && n != 192 && n != 256)) {
			anon_error("--key-bits takes 128, 192 or 256");
			return EX_USAGE;
		}
		t->key_bits = (unsigned)n;
		return 0;
	case OPT_TWEAK: {
		size_t len = strlen(arg);
		if (len % 2 || len / 2 > FPE_FF1_MAX_TWEAK) {
			anon_error("--tweak takes an even number of hex digits (at most %d bytes)",
				   FPE_FF1_MAX_TWEAK);
			return EX_USAGE;
		}
		if (!anon_hex_decode(arg, len, t->tweak)) {
			anon_error("--tweak takes hex digits");
			return EX_USAGE;
		}
		t->tlen = len / 2;
		t->tweak_given = true;
		t->tweak_hex = arg;
		return 0;
	}
	case OPT_TWEAK_COLUMN:
		t->tweak_column = arg;
		return 0;
	case OPT_MATCH: {
		/* Checked here too, so a bad pattern is refused even when no column is selected. */
		struct fpe_rule probe = { 0 };
		const char *why = fpe_rule_set_match(&probe, arg);
		fpe_rule_free(&probe);
		if (why) {
			anon_error("%s", why);
			return EX_USAGE;
		}
		t->match = arg;
		return 0;
	}
	}
	return EX_USAGE;
}

static int rule(struct anon_run *run, struct anon_column *col)
{
	struct fpe_tool *t = anon_tool_state(run);
	struct fpe_rule *r = calloc(1, sizeof *r);
	if (!r)
		anon_die(EX_SOFTWARE, "out of memory");
	const char *why = fpe_rule_parse(r, col->rule);
	if (!why && t->match && r->kind == FPE_KIND_RANGE)
		why = "range: does not combine with --match";
	if (!why && t->match)
		why = fpe_rule_set_match(r, t->match);
	if (!why && t->tweak_column && strcmp(t->tweak_column, col->spec) == 0)
		why = "a column cannot be its own --tweak-column (decrypting would need the plaintext)";
	if (why) {
		anon_error("column '%s': %s", col->spec, why);
		fpe_rule_free(r);
		free(r);
		return EX_USAGE;
	}
	r->decrypt = t->decrypt;
	if (fpe_rule_groups(r) > t->max_groups)
		t->max_groups = fpe_rule_groups(r);
	col->state = r;

	json_t *p = json_object();
	json_object_set_new(p, "algorithm", json_string(algo_name(t->algo)));
	json_object_set_new(p, "direction", json_string(t->decrypt ? "decrypt" : "encrypt"));
	json_object_set_new(p, "rule", json_string(r->name));
	json_object_set_new(p, "alphabet", json_string(r->alpha.text));
	json_object_set_new(p, "radix", json_integer(r->alpha.radix));
	if (r->kind == FPE_KIND_RANGE) {
		json_object_set_new(p, "range_lo", json_integer(r->lo));
		json_object_set_new(p, "range_hi", json_integer(r->hi));
	}
	if (r->kind == FPE_KIND_LUHN || r->kind == FPE_KIND_LUHN_FAIL)
		json_object_set_new(p, "luhn", json_string(r->kind == FPE_KIND_LUHN ? "valid" : "invalid"));
	if (t->match)
		json_object_set_new(p, "match", json_string(t->match));
	/* A tweak taken from data is named by its column, never by its value. */
	if (t->tweak_column) {
		json_object_set_new(p, "tweak", json_string("column"));
		json_object_set_new(p, "tweak_column", json_string(t->tweak_column));
	} else if (t->tweak_given) {
		json_object_set_new(p, "tweak", json_string("fixed"));
		json_object_set_new(p, "tweak_hex", json_string(t->tweak_hex));
	} else {
		json_object_set_new(p, "tweak", json_string(t->algo == FPE_FF1 ? "empty" : "zero"));
	}
	json_object_set_new(p, "key", json_string(t->key_raw ? "raw" : "derived"));
	col->params = p;
	return 0;
}

/* Checks that need every option. */
static int check(struct anon_run *run)
{
	struct fpe_tool *t = anon_tool_state(run);
	if (t->tweak_given && t->tweak_column) {
		anon_error("--tweak and --tweak-column exclude each other");
		return EX_USAGE;
	}
	if (t->algo == FPE_FF3_1 && t->tweak_given && t->tlen != FPE_FF3_TWEAK) {
		anon_error("--tweak: FF3-1 tweaks are exactly 7 bytes (14 hex digits)");
		return EX_USAGE;
	}
	if (!t->tweak_given && t->algo == FPE_FF3_1)
		t->tlen = FPE_FF3_TWEAK;  /* the default FF3-1 tweak: seven zero bytes */
	if (t->tweak_column)
		t->tweak_ref = anon_ref_add(run, t->tweak_column);
	return 0;
}

static void load_key(struct fpe_tool *t)
{
	unsigned char derived[32];
	const unsigned char *key;
	size_t len;
	if (t->key_raw) {
		key = anon_key_raw(&len);
		if (len != 16 && len != 24 && len != 32)
			anon_die(EX_CONFIG, "--key-raw: the key must be 16, 24 or 32 bytes (AES-128, "
				 "-192 or -256), not %zu", len);
		if (t->key_bits && t->key_bits != len * 8)
			anon_die(EX_CONFIG, "--key-bits %u does not match the %zu-bit raw key",
				 t->key_bits, len * 8);
	} else {
		char purpose[32];
		len = (t->key_bits ? t->key_bits : 256) / 8;
		snprintf(purpose, sizeof purpose, "fpe-%s-aes%zu", t->algo == FPE_FF1 ? "ff1" : "ff3-1",
			 len * 8);
		anon_key_derive(purpose, derived, len);
		key = derived;
	}
	int rc = fpe_cipher_init(&t->cipher, t->algo, key, len);
	OPENSSL_cleanse(derived, sizeof derived);
	if (rc != 0)
		anon_die(EX_SOFTWARE, "AES-%zu is not available in this OpenSSL", len * 8);
}

static int start(struct anon_run *run)
{
	struct fpe_tool *t = anon_tool_state(run);
	size_t ncols;
	struct anon_column *cols = anon_run_columns(run, &ncols);
	if (ncols == 0)
		return 0;
	load_key(t);
	if (t->tweak_column) {
		t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (!t->sha256)
			anon_die(EX_SOFTWARE, "SHA-256 is not available in this OpenSSL");
	}
	for (size_t i = 0; i < ncols; i++) {
		struct fpe_rule *r = cols[i].state;
		r->cipher = &t->cipher;
		r->tweak = t->tweak;
		r->tlen = t->tlen;
		r->tweak_per_row = t->tweak_column != NULL;
		const char *why = fpe_rule_prepare(r);
		if (why) {
			anon_error("column '%s': %s", cols[i].spec, why);
			return EX_USAGE;
		}
		/* A per-row tweak changes the permutation on every row: no table can serve it. */
		if (t->tweak_column && fpe_range_small(r))
			anon_warn("column '%s': range: of %" PRIu64 " values with --tweak-column "
				  "cycle-walks about %" PRIu64 " cipher calls per value (a table "
				  "needs a fixed tweak)", cols[i].spec, r->range_size,
				  (uint64_t)fpe_pow96(r->range_radix, r->range_n) / r->range_size);
		json_object_set_new(cols[i].params, "key_bits", json_integer(t->cipher.key_bits));
		if (r->kind == FPE_KIND_RANGE) {
			json_object_set_new(cols[i].params, "domain_radix", json_integer(r->range_radix));
			json_object_set_new(cols[i].params, "domain_length", json_integer((json_int_t)r->range_n));
		}
	}
	return 0;
}

/* Main thread, once per worker, after start(): copies of what a value mutates. */
static void *worker_init(struct anon_run *run)
{
	const struct fpe_tool *t = anon_tool_state(run);
	struct fpe_worker *w = calloc(1, sizeof *w);
	if (!w)
		anon_die(EX_SOFTWARE, "out of memory");
	if (!t->cipher.ecb)
		return w;  /* nothing selected: apply() is never called */
	const char *why = fpe_work_init(&w->work, &t->cipher, t->max_groups);
	if (why)
		anon_die(EX_SOFTWARE, "%s", why);
	if (t->tweak_column && !(w->md = EVP_MD_CTX_new()))
		anon_die(EX_SOFTWARE, "out of memory");
	return w;
}

/* Main thread, after the last row: the worker keeps no figures, so only release it. */
static void worker_free(struct anon_run *run, void *worker)
{
	struct fpe_worker *w = worker;
	if (!w)
		return;
	fpe_work_free(&w->work);
	EVP_MD_CTX_free(w->md);
	free(w);
}

/* The tweak for a row: the first bytes of SHA-256 over a label and the column's value, so any
 * value (NULL included, distinct from empty) gives a tweak of the length the algorithm wants. */
static bool row_tweak(const struct fpe_tool *t, EVP_MD_CTX *md, const struct anon_field *f,
		      unsigned char *out, size_t len)
{
	static const char label[] = "anon-fpe tweak v1";
	unsigned char kind = f->null ? 0 : 1, digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	if (EVP_DigestInit_ex2(md, t->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(md, label, sizeof label) != 1 ||
	    EVP_DigestUpdate(md, &kind, 1) != 1 ||
	    (!f->null && f->len && EVP_DigestUpdate(md, f->p, f->len) != 1) ||
	    EVP_DigestFinal_ex(md, digest, &dlen) != 1)
		return false;
	memcpy(out, digest, len);
	return true;
}

static enum anon_status apply(const struct anon_rowinfo *row, const struct anon_column *col,
			      const struct anon_field *in, struct anon_field *out,
			      struct anon_buf *scratch, const char **errmsg)
{
	const struct fpe_tool *t = anon_tool_state(row->run);
	struct fpe_worker *w = row->worker;
	const struct fpe_rule *r = col->state;
	unsigned char tweak[8];
	size_t tlen = 0;
	if (!row->utf8 && !r->alpha.ascii) {
		*errmsg = "the dump's client_encoding is not UTF8, and this alphabet is not ASCII "
			  "(dump with pg_dump -E UTF8)";
		return ANON_ERR;
	}
	if (t->tweak_ref) {
		struct anon_field f;
		if (!anon_row_get(row, t->tweak_ref, &f)) {
			*errmsg = "the --tweak-column is not in this table";
			return ANON_ERR;
		}
		tlen = t->algo == FPE_FF3_1 ? FPE_FF3_TWEAK : 8;
		if (!row_tweak(t, w->md, &f, tweak, tlen)) {
			*errmsg = "SHA-256 failed";
			return ANON_ERR;
		}
	}
	const char *why = fpe_rule_apply(r, &w->work, tlen ? tweak : NULL, tlen, in->p, in->len,
					 scratch);
	if (why) {
		*errmsg = why;
		return ANON_ERR;
	}
	if (scratch->len == in->len && memcmp(scratch->p, in->p, in->len) == 0)
		return ANON_KEEP;  /* a fixed point: leave the field's bytes as they were */
	out->p = scratch->p;
	out->len = scratch->len;
	out->null = false;
	return ANON_OK;
}

static void rule_free(struct anon_column *col)
{
	fpe_rule_free(col->state);
	free(col->state);
}

/* A table with a column to encrypt but no --tweak-column is refused before any of its rows:
 * every row would fail, and decrypting would need the same tweak. */
static int table(struct anon_run *run, const struct anon_table *tb)
{
	const struct fpe_tool *t = anon_tool_state(run);
	if (!t->tweak_ref || anon_table_ref(tb, t->tweak_ref) >= 0)
		return 0;
	size_t n;
	const struct anon_column *cols = anon_run_columns(run, &n);
	for (size_t i = 0; i < n; i++)
		if (anon_table_column(tb, &cols[i]) >= 0) {
			anon_error("%s%s has column '%s' to encrypt but no --tweak-column '%s'",
				   tb->name ? "table " : "the input", tb->name ? tb->name : "",
				   cols[i].spec, t->tweak_column);
			return EX_USAGE;
		}
	return 0;
}

static const struct anon_tool tool = {
	.name = "anon-fpe",
	.synopsis = "[options] [-D] [--algo ff1|ff3-1] [--key-raw] [--key-bits 128|192|256]\n"
		    "       [--tweak HEX | --tweak-column COLUMN] [--match PATTERN]\n"
		    "       -c COLUMN[=RULE] ... [FILE]",
	.help = "rules (-c COLUMN=RULE; a column without a rule is digits):\n"
		"  digits                    0-9\n"
		"  hex                       0-9a-f, read in either case; written in the case of\n"
		"                            the value's letters (lower without any; both in one\n"
		"                            value is a data error)\n"
		"  hex:lower, hex:upper      0-9a-f, 0-9A-F: the other case is a data error, so\n"
		"                            every value decrypts back exactly\n"
		"  lower, upper              a-z, A-Z\n"
		"  alpha                     a-zA-Z\n"
		"  alnum                     0-9a-zA-Z\n"
		"  alphabet:CHARS            the characters after the colon, in order (2 to 65536)\n"
		"  luhn                      digits; a Luhn-valid number stays valid\n"
		"  luhn-fail                 digits; the output never passes the Luhn check\n"
		"  range:LO..HI              a permutation of the integers LO to HI (64-bit)\n"
		"options:\n"
		"  -D, --decrypt             decrypt (same rule, key, algorithm, tweak, --match)\n"
		"      --algo ALGO           ff1 (default) or ff3-1\n"
		"      --key-bits BITS       AES key size: 128, 192 or 256 (default)\n"
		"      --key-raw             the key's bytes are the AES key (16, 24 or 32 bytes)\n"
		"      --tweak HEX           a fixed tweak (FF1: up to 256 bytes; FF3-1: 7 bytes)\n"
		"      --tweak-column COL    each row's tweak from COL's value\n"
		"      --match PATTERN       encrypt only the capture groups of a PCRE2 match\n",
	.shortopts = "D",
	.longopts = longopts,
	.needs_key = true,
	.option = option,
	.rule = rule,
	.check = check,
	.table = table,
	.start = start,
	.worker_init = worker_init,
	.worker_free = worker_free,
	.apply = apply,
	.rule_free = rule_free,
};

int main(int argc, char **argv)
{
	struct fpe_tool t = { .algo = FPE_FF1 };
	int rc = anon_main(&tool, &t, argc, argv);
	fpe_cipher_free(&t.cipher);  /* the template: each worker freed its own copy */
	EVP_MD_free(t.sha256);
	return rc;
}
