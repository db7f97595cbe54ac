/* lib_reader.c: the reader gives the same records however its input arrives.  Every case is
 * read all at once, split at every point (a sample of points for long inputs), one byte at a
 * time and in random pieces (with EINTR); short cases again after a 262-byte filler line,
 * there also split at every pair of points.  The reader is driven the way lib/run.c drives
 * it: each record pins the buffer, and REFILL is answered by clearing the pin or by
 * detaching the buffer.  Each run's records are serialized and compared with the
 * all-at-once run, and checked for invariants: every input byte comes out in exactly one
 * record, in order; line numbers add up; cells tile their row. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anon-int.h"
#include "tap.h"

static const struct anon_dialect CSV = { .fmt = ANON_FMT_CSV, .delim = ',', .quote = '"' };
static const struct anon_dialect CSV_STRICT = { .fmt = ANON_FMT_CSV, .delim = ',', .quote = '"',
						.strict = true };
static const struct anon_dialect TSV = { .fmt = ANON_FMT_TSV, .delim = '\t', .quote = '"' };
static const struct anon_dialect COPY = { .fmt = ANON_FMT_COPY, .delim = '\t', .quote = '"' };
static const struct anon_dialect PGDUMP = { .fmt = ANON_FMT_PGDUMP, .delim = '\t', .quote = '"' };

#define READ_SIZE (256 * 1024) /* reader.c's read size, to aim split points at */

/* ---- the input: in-memory sources, keyed by fd ------------------------------------------- */

enum feed_mode { FEED_ALL, FEED_SPLIT, FEED_SPLIT2, FEED_BYTE, FEED_CHUNK, FEED_RANDOM };

struct feed {
	enum feed_mode mode;
	size_t a, b;      /* SPLIT: a read never crosses a (then b); CHUNK: a bytes a read */
	unsigned seed;    /* RANDOM */
};

struct source {
	const unsigned char *p;
	size_t len, pos;
	struct feed f;
	unsigned seed;
	bool gave_eof;
	bool zero_request; /* the reader asked for 0 bytes (it would read that as EOF) */
	bool after_eof;    /* the reader read again after it was given EOF */
};

static size_t total_refills, total_runs;

#define FD_BASE 900
static struct source sources[1];

static ssize_t test_read(int fd, void *buf, size_t n)
{
	struct source *s = &sources[fd - FD_BASE];
	if (n == 0)
		s->zero_request = true;
	if (s->f.mode == FEED_RANDOM && rand_r(&s->seed) % 7 == 0) {
		errno = EINTR;
		return -1;
	}
	size_t rest = s->len - s->pos;
	if (rest == 0) {
		if (s->gave_eof)
			s->after_eof = true;
		s->gave_eof = true;
		return 0;
	}
	size_t k = rest;
	switch (s->f.mode) {
	case FEED_ALL:
		break;
	case FEED_SPLIT2:
		if (s->pos < s->f.b && s->pos >= s->f.a)
			k = s->f.b - s->pos;
		/* fall through */
	case FEED_SPLIT:
		if (s->pos < s->f.a)
			k = s->f.a - s->pos;
		break;
	case FEED_BYTE:
		k = 1;
		break;
	case FEED_CHUNK:
		k = s->f.a;
		break;
	case FEED_RANDOM:
		k = 1 + (size_t)rand_r(&s->seed) % (s->f.a ? s->f.a : 1);
		break;
	}
	if (k > rest)
		k = rest;
	if (k > n)
		k = n;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

/* ---- serialization of a run's records ------------------------------------------------------ */

static void esc_bytes(struct anon_buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	anon_buf_reserve(b, n * 4 + 1);
	unsigned char *o = b->p + b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			*o++ = c;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = (unsigned char)hex[c >> 4];
			*o++ = (unsigned char)hex[c & 15];
		}
	}
	b->len = (size_t)(o - b->p);
}

