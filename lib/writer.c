/* writer.c: the one buffered output path.  Every write is checked; a closed pipe downstream
 * ends the tool quietly by SIGPIPE (as git's write-or-die does) once the run has written its
 * audit record; anything else is exit 74.  Only committed bytes come here: rows are built
 * under a row transaction (anon_tx_begin/anon_tx_abort) in their chunk's buffer first. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon-int.h"

#define DIRECT_MIN (64 * 1024) /* a put this large is written without a copy */

void anon_writer_open(struct anon_writer *w, int fd, const char *name, size_t flush_at)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->name = name;
	w->flush_at = flush_at;
	anon_buf_reserve(&w->buf, flush_at);
}

static void write_all(struct anon_writer *w, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			w->failed = true; /* anon_die must not try this writer again */
			if (e == EPIPE) {
				if (w->on_epipe)
					w->on_epipe(w->epipe_arg);
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
				_exit(EX_IOERR); /* SIGPIPE blocked: still end quietly */
			}
			anon_die(EX_IOERR, "%s: write: %s", w->name, strerror(e));
		}
		p += k;
		n -= (size_t)k;
		w->bytes_out += (uint64_t)k;
	}
}

void anon_writer_flush(struct anon_writer *w)
{
	if (w->buf.len && !w->failed)
		write_all(w, w->buf.p, w->buf.len);
	w->buf.len = 0;
}

void anon_writer_put(struct anon_writer *w, const void *p, size_t n)
{
	if (n == 0 || w->failed)
		return;
	w->last = ((const unsigned char *)p)[n - 1];
	/* a large piece (a chunk's output) goes out as it is, without a copy */
	bool large = n >= DIRECT_MIN;
	if (w->buf.len + n > w->flush_at || large) {
		anon_writer_flush(w);
		if (large || n >= w->flush_at) {
			write_all(w, p, n);
			return;
		}
	}
	memcpy(w->buf.p + w->buf.len, p, n);
	w->buf.len += n;
}

void anon_writer_close(struct anon_writer *w)
{
	anon_writer_flush(w);
	anon_buf_free(&w->buf);
}
