/* reader.c: the input buffer and the record stream every tool reads: rows, headers, and
 * (pgdump) the SQL around COPY blocks.  Memory is bounded by the largest row: the buffer
 * grows only when one row does not fit.  Records point into the buffer; the run takes a
 * full buffer away with its rows (anon_reader_detach) instead of the reader moving it, so a
 * chunk of rows stays where it is while a worker transforms it.
 *
 * Fail closed: what cannot be read as text (pg_dump archives, binary COPY, compressed
 * input) is refused before its first byte passes, and so is a rollback line written by an
 * earlier stage that failed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anon-int.h"

#define READ_SIZE ANON_CHUNK_BYTES
#define PAD 16      /* slack after the data, so vector loads near the end stay in bounds */
#define MAGIC_LEN 262 /* a tar header's "ustar" ends at byte 262 */

/* The first bytes of a rollback line (see run.c): an earlier stage failed. */
static const char rollback_mark[] = "\\.anon: ";
#define ROLLBACK_MARK_LEN (sizeof rollback_mark - 1)
static const char rollback_sql[] = "DO $anon_abort$";

void anon_reader_open(struct anon_reader *r, int fd, const char *name,
		      const struct anon_dialect *d, bool header)
{
	struct stat st;
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->read = read;
	r->name = name;
	r->d = *d;
	r->header = header && d->fmt != ANON_FMT_PGDUMP;
	r->cap = r->read_size = READ_SIZE;
	r->buf = anon_xrealloc(NULL, r->cap + PAD);
	r->line = 1;
	r->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

void anon_reader_set_size(struct anon_reader *r, size_t bytes)
{
	r->read_size = bytes > READ_SIZE ? bytes : READ_SIZE;
	if (r->cap < r->read_size) {
		r->cap = r->read_size;
		r->buf = anon_xrealloc(r->buf, r->cap + PAD);
	}
}

void anon_reader_close(struct anon_reader *r)
{
	for (size_t i = 0; i < r->npartitions; i++) {
		free(r->partitions[i].child.schema);
		free(r->partitions[i].child.table);
		free(r->partitions[i].parent.schema);
		free(r->partitions[i].parent.table);
	}
	free(r->partitions);
	anon_sqlstate_free(&r->sql);
	free(r->buf);
	free(r->cells.p);
	anon_copyhdr_free(&r->copy);
	r->buf = NULL;
	r->cells.p = NULL;
	r->row.cell = NULL;
}

unsigned char *anon_reader_detach(struct anon_reader *r)
{
	unsigned char *old = r->buf;
	size_t left = r->end - r->start;
	size_t cap = r->read_size;
	while (cap < left + r->read_size / 4)
		cap *= 2;
	r->buf = anon_xrealloc(NULL, cap + PAD);
	memcpy(r->buf, old + r->start, left);
	r->cap = cap;
	r->start = 0;
	r->end = left;
	r->pinned = false;
	return old;
}

static void read_more(struct anon_reader *r);

/* Read more input after what is buffered, keeping the unconsumed bytes.  Nothing may point
 * into the buffer (the caller checked r->pinned). */
static void fill(struct anon_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		r->cap *= 2;
		r->buf = anon_xrealloc(r->buf, r->cap + PAD);
	}
	read_more(r);
}

/* One read(2) into the room after r->end; the bytes before it stay where they are. */
static void read_more(struct anon_reader *r)
{
	for (;;) {
		ssize_t n = r->read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			anon_die(EX_IOERR, "%s: read: %s", r->name, strerror(errno));
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
		r->bytes_in += (uint64_t)n;
		return;
	}
}

/* Can a read return now without waiting? (A regular file always can; an fd poll does not
 * know, such as a unit test's fake one, counts as ready, and its read will tell.) */
static bool input_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) != 0;
}

/* More input is needed: fill, or ask the caller to take the buffer away first. */
static bool need_more(struct anon_reader *r, enum anon_rec *rec)
{
	if (r->pinned) {
		/* Records handed out point into the buffer: read on after them while it has
		 * room and input is there now (a pipe gives at most 64 KiB a read, and a chunk
		 * is the rows of one buffer), then let the caller take the buffer. A slow
		 * producer's rows are not held back waiting for more, unless the run asked for
		 * large chunks (wait_fill): then the buffer is filled, waiting if need be. */
		if (r->end < r->cap && !r->eof && (r->wait_fill || input_ready(r->fd))) {
			read_more(r);
			return true;
		}
		*rec = ANON_REC_REFILL;
		return false;
	}
	fill(r);
	return true;
}

