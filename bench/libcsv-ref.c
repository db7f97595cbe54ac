/*
 * libcsv-ref: the reference point for anon's CSV scanner, a minimal parse-and-write filter
 * built on libcsv in strict mode.  It keeps NULL (unquoted empty) apart from "" and quotes
 * minimally, so on PostgreSQL-style CSV with LF row ends its output equals its input.
 */
#include <csv.h>
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct writer {
	unsigned char	buf[256 * 1024];
	size_t		len;
	int		first;	/* no field of the current row written yet */
};

static void
flush_out(struct writer *w)
{
	size_t off = 0;
	ssize_t n;

	while (off < w->len) {
		n = write(STDOUT_FILENO, w->buf + off, w->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
			}
			err(74, "write");
		}
		off += (size_t)n;
	}
	w->len = 0;
}

static void
put(struct writer *w, const void *p, size_t n)
{
	if (w->len + n > sizeof(w->buf)) {
		flush_out(w);
		while (n > sizeof(w->buf)) {	/* a field larger than the buffer */
			memcpy(w->buf, p, sizeof(w->buf));
			w->len = sizeof(w->buf);
			flush_out(w);
			p = (const unsigned char *)p + sizeof(w->buf);
			n -= sizeof(w->buf);
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void
on_field(void *s, size_t len, void *data)
{
	struct writer *w = data;
	const char *p = s, *end, *q;

	if (!w->first)
		put(w, ",", 1);
	w->first = 0;
	if (p == NULL)			/* CSV_EMPTY_IS_NULL: unquoted empty field */
		return;
	end = p + len;
	if (len == 0 || memchr(p, ',', len) != NULL || memchr(p, '"', len) != NULL ||
	    memchr(p, '\n', len) != NULL || memchr(p, '\r', len) != NULL) {
		put(w, "\"", 1);
		while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
			put(w, p, (size_t)(q - p + 1));
			put(w, "\"", 1);
			p = q + 1;
		}
		put(w, p, (size_t)(end - p));
		put(w, "\"", 1);
	} else
		put(w, p, len);
}

static void
on_row(int c, void *data)
{
	struct writer *w = data;

	put(w, "\n", 1);
	w->first = 1;
}

/* Keep every space: in PostgreSQL CSV all characters are significant. */
static int
no_space(unsigned char c)
{
	return 0;
}

int
main(void)
{
	static struct writer w = { .first = 1 };
	static char in[64 * 1024];
	struct csv_parser p;
	ssize_t n;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		errx(70, "csv_init failed");
	csv_set_space_func(&p, no_space);
	csv_set_blk_size(&p, 64 * 1024);
	for (;;) {
		n = read(STDIN_FILENO, in, sizeof(in));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err(74, "read");
		}
		if (n == 0)
			break;
		if (csv_parse(&p, in, (size_t)n, on_field, on_row, &w) != (size_t)n)
			errx(65, "-: %s", csv_strerror(csv_error(&p)));
	}
	if (csv_fini(&p, on_field, on_row, &w) != 0)
		errx(65, "-: %s", csv_strerror(csv_error(&p)));
	csv_free(&p);
	flush_out(&w);
	return 0;
}