static void addf(struct anon_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bytes as text; a long span as its ends, its length and a 64-bit FNV-1a hash, which keeps
 * runs over megabytes cheap to compare and still tells any two spans apart. */
static void esc(struct anon_buf *b, const unsigned char *p, size_t n)
{
	if (n <= 2048) {
		esc_bytes(b, p, n);
		return;
	}
	uint64_t h = 14695981039346656037u;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) { /* FNV-1a over 8-byte words */
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 1099511628211u;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 1099511628211u;
	esc_bytes(b, p, 64);
	addf(b, "...[%zu bytes, fnv %016llx]...", n, (unsigned long long)h);
	esc_bytes(b, p + n - 64, 64);
}

static void addf(struct anon_buf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		anon_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void adds(struct anon_buf *b, const char *s)
{
	if (!s) {
		anon_buf_addstr(b, "(null)");
		return;
	}
	anon_buf_addc(b, '"');
	esc(b, (const unsigned char *)s, strlen(s));
	anon_buf_addc(b, '"');
}

struct result {
	struct anon_buf ser;    /* the records, serialized */
	size_t consumed;        /* input bytes the records have covered, in order */
	uint64_t nl;            /* line breaks in them */
	char kinds[128];        /* one letter a record (RAW records of flat formats merged) */
	size_t nkinds;
	size_t records, refills, detaches;
	bool fatal, stuck;
	int violations;
	char first[512];        /* the first violation */
};

static void result_free(struct result *res)
{
	anon_buf_free(&res->ser);
}

static void violation(struct result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(struct result *res, const char *fmt, ...)
{
	if (res->violations++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(res->first, sizeof res->first, fmt, ap);
		va_end(ap);
	}
}

static void kind(struct result *res, char k)
{
	if (res->nkinds + 1 < sizeof res->kinds) {
		res->kinds[res->nkinds++] = k;
		res->kinds[res->nkinds] = 0;
	}
}

static size_t count_nl(const unsigned char *p, size_t n)
{
	size_t k = 0;
	for (const unsigned char *q = p; n && (q = memchr(q, '\n', (size_t)(p + n - q))); q++)
		k++;
	return k;
}

/* A row's shape: its cells tile it, one delimiter between them, the terminator after. */
static void check_row(struct result *res, const struct anon_dialect *d, const struct anon_row *row,
		      uint64_t line_before)
{
	const unsigned char *end = row->raw + row->rawlen;
	if (row->line != line_before)
		violation(res, "row at line %llu, expected %llu", (unsigned long long)row->line,
			  (unsigned long long)line_before);
	if (row->nlines != count_nl(row->raw, row->rawlen))
		violation(res, "row nlines %llu, but %zu line breaks in it",
			  (unsigned long long)row->nlines, count_nl(row->raw, row->rawlen));
	bool eol_ok = row->eol == 0 ? row->rawlen == 0 || end[-1] != '\n' :
		      row->eol == 1 ? row->rawlen >= 1 && end[-1] == '\n' &&
				      (row->rawlen < 2 || end[-2] != '\r' || d->fmt == ANON_FMT_CSV) :
		      row->eol == 2 && row->rawlen >= 2 && end[-1] == '\n' && end[-2] == '\r';
	if (!eol_ok)
		violation(res, "row at line %llu: eol %zu does not match its end",
			  (unsigned long long)row->line, row->eol);
	if (row->ncell == 0) {
		violation(res, "row at line %llu without cells", (unsigned long long)row->line);
		return;
	}
	const unsigned char *p = row->raw;
	for (size_t i = 0; i < row->ncell; i++) {
		const struct anon_cell *c = &row->cell[i];
		if (c->p != p || c->p + c->len > end - row->eol) {
			violation(res, "row at line %llu: cell %zu is not where the row says",
				  (unsigned long long)row->line, i);
			return;
		}
		p = c->p + c->len;
		if (i + 1 < row->ncell) {
			if (*p != d->delim) {
				violation(res, "row at line %llu: no delimiter after cell %zu",
					  (unsigned long long)row->line, i);
				return;
			}
			p++;
		}
		if ((c->flags & ANON_CELL_QUOTED) &&
		    (c->len < 2 || c->p[0] != d->quote || c->p[c->len - 1] != d->quote))
			violation(res, "row at line %llu: quoted cell %zu without its quotes",
				  (unsigned long long)row->line, i);
	}
	if (p != end - row->eol)
		violation(res, "row at line %llu: the cells end before the terminator",
			  (unsigned long long)row->line);
}

static void ser_row(struct result *res, const struct anon_dialect *d, const struct anon_row *row)
{
	static struct anon_buf scratch;
	struct anon_buf *b = &res->ser;
	addf(b, " line=%llu nlines=%llu eol=%zu ncell=%zu raw=", (unsigned long long)row->line,
	     (unsigned long long)row->nlines, row->eol, row->ncell);
	esc(b, row->raw, row->rawlen);
	for (size_t i = 0; i < row->ncell; i++) {
		struct anon_field f;
		addf(b, "\n  cell %zu flags=%u raw=", i, row->cell[i].flags);
		esc(b, row->cell[i].p, row->cell[i].len);
		scratch.len = 0;
		anon_field_decode(d, &row->cell[i], &scratch, &f);
		if (f.null) {
			anon_buf_addstr(b, " value=NULL");
		} else {
			anon_buf_addstr(b, " value=");
			esc(b, f.p, f.len);
		}
	}
}

static void ser_copyhdr(struct anon_buf *b, const struct anon_copyhdr *h)
{
	anon_buf_addstr(b, " schema=");
	adds(b, h->schema);
	anon_buf_addstr(b, " table=");
	adds(b, h->table);
	addf(b, " has_cols=%d cols=", h->has_cols);
	for (size_t i = 0; i < h->ncols; i++) {
		anon_buf_addstr(b, i ? "," : "");
		adds(b, h->cols[i]);
	}
}

/* Records that carry bytes: they must be the next bytes of the input, and their line breaks
 * move r->line. */
static void took(struct result *res, const struct anon_reader *r, const unsigned char *p, size_t n,
		 uint64_t line_before, const char *what)
{
	const struct source *s = &sources[0];
	if (res->consumed + n > s->len || memcmp(p, s->p + res->consumed, n) != 0)
		violation(res, "%s at line %llu: its bytes are not the input's at %zu", what,
			  (unsigned long long)line_before, res->consumed);
	res->consumed += n;
	res->nl += count_nl(p, n);
	if (n == 0)
		violation(res, "%s at line %llu with no bytes", what, (unsigned long long)line_before);
	if (r->line != line_before + count_nl(p, n))
		violation(res, "%s at line %llu: r->line is %llu after it, its bytes hold %zu line "
			  "breaks", what, (unsigned long long)line_before, (unsigned long long)r->line,
			  count_nl(p, n));
}

enum policy { UNPIN, DETACH, ALTERNATE };

struct tcase {
	const char *name;
	const struct anon_dialect *d;
	bool header;
	const unsigned char *p;
	size_t len;
};

static void drive(const struct tcase *tc, struct feed f, enum policy pol, struct result *res)
{
	const struct anon_dialect *d = tc->d;
	bool flat = d->fmt != ANON_FMT_PGDUMP;
	struct anon_reader r;
	struct source *src = &sources[0];
	total_runs++;
	memset(res, 0, sizeof *res);
	anon_buf_reserve(&res->ser, 4096 + (tc->len < 65536 ? 4 * tc->len : 0));
	memset(src, 0, sizeof *src);
	src->p = tc->p;
	src->len = tc->len;
	src->f = f;
	src->seed = f.seed;
	anon_reader_open(&r, FD_BASE, "in", d, tc->header);
	r.read = test_read;

	struct anon_buf raw = {0}; /* flat formats: consecutive RAW records, merged */
	uint64_t raw_line = 0, raw_lines = 0;
	bool have_raw = false;
	uint64_t line_before = 1;
	size_t guard = 0, limit = 2 * tc->len + 64;
	for (;;) {
		if (++guard > limit) {
			res->stuck = true;
			violation(res, "no end after %zu calls", guard);
			break;
		}
		enum anon_rec rec = anon_reader_next(&r);
		if (rec == ANON_REC_REFILL) {
			if (!r.pinned)
				violation(res, "REFILL while the buffer is not pinned");
			bool detach = pol == DETACH || (pol == ALTERNATE && res->refills % 2);
			res->refills++;
			if (detach) {
				free(anon_reader_detach(&r));
				res->detaches++;
				if (r.pinned)
					violation(res, "still pinned after anon_reader_detach");
			} else {
				r.pinned = false;
			}
			continue;
		}
		res->records++;
		if (rec == ANON_REC_RAW && flat) {
			if (r.line - r.rawlines != line_before)
				violation(res, "RAW at line %llu, expected %llu",
					  (unsigned long long)(r.line - r.rawlines),
					  (unsigned long long)line_before);
			if (!have_raw) {
				raw_line = line_before;
				raw_lines = 0;
				raw.len = 0;
				have_raw = true;
				kind(res, 'R');
			}
			raw_lines += r.rawlines;
			anon_buf_add(&raw, r.raw, r.rawlen);
			took(res, &r, r.raw, r.rawlen, line_before, "RAW");
			line_before = r.line;
			r.pinned = true;
			continue;
		}
		if (have_raw) {
			addf(&res->ser, "RAW line=%llu lines=%llu raw=", (unsigned long long)raw_line,
			     (unsigned long long)raw_lines);
			esc(&res->ser, raw.p, raw.len);
			anon_buf_addc(&res->ser, '\n');
			have_raw = false;
		}
		struct anon_buf *b = &res->ser;
		switch (rec) {
		case ANON_REC_REFILL:
			break;
		case ANON_REC_EOF:
			kind(res, 'E');
			addf(b, "EOF line=%llu not_utf8=%d restricted=%d", (unsigned long long)r.line,
			     r.not_utf8, r.restricted);
			if (!res->fatal) {
				addf(b, " bytes_in=%llu", (unsigned long long)r.bytes_in);
				if (r.bytes_in != tc->len)
					violation(res, "bytes_in %llu of %zu", (unsigned long long)r.bytes_in,
						  tc->len);
				if (res->consumed != tc->len)
					violation(res, "the records cover %zu bytes of %zu", res->consumed,
						  tc->len);
			}
			if (r.line != 1 + res->nl)
				violation(res, "r->line %llu at the end", (unsigned long long)r.line);
			if (anon_reader_next(&r) != ANON_REC_EOF)
				violation(res, "a record after EOF");
			break;
		case ANON_REC_RAW:
			kind(res, 'R');
			addf(b, "RAW line=%llu lines=%llu raw=", (unsigned long long)(r.line - r.rawlines),
			     (unsigned long long)r.rawlines);
			esc(b, r.raw, r.rawlen);
			if (r.line - r.rawlines != line_before)
				violation(res, "RAW at line %llu, expected %llu",
					  (unsigned long long)(r.line - r.rawlines),
					  (unsigned long long)line_before);
			took(res, &r, r.raw, r.rawlen, line_before, "RAW");
			break;
		case ANON_REC_HEADER:
		case ANON_REC_ROW:
			kind(res, rec == ANON_REC_HEADER ? 'H' : 'W');
			anon_buf_addstr(b, rec == ANON_REC_HEADER ? "HEADER" : "ROW");
			ser_row(res, &r.d, &r.row);
			check_row(res, &r.d, &r.row, line_before);
			took(res, &r, r.row.raw, r.row.rawlen, line_before, "ROW");
			break;
		case ANON_REC_SEP:
			/* as run.c does (without -d): the delimiter it names holds from here on */
			kind(res, 'P');
			addf(b, "SEP sep=%d raw=", r.sep);
			esc(b, r.raw, r.rawlen);
			if (r.line - 1 != line_before)
				violation(res, "SEP not on line %llu", (unsigned long long)line_before);
			took(res, &r, r.raw, r.rawlen, line_before, "SEP");
			r.d.delim = r.sep;
			break;
		case ANON_REC_TABLE:
			kind(res, 'T');
			addf(b, "TABLE line=%llu lines=%llu not_utf8=%d restricted=%d raw=",
			     (unsigned long long)(r.line - r.rawlines), (unsigned long long)r.rawlines,
			     r.not_utf8, r.restricted);
			esc(b, r.raw, r.rawlen);
			ser_copyhdr(b, &r.copy);
			if (!r.copy.table)
				violation(res, "TABLE without a table name");
			took(res, &r, r.raw, r.rawlen, line_before, "TABLE");
			break;
		case ANON_REC_COPYEND:
			kind(res, 'C');
			anon_buf_addstr(b, "COPYEND raw=");
			esc(b, r.raw, r.rawlen);
			if (!((r.rawlen == 3 && memcmp(r.raw, "\\.\n", 3) == 0) ||
			      (r.rawlen == 4 && memcmp(r.raw, "\\.\r\n", 4) == 0) ||
			      (r.rawlen == 2 && memcmp(r.raw, "\\.", 2) == 0)))
				violation(res, "COPYEND that is not a \\. line");
			took(res, &r, r.raw, r.rawlen, line_before, "COPYEND");
			break;
		case ANON_REC_INSERT:
			kind(res, 'I');
			addf(b, "INSERT not_utf8=%d raw=", r.not_utf8);
			esc(b, r.raw, r.rawlen);
			ser_copyhdr(b, &r.copy);
			took(res, &r, r.raw, r.rawlen, line_before, "INSERT");
			break;
		case ANON_REC_BAD:
			kind(res, 'B');
			anon_buf_addstr(b, "BAD reason=");
			adds(b, r.err.reason);
			addf(b, " field=%zu line=%llu raw=", r.err.field, (unsigned long long)r.err.line);
			esc(b, r.raw, r.rawlen);
			if (!r.err.reason || r.err.line < line_before ||
			    r.err.line > line_before + count_nl(r.raw, r.rawlen))
				violation(res, "BAD at line %llu outside its bytes",
					  (unsigned long long)r.err.line);
			took(res, &r, r.raw, r.rawlen, line_before, "BAD");
			break;
		case ANON_REC_FATAL:
			kind(res, 'F');
			addf(b, "FATAL code=%d msg=", r.fatal_code);
			esc(b, (const unsigned char *)r.fatal_msg, strlen(r.fatal_msg));
			if (res->fatal)
				violation(res, "a second FATAL");
			res->fatal = true;
			if (r.line != line_before)
				violation(res, "FATAL moved the line");
			break;
		}
		anon_buf_addc(b, '\n');
		line_before = r.line;
		if (rec == ANON_REC_EOF)
			break;
		r.pinned = true; /* as run.c does: the record points into the buffer */
	}
	if (src->zero_request)
		violation(res, "the reader asked for 0 bytes");
	if (src->after_eof)
		violation(res, "the reader read on after EOF");
	anon_buf_free(&raw);
	anon_reader_close(&r);
}

/* ---- comparing runs ------------------------------------------------------------------------- */

static const char *feed_name(struct feed f)
{
	static char s[96];
	switch (f.mode) {
	case FEED_ALL: return "all at once";
	case FEED_SPLIT: snprintf(s, sizeof s, "split at %zu", f.a); break;
	case FEED_SPLIT2: snprintf(s, sizeof s, "split at %zu and %zu", f.a, f.b); break;
	case FEED_BYTE: return "1-byte reads";
	case FEED_CHUNK: snprintf(s, sizeof s, "%zu-byte reads", f.a); break;
	case FEED_RANDOM: snprintf(s, sizeof s, "random reads up to %zu, seed %u", f.a, f.seed); break;
	}
	return s;
}

/* Show where two serializations part. */
static void show_diff(const struct anon_buf *want, const struct anon_buf *got)
{
	size_t i = 0, n = want->len < got->len ? want->len : got->len;
	while (i < n && want->p[i] == got->p[i])
		i++;
	size_t from = i > 120 ? i - 120 : 0;
	printf("#   at byte %zu of the serialization:\n", i);
	printf("#   want: ...%.*s...\n", (int)((want->len - from) < 300 ? want->len - from : 300),
	       (const char *)want->p + from);
	printf("#   got:  ...%.*s...\n", (int)((got->len - from) < 300 ? got->len - from : 300),
	       (const char *)got->p + from);
}

struct tally {
	size_t runs, mismatches, violations, refills, detaches;
	bool shown;
};

static void compare(const struct tcase *tc, const struct result *base, struct feed f,
		    enum policy pol, struct tally *t)
{
	struct result res;
	drive(tc, f, pol, &res);
	t->runs++;
	t->refills += res.refills;
	t->detaches += res.detaches;
	bool same = res.ser.len == base->ser.len &&
		    memcmp(res.ser.p, base->ser.p, base->ser.len) == 0;
	if (res.violations)
		t->violations++;
	if (!same)
		t->mismatches++;
	if ((!same || res.violations) && !t->shown) {
		t->shown = true;
		printf("# %s, %s: %s\n", tc->name, feed_name(f),
		       res.violations ? res.first : "records differ from the all-at-once read");
		if (!same)
			show_diff(&base->ser, &res.ser);
	}
	result_free(&res);
}

static void report(const struct tcase *tc, const char *what, const struct tally *t)
{
	ok(t->mismatches == 0 && t->violations == 0,
	   "%s: %s: %zu runs give the records of the all-at-once read (%zu differ, %zu break an "
	   "invariant; %zu refills, %zu detaches)", tc->name, what, t->runs, t->mismatches,
	   t->violations, t->refills, t->detaches);
}


/* Read tc every way; `kinds` (when given) is the record sequence expected. Returns the
 * all-at-once result in *base for more checks (the caller frees it). */
static void check_case(const struct tcase *tc, const char *kinds, size_t dense_from,
		       struct result *base)
{
	drive(tc, (struct feed){ FEED_ALL, 0, 0, 0 }, UNPIN, base);
	ok(base->violations == 0 && !base->stuck, "%s: all at once: %zu records, invariants hold%s%s",
	   tc->name, base->records, base->violations ? ": " : "", base->violations ? base->first : "");
	if (kinds)
		ok(strcmp(base->kinds, kinds) == 0, "%s: records %s (got %s)", tc->name, kinds,
		   base->kinds);
	if (tc->len < 2)
		return;

	/* every split point, or a sample for long inputs */
	struct tally t = {0};
	if (tc->len <= 8192) {
		/* Below dense_from, every 16th point: a split before byte 262 leaves the reader
		 * where reading all at once does (it reads 262 bytes before its first record). */
		for (size_t s = 1; s < tc->len; s++)
			if (s >= dense_from || s % 16 == 1)
				compare(tc, base, (struct feed){ FEED_SPLIT, s, 0, 0 },
					(enum policy)(s % 3), &t);
		char what[96];
		if (dense_from > 1)
			snprintf(what, sizeof what, "every split point from %zu, every 16th before",
				 dense_from);
		report(tc, dense_from > 1 ? what : "every split point", &t);
	} else {
		unsigned seed = (unsigned)tc->len;
		size_t pts[512], n = 0;
		static const size_t early[] = { 1, 2, 3, 5, 8, 13, 100, 200 };
		for (size_t i = 0; i < sizeof early / sizeof early[0]; i++)
			pts[n++] = early[i];
		for (size_t s = 255; s <= 265; s++)
			pts[n++] = s;
		bool huge = tc->len > READ_SIZE; /* each run costs megabytes: fewer of them */
		for (size_t s = tc->len - (huge ? 8 : 24); s < tc->len; s++)
			pts[n++] = s;
		for (size_t k = 1; !huge && k * 65536 < tc->len + 2 && n + 3 < 400; k++)
			for (int dlt = -1; dlt <= 1; dlt++)
				pts[n++] = k * 65536 + (size_t)dlt;
		for (size_t k = 1; k * READ_SIZE < tc->len && n + 6 < 400; k++)
			for (int dlt = -3; dlt <= 3; dlt += 2)
				pts[n++] = k * READ_SIZE + (size_t)dlt;
		while (n < (huge ? 40 : 128))
			pts[n++] = 1 + (size_t)rand_r(&seed) % (tc->len - 1);
		for (size_t i = 0; i < n; i++)
			if (pts[i] >= 1 && pts[i] < tc->len)
				compare(tc, base, (struct feed){ FEED_SPLIT, pts[i], 0, 0 },
					(enum policy)(i % 3), &t);
		report(tc, "sampled split points", &t);
	}
	total_refills += t.refills;

	/* one byte at a time (4 KiB reads for long pgdump lines: its line search is not
	 * incremental, and would make this quadratic), detaching at every refill and not */
	struct tally t3 = {0};
	struct feed small = tc->d->fmt == ANON_FMT_PGDUMP && tc->len > 65536 ?
			    (struct feed){ FEED_CHUNK, 4096, 0, 0 } : (struct feed){ FEED_BYTE, 0, 0, 0 };
	compare(tc, base, small, ALTERNATE, &t3);
	if (tc->len <= READ_SIZE) {
		compare(tc, base, small, UNPIN, &t3);
		compare(tc, base, small, DETACH, &t3);
	}
	report(tc, small.mode == FEED_BYTE ? "1-byte reads" : "4 KiB reads", &t3);
	total_refills += t3.refills;

	/* random pieces, with EINTR now and then */
	struct tally t4 = {0};
	int nrand = tc->len > 65536 ? 3 : tc->len < 262 ? 6 : 16;
	for (int i = 0; i < nrand; i++) {
		size_t maxc = i % 4 == 0 ? 3 : i % 4 == 1 ? 17 : i % 4 == 2 ? 300 : tc->len / 3 + 1;
		if (tc->d->fmt == ANON_FMT_PGDUMP && tc->len > 65536 && maxc < 4096)
			maxc = 4096;
		compare(tc, base, (struct feed){ FEED_RANDOM, maxc, 0, 1000u + (unsigned)i },
			(enum policy)(i % 3), &t4);
	}
	report(tc, "random reads with EINTR", &t4);
}

/* The reader reads 262 bytes (for the archive magics) before its first record, so a
 * shorter input is always whole in the buffer and no split point can matter. The same
 * input after a filler line of 262 bytes (a comment in pgdump, a row otherwise) gets its
 * records while the reads arrive; every way of reading it must agree too. */
static void check_padded(const struct tcase *tc)
{
	if (tc->len > 4096)
		return;
	struct anon_buf b = {0};
	char name[512];
	if (tc->d->fmt == ANON_FMT_PGDUMP)
		anon_buf_addstr(&b, "-- ");
	while (b.len < 261) /* complete at the 262nd byte: the rest comes read by read */
		anon_buf_addc(&b, 'p');
	anon_buf_addc(&b, '\n');
	size_t pad = b.len;
	anon_buf_add(&b, tc->p, tc->len);
	snprintf(name, sizeof name, "%s, after %zu bytes", tc->name, pad);
	struct tcase padded = { name, tc->d, tc->header, b.p, b.len };
	struct result base;
	check_case(&padded, NULL, pad - 8, &base);
	/* every pair of split points in the case itself, for short cases */
	if (tc->len <= 40) {
		struct tally t = {0};
		for (size_t a = pad - 2; a < b.len; a++)
			for (size_t c = a + 1; c < b.len; c++)
				compare(&padded, &base, (struct feed){ FEED_SPLIT2, a, c, 0 },
					(enum policy)((a + c) % 3), &t);
		report(&padded, "every pair of split points past the filler", &t);
	}
	result_free(&base);
	anon_buf_free(&b);
}

/* ---- inline cases --------------------------------------------------------------------------- */

static void one(const char *name, const struct anon_dialect *d, bool header, const char *s,
		size_t len, const char *kinds, const char *const *expect)
{
	struct tcase tc = { name, d, header, (const unsigned char *)s, len };
	struct result base;
	check_case(&tc, kinds, 1, &base);
	check_padded(&tc);
	for (; expect && *expect; expect++) {
		anon_buf_addc(&base.ser, 0);
		ok(strstr((const char *)base.ser.p, *expect) != NULL, "%s: has %s", name, *expect);
		base.ser.len--;
	}
	result_free(&base);
}

#define CASE(name, d, header, lit, kinds, ...) \
	one(name, d, header, lit, sizeof lit - 1, kinds, (const char *const[]){ __VA_ARGS__, NULL })

#define ROLLBACK_TEXT "anon-hash failed (exit 65): this output is incomplete; do not load it\n"
#define ROLLBACK_SQL "DO $anon_abort$ BEGIN RAISE EXCEPTION 'anon: anon-hash failed (exit " \
	"65): this dump is incomplete; nothing of it may be restored'; END $anon_abort$;\n"

static void test_csv_cases(void)
{
	CASE("csv quoted newlines", &CSV, true, "a,b\n\"x\ny\",\"1\n\n2\"\n3,4\n", "HWWE",
	     "ROW line=2 nlines=4", "ROW line=6 nlines=1", "value=1\\x0a\\x0a2");
	CASE("csv CRLF", &CSV, true, "a,b\r\n1,2\r\n\"q\r\nr\",3\r\n", "HWWE",
	     "ROW line=3 nlines=2 eol=2", "value=q\\x0d\\x0ar");
	CASE("csv BOM", &CSV, true, "\xef\xbb\xbf" "a,b\n1,2\n", "RHWE", "RAW line=1 lines=0 raw=\\xef\\xbb\\xbf\n");
	CASE("csv BOM alone", &CSV, true, "\xef\xbb\xbf", "RE", "raw=\\xef\\xbb\\xbf");
	CASE("csv half a BOM", &CSV, false, "\xef\xbb" "\n", "WE", "raw=\\xef\\xbb\\x0a");
	CASE("csv unterminated quote at EOF", &CSV, true, "a,b\n1,\"xyz\nmore,2\n", "HBE",
	     "BAD reason=\"unterminated quoted field\" field=1 line=2 raw=1,\"xyz\\x0amore,2\\x0a");
	CASE("csv text after closing quote across the split", &CSV, true,
	     "a,b\n\"x\"tail that is long, with,commas\n2,3\n", "HBWE",
	     "BAD reason=\"text after closing quote\" field=0 line=2 "
	     "raw=\"x\"tail that is long, with,commas\\x0a\n", "ROW line=3");
	CASE("csv bad row with a quoted newline before its fault", &CSV, false,
	     "\"a\nb\"c,d\ne,f\n", "BWE",
	     "BAD reason=\"text after closing quote\" field=0 line=2 raw=\"a\\x0ab\"c,d\\x0a\n",
	     "ROW line=3");
	CASE("csv quote inside unquoted field", &CSV, true, "a,b\nx\"y,5'11\"\n2,3\n", "HWWE",
	     "flags=0 raw=x\"y value=x\"y", "value=5'11\"");
	CASE("csv --csv-strict: quote inside unquoted field", &CSV_STRICT, true,
	     "a,b\nx\"y,1\n2,3\n", "HBWE", "BAD reason=\"quote inside unquoted field\" field=0 line=2");
	CASE("csv sep= line", &CSV, true, "sep=;\na;b\n1;\"x;y\"\n", "PHWE",
	     "SEP sep=59 raw=sep=;\\x0a\n", "HEADER line=2 nlines=1 eol=1 ncell=2", "value=x;y");
	CASE("csv sep= line after a BOM, CRLF", &CSV, true, "\xef\xbb\xbfsep=|\r\na|b\r\n", "RPHE",
	     "SEP sep=124", "ncell=2");
	CASE("csv sep= line headerless", &CSV, false, "sep=\t\n1\t2\n", "PWE", "ROW line=2 nlines=1 eol=1 ncell=2");
	CASE("csv sep= only first", &CSV, true, "a,b\nsep=;\n", "HWE", "ROW line=2 nlines=1 eol=1 ncell=1");
	CASE("csv sep= with two bytes", &CSV, true, "sep=;;\n", "HE", "ncell=1");
	CASE("csv sep= at EOF without a line break", &CSV, true, "sep=;", "HE", "raw=sep=;");
	CASE("tsv has no sep= line", &TSV, true, "sep=;\n1\n", "HWE", "HEADER line=1");
	CASE("csv --null marker", (&(struct anon_dialect){ .fmt = ANON_FMT_CSV, .delim = ',',
			.quote = '"', .null = (const unsigned char *)"NULL", .nulllen = 4 }), false,
	     "NULL,\"NULL\",,x\n", "WE", "flags=4 raw=NULL value=NULL", "flags=1 raw=\"NULL\" value=NULL\n",
	     "flags=0 raw= value=\n");
	CASE("csv carriage return outside quotes", &CSV, true, "a,b\n1,2\r3,4\n5,6\n", "HBWE",
	     "BAD reason=\"carriage return outside quotes\" field=1 line=2 raw=1,2\\x0d3,4\\x0a\n");
	CASE("csv CR at EOF", &CSV, false, "1,2\r", "BE", "reason=\"carriage return outside quotes\"");
	CASE("csv rollback line", &CSV, true, "a,b\n1,2\n\"\\.anon: " ROLLBACK_TEXT, "HWFE",
	     "FATAL code=65", "an earlier stage of the pipeline failed");
	CASE("csv rollback line first", &CSV, true, "\"\\.anon: " ROLLBACK_TEXT, "FE", "in:1: an earlier");
	CASE("csv short quoted backslash-dot", &CSV, false, "a\n\"\\.\"", "WWE", "value=\\x5c.");
	CASE("csv quoted \\.ano is data", &CSV, false, "\"\\.ano\"\n", "WE", "value=\\x5c.ano");
	CASE("csv no final newline", &CSV, true, "a,b\n1,2", "HWE", "eol=0 ncell=2 raw=1,2");
	CASE("csv doubled quotes", &CSV, false, "\"\"\"\"\n\"x\"\"y\",\"\"\n", "WWE",
	     "value=\"\n", "value=x\"y", "flags=1 raw=\"\" value=\n");
	CASE("csv empty fields and NULL", &CSV, false, ",,\n\"\",\n", "WWE", "ncell=3", "flags=4");
	CASE("csv empty input", &CSV, true, "", "E", "EOF line=1");
	CASE("csv blank lines", &CSV, false, "\n\n\r\n", "WWWE", "ROW line=3 nlines=1 eol=2");
	CASE("csv semicolon dialect",
	     (&(struct anon_dialect){ .fmt = ANON_FMT_CSV, .delim = ';', .quote = '\'' }), false,
	     "'a;b';c\n'it''s';d\n", "WWE", "value=a;b", "value=it's");
}

static void test_flat_cases(void)
{
	CASE("copy end line then more text", &COPY, false, "1\tx\n2\ty\n\\.\nafter\nthe end\n",
	     "WWRE", "RAW line=3 lines=3 raw=\\x5c.\\x0aafter\\x0athe end\\x0a\n", "EOF line=6");
	CASE("copy end line CRLF", &COPY, false, "1\r\n\\.\r\nrest", "WRE", "raw=\\x5c.\\x0d\\x0arest");
	CASE("copy end line at EOF", &COPY, false, "1\n\\.", "WRE", "RAW line=2 lines=0 raw=\\x5c.\n");
	CASE("copy end line first", &COPY, false, "\\.\n", "RE", "RAW line=1 lines=1");
	CASE("copy end line then a rollback", &COPY, false, "\\.\n\\.anon: " ROLLBACK_TEXT, "RE",
	     "EOF line=3");
	CASE("copy rollback line", &COPY, false, "1\tx\n\\.anon: " ROLLBACK_TEXT, "WFE",
	     "FATAL code=65 msg=in:2: an earlier stage");
	CASE("copy backslash-dot then text", &COPY, false, "1\n\\.x\n", "WFE", "FATAL code=65");
	CASE("copy backslash rows", &COPY, false, "\\N\t1\n\\\\\n\\\n\\", "WWBBE",
	     "flags=6 raw=\\x5cN value=NULL", "ROW line=2 nlines=1 eol=1 ncell=1 raw=\\x5c\\x5c\\x0a",
	     "BAD reason=\"a backslash at the end of the line (PostgreSQL would take it for a line break inside the value; write that as \\x5cn)\" field=0 line=3",
	     "field=0 line=4 raw=\\x5c\n");
	CASE("copy lone backslash after an escaped one", &COPY, false, "a\t\\\\\\\nb\n", "BWE",
	     "field=1 line=1");
	CASE("tsv trailing backslash is data", &TSV, false, "a\\\n", "WE", "raw=a\\x5c\\x0a");
	CASE("copy with a header", &COPY, true, "id\tname\n1\tx\n", "HWE", "HEADER line=1");
	CASE("copy --null marker", (&(struct anon_dialect){ .fmt = ANON_FMT_COPY, .delim = '\t',
			.null = (const unsigned char *)"NULL", .nulllen = 4 }), false,
	     "NULL\t\\N\tnull\n", "WE", "flags=4 raw=NULL value=NULL", "flags=2 raw=\\x5cN value=N",
	     "flags=0 raw=null value=null");
	CASE("copy escaped delimiter", &COPY, false, "a\\\tb\tc\n", "WE", "ncell=2",
	     "value=a\\x09b");
	CASE("copy CRLF rows", &COPY, false, "1\t2\r\n3\t4\r\n", "WWE", "eol=2 ncell=2 raw=3");
	CASE("copy BOM", &COPY, false, "\xef\xbb\xbf" "1\n", "RWE", "ROW line=1");
	CASE("tsv rollback line", &TSV, true, "id\tx\n1\t2\n\\.anon: " ROLLBACK_TEXT, "HWFE",
	     "FATAL code=65 msg=in:3:");
	CASE("tsv backslash-dot is data", &TSV, true, "id\n\\.\n\\.anon\n", "HWWE",
	     "raw=\\x5c.\\x0a", "raw=\\x5c.anon\\x0a");
	CASE("tsv short backslash row at EOF", &TSV, false, "\\x", "WE", "raw=\\x5cx");
	CASE("tsv header only", &TSV, true, "a\tb\tc", "HE", "HEADER line=1 nlines=0 eol=0 ncell=3");
}

static void test_magic_cases(void)
{
	static unsigned char tar[700], pgdmp[400], pgcopy[300], gz[64], zst[20], near[300];
	memset(tar, 0, sizeof tar);
	memcpy(tar, "toc.dat", 7);
	memcpy(tar + 257, "ustar\0" "00", 8);
	memcpy(pgdmp, "PGDMP\x01\x0e\x00\x04\x08\x01\x01", 12);
	for (size_t i = 12; i < sizeof pgdmp; i++)
		pgdmp[i] = (unsigned char)(i % 3 ? 'x' : '\n');
	memcpy(pgcopy, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
	for (size_t i = 19; i < sizeof pgcopy; i++)
		pgcopy[i] = (unsigned char)(i % 5 ? 'a' : '\n');
	memcpy(gz, "\x1f\x8b\x08\x00", 4);
	memcpy(zst, "\x28\xb5\x2f\xfd", 4);
	memset(near, 'a', sizeof near);
	memcpy(near + 257, "ustaR", 5); /* not the magic: rows as usual */
	near[100] = '\n';
	near[299] = '\n';

	struct { const char *name; const struct anon_dialect *d; const unsigned char *p; size_t len;
		 const char *what; } m[] = {
		{ "tar archive as pgdump", &PGDUMP, tar, sizeof tar, "a tar archive" },
		{ "tar archive as csv", &CSV, tar, sizeof tar, "a tar archive" },
		{ "tar archive cut at 262", &PGDUMP, tar, 262, "a tar archive" },
		{ "custom archive as pgdump", &PGDUMP, pgdmp, sizeof pgdmp, "custom-format archive" },
		{ "custom archive, 5 bytes", &PGDUMP, pgdmp, 5, "custom-format archive" },
		{ "binary COPY as copy", &COPY, pgcopy, sizeof pgcopy, "binary COPY" },
		{ "binary COPY as pgdump", &PGDUMP, pgcopy, sizeof pgcopy, "binary COPY" },
		{ "gzip as csv", &CSV, gz, sizeof gz, "gzip-compressed" },
		{ "zstd as tsv", &TSV, zst, sizeof zst, "zstd-compressed" },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		struct tcase tc = { m[i].name, m[i].d, m[i].d->fmt == ANON_FMT_CSV, m[i].p, m[i].len };
		struct result base;
		check_case(&tc, "FE", 1, &base);
		anon_buf_addc(&base.ser, 0);
		ok(strstr((const char *)base.ser.p, m[i].what) && base.consumed == 0,
		   "%s: refused before any byte passes", m[i].name);
		result_free(&base);
	}
	CASE("magic prefix only", &PGDUMP, false, "PGDM", "RE", "raw=PGDM");
	static char short_tar[262];
	memset(short_tar, 'a', 256);
	memcpy(short_tar + 256, "ustar", 5); /* one byte before its place */
	one("ustar one byte early", &PGDUMP, false, short_tar, 261, "RE",
	    (const char *const[]){ "RAW line=1", NULL });
	struct tcase tc = { "ustar lookalike at 257", &CSV, false, near, sizeof near };
	struct result base;
	check_case(&tc, "WWE", 1, &base);
	result_free(&base);
}

static void test_pgdump_cases(void)
{
	CASE("pgdump table name with a newline", &PGDUMP, false,
	     "COPY public.\"a\nb\" (x) FROM stdin;\n1\n\\.\n", "TWCE",
	     "TABLE line=1 lines=2", "table=\"a\\x0ab\" has_cols=1 cols=\"x\"", "ROW line=3");
	CASE("pgdump table name with a semicolon and newline", &PGDUMP, false,
	     "SELECT 1;\nCOPY \"s;\n\".\"t\"\"\n\" (\"c\n\", d) FROM stdin;\n1\t2\n\\.\n", "RTWCE",
	     "schema=\"s;\\x0a\" table=\"t\"\\x0a\" has_cols=1 cols=\"c\\x0a\",\"d\"",
	     "ROW line=6");
	CASE("pgdump INSERT lines", &PGDUMP, false,
	     "INSERT INTO public.t VALUES (1, 'a');\n"
	     "INSERT INTO \"My\"\"T\" (a) VALUES ('x\n"
	     "COPY t (a) FROM stdin;\n"
	     "');\n"
	     "SELECT 1;\n", "IIRRRE",
	     "schema=\"public\" table=\"t\"", "schema=(null) table=\"My\"T\"",
	     "RAW line=3 lines=1 raw=COPY t (a) FROM stdin;");
	CASE("pgdump rollback after a COPY block", &PGDUMP, false,
	     "COPY t (a) FROM stdin;\n1\n\\.\n\\set ON_ERROR_STOP on\n" ROLLBACK_SQL "more\n",
	     "TWCRFE", "FATAL code=65 msg=in:5: an earlier stage");
	CASE("pgdump rollback text inside a string", &PGDUMP, false,
	     "SELECT 'x\n" ROLLBACK_SQL "';\n", "RRRE", "EOF line=4");
	CASE("pgdump COPY not in plain form", &PGDUMP, false,
	     "SET a = 1;\nCOPY t (a) FROM stdin WITH (FORMAT csv);\n1\n\\.\n", "RFE",
	     "FATAL code=65 msg=in:2: a COPY ... FROM stdin statement");
	CASE("pgdump COPY with an unterminated quoted name", &PGDUMP, false,
	     "COPY public.\"abc (x) FROM stdin;\n1\n\\.\n", "FE", "in:1: a COPY");
	CASE("pgdump COPY TO stdout passes", &PGDUMP, false,
	     "COPY t (a) TO stdout;\n", "RE", "raw=COPY t (a) TO stdout;");
	CASE("pgdump end inside COPY data", &PGDUMP, false, "COPY t (a) FROM stdin;\n1\n", "TWFE",
	     "end of input inside COPY data");
	CASE("pgdump end inside COPY, no newline", &PGDUMP, false, "COPY t (a) FROM stdin;\n1", "TWFE",
	     "ROW line=2 nlines=0 eol=0");
	CASE("pgdump CRLF", &PGDUMP, false,
	     "SET x = 1;\r\nCOPY t (a, b) FROM stdin;\r\n1\t2\r\n\\.\r\nSELECT 1;\r\n", "RTWCRE",
	     "cols=\"a\",\"b\"", "eol=2 ncell=2", "COPYEND raw=\\x5c.\\x0d\\x0a");
	CASE("pgdump no final newline", &PGDUMP, false, "SELECT 1;", "RE", "RAW line=1");
	CASE("pgdump COPY in a dollar-quoted body", &PGDUMP, false,
	     "CREATE FUNCTION f() RETURNS void AS $body$\nCOPY t (a) FROM stdin;\n$body$;\n"
	     "COPY u (b) FROM stdin;\nx\n\\.\n", "RRRTWCE", "table=\"u\"");
	CASE("pgdump COPY in a block comment", &PGDUMP, false,
	     "/* a /* nested\n*/ still\nCOPY t (a) FROM stdin;\n*/\nCOPY u (b) FROM stdin;\n\\.\n",
	     "RRRRTCE", "table=\"u\"");
	CASE("pgdump COPY in an E string", &PGDUMP, false,
	     "SELECT E'it\\'s\nCOPY t (a) FROM stdin;\n';\nCOPY u (b) FROM stdin;\n\\.\n",
	     "RRRTCE", "table=\"u\"");
	CASE("pgdump COPY after a comment line", &PGDUMP, false,
	     "-- it's a comment\nCOPY u (b) FROM stdin;\n\\.\n", "RTCE", "table=\"u\"");
	CASE("pgdump client_encoding", &PGDUMP, false,
	     "SET client_encoding = 'LATIN1';\nCOPY t (a) FROM stdin;\n\\.\n"
	     "SET client_encoding = 'UTF8';\nCOPY u (a) FROM stdin;\n\\.\n", "RTCRTCE",
	     "TABLE line=2 lines=1 not_utf8=1", "TABLE line=5 lines=1 not_utf8=0");
	CASE("pgdump restrict", &PGDUMP, false,
	     "\\restrict abc\nCOPY t (a) FROM stdin;\n\\.\n\\unrestrict abc\nSELECT 1;\n", "RTCRRE",
	     "restricted=1 raw=COPY t", "EOF line=6 not_utf8=0 restricted=0");
	CASE("pgdump lone backslash in COPY data", &PGDUMP, false,
	     "COPY t (a, b) FROM stdin;\n1\tx\\\n2\ty\n\\.\n", "TBWCE",
	     "BAD reason=\"a backslash at the end of the line (PostgreSQL would take it for a line break inside the value; write that as \\x5cn)\" field=1 line=2",
	     "ROW line=3");
	CASE("pgdump backslash-dot with text is a row", &PGDUMP, false,
	     "COPY t (a) FROM stdin;\n\\.x\n\\.\n", "TWCE", "raw=\\x5c.x\\x0a");
	CASE("pgdump BOM is SQL", &PGDUMP, false, "\xef\xbb\xbf" "SELECT 1;\n", "RE",
	     "raw=\\xef\\xbb\\xbfSELECT 1;");
}

/* Regression (found by this test): in pgdump, a last line without a line break still
 * counts as a line.  next_pgdump() does pass_raw(r, linelen, 1) and r->line += 1 whether or
 * not the line ends in '\n', so r->rawlines says 1 for bytes that hold no line break,
 * r->line is no longer "the line of the next unread byte" (reader.c's own definition, and
 * what the flat formats do), and the "end of input inside COPY data" message names a line
 * the input does not have (in:3: for a two-line input whose last row lacks its '\n'). */
static void test_pgdump_last_line(void)
{
	struct tcase tc = { "pgdump last line", &PGDUMP, false, (const unsigned char *)"SELECT 1;", 9 };
	struct anon_reader r;
	memset(&sources[0], 0, sizeof sources[0]);
	sources[0].p = tc.p;
	sources[0].len = tc.len;
	anon_reader_open(&r, FD_BASE, "in", &PGDUMP, false);
	r.read = test_read;
	enum anon_rec rec = anon_reader_next(&r);
	ok(rec == ANON_REC_RAW && r.rawlines == 0 && r.line == 1,   /* regression */
	   "pgdump: a last line without a line break has no line break (rawlines %llu, line %llu)",
	   (unsigned long long)r.rawlines, (unsigned long long)r.line);
	anon_reader_close(&r);

	static const char in[] = "COPY t (a) FROM stdin;\n1";
	memset(&sources[0], 0, sizeof sources[0]);
	sources[0].p = (const unsigned char *)in;
	sources[0].len = sizeof in - 1;
	anon_reader_open(&r, FD_BASE, "in", &PGDUMP, false);
	r.read = test_read;
	while ((rec = anon_reader_next(&r)) != ANON_REC_FATAL && rec != ANON_REC_EOF)
		;
	ok(rec == ANON_REC_FATAL && strncmp(r.fatal_msg, "in:2: ", 6) == 0, /* regression */
	   "pgdump: end inside COPY data after an unterminated row 2 is reported at line 2 (%s)",
	   r.fatal_msg);
	anon_reader_close(&r);
}

/* Inputs longer than the reader's buffer. */
static void test_big_cases(void)
{
	struct anon_buf b = {0};
	struct result base;

	/* a 1 MiB quoted CSV field, with doubled quotes and line breaks in it */
	anon_buf_addstr(&b, "id,blob\n1,\"");
	for (size_t i = 0; i < 1024 * 1024; i++)
		anon_buf_addc(&b, i % 4099 == 0 ? '\n' : i % 65521 == 0 ? '"' : (unsigned char)('a' + i % 26));
	for (size_t i = 11; i < b.len; i++) /* every quote doubled */
		if (b.p[i] == '"') {
			anon_buf_addc(&b, 0);
			memmove(b.p + i + 1, b.p + i, b.len - 1 - i);
			i++;
		}
	anon_buf_addstr(&b, "\"\n2,x\n");
	struct tcase tc = { "csv 1 MiB quoted field", &CSV, true, b.p, b.len };
	check_case(&tc, "HWWE", 1, &base);
	result_free(&base);

	/* the same field, its closing quote followed by text: one bad row */
	b.len -= 6;
	anon_buf_addstr(&b, "\"junk\n2,x\n");
	tc = (struct tcase){ "csv 1 MiB bad row", &CSV, true, b.p, b.len };
	check_case(&tc, "HBWE", 1, &base);
	result_free(&base);

	/* a 600 KiB TSV row */
	b.len = 0;
	anon_buf_addstr(&b, "k\tv\n1\t");
	for (size_t i = 0; i < 600 * 1024; i++)
		anon_buf_addc(&b, (unsigned char)(i % 1000 == 999 ? '\t' : 'a' + i % 26));
	anon_buf_addstr(&b, "\n2\t3\n");
	tc = (struct tcase){ "tsv 600 KiB row", &TSV, true, b.p, b.len };
	check_case(&tc, "HWWE", 1, &base);
	result_free(&base);

	/* a pg_dump COPY block with a 300 KiB row among small ones */
	b.len = 0;
	anon_buf_addstr(&b, "SET x = 1;\nCOPY public.t (a, b) FROM stdin;\n1\tsmall\n2\t");
	for (size_t i = 0; i < 300 * 1024; i++)
		anon_buf_addc(&b, (unsigned char)('a' + i % 26));
	anon_buf_addstr(&b, "\n3\t\\N\n\\.\nSELECT 1;\n");
	tc = (struct tcase){ "pgdump 300 KiB row", &PGDUMP, false, b.p, b.len };
	check_case(&tc, "RTWWWCRE", 1, &base);
	result_free(&base);

	/* many short rows: a refill at nearly every split */
	b.len = 0;
	anon_buf_addstr(&b, "n,s\n");
	for (int i = 0; i < 3000; i++) {
		char row[64];
		int n = snprintf(row, sizeof row, i % 10 == 3 ? "%d,\"x\ny%d\"\r\n" : "%d,v%d\n", i, i);
		anon_buf_add(&b, row, (size_t)n);
	}
	tc = (struct tcase){ "csv 3000 rows", &CSV, true, b.p, b.len };
	check_case(&tc, NULL, 1, &base);
	ok(base.records == 3002, "csv 3000 rows: 3002 records (got %zu)", base.records);
	result_free(&base);
	anon_buf_free(&b);
}

/* ---- t/data ----------------------------------------------------------------------------------- */

static char datadir[4096];

static void find_datadir(void)
{
	struct stat st;
	if (stat("t/data", &st) == 0 && S_ISDIR(st.st_mode)) {
		strcpy(datadir, "t/data");
		return;
	}
	/* run from elsewhere: build/<flavour>/t/lib_reader -> the tree's t/data */
	char exe[2048];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *s = strrchr(exe, '/');
		if (s) {
			*s = 0;
			snprintf(datadir, sizeof datadir, "%s/../../../t/data", exe);
		}
	}
}

static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct anon_buf b = {0};
	for (;;) {
		anon_buf_reserve(&b, 65536);
		ssize_t n = read(fd, b.p + b.len, 65536);
		if (n <= 0)
			break;
		b.len += (size_t)n;
	}
	close(fd);
	*len = b.len;
	return b.p ? b.p : calloc(1, 1);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void data_file(const char *dir, const char *file)
{
	char path[8192], name[8192];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	snprintf(name, sizeof name, "%s%s", strstr(dir, "failclosed") ? "failclosed/" : "", file);
	const struct anon_dialect *ds[2];
	bool hs[2];
	int nd = 0;
	if (strncmp(file, "pgdump", 6) == 0) {
		ds[nd] = &PGDUMP, hs[nd++] = false;
	} else if (strncmp(file, "copy", 4) == 0) {
		ds[nd] = &COPY, hs[nd++] = false;
	} else if (strncmp(file, "tsv", 3) == 0) {
		ds[nd] = &TSV, hs[nd++] = true;
	} else if (strncmp(file, "csv", 3) == 0 || ends_with(file, ".csv")) {
		ds[nd] = &CSV, hs[nd++] = true;
		if (strstr(file, "headerless"))
			ds[nd] = &CSV, hs[nd++] = false;
	} else {
		return;
	}
	size_t len;
	unsigned char *p = slurp(path, &len);
	ok(p != NULL, "read %s", path);
	if (!p)
		return;
	for (int i = 0; i < nd; i++) {
		char label[8300];
		snprintf(label, sizeof label, "%s as %s%s", name, anon_fmt_name(ds[i]->fmt),
			 hs[i] ? " with header" : "");
		struct tcase tc = { label, ds[i], hs[i], p, len };
		struct result base;
		check_case(&tc, NULL, 1, &base);
		result_free(&base);
		check_padded(&tc);
	}
	free(p);
}

static void data_dir(const char *dir, bool all)
{
	DIR *dp = opendir(dir);
	ok(dp != NULL, "open %s", dir);
	if (!dp)
		return;
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(dp)) && n < 256)
		if (e->d_name[0] != '.' &&
		    (all || ends_with(e->d_name, ".in") || ends_with(e->d_name, ".csv")))
			names[n++] = anon_xstrdup(e->d_name);
	closedir(dp);
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		data_file(dir, names[i]);
		free(names[i]);
	}
}

