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
/* "prog: message" on stderr, with non-printable bytes escaped (\xNN). A message never holds
 * a data value.
 * anon_die: ends the run fail-closed, from any thread: complete rows go out, then (unless
 *   --no-rollback) a line that makes PostgreSQL refuse the load, then the audit record; exit.
 *   Once the audit file is open, every way out goes through it.
 * anon_error: always printed: the reason for a failing return (a usage error, a bad rule).
 * anon_warn: a warning; -q silences it. */
void anon_die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void anon_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* anon_die without a message, for a hook that has already said why with anon_error. */
void anon_exit(int code) __attribute__((noreturn));
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

/* A column's name as diagnostics may print it: the name when it looks like an identifier
 * (1-63 bytes of UTF-8, a letter, at most half digits, no '@' or control byte), else NULL
 * (print the column number). A name read from the input may be data. (select.c) */
const char *anon_name_printable(const char *name);

/* Split a column spec "a.b.c" into up to 3 identifiers, double quotes honoured ("" is a
 * quote); returns the count, or -1. The caller frees the parts. (select.c) */
int anon_spec_split(const char *spec, char *parts[3]);

/* ---- keys (key.c) ------------------------------------------------------------------------- */
#define ANON_KEY_LEN 32
/* Derive `len` bytes with HKDF-SHA256 from the master key.
 * info = tool name, 0, purpose, 0, --domain (empty when none). Exits 78 if no key is loaded. */
void anon_key_derive(const char *purpose, unsigned char *out, size_t len);
/* The master key bytes as given (for interop modes such as anon-fpe --key-raw);
 * *len receives 16..64. Exits 78 if no key is loaded. */
const unsigned char *anon_key_raw(size_t *len);

/* ---- the run, the workers, and the tool lifecycle ---------------------------------------
 *
 * A run is one invocation of a tool. lib owns it: options, columns, key, reader, writer,
 * workers, counters, audit. A tool sees it through `struct anon_run *` and the accessors
 * below, and keeps its own state in the pointer it handed to anon_main (anon_tool_state).
 *
 * The lifecycle, in order (M = on the main thread, W = on a worker thread):
 *
 *   option()   M  once per tool option, in command-line order
 *   rule()     M  once per -c, after all options: parse col->rule into col->state/params
 *   check()    M  after every option and rule: refuse bad combinations (64), choose the
 *                 output mode (anon_run_set_output)
 *              -- lib loads the key, opens the audit file, the rejects file and the input --
 *   start()    M  build the read-only rule state: derive keys, fetch algorithms, compile.
 *                 From here on rule state (col->state, the tool state) is READ-ONLY: workers
 *                 share it without locks.
 *   worker_init() W  once per worker (--jobs N gives N), on the thread that will use it,
 *                 one worker at a time in worker order (it need not be thread-safe): per-
 *                 thread copies of whatever mutates per value (EVP_MAC_CTX_dup,
 *                 pcre2_match_data, RNG streams, a vault connection). Allocate them here, not
 *                 in start(): each thread has its own malloc arena, so a worker's state then
 *                 shares no cache line with another's (two workers writing one line cost
 *                 --jobs 2 a fifth of its speed). Returns the worker's state, seen as
 *                 row->worker (NULL is a valid state); a failure ends the run with anon_die.
 *   table()    M  at each table's start (a file's header or --schema, each COPY header of a
 *                 dump), before any of its rows is read; may refuse the table (exit code)
 *   chunk()    W  once per chunk of rows, before any of its rows is transformed: a tool
 *                 may batch work here (the vault's lookups and inserts)
 *   row()      W  once per data row, with every cell and its column name (validate)
 *   apply()    W  once per selected field of the row (hash, mask, fpe, noise, token)
 *   commit()   W  after the chunk's rows are built, before they may leave: the vault
 *                 commits the transaction that made their tokens. Rows are held until then.
 *   worker_free() M  after the last row, in worker order: fold the worker's figures into
 *                 the tool state, release it
 *   finish()   M  returns the exit status (0, or 1 when a check failed) and adds the
 *                 tool's figures to the audit record
 *   rule_free() M once per column, last: free col->state (a run that exits early leaves it
 *                 to the end of the process)
 *
 * A hook may be NULL. Hooks on W run on several threads at once with --jobs; each sees only
 * its own worker state. A data problem in a row is ANON_ERR with a static message (never
 * the value); lib applies --on-error. anon_die() from any hook ends the run fail-closed.
 */
