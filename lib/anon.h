/* anon.h: the public interface of the anon core library (lib/).
 * Every tool includes only this header; the files of lib/ share lib/anon-int.h on top of it. */
#ifndef ANON_H
#define ANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>
#include <getopt.h>
#include <jansson.h>

#define ANON_VERSION "0.1.0"

/* Exit codes beyond sysexits.h: a validation check failed. */
#define ANON_EX_CHECK 1

/* ---- diagnostics (err.c) ------------------------------------------------------------------ */
/* "prog: message"; anon_die also flushes complete rows, writes the audit record and exits. */
void anon_die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void anon_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char *anon_progname;

/* ---- growable byte buffer (buf.c) --------------------------------------------------------- */
struct anon_buf {
	unsigned char *p;
	size_t len, cap;
};
void anon_buf_reserve(struct anon_buf *b, size_t extra); /* room for len+extra bytes */
void anon_buf_add(struct anon_buf *b, const void *p, size_t n);
void anon_buf_addc(struct anon_buf *b, unsigned char c);
void anon_buf_addstr(struct anon_buf *b, const char *s);
void anon_buf_free(struct anon_buf *b);

/* ---- values handed to rules ---------------------------------------------------------------- */
/* A decoded field: the text a database would store (quotes and escapes removed).
 * p may point into the reader's buffer; it is valid until the next row. */
struct anon_field {
	const unsigned char *p;
	size_t len;
	bool null;
};

/* ---- text helpers shared by tools (text.c) ------------------------------------------------ */
/* Decode one UTF-8 code point at s[0..n): returns its length (1..4) and stores it in *cp,
 * or 0 when the sequence is invalid (overlong, surrogate, truncated, > U+10FFFF). */
size_t anon_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
size_t anon_utf8_encode(uint32_t cp, unsigned char out[4]);
bool anon_utf8_valid(const unsigned char *s, size_t n);
size_t anon_utf8_count(const unsigned char *s, size_t n); /* code points; s must be valid */
/* Luhn (mod 10) over the ASCII digits of s, other bytes ignored. */
bool anon_luhn_valid(const unsigned char *s, size_t n);
/* The check digit (0..9) that makes the ASCII digits of s[0..n) Luhn-valid when appended;
 * other bytes are ignored. */
int anon_luhn_check_digit(const unsigned char *s, size_t n);
/* Hex: one digit's value (or -1); a whole string of n digits (n even) into n/2 bytes. */
int anon_hex_digit(int c);
bool anon_hex_decode(const char *s, size_t n, unsigned char *out);
/* Strict decimal parse of a whole string into an int64 (no spaces, optional sign). */
bool anon_parse_int64(const char *s, int64_t *out);
bool anon_parse_uint64(const char *s, uint64_t *out);
bool anon_parse_double(const char *s, double *out);

/* ---- keys (key.c) ------------------------------------------------------------------------- */
#define ANON_KEY_LEN 32
/* Derive `len` bytes with HKDF-SHA256 from the master key.
 * info = tool name, 0, purpose, 0, --domain (empty when none). Exits 78 if no key is loaded. */
void anon_key_derive(const char *purpose, unsigned char *out, size_t len);
/* The master key bytes as given (for interop modes such as anon-fpe --key-raw);
 * *len receives 16..64. Exits 78 if no key is loaded. */
const unsigned char *anon_key_raw(size_t *len);

/* ---- columns and rules -------------------------------------------------------------------- */
struct anon_ctx;

/* One `-c SPEC[=RULE]`. The tool's rule() callback fills `state` and `params`. */
struct anon_column {
	const char *spec;   /* as given: name, number, table.column, schema.table.column */
	const char *rule;   /* text after '=', or NULL */
	void *state;        /* the tool's parsed rule */
	json_t *params;     /* rule parameters for the audit record (no secrets); object or NULL */
	/* counters kept by lib for the audit record */
	uint64_t values, nulls, changed, errors;
	int index;          /* 0-based column index in the current table, -1 when absent */
	bool matched;       /* matched some column at least once */
};

/* A reference to another column of the row (a tweak column, an entity, a --where column). */
struct anon_ref;
struct anon_ref *anon_ref_add(struct anon_ctx *ctx, const char *spec);

/* What a rule sees besides its own field. */
struct anon_rowinfo {
	struct anon_ctx *ctx;
	uint64_t line;      /* 1-based input line where the row starts */
	const char *table;  /* pgdump: "schema.table"; otherwise NULL */
	bool utf8;          /* false when a dump's client_encoding says the text is not UTF-8:
			     * rules that count or write characters must refuse such values */
};
/* Decode the field that `ref` names in the current row; false when the table has no such
 * column.  The field is valid until the next row. */
bool anon_row_get(const struct anon_rowinfo *row, const struct anon_ref *ref,
		  struct anon_field *out);

/* Result of a rule on one field. */
enum anon_status {
	ANON_OK = 0,       /* *out holds the new value */
	ANON_KEEP,         /* leave the field exactly as it was (byte for byte) */
	ANON_ERR,          /* data error: *errmsg says what, never the value */
};

/* A tool: what its main declares. lib parses every common option, loads the key,
 * resolves columns, reads and writes rows, and calls apply() for selected fields. */
struct anon_tool {
	const char *name;        /* "anon-hash" */
	const char *synopsis;    /* usage line(s) after "usage: name " */
	const char *shortopts;   /* the tool's own short options (getopt syntax) */
	const struct option *longopts; /* the tool's own long options, {0} terminated */
	bool needs_key;          /* exit 78 without a key */
	bool rule_required;      /* -c COL needs "=RULE" */
	/* one tool option; returns 0, or an exit code after printing a message */
	int (*option)(struct anon_ctx *ctx, int opt, const char *arg);
	/* parse col->rule (NULL = the tool's default) into col->state and col->params;
	 * returns 0, or 64 after anon_warn() saying what is wrong */
	int (*rule)(struct anon_ctx *ctx, struct anon_column *col);
	/* after options, key and rules, before any input is read (may be NULL) */
	int (*start)(struct anon_ctx *ctx);
	/* transform one field. `in` is never NULL-valued unless the tool sets apply_nulls.
	 * Output goes to `out`, whose bytes may live in `scratch` (cleared per field by lib). */
	enum anon_status (*apply)(const struct anon_rowinfo *row, struct anon_column *col,
				  const struct anon_field *in, struct anon_field *out,
				  struct anon_buf *scratch, const char **errmsg);
	/* add tool-specific figures to the audit record (may be NULL) */
	void (*audit)(struct anon_ctx *ctx, json_t *record);
	bool apply_nulls;        /* call apply() for NULL fields too (default: NULL stays NULL) */
	bool apply_empty;        /* call apply() for empty fields too (default: empty stays empty) */
};

/* Run a tool: parse argv, then filter input to stdout. Returns the exit status. */
int anon_main(const struct anon_tool *tool, void *tool_state, int argc, char **argv);

/* Accessors for callbacks. */
void *anon_tool_state(struct anon_ctx *ctx);
struct anon_column *anon_ctx_columns(struct anon_ctx *ctx, size_t *n);

#endif
