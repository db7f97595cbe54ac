/* report.h: what the files of anon-report share.  The report is built once, as a JSON model
 * (model.c, the "anon-report/1" document that --format json prints), and each format renders
 * that model: nothing a renderer prints is decided outside the model. */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "anon.h"

#define REPORT_SCHEMA "anon-report/1"

/* One JSON value read from an audit file: an audit record, or a verdict document. */
struct report_rec {
	json_t *j;
	char *source;   /* "FILE:LINE" where the value starts */
	size_t seq;     /* position over all the files, in reading order */
};

struct report_input {
	struct report_rec *v;
	size_t n, cap;
	json_t *files;  /* the file names as given */
};

/* load.c: append every JSON value of `path` ("-": standard input). Returns 0, or an exit
 * status after anon_error: 66 (cannot open), 65 (not JSON, or not an audit record). */
int report_load(struct report_input *in, const char *path);
void report_input_free(struct report_input *in);
/* The run to report: `want`, or the one with the latest record time (the last in reading
 * order among equals). NULL when there is none. */
const char *report_pick_run(const struct report_input *in, const char *want);
/* A verdict document (anon-validate --verdict) rather than an audit record. */
bool report_is_verdict(const json_t *j);

/* classify.c: what one stage did to one column, and what the regulations make of it. */
enum report_class {
	RC_REDACTED,      /* nothing of the value is left */
	RC_MASKED,        /* part of the value is left */
	RC_GENERALISED,   /* rounded, bucketed, coded, truncated */
	RC_DP,            /* differentially private noise */
	RC_KEYED,         /* irreversible and keyed: hash, keyed token, keyed fake */
	RC_REVERSIBLE,    /* the key (or the vault, or the seed) undoes it */
	RC_UNCLASSIFIED,  /* a tool or rule this report does not know */
	RC_UNTOUCHED,     /* no stage changed it */
	RC_REIDENTIFIED,  /* decrypted or detokenised back */
	RC_NCLASSES
};
const char *report_class_name(enum report_class c);
/* The treatment of one column by one stage: its class and a sentence describing it. */
enum report_class report_step_class(const json_t *stage, const json_t *col, char *desc,
				    size_t descsz);
/* The column's treatment after every step, in order (see classify.c for the composition). */
enum report_class report_compose(enum report_class cur, enum report_class step);
/* The regulations, with the version of the text the mapping follows. */
json_t *report_regulations(void);
/* The classification of one column: {gdpr, ccpa, pipeda: {status, in_scope, basis,
 * reasoning}}, "agree", and what would satisfy every regulation. `raw` counts values left as
 * read; `recipient_has_key` comes from --meta. */
json_t *report_classify(enum report_class c, const char *treatment, double epsilon,
			uint64_t raw, bool recipient_has_key);

/* model.c */
json_t *report_build(const struct report_input *in, const char *run_id, json_t *meta);
/* The worst flag: 0 none, 1 warnings only, 2 an error. */
int report_worst(const json_t *model);

/* md.c, html.c: render the model. */
void report_md(const json_t *model, struct anon_buf *out);
void report_html(const json_t *model, struct anon_buf *out);

/* sign.c: detached Ed25519 signatures (OpenSSL EVP). Return 0 or an exit status after
 * anon_error: 1 (the signature does not match), 65 (a malformed signature), 66 (cannot read),
 * 78 (a key that is not an Ed25519 key of the right kind). */
int report_sign(const char *keypath, const unsigned char *msg, size_t n, unsigned char sig[64]);
int report_verify(const char *pubpath, const unsigned char *msg, size_t n,
		  const unsigned char *sig, size_t siglen);

/* small helpers (load.c) */
void report_printf(struct anon_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *report_str(const json_t *o, const char *key);   /* NULL unless a string */
json_int_t report_int(const json_t *o, const char *key);    /* 0 unless a number */
bool report_has_num(const json_t *o, const char *key);
double report_num(const json_t *o, const char *key);        /* 0 unless a number */
/* The column a stage's column entry is reported under: the header its record resolved it to
 * ("resolved": every table it went to, one name, a name-like header), so -c 2 and -c email of
 * one column are one column of the lineage; else the -c as given ("name"). NULL if neither. */
const char *report_col_name(const json_t *c);
/* How a lineage step's stage selected column col, when that differs from the column's name
 * (-c 3 for phone); else NULL, and the renderers say nothing of it. */
const char *report_step_alias(const json_t *col, const json_t *step);
/* A number as the report prints it: integers without a point, others with up to 6
 * significant digits ("1", "0.5", "9.99962e-07"). */
void report_fmt_num(char *out, size_t n, double v);

#endif