static enum anon_rec pass_raw(struct anon_reader *r, size_t n, uint64_t lines)
{
	r->raw = r->buf + r->start;
	r->rawlen = n;
	r->rawlines = lines;
	r->start += n;
	r->line += lines;
	return ANON_REC_RAW;
}

static enum anon_rec fatal(struct anon_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum anon_rec fatal(struct anon_reader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->fatal_msg, sizeof r->fatal_msg, fmt, ap);
	va_end(ap);
	r->fatal_code = code;
	r->raw = NULL;
	r->rawlen = 0;
	r->start = r->end; /* nothing after this is read */
	r->eof = true;
	r->in_copy = false;
	r->copy_done = true;
	return ANON_REC_FATAL;
}

static enum anon_rec upstream_failed(struct anon_reader *r)
{
	return fatal(r, EX_DATAERR, "%s:%llu: an earlier stage of the pipeline failed (its output "
		     "ends with a rollback line): nothing after it may be used", r->name,
		     (unsigned long long)r->line);
}

/* At byte 0: refuse what is not text we can read, before any of it passes. */
static enum anon_rec check_magic(struct anon_reader *r)
{
	static const struct {
		const char *magic;
		size_t len, at;
		const char *what;
	} magics[] = {
		{ "PGDMP", 5, 0, "a pg_dump custom-format archive (pg_dump -Fc), which cannot be "
		  "read as a stream: dump with pg_dump -Fp (plain SQL), or turn the archive into "
		  "a script with pg_restore -f - ARCHIVE" },
		{ "ustar", 5, 257, "a tar archive (pg_dump -Ft?), which cannot be read as a stream: "
		  "dump with pg_dump -Fp (plain SQL)" },
		{ "PGCOPY\n\377\r\n", 11, 0, "binary COPY (FORMAT binary): write the data with "
		  "COPY ... TO STDOUT (FORMAT text) or (FORMAT csv)" },
		{ "\x1f\x8b", 2, 0, "gzip-compressed: decompress it first (zcat FILE | ...)" },
		{ "\x28\xb5\x2f\xfd", 4, 0, "zstd-compressed: decompress it first (zstdcat FILE | ...)" },
		{ "\x04\x22\x4d\x18", 4, 0, "lz4-compressed: decompress it first (lz4cat FILE | ...)" },
	};
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
		if (r->end >= magics[i].at + magics[i].len &&
		    memcmp(r->buf + magics[i].at, magics[i].magic, magics[i].len) == 0)
			return fatal(r, EX_DATAERR, "%s: input is %s", r->name, magics[i].what);
	return ANON_REC_EOF;
}

/* pg_dump: what a SQL statement outside COPY data tells us. `SET client_encoding` decides
 * whether character rules may run. */
static void note_statement(struct anon_reader *r, const unsigned char *p, size_t n)
{
	struct anon_partition part;
	if ((n > 30 && (p[0] == 'A' || p[0] == 'C')) && anon_partition_parse(p, n, &part)) {
		r->partitions = anon_xrealloc(r->partitions,
					      (r->npartitions + 1) * sizeof *r->partitions);
		r->partitions[r->npartitions++] = part;
	}
	if (n > 10 && memcmp(p, "\\restrict ", 10) == 0)
		r->restricted = true;
	if (n > 12 && memcmp(p, "\\unrestrict ", 12) == 0)
		r->restricted = false;
	static const char setenc[] = "SET client_encoding = '";
	if (n > sizeof setenc && memcmp(p, setenc, sizeof setenc - 1) == 0) {
		const char *v = (const char *)p + sizeof setenc - 1;
		size_t vlen = n - (sizeof setenc - 1);
		r->not_utf8 = !((vlen >= 5 && strncasecmp(v, "UTF8'", 5) == 0) ||
				(vlen >= 6 && strncasecmp(v, "UTF-8'", 6) == 0));
	}
}

/* The end of a COPY statement that starts at p: the ';' outside double quotes, then the line
 * break. Returns its length (line break included), 0 when more input is needed, -1 when the
 * statement ends without one. A quoted identifier may hold line breaks. */
static long copy_statement(const unsigned char *p, size_t avail, bool eof, uint64_t *lines)
{
	bool quoted = false;
	*lines = 0;
	for (size_t i = 0; i < avail; i++) {
		if (p[i] == '"')
			quoted = !quoted;
		else if (p[i] == '\n') {
			++*lines;
			if (!quoted)
				return i > 0 && (p[i - 1] == ';' || (p[i - 1] == '\r' && i > 1 &&
								   p[i - 2] == ';')) ? (long)(i + 1) : -1;
		}
	}
	return eof ? -1 : 0;
}

