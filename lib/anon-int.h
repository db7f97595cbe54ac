/* anon-int.h: what the files of lib/ share with each other and with lib's unit tests.
 * Tools never include it. */
#ifndef ANON_INT_H
#define ANON_INT_H

#include <stdatomic.h>

#include "anon.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Allocation that cannot fail: out of memory ends the tool with exit 70 (buf.c). */
void *anon_xcalloc(size_t n, size_t size);
void *anon_xrealloc(void *p, size_t size);
char *anon_xstrdup(const char *s);
/* Zeroed memory that shares no cache line with any other allocation: aligned to
 * ANON_APART and a whole number of ANON_APART bytes (128: Intel CPUs fetch lines in pairs).
 * For what one thread writes per row while another writes its own (chunks, worker states):
 * two such objects on one line would make every write bounce the line between cores
 * ("false sharing", which cost --jobs 2 a fifth of its speed). Freed with free(). */
#define ANON_APART 128
void *anon_xcalloc_apart(size_t n, size_t size);
char *anon_xstrndup(const char *s, size_t n);

enum anon_fmt { ANON_FMT_CSV, ANON_FMT_TSV, ANON_FMT_COPY, ANON_FMT_PGDUMP };
const char *anon_fmt_name(enum anon_fmt f);
bool anon_fmt_parse(const char *s, enum anon_fmt *f);

/* ---- cells and rows (scan.c) -------------------------------------------------------------- */
enum {
	ANON_CELL_QUOTED = 1u << 0,     /* CSV: written "..." (raw span includes the quotes) */
	ANON_CELL_ESCAPED = 1u << 1,    /* CSV "" inside, or a backslash in TSV/COPY */
	ANON_CELL_NULL = 1u << 2,       /* CSV unquoted empty; TSV/COPY raw \N */
};

struct anon_cell {
	const unsigned char *p; /* raw bytes of the field, quotes included */
	size_t len;
	unsigned flags;
};

/* Cells of many rows end to end: the reader scans each row's cells onto the end, and a chunk
 * takes the whole array with its rows, so no cell is copied. */
struct anon_cellarena {
	struct anon_cell *p;
	size_t n, cap;            /* n: cells kept (anon_arena_keep); the rest is free */
};

struct anon_row {
	const unsigned char *raw; /* the whole row, terminator included */
	size_t rawlen;
	size_t eol;               /* bytes of the terminator at the end of raw (0, 1 or 2) */
	struct anon_cell *cell;
	size_t ncell, cap;
	uint64_t line;            /* 1-based line where the row starts */
	uint64_t nlines;          /* line breaks inside the row (quoted CSV newlines + terminator) */
	struct anon_cellarena *arena; /* when set, cell is arena->p + base and grows the arena */
	size_t base;
};
/* Point row's cells at the free end of arena (room for at least one cell). */
void anon_arena_attach(struct anon_cellarena *a, struct anon_row *row);

struct anon_dialect {
	enum anon_fmt fmt;
	unsigned char delim, quote;
	bool strict;               /* csv: a quote inside an unquoted field is an error */
	const unsigned char *null; /* --null: the NULL marker (csv: unquoted), or NULL for the
				    * format's own (csv: unquoted empty; copy: \N) */
	size_t nulllen;
};

/* A scan error: where the bad field starts, and why. */
struct anon_scanerr {
	const char *reason;
	size_t field;        /* 0-based field index */
	uint64_t line;       /* line where the bad field starts */
	size_t resync;       /* bytes to drop to get past the bad row */
};

/* Scan one row from buf[0..len). Returns the bytes consumed (> 0), 0 when the row is not
 * complete and more input may come (only when !eof), or -1 with *err filled.
 * Re-entrant: all state is in the arguments. */
long anon_scan_row(const struct anon_dialect *d, const unsigned char *buf, size_t len, bool eof,
		   uint64_t line, struct anon_row *row, struct anon_scanerr *err);

/* First byte in [p, end) that is one of a, b, c, d; end when none (SSE2 when available).
 * Inline: it runs once per cell, and the caller's constants should stay in registers. */
