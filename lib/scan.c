/* scan.c: split a buffer into rows of raw cells, for every format.
 * Nothing is copied or unescaped here: cells point into the caller's buffer, with flags that
 * tell field.c what decoding a cell would need. */
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"

static void arena_grow(struct anon_cellarena *a, size_t need)
{
	size_t cap = a->cap ? a->cap : 4096;
	while (cap < need)
		cap *= 2;
	a->p = anon_xrealloc(a->p, cap * sizeof *a->p);
	a->cap = cap;
}

void anon_arena_attach(struct anon_cellarena *a, struct anon_row *row)
{
	if (a->cap - a->n < 64)
		arena_grow(a, a->n + 64);
	row->arena = a;
	row->base = a->n;
	row->cell = a->p + a->n;
	row->cap = a->cap - a->n;
}

static void cell_grow(struct anon_row *row)
{
	if (row->arena) { /* the row's cells stay at the arena's end, wherever it moves */
		arena_grow(row->arena, row->arena->cap * 2);
		row->cell = row->arena->p + row->base;
		row->cap = row->arena->cap - row->base;
		return;
	}
	size_t cap = row->cap ? row->cap * 2 : 16;
	row->cell = anon_xrealloc(row->cell, cap * sizeof *row->cell);
	row->cap = cap;
}

static inline struct anon_cell *cell_push(struct anon_row *row)
{
	if (__builtin_expect(row->ncell == row->cap, 0))
		cell_grow(row);
	return &row->cell[row->ncell++];
}

/* A bad row: resynchronise after the next line break (the rest of this physical line goes
 * with the bad row), or ask for more input when the line break has not arrived yet, so the
 * tail of a bad row is never taken for a row of its own. */
static long scan_error(struct anon_scanerr *err, const char *reason, size_t field, uint64_t line,
		       const unsigned char *buf, const unsigned char *at, const unsigned char *end,
		       bool eof)
{
	const unsigned char *nl = memchr(at, '\n', (size_t)(end - at));
	if (!nl && !eof)
		return 0;
	err->reason = reason;
	err->field = field;
	err->line = line;
	err->resync = nl ? (size_t)(nl + 1 - buf) : (size_t)(end - buf);
	return -1;
}

static long scan_csv(const struct anon_dialect *d, const unsigned char *buf, size_t len, bool eof,
		     uint64_t line, struct anon_row *row, struct anon_scanerr *err)
{
	const unsigned char *p = buf, *end = buf + len;
	const unsigned char q = d->quote, delim = d->delim;
	uint64_t nl = 0;

	row->ncell = 0;
	row->line = line;
	for (;;) {
		struct anon_cell *c = cell_push(row);
		size_t field = row->ncell - 1;
		c->p = p;
		c->flags = 0;
		if (p < end && *p == q) {
			uint64_t field_line = line + nl;
			const unsigned char *s = p + 1;
			c->flags = ANON_CELL_QUOTED;
			for (;;) {
				const unsigned char *e = memchr(s, q, (size_t)(end - s));
				if (!e) {
					if (!eof)
						return 0;
					return scan_error(err, "unterminated quoted field", field,
							  field_line, buf, end, end, eof);
				}
				for (const unsigned char *n = s; (n = memchr(n, '\n', (size_t)(e - n))); n++)
					nl++;
				if (e + 1 == end && !eof)
					return 0; /* cannot tell "" from a closing quote yet */
				if (e + 1 < end && e[1] == q) {
					c->flags |= ANON_CELL_ESCAPED;
					s = e + 2;
					continue;
				}
				p = e + 1;
				break;
			}
			if (p < end && *p != delim && *p != '\n' && *p != '\r')
				return scan_error(err, "text after closing quote", field, line + nl,
						  buf, p, end, eof);
		} else {
			const unsigned char *e = anon_find4(p, end, delim, '\n', '\r', q);
			/* A quote inside an unquoted field (5'11", 37°36'37.8"N) is taken literally,
			 * as most CSV readers do, unless --csv-strict. */
			while (e < end && *e == q) {
				if (d->strict)
					return scan_error(err, "quote inside unquoted field", field,
							  line + nl, buf, e, end, eof);
				e = anon_find4(e + 1, end, delim, '\n', '\r', delim);
			}
			p = e;
			if (d->null ? (size_t)(p - c->p) == d->nulllen &&
				      memcmp(c->p, d->null, d->nulllen) == 0 : p == c->p)
				c->flags = ANON_CELL_NULL;
		}
		c->len = (size_t)(p - c->p);
		if (p == end) {
			if (!eof)
				return 0;
			row->eol = 0;
			break;
		}
		if (*p == delim) {
			p++;
			continue;
		}
		if (*p == '\r') {
			if (p + 1 == end && !eof)
				return 0;
			if (p + 1 == end || p[1] != '\n')
				return scan_error(err, "carriage return outside quotes", field,
						  line + nl, buf, p, end, eof);
			row->eol = 2;
			p += 2;
		} else {
			row->eol = 1;
			p++;
		}
		nl++;
		break;
	}
	row->raw = buf;
	row->rawlen = (size_t)(p - buf);
	row->nlines = nl;
	return (long)row->rawlen;
}