static bool ci_has(const unsigned char *p, size_t n, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp((const char *)p + i, word, w) == 0)
			return true;
	return false;
}

/* pg_dump: SQL passes through line by line; COPY blocks are read as COPY text rows. */
static enum anon_rec next_pgdump(struct anon_reader *r)
{
	enum anon_rec rec;
	for (;;) {
		const unsigned char *p = r->buf + r->start;
		size_t avail = r->end - r->start;
		if (avail < r->need && !r->eof) {
			if (!need_more(r, &rec))
				return rec;
			continue;
		}
		const unsigned char *nl = memchr(p, '\n', avail);
		if (!nl && !r->eof) {
			r->need = avail * 2; /* a long line: look again once the buffer has doubled */
			if (!need_more(r, &rec))
				return rec;
			continue;
		}
		r->need = 0;
		if (avail == 0) {
			if (r->in_copy)
				return fatal(r, EX_DATAERR, "%s:%llu: end of input inside COPY data (no "
					     "\\. line): the dump is cut short", r->name,
					     (unsigned long long)r->line);
			return ANON_REC_EOF;
		}
		size_t linelen = nl ? (size_t)(nl + 1 - p) : avail;
		size_t textlen = linelen - (nl != NULL);
		uint64_t breaks = nl != NULL; /* a last line without a line break counts none */
		if (textlen && p[textlen - 1] == '\r')
			textlen--;
		if (r->in_copy) {
			if (textlen == 2 && p[0] == '\\' && p[1] == '.') {
				r->in_copy = false;
				pass_raw(r, linelen, breaks);
				return ANON_REC_COPYEND;
			}
			anon_arena_attach(&r->cells, &r->row);
			if (anon_scan_row(&r->d, p, linelen, true, r->line, &r->row, &r->err) < 0) {
				pass_raw(r, linelen, breaks);
				return ANON_REC_BAD;
			}
			r->start += linelen;
			r->line += breaks;
			return ANON_REC_ROW;
		}
		bool at_statement = r->sql.state == ANON_SQL_NORMAL;
		if (at_statement && textlen >= 5 && memcmp(p, "COPY ", 5) == 0) {
			uint64_t lines;
			long n = copy_statement(p, avail, r->eof, &lines);
			if (n == 0) {
				r->need = avail * 2;
				if (!need_more(r, &rec))
					return rec;
				continue;
			}
			size_t stlen = n > 0 ? (size_t)n : linelen;
			size_t body = stlen;
			while (body && (p[body - 1] == '\n' || p[body - 1] == '\r'))
				body--;
			anon_copyhdr_free(&r->copy);
			if (n > 0 && anon_copyhdr_parse(p, body, &r->copy)) {
				r->in_copy = true;
				pass_raw(r, stlen, n > 0 ? lines : breaks);
				return ANON_REC_TABLE;
			}
			if (ci_has(p, n > 0 ? body : textlen, "stdin"))
				return fatal(r, EX_DATAERR, "%s:%llu: a COPY ... FROM stdin statement "
					     "that is not in pg_dump's plain form: its rows cannot be "
					     "read (dump with pg_dump -Fp)", r->name,
					     (unsigned long long)r->line);
		}
		if (at_statement && textlen >= sizeof rollback_sql - 1 &&
		    memcmp(p, rollback_sql, sizeof rollback_sql - 1) == 0)
			return upstream_failed(r);
		if (at_statement && textlen > 12 && memcmp(p, "INSERT INTO ", 12) == 0) {
			anon_copyhdr_free(&r->copy);
			if (anon_insert_parse(p, textlen, &r->copy)) {
				anon_sql_lex(&r->sql, p, textlen);
				pass_raw(r, linelen, breaks);
				return ANON_REC_INSERT;
			}
		}
		if (at_statement)
			note_statement(r, p, textlen);
		anon_sql_lex(&r->sql, p, textlen);
		return pass_raw(r, linelen, breaks);
	}
}

/* COPY text and TSV: a line that starts with \. is the end of the data (alone), or an
 * earlier stage's rollback line. */