static inline const unsigned char *anon_find4(const unsigned char *p, const unsigned char *end,
					      unsigned char a, unsigned char b, unsigned char c,
					      unsigned char d)
{
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
	const __m128i vc = _mm_set1_epi8((char)c), vd = _mm_set1_epi8((char)d);
	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
					 _mm_or_si128(_mm_cmpeq_epi8(x, vc), _mm_cmpeq_epi8(x, vd)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	for (; p < end; p++)
		if (*p == a || *p == b || *p == c || *p == d)
			return p;
	return end;
}

/* ---- fields (field.c) --------------------------------------------------------------------- */
/* Decode a cell to the value a database would see. May use scratch. */
void anon_field_decode(const struct anon_dialect *d, const struct anon_cell *c,
		       struct anon_buf *scratch, struct anon_field *out);
/* Append the encoding of a value. `alone` is true when it is the only field of its row. */
void anon_field_encode(const struct anon_dialect *d, const struct anon_field *v, bool alone,
		       struct anon_buf *out);

/* ---- pg_dump COPY header (pgdump.c) ------------------------------------------------------- */
struct anon_copyhdr {
	char *schema, *table; /* decoded identifiers; schema may be NULL */
	char **cols;
	size_t ncols;
	bool has_cols;
};
/* Parse "COPY ident[.ident] [(ident, ...)] FROM stdin;" (line without its terminator). */
bool anon_copyhdr_parse(const unsigned char *line, size_t len, struct anon_copyhdr *h);
void anon_copyhdr_free(struct anon_copyhdr *h);
/* One SQL identifier at *pp, up to a byte of `stops` ("quoted ""x""" or a bare word); NULL
 * when there is none. The caller frees it. */
char *anon_sql_ident(const char **pp, const char *end, const char *stops);
/* "INSERT INTO ident[.ident] ...": the table an INSERT statement writes; false when the line
 * is not one. */
bool anon_insert_parse(const unsigned char *line, size_t len, struct anon_copyhdr *h);

/* Where a pg_dump script is between lines: in plain SQL, or inside a string, quoted
 * identifier, dollar-quoted body or block comment. */
enum anon_sql { ANON_SQL_NORMAL, ANON_SQL_STRING, ANON_SQL_ESTRING, ANON_SQL_IDENT,
		ANON_SQL_DOLLAR, ANON_SQL_BLOCK };
struct anon_sqlstate {
	enum anon_sql state;
	unsigned char prev;   /* the byte before, in NORMAL state (E'...' strings, $tags$) */
	unsigned char prev2;  /* and the one before it: an E prefix starts a word */
	char *tag;            /* the $tag$ of a dollar quote: any length, as in PostgreSQL */
	size_t taglen, tagcap;
	int depth;
};
void anon_sql_lex(struct anon_sqlstate *s, const unsigned char *p, size_t n);
void anon_sqlstate_free(struct anon_sqlstate *s);

/* A table's name, and (pgdump) which partitioned table a partition belongs to. */
struct anon_relname {
	char *schema, *table;
};
struct anon_partition {
	struct anon_relname child, parent;
};
/* "ALTER TABLE [ONLY] parent ATTACH PARTITION child" or "CREATE TABLE child PARTITION OF
 * parent": false when the line is neither. */
bool anon_partition_parse(const unsigned char *line, size_t len, struct anon_partition *out);

/* ---- input (reader.c) --------------------------------------------------------------------- */
enum anon_rec {
	ANON_REC_EOF,
	ANON_REC_RAW,      /* bytes to pass through (SQL, a BOM, what follows a COPY \. line) */
	ANON_REC_HEADER,   /* csv/tsv: the header row (r->row) */
	ANON_REC_ROW,      /* a data row (r->row) */
	ANON_REC_TABLE,    /* pgdump: a COPY header (r->copy; r->raw is the statement) */
	ANON_REC_COPYEND,  /* pgdump: the \. line that ends a COPY block (r->raw) */
	ANON_REC_INSERT,   /* pgdump: the first line of an INSERT statement (r->copy: its table) */
	ANON_REC_BAD,      /* a row that cannot be split into fields (r->err, r->raw) */
	ANON_REC_FATAL,    /* input that must stop the run here (r->fatal_code, r->fatal_msg) */
	ANON_REC_REFILL,   /* the buffer must move: detach the records that point into it */
	ANON_REC_SEP,      /* csv: an Excel "sep=C" first line (r->raw; r->sep is C) */
};

struct anon_reader {
	int fd;
	ssize_t (*read)(int fd, void *buf, size_t n); /* read(2); unit tests split the input */
	const char *name;          /* for messages: file name or "-" */
	struct anon_dialect d;
	bool header;               /* csv/tsv: first row is a header */
	unsigned char *buf;
	size_t cap, start, end;
	size_t read_size;          /* a new buffer's size: 256 KiB, or anon_reader_set_size */
	bool wait_fill;            /* pinned: wait for input to fill the buffer (large chunks) */
	size_t need;               /* do not rescan an incomplete row before this many bytes */
	bool eof, began, in_copy, pinned, copy_done, sep_checked;
	unsigned char sep;
	uint64_t line;             /* line of the next unread byte */
	uint64_t bytes_in;
	size_t rows_seen;
	off_t size;                /* regular file size, or -1 */
	struct anon_row row;       /* the current row */
	struct anon_cellarena cells; /* where rows' cells are scanned (see anon_cellarena) */
	const unsigned char *raw;  /* the current record's bytes */
	size_t rawlen;
	uint64_t rawlines;         /* line breaks in raw */
	struct anon_scanerr err;   /* ANON_REC_BAD */
	struct anon_copyhdr copy;  /* pgdump: the current COPY block, or the INSERT's table */
	int fatal_code;            /* ANON_REC_FATAL */
	char fatal_msg[256];
	bool not_utf8;             /* pgdump: SET client_encoding named another encoding */
	bool restricted;           /* pgdump: inside psql's \restrict block (no meta-commands) */
	struct anon_partition *partitions; /* pgdump: partitions the dump attached so far */
	size_t npartitions;
	struct anon_sqlstate sql;
};
void anon_reader_open(struct anon_reader *r, int fd, const char *name,
		      const struct anon_dialect *d, bool header);
/* Read `bytes` at a time from now on (before the first read: the buffer grows to it). */
void anon_reader_set_size(struct anon_reader *r, size_t bytes);
/* The next record. Records point into r->buf, which stays put until the reader returns
 * ANON_REC_REFILL while r->pinned is set: the caller then takes the buffer away with
 * anon_reader_detach() (the reader goes on in a new one) or clears r->pinned. */
enum anon_rec anon_reader_next(struct anon_reader *r);
/* Hand the current buffer to the caller (to free() later); the unread bytes move to a new
 * buffer of the reader's. */
unsigned char *anon_reader_detach(struct anon_reader *r);
void anon_reader_close(struct anon_reader *r);

/* ---- output (writer.c) -------------------------------------------------------------------- */
/* The one output path. Rows are built in a caller's buffer under a row transaction: begun,
 * then committed, or aborted (the buffer goes back to where the row began), so no partial
 * row ever leaves. Committed bytes reach the writer in input order with anon_writer_put(). */
struct anon_writer {
	int fd;
	const char *name;
	struct anon_buf buf;
	size_t flush_at;
	uint64_t bytes_out;        /* bytes written */
	bool failed;
	void (*on_epipe)(void *arg); /* called before a closed pipe ends the tool quietly */
	void *epipe_arg;
	unsigned char last;        /* the last byte accepted (0 before any) */
};
void anon_writer_open(struct anon_writer *w, int fd, const char *name, size_t flush_at);
void anon_writer_put(struct anon_writer *w, const void *p, size_t n);
void anon_writer_flush(struct anon_writer *w);
void anon_writer_close(struct anon_writer *w);

static inline size_t anon_tx_begin(const struct anon_buf *b) { return b->len; }
static inline void anon_tx_abort(struct anon_buf *b, size_t mark) { b->len = mark; }

/* ---- keys (key.c) ------------------------------------------------------------------------- */
/* Load the key from --key-file, ANON_KEY_FILE or ANON_KEY; false when none was given.
 * A bad key exits 78. */
bool anon_key_load(const char *tool, const char *file, const char *domain);
bool anon_key_loaded(void);
const char *anon_key_fingerprint(void); /* 16 hex digits, or NULL */
void anon_key_wipe(void);

/* ---- configuration (opts.c) ---------------------------------------------------------------- */
enum anon_on_error { ANON_ON_ERROR_FAIL, ANON_ON_ERROR_SKIP, ANON_ON_ERROR_KEEP,
		     ANON_ON_ERROR_NULL };
const char *anon_on_error_name(enum anon_on_error m);

/* Everything the command line says, parsed once; read-only afterwards. */
struct anon_config {
	struct anon_dialect d;
	bool header;            /* csv/tsv: the first row names the columns */
	char **schema;          /* --schema names */
	size_t nschema;
	const char *key_file, *domain, *audit_path, *rejects_path, *input;
	enum anon_on_error on_error;
	int progress;           /* 0 off, 1 on, 2 auto: on when the input is a regular file */
	bool quiet;
	bool rollback;          /* end a failed output with a line PostgreSQL refuses */
	bool delim_set;         /* -d given: a csv file's sep= line does not change it */
	unsigned jobs;
};
void anon_config_parse(struct anon_run *run, int argc, char **argv);
void anon_config_free(struct anon_run *run); /* the options and columns, after the run */
void anon_usage_error(const struct anon_run *run, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* ---- column selection (select.c) ---------------------------------------------------------- */
struct anon_ref {
	char *spec;
	char *parts[3];   /* pgdump: identifiers of the spec */
	int nparts;
	size_t id;        /* index into a table's refidx[] and a worker's ref scratch */
	bool matched;
	struct anon_ref *next;
};

struct anon_sel {
	int index;                 /* 0-based column of the table */
	struct anon_column *col;
};

/* One table as resolved when it starts; read-only once made, shared by the workers. */
struct anon_tablesel {
	char *name;                /* pgdump "schema.table", else NULL */
	char **names;              /* column names (owned), or NULL */
	size_t nnames;
	size_t width;              /* cells a row must have; 0: any (pgdump COPY without list) */
	struct anon_sel *sel;      /* selected columns in column order */
	size_t nsel;
	int *refidx;               /* per ref id: column index, or -1 */
	bool utf8;
	char *copy_stmt;           /* pgdump: the COPY statement, to head its rejected rows */
	struct anon_tablesel *next;
};
/* Check every spec against the format once all options are known (usage errors exit 64). */
void anon_select_prepare(struct anon_run *run);
/* Resolve the columns for a table that starts. On a usage error, returns NULL with *code and
 * msg filled (the caller stops the run there). */
/* pgdump: `anc` are the partitioned tables the COPY's table is a partition of (a spec that
 * names one applies to its partitions). */
struct anon_tablesel *anon_select_table(struct anon_run *run, const char *name,
					const struct anon_copyhdr *copy,
					const struct anon_relname *anc, size_t nanc, char **names,
					size_t nnames, size_t width, int *code, char *msg,
					size_t msglen);
/* Free the tables and references at the end of a run. */
void anon_select_free(struct anon_run *run);
/* pgdump: whether some spec could name a column of this table (INSERT refusal). */
bool anon_select_names_table(const struct anon_run *run, const struct anon_copyhdr *h,
			     const struct anon_relname *anc, size_t nanc);

/* ---- chunks (run.c, transform.c) ---------------------------------------------------------- */
enum anon_item_kind { ANON_ITEM_RAW, ANON_ITEM_HEADER, ANON_ITEM_ROW, ANON_ITEM_BAD,
		      ANON_ITEM_FATAL };
enum { ANON_ITEM_COPY_BEGIN = 1, ANON_ITEM_COPY_END = 2 };

struct anon_item {
	unsigned char kind, flags;
	const unsigned char *raw;
	size_t rawlen;
	uint64_t line;
	size_t cell0, ncell;       /* ROW: cells in the chunk's arena */
	const char *reason;        /* BAD */
	size_t field;              /* BAD: 0-based */
	uint64_t errline;          /* BAD */
};

/* A data error met while transforming, reported by the main thread in input order. */
struct anon_event {
	uint64_t line;
	char msg[512];
};

struct anon_colcount {
	uint64_t values, nulls, changed, errors, kept, nulled;
};

struct anon_chunk {
	/* made by the main thread; allocated apart (anon_xcalloc_apart): a worker writes it */
	_Alignas(ANON_APART) unsigned char *buf; /* owned input bytes, or NULL: the reader's */
	struct anon_item *items;
	size_t nitems, capitems;
	struct anon_cell *cells;
	size_t ncells, capcells;
	const struct anon_tablesel *table;
	const struct anon_dialect *d;
	struct anon_inbuf *inbuf;  /* the input buffer its items point into (one reference) */
	bool in_copy;              /* pgdump: the chunk starts inside a COPY block */
	int fatal_code;            /* a FATAL item's code and message */
	char fatal_msg[512];
	/* made by the worker: the output is out, or (when out is empty) the input span */
	struct anon_buf out, rej;
	const unsigned char *span;
	size_t span_len;
	struct anon_event *events;
	size_t nevents, capevents;
	struct anon_colcount *counts;  /* per column ordinal */
	uint64_t rows_in, rows_out, rows_rejected, errors;
	bool stopped;              /* a fatal error ends the chunk (and the run) */
	int stop_code;
	char stop_msg[512];
	bool out_in_copy;          /* pgdump: out ends inside a COPY block */
	/* the queue */
	bool done;
	struct anon_chunk *next;
};

/* An input buffer shared by the reader and the chunks that point into it; freed by whoever
 * drops the last reference (main thread only). */
struct anon_inbuf {
	unsigned char *p;          /* while the reader's own, re-read from it before each use */
	unsigned refs;
};

/* One worker's state: everything that changes per value. */
struct runner;
struct anon_worker {
	_Alignas(ANON_APART) struct anon_run *run; /* an array of them: one line pair each */
	struct runner *runner;
	void *tool;                /* the tool's worker state */
	struct anon_buf scratch_out;
	struct anon_buf *colscratch;   /* per column ordinal */
	struct anon_buf *refscratch;   /* per ref id */
	struct anon_buf *cellscratch;  /* per cell, for anon_row_field */
	size_t ncellscratch;
};

/* Transform a chunk on a worker: output, rejects, events and counters into the chunk. */
void anon_transform_chunk(struct anon_worker *w, struct anon_chunk *c);

/* ---- the run (run.c) ---------------------------------------------------------------------- */
struct anon_run {
	const struct anon_tool *tool;
	void *state;
	struct anon_config cfg;
	enum anon_output output;
	struct anon_column *cols;
	size_t ncols;
	struct anon_ref *refs;     /* every reference; one per column first */
	struct anon_ref **colrefs;
	size_t nrefs;
	struct anon_tablesel *tables;

	int audit_fd;
	int rej_fd;
	struct anon_writer rej;
	char time[64], run_id[40];
	double t0;
	struct anon_counts n;      /* from retired chunks */
	int tool_status;
	uint64_t shown;            /* data-error messages printed */
	const struct anon_tablesel *rej_table; /* pgdump: the COPY block open in --rejects */
	atomic_bool in_order;      /* anon_run_in_order */
	bool warned_inserts;
	atomic_size_t chunk_rows;  /* anon_run_set_chunk, anon_run_set_chunk_rows (any thread) */
	size_t chunk_rows_max, chunk_bytes; /* anon_run_set_chunk: bytes a read at rows_max */
};

/* ---- reporting (rejects.c, progress.c, audit.c) -------------------------------------------- */
/* Retire a chunk's data-error events and rejected rows, in input order. */
void anon_rejects_open(struct anon_run *run);
void anon_rejects_retire(struct anon_run *run, struct anon_chunk *c);
void anon_rejects_close(struct anon_run *run);
void anon_progress(struct anon_run *run, uint64_t bytes_in, off_t size, bool last);
/* Open (create, O_APPEND) the audit file before any input is read; exit 74 when it cannot. */
void anon_audit_open(struct anon_run *run);
/* The run's record so far (lib's figures); the tool's finish() adds its own. */
json_t *anon_audit_record(struct anon_run *run);
/* Add the exit code and status ("ok", "error", "closed-pipe"), append it when --audit was
 * given, and free it. */
void anon_audit_append(struct anon_run *run, json_t *rec, int code, const char *status);
void anon_audit_time(char out[64], double epoch);
void anon_run_id(char out[40]);
double anon_now(void);

/* ---- the hook err.c calls (run.c registers it) --------------------------------------------- */
/* Called by anon_die before exiting: emit complete rows, the rollback line, the audit. */
extern void (*anon_abort_hook)(void *arg, int code);
extern void *anon_abort_arg;
extern bool anon_quiet;

#endif
