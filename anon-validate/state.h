/* state.h: the state of an anon-validate run, shared by its files: the checks of the command
 * line (read-only once start() returns), what a worker gathers per table (struct slot), and
 * the run's merged slots, which the verdict (verdict.c) and --suggest (suggest.c) read. */
#ifndef VALIDATE_STATE_H
#define VALIDATE_STATE_H

#include <openssl/evp.h>

#include "validate.h"

enum mode { MODE_CHECK, MODE_SUGGEST, MODE_POLICY_INIT };
enum ck { CK_REQUIRE, CK_TYPE, CK_RANGE, CK_UNIQUE, CK_KANON };
extern const char *const ck_names[]; /* the verdict's name of each check */

struct ldiv {
	char *spec;
	struct anon_ref *ref;
	uint64_t l;
};

/* One check of the command line, over one or more columns. */
struct check {
	enum ck kind;
	char **specs;
	size_t ncols;
	struct anon_ref **refs;
	enum vtype type;
	struct range range;
	uint64_t k;
	struct ldiv *ldiv;
	size_t nldiv;
};

/* What one check gathered in one table. */
struct tally {
	bool *seen;             /* per column: the table has it */
	struct rowlist *fail;   /* per column (require), or one: failures, duplicates */
	uint64_t values;        /* unique: keys; k-anonymity: rows */
	struct hset set;        /* unique */
	struct ktab classes;    /* k-anonymity */
	struct ktab *pairs;     /* per l-diversity: (class, sensitive value) */
};

/* --suggest, per column */
struct sugcol {
	uint64_t values, names, dates;
	uint64_t hits[PII_NKINDS], whole[PII_NKINDS];
};

/* One table as a worker or the merge sees it. */
struct slot {
	char *name;             /* pgdump "schema.table", NULL for a file */
	const void *key;        /* worker: the row->table of its rows */
	uint64_t line;          /* merged: the header's or COPY statement's line */
	char **cols;            /* merged: the names table() saw */
	size_t ncols;
	size_t width;           /* columns of the per-column arrays */
	uint64_t rows;
	struct tally *t;        /* per check */
	struct rowlist *pii;    /* [column or --pii-columns entry][kind] */
	bool *pii_seen;         /* per --pii-columns entry */
	struct rowlist *deny;   /* per column */
	struct sugcol *sug;     /* per column */
	json_t *expect, *policy; /* merged: the table-start checks' entries */
	struct slot *next;
};

struct vstate {
	enum mode mode;
	bool pass, started, emitted, finished;
	int out_fd, verdict_fd;
	const char *verdict_path;
	struct check *checks;
	size_t nchecks;
	unsigned pii_kinds;
	char **pii_specs;
	size_t npii;
	struct anon_ref **pii_refs;
	char **expect;
	size_t nexpect;
	bool has_expect;
	const char *policy_path;
	struct policy policy;
	char **deny_paths;
	size_t ndeny_paths;
	struct hset deny;
	uint64_t deny_values;
	uint64_t deny_len[16];  /* bit n: a deny-listed value of n bytes (n < 1024) */
	bool deny_long;         /* one of 1024 bytes or more */
	uint32_t deny_words;    /* bit k: one of k words (k < 32) */
	uint64_t *deny_bloom;   /* two bits a value, from a seeded fast hash: most fields that
				 * are not deny-listed are ruled out without an HMAC */
	uint64_t deny_bloom_mask;
	uint64_t sample;
	_Atomic uint64_t sampled;
	struct detectors *det;
	EVP_MAC_CTX *mac_unique, *mac_deny;
	uint64_t seed;
	struct slot *slots, **tail;
	struct anon_buf init;   /* --policy-init */
	struct anon_buf suggest;
	json_t *verdict;        /* the summary finish() made */
	const char *format;
	int status;
	struct anon_run *run;
};

struct vworker {
	struct slot *slots, *cur;
	struct detect_scratch *ds;
	EVP_MAC_CTX *mac_unique, *mac_deny;
	struct anon_buf key, norm;
	struct { size_t s, e; } *words;
	size_t capwords;
};

/* verdict.c */
json_t *jstr(const char *s);           /* a string, or null when it is not UTF-8 */
json_t *col_json(const char *name, size_t i); /* a column's name, or "column N" */
size_t pii_width(const struct vstate *st, const struct slot *s); /* columns --pii scans */
json_t *verdict_summary(struct vstate *st, const struct anon_counts *n, json_t *rec);
char *verdict_text(const json_t *v);
/* suggest.c */
void suggest_text(struct vstate *st, json_t *rec);

#endif