static enum anon_rec copy_mark(struct anon_reader *r, const unsigned char *p, size_t avail)
{
	if (r->d.fmt == ANON_FMT_TSV) {
		if (avail >= ROLLBACK_MARK_LEN && memcmp(p, rollback_mark, ROLLBACK_MARK_LEN) == 0)
			return upstream_failed(r);
		return ANON_REC_EOF;
	}
	size_t n = avail > 1 && p[1] == '.' ? 2 : 0;
	if (!n)
		return ANON_REC_EOF;
	if (n == avail || p[2] == '\n' || (p[2] == '\r' && (avail == 3 || p[3] == '\n'))) {
		/* end of data: it and whatever follows pass through as they are */
		r->copy_done = true;
		return ANON_REC_EOF;
	}
	return upstream_failed(r);
}

enum anon_rec anon_reader_next(struct anon_reader *r)
{
	enum anon_rec rec;
	if (!r->began) {
		while (r->end < MAGIC_LEN && !r->eof)
			fill(r);
		r->began = true;
		if ((rec = check_magic(r)) != ANON_REC_EOF)
			return rec;
		if (r->d.fmt != ANON_FMT_PGDUMP && r->end >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
			return pass_raw(r, 3, 0); /* a BOM is written back, not parsed */
	}
	if (r->d.fmt == ANON_FMT_PGDUMP)
		return next_pgdump(r);
	for (;;) {
		size_t avail = r->end - r->start;
		const unsigned char *p = r->buf + r->start;
		if (avail == 0 || avail < r->need) {
			if (r->eof && avail == 0)
				return ANON_REC_EOF;
			if (!r->eof) {
				if (!need_more(r, &rec))
					return rec;
				continue;
			}
		}
		if (r->copy_done) {
			uint64_t lines = 0;
			for (const unsigned char *q = p; (q = memchr(q, '\n', (size_t)(p + avail - q))); q++)
				lines++;
			return pass_raw(r, avail, lines);
		}
		if (r->rows_seen == 0 && r->d.fmt == ANON_FMT_CSV && !r->sep_checked) {
			/* Excel's first line "sep=;" names the delimiter */
			if (avail < 7 && !r->eof) {
				r->need = 7;
				continue;
			}
			r->sep_checked = true;
			if (avail >= 6 && memcmp(p, "sep=", 4) == 0 && p[4] != '\n' && p[4] != '\r' &&
			    (p[5] == '\n' || (avail >= 7 && p[5] == '\r' && p[6] == '\n'))) {
				r->sep = p[4];
				pass_raw(r, p[5] == '\n' ? 6 : 7, 1);
				return ANON_REC_SEP;
			}
		}
		if (*p == '\\' && r->d.fmt != ANON_FMT_CSV) {
			if (avail < ROLLBACK_MARK_LEN + 1 && !r->eof) {
				r->need = ROLLBACK_MARK_LEN + 1;
				continue;
			}
			if ((rec = copy_mark(r, p, avail)) != ANON_REC_EOF)
				return rec;
			if (r->copy_done)
				continue;
		}
		if (*p == '\\' && r->d.fmt == ANON_FMT_CSV) {
			/* an unquoted \. alone ends CSV data too, as COPY FROM STDIN reads it */
			if (avail < 4 && !r->eof) {
				r->need = 4;
				continue;
			}
			if (avail >= 2 && p[1] == '.' && (avail == 2 || p[2] == '\n' ||
			    (p[2] == '\r' && (avail == 3 || p[3] == '\n')))) {
				r->copy_done = true;
				continue;
			}
		}
		if (*p == r->d.quote && r->d.fmt == ANON_FMT_CSV) {
			if (avail < ROLLBACK_MARK_LEN + 1 && !r->eof) {
				r->need = ROLLBACK_MARK_LEN + 1;
				continue;
			}
			if (avail >= ROLLBACK_MARK_LEN + 1 &&
			    memcmp(p + 1, rollback_mark, ROLLBACK_MARK_LEN) == 0)
				return upstream_failed(r);
		}
		anon_arena_attach(&r->cells, &r->row);
		long n = anon_scan_row(&r->d, p, avail, r->eof, r->line, &r->row, &r->err);
		if (n == 0) {
			/* Incomplete row: rescan only once the buffered bytes have doubled, so a
			 * huge field arriving in small reads costs linear time, not quadratic. */
			r->need = avail * 2;
			continue;
		}
		r->need = 0;
		if (n < 0) {
			uint64_t lines = 0;
			for (size_t i = 0; i < r->err.resync; i++)
				lines += p[i] == '\n';
			pass_raw(r, r->err.resync, lines);
			r->rows_seen++;
			return ANON_REC_BAD;
		}
		r->start += (size_t)n;
		r->line += r->row.nlines;
		bool first = r->rows_seen++ == 0;
		return r->header && first ? ANON_REC_HEADER : ANON_REC_ROW;
	}
}
