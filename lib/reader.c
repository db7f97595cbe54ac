/* reader.c: input buffer and the record stream every tool reads: rows, headers, and (pgdump)
 * the SQL around COPY blocks.  Memory is bounded by the largest row: the buffer grows only
 * when one row does not fit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anon-int.h"

#define READ_SIZE (256 * 1024)
#define PAD 16 /* slack after the data, so vector loads near the end stay in bounds */

void anon_reader_open(struct anon_reader *r, int fd, const char *name,
		      const struct anon_dialect *d, bool header)
{
	struct stat st;
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->d = *d;
	r->header = header && (d->fmt == ANON_FMT_CSV || d->fmt == ANON_FMT_TSV);
	r->cap = READ_SIZE;
	r->buf = malloc(r->cap + PAD);
	if (!r->buf)
		anon_die(EX_SOFTWARE, "out of memory");
	r->line = 1;
	r->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

void anon_reader_close(struct anon_reader *r)
{
	free(r->buf);
	free(r->row.cell);
	anon_copyhdr_free(&r->copy);
	r->buf = NULL;
	r->row.cell = NULL;
}

/* Read more input after what is buffered, keeping the unconsumed bytes. */
static void fill(struct anon_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t cap = r->cap * 2;
		unsigned char *b = realloc(r->buf, cap + PAD);
		if (!b)
			anon_die(EX_SOFTWARE, "out of memory");
		r->buf = b;
		r->cap = cap;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
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

static enum anon_rec pass_raw(struct anon_reader *r, size_t n, uint64_t lines)
{
	r->raw = r->buf + r->start;
	r->rawlen = n;
	r->start += n;
	r->line += lines;
	return ANON_REC_RAW;
}

/* pg_dump: what a SQL line outside COPY data tells us. `SET client_encoding` decides whether
 * character rules may run; INSERT statements carry rows we do not transform. */
static void note_statement(struct anon_reader *r, const unsigned char *p, size_t n)
{
	static const char setenc[] = "SET client_encoding = '";
	if (n > sizeof setenc && memcmp(p, setenc, sizeof setenc - 1) == 0) {
		const char *v = (const char *)p + sizeof setenc - 1;
		size_t vlen = n - (sizeof setenc - 1);
		r->not_utf8 = !((vlen >= 5 && strncasecmp(v, "UTF8'", 5) == 0) ||
				(vlen >= 6 && strncasecmp(v, "UTF-8'", 6) == 0));
	}
	if (!r->warned_inserts && n > 12 && memcmp(p, "INSERT INTO ", 12) == 0) {
		r->warned_inserts = true;
		anon_warn("%s:%llu: INSERT statements pass through unchanged; dump without "
			  "--inserts to have rows anonymized", r->name, (unsigned long long)r->line);
	}
}

/* pg_dump: SQL passes through line by line; COPY blocks are read as COPY text rows. */
static enum anon_rec next_pgdump(struct anon_reader *r)
{
	for (;;) {
		const unsigned char *p = r->buf + r->start;
		size_t avail = r->end - r->start;
		const unsigned char *nl = memchr(p, '\n', avail);
		if (!nl && !r->eof) {
			fill(r);
			continue;
		}
		if (avail == 0) {
			if (r->in_copy) {
				r->err.reason = "end of input inside COPY data (no \\. line)";
				r->err.field = 0;
				r->err.line = r->line;
				r->raw = p;
				r->rawlen = 0;
				r->in_copy = false;
				return ANON_REC_BAD;
			}
			return ANON_REC_EOF;
		}
		size_t linelen = nl ? (size_t)(nl + 1 - p) : avail;
		size_t textlen = linelen - (nl != NULL);
		if (textlen && p[textlen - 1] == '\r')
			textlen--;
		if (!r->in_copy) {
			bool at_statement = r->sql.state == ANON_SQL_NORMAL;
			if (at_statement && textlen > 5 && memcmp(p, "COPY ", 5) == 0) {
				anon_copyhdr_free(&r->copy);
				if (anon_copyhdr_parse(p, textlen, &r->copy)) {
					r->in_copy = true;
					pass_raw(r, linelen, 1);
					return ANON_REC_TABLE;
				}
			}
			if (at_statement)
				note_statement(r, p, textlen);
			anon_sql_lex(&r->sql, p, textlen);
			return pass_raw(r, linelen, 1);
		}
		if (textlen == 2 && p[0] == '\\' && p[1] == '.') {
			r->in_copy = false;
			return pass_raw(r, linelen, 1);
		}
		anon_scan_row(&r->d, p, linelen, true, r->line, &r->row, &r->err);
		r->start += linelen;
		r->line += 1;
		return ANON_REC_ROW;
	}
}

enum anon_rec anon_reader_next(struct anon_reader *r)
{
	if (!r->began) {
		r->began = true;
		fill(r);
		if (r->d.fmt != ANON_FMT_PGDUMP && r->end >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
			return pass_raw(r, 3, 0); /* a BOM is written back, not parsed */
	}
	if (r->d.fmt == ANON_FMT_PGDUMP)
		return next_pgdump(r);
	for (;;) {
		size_t avail = r->end - r->start;
		if (avail == 0) {
			if (r->eof)
				return ANON_REC_EOF;
			fill(r);
			continue;
		}
		long n = anon_scan_row(&r->d, r->buf + r->start, avail, r->eof, r->line, &r->row,
				       &r->err);
		if (n == 0) {
			fill(r);
			continue;
		}
		if (n < 0) {
			const unsigned char *p = r->buf + r->start;
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
