/* anon-int.h: what the files of lib/ share with each other and with lib's unit tests.
 * Tools never include it. */
#ifndef ANON_INT_H
#define ANON_INT_H

#include "anon.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

struct anon_row {
	const unsigned char *raw; /* the whole row, terminator included */
	size_t rawlen;
	size_t eol;               /* bytes of the terminator at the end of raw (0, 1 or 2) */
	struct anon_cell *cell;
	size_t ncell, cap;
	uint64_t line;            /* 1-based line where the row starts */
	uint64_t nlines;          /* line breaks inside the row (quoted CSV newlines + terminator) */
};

struct anon_dialect {
	enum anon_fmt fmt;
	unsigned char delim, quote;
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
/* Split a column spec "a.b.c" into identifiers (double quotes honoured); returns count or -1. */
int anon_spec_split(const char *spec, char *parts[3]);

/* Where a pg_dump script is between lines: in plain SQL, or inside a string, quoted
 * identifier, dollar-quoted body or block comment. */
enum anon_sql { ANON_SQL_NORMAL, ANON_SQL_STRING, ANON_SQL_ESTRING, ANON_SQL_IDENT,
		ANON_SQL_DOLLAR, ANON_SQL_BLOCK };
struct anon_sqlstate {
	enum anon_sql state;
	unsigned char prev;   /* the byte before, in NORMAL state (E'...' strings, $tags$) */
	char tag[64];
	size_t taglen;
	int depth;
};
void anon_sql_lex(struct anon_sqlstate *s, const unsigned char *p, size_t n);

/* ---- input (reader.c) --------------------------------------------------------------------- */
enum anon_rec { ANON_REC_EOF, ANON_REC_RAW, ANON_REC_HEADER, ANON_REC_ROW, ANON_REC_TABLE,
		ANON_REC_BAD };

struct anon_reader {
	int fd;
	const char *name;          /* for messages: file name or "-" */
	struct anon_dialect d;
	bool header;               /* csv/tsv: first row is a header */
	unsigned char *buf;
	size_t cap, start, end;
	bool eof, began, in_copy;
	uint64_t line;             /* line of the next unread byte */
	uint64_t bytes_in;
	size_t rows_seen;
	off_t size;                /* regular file size, or -1 */
	struct anon_row row;       /* the current row */
	const unsigned char *raw;  /* ANON_REC_RAW / _BAD: bytes to pass through or reject */
	size_t rawlen;
	struct anon_scanerr err;   /* ANON_REC_BAD */
	struct anon_copyhdr copy;  /* pgdump: the current COPY block */
	bool warned_inserts;
	bool not_utf8;             /* pgdump: SET client_encoding named another encoding */
	struct anon_sqlstate sql;
};
void anon_reader_open(struct anon_reader *r, int fd, const char *name,
		      const struct anon_dialect *d, bool header);
enum anon_rec anon_reader_next(struct anon_reader *r);
void anon_reader_close(struct anon_reader *r);

/* ---- output (writer.c) -------------------------------------------------------------------- */
/* Rows are built in place at the end of `buf` (so a row can be dropped again by resetting
 * buf.len), and the buffer goes out once it holds `flush_at` bytes, between rows. */
struct anon_writer {
	int fd;
	const char *name;
	struct anon_buf buf;
	size_t flush_at;
	uint64_t bytes_out;
	bool failed;
};
void anon_writer_open(struct anon_writer *w, int fd, const char *name, size_t flush_at);
void anon_writer_put(struct anon_writer *w, const void *p, size_t n);
/* After a row has been appended to w->buf directly: write out if the buffer is full. */
void anon_writer_row_done(struct anon_writer *w);
void anon_writer_flush(struct anon_writer *w);
void anon_writer_close(struct anon_writer *w);

/* ---- keys (key.c) ------------------------------------------------------------------------- */
/* Load the key from --key-file, ANON_KEY_FILE or ANON_KEY; false when none was given.
 * A bad key exits 78. */
bool anon_key_load(const char *tool, const char *file, const char *domain);
bool anon_key_loaded(void);
const char *anon_key_fingerprint(void); /* 16 hex digits, or NULL */
void anon_key_wipe(void);

/* ---- audit (audit.c) ---------------------------------------------------------------------- */
void anon_audit_append(const char *path, json_t *record);
void anon_audit_time(char out[64], double epoch);
void anon_run_id(char out[40]);

/* ---- the running tool (cli.c) ------------------------------------------------------------- */
/* Called by anon_die before exiting: flush complete rows and write the audit record. */
void anon_ctx_abort(int code);

#endif