static void test_data_files(void)
{
	find_datadir();
	char sub[8192];
	data_dir(datadir, false);
	snprintf(sub, sizeof sub, "%s/failclosed", datadir);
	data_dir(sub, true);
}

/* Rows handed out pin the buffer; the reader reads on into its room (a pipe gives 64 KiB a
 * read), so the rows before REFILL are a whole buffer's, not one read's. */
static size_t rows_before_refill(const struct anon_buf *in, size_t read_size, bool *eof)
{
	struct anon_reader r;
	memset(&sources[0], 0, sizeof sources[0]);
	sources[0].p = in->p;
	sources[0].len = in->len;
	sources[0].f = (struct feed){ .mode = FEED_CHUNK, .a = 65536 };
	anon_reader_open(&r, FD_BASE, "in", &CSV, false);
	r.read = test_read;
	if (read_size)
		anon_reader_set_size(&r, read_size);
	size_t rows = 0;
	enum anon_rec rec;
	while ((rec = anon_reader_next(&r)) == ANON_REC_ROW) {
		r.pinned = true;
		rows++;
	}
	*eof = rec == ANON_REC_EOF;
	anon_reader_close(&r);
	return rows;
}

static void test_pinned_read_on(void)
{
	struct anon_buf in = {0};
	char line[32];
	for (int i = 0; i < 40000; i++) {
		int n = snprintf(line, sizeof line, "%d,word%d\n", i, i);
		anon_buf_add(&in, line, (size_t)n);
	}
	bool eof;
	size_t rows = rows_before_refill(&in, 0, &eof);
	size_t per_read = 65536 / 12; /* rows here are 12 bytes or more */
	ok(!eof && rows > 2 * per_read && rows < 40000,
	   "pinned: a 256 KiB buffer fed 64 KiB a read holds %zu rows before REFILL (one read: <= %zu)",
	   rows, per_read);
	rows = rows_before_refill(&in, 1 << 20, &eof);
	ok(eof && rows == 40000, "pinned: anon_reader_set_size(1 MiB) holds all %zu rows of %zu bytes",
	   rows, in.len);
	anon_buf_free(&in);
}

int main(void)
{
	test_data_files();
	test_csv_cases();
	test_flat_cases();
	test_magic_cases();
	test_pgdump_cases();
	test_big_cases();
	test_pgdump_last_line();
	test_pinned_read_on();
	ok(total_refills > 0, "the REFILL path ran (%zu refills in %zu reads of a case)",
	   total_refills, total_runs);
	return tap_done();
}