struct anon_run;

/* How the run writes its output. */
enum anon_output {
	ANON_OUTPUT_ROWS = 0,  /* transformed rows (every filter) */
	ANON_OUTPUT_NONE,      /* nothing on stdout (a terminal validator) */
	ANON_OUTPUT_PASS,      /* input copied unchanged; apply() is not called */
};

/* One `-c SPEC[=RULE]`. The tool's rule() callback fills `state` and `params`. The columns are
 * in -c order: anon_run_columns()[i].ordinal == i. */
struct anon_column {
	const char *spec;   /* as given: name, number, table.column, schema.table.column */
	const char *rule;   /* text after '=', or NULL */
	void *state;        /* the tool's parsed rule: read-only once start() returns */
	json_t *params;     /* rule parameters for the audit record (no secrets); object or NULL */
	size_t ordinal;     /* 0-based position among the -c options */
	/* lib's counters, summed over the workers; final in finish() */
	uint64_t values, nulls, changed, errors, kept, nulled;
	bool matched;       /* matched some column at least once */
};

/* A reference to another column of the row (a tweak column, an entity, a --where column).
 * Add references from option(), rule() or check(): they are resolved with the columns. */
struct anon_ref;
struct anon_ref *anon_ref_add(struct anon_run *run, const char *spec);

/* A table as it starts: for table(). */
struct anon_table {
	const char *name;          /* pgdump: "schema.table"; otherwise NULL */
	const char *const *cols;   /* column names, or NULL when the input names none */
	size_t ncols;              /* 0 when not known before the first row */
	uint64_t line;             /* line of the header or COPY statement (0: --schema) */
	const void *priv;          /* lib's resolution of the table */
};
/* The 0-based column of this table that a -c column or a reference resolved to, or -1 when
 * the table has none (a tool may then refuse the table: a tweak or entity column missing). */
int anon_table_column(const struct anon_table *t, const struct anon_column *col);
int anon_table_ref(const struct anon_table *t, const struct anon_ref *ref);

/* What a hook sees of one row. */
struct anon_rowinfo {
	const struct anon_run *run;
	void *worker;       /* the tool's worker state (worker_init's result), or NULL */
	uint64_t line;      /* 1-based input line where the row starts: also the row's address
			     * for seeded randomness, the same whatever --jobs is */
	const char *table;  /* pgdump: "schema.table"; otherwise NULL */
	bool utf8;          /* false when a dump's client_encoding says the text is not UTF-8:
			     * rules that count or write characters must refuse such values */
	const void *priv;   /* lib's view of the row */
};
/* Decode the field that `ref` names in the current row; false when the table has no such
 * column. The field is valid until the next row. */
bool anon_row_get(const struct anon_rowinfo *row, const struct anon_ref *ref,
		  struct anon_field *out);
/* Every cell of the row (row() hooks): its count, column name (NULL when the input names
 * none) and decoded value (valid until the next row). */
size_t anon_row_width(const struct anon_rowinfo *row);
const char *anon_row_name(const struct anon_rowinfo *row, size_t i);
void anon_row_field(const struct anon_rowinfo *row, size_t i, struct anon_field *out);

/* A chunk: complete rows of one table, in input order. For chunk() hooks. */
struct anon_chunk;
size_t anon_chunk_rows(const struct anon_chunk *c);
/* The value of `col` in data row i of the chunk; false when the row is not a data row of the
 * table's width or the column is not selected in this table. Valid until the next call with
 * the same scratch. */
bool anon_chunk_field(const struct anon_chunk *c, size_t i, const struct anon_column *col,
		      struct anon_buf *scratch, struct anon_field *out);

/* Result of a rule on one field. */
enum anon_status {
	ANON_OK = 0,       /* *out holds the new value */
	ANON_KEEP,         /* leave the field exactly as it was (byte for byte) */
	ANON_ERR,          /* data error: *errmsg says what, never the value */
};

/* A tool: what its main declares. lib parses every common option, loads the key, resolves
 * columns, reads and writes rows, runs the workers, and calls the hooks above. */