/* COPY text: does the line end in a backslash that escapes nothing? */
static bool lone_backslash(const unsigned char *buf, const unsigned char *stop)
{
	size_t n = 0;
	while (stop - n > buf && stop[-1 - (long)n] == '\\')
		n++;
	return n % 2 == 1;
}

/* TSV and COPY text: one row a line, cells split on the delimiter, no quoting. */
static long scan_lines(const struct anon_dialect *d, const unsigned char *buf, size_t len,
		       bool eof, uint64_t line, struct anon_row *row, struct anon_scanerr *err)
{
	const unsigned char *end = buf + len;
	const unsigned char *nlp = memchr(buf, '\n', len);
	const unsigned char *stop;

	if (!nlp && !eof)
		return 0;
	row->ncell = 0;
	row->line = line;
	if (nlp) {
		stop = nlp;
		row->eol = 1;
		if (stop > buf && stop[-1] == '\r') {
			stop--;
			row->eol = 2;
		}
		row->rawlen = (size_t)(nlp + 1 - buf);
		row->nlines = 1;
	} else {
		stop = end;
		row->eol = 0;
		row->rawlen = len;
		row->nlines = 0;
	}
	row->raw = buf;
	bool any_escape = memchr(buf, '\\', (size_t)(stop - buf)) != NULL;
	/* COPY text: a backslash escapes the byte after it, the delimiter included (PostgreSQL
	 * writes a '|' inside a value as '\|' under DELIMITER '|'). TSV has no such escape. */
	bool escapes_delim = any_escape && d->fmt != ANON_FMT_TSV;
	const unsigned char *p = buf;
	for (;;) {
		const unsigned char *e;
		if (escapes_delim) {
			e = p;
			while (e < stop && *e != d->delim)
				e += *e == '\\' && e + 1 < stop ? 2 : 1;
		} else {
			e = memchr(p, d->delim, (size_t)(stop - p));
			if (!e)
				e = stop;
		}
		struct anon_cell *c = cell_push(row);
		c->p = p;
		c->len = (size_t)(e - p);
		c->flags = 0;
		if (any_escape && memchr(p, '\\', c->len)) {
			c->flags = ANON_CELL_ESCAPED;
			if (!d->null && c->len == 2 && p[1] == 'N')
				c->flags |= ANON_CELL_NULL;
		}
		if (d->null && c->len == d->nulllen && memcmp(p, d->null, c->len) == 0)
			c->flags |= ANON_CELL_NULL;
		if (e == stop)
			break;
		p = e + 1;
	}
	if (escapes_delim && lone_backslash(buf, stop)) {
		err->reason = "a backslash at the end of the line (PostgreSQL would take it for a "
			      "line break inside the value; write that as \\n)";
		err->field = row->ncell - 1;
		err->line = line;
		err->resync = row->rawlen;
		return -1;
	}
	return (long)row->rawlen;
}

long anon_scan_row(const struct anon_dialect *d, const unsigned char *buf, size_t len, bool eof,
		   uint64_t line, struct anon_row *row, struct anon_scanerr *err)
{
	if (d->fmt == ANON_FMT_CSV)
		return scan_csv(d, buf, len, eof, line, row, err);
	return scan_lines(d, buf, len, eof, line, row, err);
}
