/* validate.h: what the files of anon-validate share: the personal-data detectors, the sets
 * that merge exactly across workers, the value checks and the policy file. */
#ifndef VALIDATE_H
#define VALIDATE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "anon.h"

/* ---- memory (sets.c): out of memory ends the run with exit 70 --------------------------------- */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

/* ---- detectors (detect.c) ------------------------------------------------------------------ */
enum pii_kind { PII_EMAIL, PII_PHONE, PII_CARD, PII_SSN, PII_IBAN, PII_IP, PII_NKINDS };
#define PII_ALL ((1u << PII_NKINDS) - 1)
extern const char *const pii_kind_names[PII_NKINDS];
/* "all" or a comma-separated list of kinds; false on an unknown kind. */
bool pii_parse_kinds(const char *s, unsigned *mask);

/* The compiled patterns: built in start(), read-only after, shared by the workers. */
struct detectors;
/* A worker's scratch: its own PCRE2 match data. */
struct detect_scratch;
/* names: also compile the person-name patterns (--suggest). NULL with err filled on failure. */
struct detectors *detectors_new(bool names, char *err, size_t errlen);
void detectors_free(struct detectors *d);
struct detect_scratch *detect_scratch_new(const struct detectors *d);
void detect_scratch_free(struct detect_scratch *s);
/* The kinds of `kinds` found in p[0..n): a bit per kind. *whole (may be NULL) gets the kinds
 * of which one match is the whole value (blanks around it aside). */
unsigned detect_pii(const struct detectors *d, struct detect_scratch *s, unsigned kinds,
		    const unsigned char *p, size_t n, unsigned *whole);
/* Whether p[0..n) reads as a person's name (--suggest only; needs detectors_new(true)). */
bool detect_name(const struct detectors *d, struct detect_scratch *s, const unsigned char *p,
		 size_t n);

/* The checks behind the detectors, for unit tests. */
bool ssn_valid(const unsigned char *area, const unsigned char *group,
	       const unsigned char *serial);
bool iban_valid(const char *s, size_t n);     /* compact form: no spaces */
bool email_local_anonymized(const unsigned char *p, size_t n);

/* ---- rows shown and sets that merge exactly (sets.c) --------------------------------------- */
#define ROWS_SHOWN 10
/* A count of failing rows and the ROWS_SHOWN smallest line numbers among them: merging two
 * gives the lists of one worker, whatever the rows' order. */
struct rowlist {
	uint64_t count;
	unsigned n;
	uint64_t line[ROWS_SHOWN];
};
void rowlist_add(struct rowlist *r, uint64_t line);
void rowlist_merge(struct rowlist *into, const struct rowlist *from);
json_t *rowlist_json(const struct rowlist *r);

/* A set of 128-bit keyed hashes, each with the smallest line it was seen on: 24 bytes a slot,
 * at most 70 % full (--unique, --deny-list). */
struct hset {
	struct hslot *slot;
	size_t cap, n;
};
struct hslot {
	uint64_t a, b;  /* the hash; a == b == 0 is an empty slot */
	uint64_t line;
};
/* Add a key seen on `line`. Returns 0 when it is new, else the line of the occurrence that is
 * now a duplicate (the later of the two). */
uint64_t hset_add(struct hset *s, const unsigned char key[16], uint64_t line);
bool hset_has(const struct hset *s, const unsigned char key[16]);
/* Merge `from` into `into` (which may take over from's table, leaving it the empty one); every
 * occurrence that becomes a duplicate goes to dups. */
void hset_merge(struct hset *into, struct hset *from, struct rowlist *dups);
void hset_free(struct hset *s);
size_t hset_bytes(const struct hset *s);

/* A fast 64-bit hash, seeded (the seed is random per run): table indexes and prefilters only,
 * never a key's identity. */
uint64_t hash_bytes(uint64_t seed, const void *key, size_t n);

/* A table of byte-string keys with a count and the first line of each (k-anonymity classes,
 * l-diversity pairs): the keys are held exactly, so merging is exact. The entries are dense
 * (e[0..n), in the order keys first came); a small index finds them. */
struct kent {
	uint64_t hash, off, count, minline;
	uint32_t len, prefix;   /* prefix: bytes of the key that name its class (pairs) */
};
struct ktab {
	struct kent *e;
	size_t n, cap;
	uint64_t *idx;
	size_t capidx;
	struct anon_buf arena;
	uint64_t seed;
};
void ktab_init(struct ktab *t, uint64_t seed);
struct kent *ktab_add(struct ktab *t, const void *key, size_t len, uint32_t prefix,
		      uint64_t count, uint64_t line);
struct kent *ktab_find(const struct ktab *t, const void *key, size_t len);
void ktab_merge(struct ktab *into, struct ktab *from); /* may take over from's table */
void ktab_free(struct ktab *t);
static inline const unsigned char *ktab_key(const struct ktab *t, const struct kent *e)
{
	return t->arena.p + e->off;
}

/* ---- values (values.c) ----------------------------------------------------------------------- */
enum vtype { VT_INT, VT_NUMERIC, VT_BOOL, VT_DATE, VT_TIMESTAMP, VT_EMAIL, VT_UUID, VT_TEXT };
extern const char *const vtype_names[];
bool vtype_parse(const char *s, enum vtype *t);
/* Whether a non-NULL value is of the type (utf8: the text is meant to be UTF-8). */
bool vtype_check(enum vtype t, const unsigned char *p, size_t n, bool utf8);

/* --range LO..HI: decimal numbers compared exactly, or ISO dates. */
struct range {
	bool dates, has_lo, has_hi;
	char *lo, *hi;
};
bool range_parse(const char *s, struct range *r, const char **why);
bool range_check(const struct range *r, const unsigned char *p, size_t n);
void range_free(struct range *r);

/* Split a comma-separated list of column specs, commas inside double quotes kept. */
char **cols_split(const char *s, size_t *n);
void cols_free(char **v, size_t n);
/* The name written so that anon_spec_split gives it back (quoted when it must be). */
void ident_quote(struct anon_buf *b, const char *name);

/* ---- the policy file (policy.c) ------------------------------------------------------------ */
struct policy_entry {
	char *spec;        /* as written */
	char *parts[3];
	int nparts;
	char *rule;        /* "keep", "TODO" or a stage's rule */
	unsigned line;
	bool used;
};
struct policy {
	char *path;
	struct policy_entry *e;
	size_t n;
};
/* Read a policy file; false after anon_error (the exit code in *code). */
bool policy_load(struct policy *p, const char *path, int *code);
/* The entry that names column `col` of table `table` (NULL for a file), or NULL. */
struct policy_entry *policy_find(struct policy *p, const char *table, const char *col);
void policy_free(struct policy *p);
/* Whether a spec of 1 to 3 parts names a column of table "schema.table" (1 part: any table). */
bool spec_names_table(const char *table, char *const parts[3], int nparts);

#endif