struct anon_tool {
	const char *name;        /* "anon-hash" */
	const char *synopsis;    /* usage line(s) after "usage: name " */
	const char *help;        /* --help: the tool's rules and its own options, one a line */
	const char *shortopts;   /* the tool's own short options (getopt syntax) */
	const struct option *longopts; /* the tool's own long options, {0} terminated */
	bool needs_key;          /* exit 78 without a key */
	bool rule_required;      /* -c COL needs "=RULE" */
	bool apply_nulls;        /* call apply() for NULL fields too (default: NULL stays NULL) */
	bool apply_empty;        /* call apply() for empty fields too (default: empty stays empty) */
	enum anon_output output; /* default output mode (check() may change it) */

	/* returns 0, or an exit code after anon_error() saying what is wrong (64: usage) */
	int (*option)(struct anon_run *run, int opt, const char *arg);
	int (*rule)(struct anon_run *run, struct anon_column *col);
	int (*check)(struct anon_run *run);
	int (*start)(struct anon_run *run);
	void *(*worker_init)(struct anon_run *run);
	void (*worker_free)(struct anon_run *run, void *worker);
	int (*table)(struct anon_run *run, const struct anon_table *t);
	int (*chunk)(void *worker, const struct anon_chunk *c);
	enum anon_status (*row)(const struct anon_rowinfo *row, const char **errmsg);
	/* transform one field. `in` is never NULL-valued unless the tool sets apply_nulls.
	 * Output goes to `out`, whose bytes may live in `scratch` (cleared per field by lib). */
	enum anon_status (*apply)(const struct anon_rowinfo *row, const struct anon_column *col,
				  const struct anon_field *in, struct anon_field *out,
				  struct anon_buf *scratch, const char **errmsg);
	int (*commit)(void *worker);
	int (*finish)(struct anon_run *run, json_t *record);
	void (*rule_free)(struct anon_column *col);
};

/* Run a tool: parse argv, then filter input to stdout. Returns the exit status. */
int anon_main(const struct anon_tool *tool, void *tool_state, int argc, char **argv);

/* Accessors for hooks. */
void *anon_tool_state(const struct anon_run *run);
struct anon_column *anon_run_columns(struct anon_run *run, size_t *n);
bool anon_run_quiet(const struct anon_run *run);      /* -q: hooks print no warnings */
unsigned anon_run_jobs(const struct anon_run *run);   /* worker count, >= 1; final in check() */
void anon_run_set_output(struct anon_run *run, enum anon_output mode); /* from check() */
/* Larger chunks, from check() or start(), for a tool whose work per chunk has a fixed cost
 * (the vault: one transaction per chunk): up to `rows` rows a chunk, the input read into
 * buffers of `bytes` (a chunk is never more than one buffer's rows). Values below the
 * defaults, 4096 rows and 256 KiB, keep the defaults. Memory: up to 2N+2 chunks of that
 * size in flight. anon_run_set_chunk_rows changes the rows, between 4096 and that `rows`,
 * from any hook on any thread, for the chunks cut from then on (a few are cut ahead), and
 * new buffers in proportion: for a tool that learns from its chunks which size serves
 * (anon-token: large while most values are new to the vault). While chunks of more than
 * 4096 rows are asked for, the reader waits for input to fill a buffer (a pipe gives 64 KiB
 * at a time); otherwise a chunk holds what the input has ready, and slow rows go on. */
#define ANON_CHUNK_ROWS 4096
#define ANON_CHUNK_ROWS_MAX (1 << 20)
#define ANON_CHUNK_BYTES (256 * 1024)
void anon_run_set_chunk(struct anon_run *run, size_t rows, size_t bytes);
void anon_run_set_chunk_rows(const struct anon_run *run, size_t rows);
/* While on, chunks are transformed one at a time in input order, as with one worker: for
 * state a tool decides from the first values it meets (anon-noise's grid). Any thread. */
void anon_run_in_order(const struct anon_run *run, bool on);
bool anon_run_is_in_order(const struct anon_run *run);
/* The run's figures so far (final in finish()). */
struct anon_counts {
	uint64_t rows_in, rows_out, rows_rejected, errors, bytes_in, bytes_out;
};
void anon_run_counts(const struct anon_run *run, struct anon_counts *out);

#endif
