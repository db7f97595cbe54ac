/* mask.h: anon-mask's rules (rules.c) and deterministic fakes (fake.c), shared by main.c
 * and the unit tests. */
#ifndef ANON_MASK_H
#define ANON_MASK_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <openssl/evp.h>

#include "anon.h"

/* ---- fakes (fake.c) ------------------------------------------------------------------------ */
enum fake_kind {
	FAKE_FIRST_NAME, FAKE_LAST_NAME, FAKE_FULL_NAME, FAKE_EMAIL, FAKE_CITY, FAKE_COMPANY,
	FAKE_STREET,
};

/* Dictionaries, each a file data/fake/<name>.txt: one entry a line, '#' lines are comments. */
enum fake_dict_id { DICT_FIRST_NAME, DICT_LAST_NAME, DICT_CITY, DICT_COMPANY, DICT_STREET,
	FAKE_NDICTS };

struct fake_dict {
	char *text;                 /* the file, lines NUL-terminated in place */
	const char **entries;
	size_t n;
	unsigned char sha256[32];   /* of the file as installed, for the audit record */
};

/* Read-only once keyed, so threads share it; each thread hashes with its own copy of the
 * keyed HMAC (anon_fake_hmac_dup). */
struct fake_ctx {
	EVP_MAC *mac;
	EVP_MAC_CTX *hmac;          /* keyed once; the template of the threads' copies */
	EVP_MD *sha256;             /* for the dictionaries' fingerprints */
	struct fake_dict dicts[FAKE_NDICTS];
	bool keyed;
};

bool anon_fake_kind_parse(const char *name, enum fake_kind *kind);
/* The kinds, for messages and --help: "first_name, last_name, ..." */
extern const char anon_fake_kind_names[];
/* Bit (1 << enum fake_dict_id) for each dictionary a kind draws from. */
unsigned anon_fake_dicts_needed(enum fake_kind kind);
const char *anon_fake_dict_name(enum fake_dict_id id);
/* Directory holding fake/: env ANON_DATADIR, then ../data beside the executable (a source
 * tree), then the compiled-in ANON_DATADIR.  NULL when none has fake/. */
const char *anon_fake_datadir(void);
/* Load dictionary `id` from dir/fake/<name>.txt; 0, or -1 with a message in err. */
int anon_fake_dict_load(struct fake_ctx *fc, enum fake_dict_id id, const char *dir,
			char *err, size_t errlen);
/* Key the HMAC (the caller wipes its copy of the key). 0, or -1 on an OpenSSL failure. */
int anon_fake_key(struct fake_ctx *fc, const unsigned char *key, size_t len);
/* A copy of the keyed HMAC for one thread, since hashing a value changes the context it
 * uses; NULL when fc is not keyed. The caller frees it with EVP_MAC_CTX_free. */
EVP_MAC_CTX *anon_fake_hmac_dup(const struct fake_ctx *fc);
/* Append the fake of value p[0..n) to out, hashing with hmac: the calling thread's copy
 * (anon_fake_hmac_dup) of fc's HMAC. */
void anon_fake_make(const struct fake_ctx *fc, EVP_MAC_CTX *hmac, enum fake_kind kind,
		    const unsigned char *p, size_t n, struct anon_buf *out);
void anon_fake_free(struct fake_ctx *fc);

/* ---- rules (rules.c) ----------------------------------------------------------------------- */
enum mask_kind {
	MASK_REDACT, MASK_NULL, MASK_CONST, MASK_LABEL, MASK_FIRST, MASK_LAST, MASK_PARTIAL,
	MASK_EMAIL, MASK_PHONE, MASK_CARD, MASK_REGEX, MASK_KEEP, MASK_FAKE,
};

enum mask_mismatch { MISMATCH_MASK, MISMATCH_KEEP, MISMATCH_NULL };

/* Options shared by every rule of a run. */
struct mask_opts {
	unsigned char mask_char[4];
	size_t mask_len;
	long fixed_length;          /* -1: a masked run keeps its length in code points */
	enum mask_mismatch on_mismatch;
};

struct mask_span {
	size_t start, end;
};

/* A parsed rule: read-only once parsed, so every thread masks with the same one. What
 * masking a value changes is in a struct mask_work of the thread's own. */
struct mask_rule {
	enum mask_kind kind;
	char *text;                 /* redact, const, label */
	size_t text_len;
	size_t keep_first, keep_last; /* first, last, partial */
	bool tld;                   /* email:tld */
	bool bin;                   /* card:bin */
	pcre2_code *re;             /* regex, keep */
	bool jit;                   /* compiled by the JIT: match with pcre2_jit_match */
	uint32_t ncaps;
	enum fake_kind fake;
	const struct fake_ctx *fake_ctx; /* set by the caller before apply */
};

/* One thread's working state for one rule. */
struct mask_work {
	pcre2_match_data *md;       /* regex, keep: room for one match */
	struct mask_span *spans;    /* regex, keep: room for one match's capture groups */
	EVP_MAC_CTX *hmac;          /* fake: the thread's copy of the keyed HMAC (not owned:
				     * set by the caller before apply) */
	uint64_t mismatched;        /* values that did not fit the rule */
};

void anon_mask_opts_init(struct mask_opts *o);
/* The rules and their parameters, for messages: "redact[:TEXT], null, ..." */
extern const char anon_mask_rule_names[];
/* Parse RULE (NULL: redact) for the column named spec.  0, or -1 with a message in err
 * (for a bad pattern: PCRE2's message and offset, never the pattern). */
int anon_mask_rule_parse(struct mask_rule *r, const char *rule, const char *spec,
			 char *err, size_t errlen);
void anon_mask_rule_free(struct mask_rule *r);
/* label: the column name a spec ends with, decoded as an SQL identifier (public.t."A""B"
 * gives A"B), malloc'd; NULL when spec is not [[schema.]table.]column in SQL syntax. */
char *anon_mask_spec_column(const char *spec);
/* label: make r's text <NAME> for the decoded column name (ASCII letters upper-cased). */
void anon_mask_label_set(struct mask_rule *r, const char *name);
/* Make w ready for masking with r on one thread (hmac left NULL); exits when out of memory. */
void anon_mask_work_init(struct mask_work *w, const struct mask_rule *r);
void anon_mask_work_free(struct mask_work *w);
/* Compile a PCRE2 pattern (UTF, JIT when available, *jit says whether: may be NULL);
 * NULL with a message in err. */
pcre2_code *anon_mask_compile(const char *pattern, uint32_t flags, bool *jit, char *err,
			      size_t errlen);
/* Mask one non-NULL field with the thread's w for r; out's bytes live in scratch (or in
 * the rule). */
enum anon_status anon_mask_apply(const struct mask_rule *r, struct mask_work *w,
				 const struct mask_opts *o, const struct anon_field *in,
				 struct anon_field *out, struct anon_buf *scratch,
				 const char **errmsg);

#endif
