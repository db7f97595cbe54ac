/* lib_writer.c: the one output path and row transactions.  What is put comes out exactly,
 * in order, whatever the sizes (buffered, flushed at flush_at, written straight through when
 * bigger); bytes_out counts what reached the fd; `last` is the last byte put; a write error
 * ends the process the way writer.c says (exit 74, or SIGPIPE after on_epipe); and a row
 * transaction drops exactly the partial row. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anon-int.h"
#include "tap.h"

static off_t fd_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static int temp_file(void)
{
	char path[] = "/tmp/lib_writer.XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* The whole content of a file. */
static bool file_is(int fd, const void *want, size_t n)
{
	off_t size = fd_size(fd);
	if (size < 0 || (size_t)size != n)
		return false;
	unsigned char *got = malloc(n ? n : 1);
	bool same = pread(fd, got, n, 0) == (ssize_t)n && memcmp(got, want, n) == 0;
	free(got);
	return same;
}

static void test_buffering(void)
{
	struct anon_writer w;
	int fd = temp_file();
	ok(fd >= 0, "temp file");
	anon_writer_open(&w, fd, "tmp", 16);
	ok(w.bytes_out == 0 && w.last == 0 && w.buf.len == 0 && w.buf.cap >= 16 && !w.failed,
	   "open: nothing written, last is 0, room for flush_at bytes");

	anon_writer_put(&w, "", 0);
	ok(w.buf.len == 0 && w.last == 0, "a put of 0 bytes does nothing");
	anon_writer_put(&w, "abcde", 5);
	anon_writer_put(&w, "fghij", 5);
	ok(fd_size(fd) == 0 && w.bytes_out == 0 && w.buf.len == 10,
	   "puts below flush_at stay in the buffer");
	ok(w.last == 'j', "last is the last byte put");
	anon_writer_put(&w, "klmnop", 6);
	ok(fd_size(fd) == 0 && w.buf.len == 16, "filling the buffer to exactly flush_at writes nothing");
	anon_writer_put(&w, "q", 1);
	ok(file_is(fd, "abcdefghijklmnop", 16) && w.bytes_out == 16 && w.buf.len == 1,
	   "one byte more flushes the buffer first, and keeps the byte");
	ok(w.last == 'q', "last follows");

	/* bigger than flush_at: what is buffered goes first, then the big write, unbuffered */
	char big[40];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('A' + i % 26);
	anon_writer_put(&w, big, sizeof big);
	struct anon_buf want = {0};
	anon_buf_addstr(&want, "abcdefghijklmnopq");
	anon_buf_add(&want, big, sizeof big);
	ok(file_is(fd, want.p, want.len) && w.buf.len == 0 && w.bytes_out == want.len,
	   "a put bigger than flush_at: the buffered byte, then the put, written at once");
	ok(w.last == big[sizeof big - 1], "last after a big put");

	/* exactly flush_at with an empty buffer is buffered; with a non-empty one, flushed */
	anon_writer_put(&w, big, 16);
	ok(w.buf.len == 16 && w.bytes_out == want.len, "a put of flush_at bytes into an empty buffer "
	   "is buffered");
	anon_buf_add(&want, big, 16);
	anon_writer_put(&w, "x", 1);
	anon_writer_put(&w, big, 16);
	anon_buf_addc(&want, 'x');
	anon_buf_add(&want, big, 16);
	ok(file_is(fd, want.p, want.len) && w.buf.len == 0 && w.bytes_out == want.len,
	   "a put of flush_at bytes after one buffered byte: both written, in order");

	anon_writer_put(&w, "tail\n", 5);
	anon_buf_addstr(&want, "tail\n");
	anon_writer_flush(&w);
	ok(file_is(fd, want.p, want.len) && w.buf.len == 0 && w.bytes_out == want.len,
	   "flush writes what is buffered");
	anon_writer_flush(&w);
	ok(w.bytes_out == want.len, "a flush with nothing buffered writes nothing");
	ok(w.last == '\n', "last is kept across flushes");
	anon_writer_put(&w, "end", 3);
	anon_buf_addstr(&want, "end");
	anon_writer_close(&w);
	ok(file_is(fd, want.p, want.len) && w.bytes_out == want.len && w.buf.p == NULL,
	   "close flushes and frees the buffer (%llu bytes out)", (unsigned long long)w.bytes_out);
	anon_buf_free(&want);
	close(fd);
}

/* Random put sizes around flush_at: the file is exactly the puts, bytes_out its size. */
static void test_random_puts(void)
{
	static const size_t flush_ats[] = { 1, 7, 64, 4096, 256 * 1024 };
	unsigned seed = 99;
	for (size_t k = 0; k < sizeof flush_ats / sizeof flush_ats[0]; k++) {
		size_t fa = flush_ats[k];
		int fd = temp_file();
		struct anon_writer w;
		struct anon_buf want = {0};
		anon_writer_open(&w, fd, "tmp", fa);
		bool last_ok = true;
		for (int i = 0; i < 2000; i++) {
			/* mostly below flush_at, now and then a few times over it */
			size_t small = fa / 2 + 3 < 5000 ? fa / 2 + 3 : 5000;
			size_t n = (size_t)rand_r(&seed) % (i % 50 == 0 ? 3 * fa + 2 : small);
			static unsigned char chunk[800 * 1024];
			if (n > sizeof chunk)
				n = sizeof chunk;
			unsigned salt = (unsigned)rand_r(&seed);
			for (size_t j = 0; j < n; j++)
				chunk[j] = (unsigned char)(salt + j * 131);
			unsigned char before = w.last;
			anon_writer_put(&w, chunk, n);
			anon_buf_add(&want, chunk, n);
			if (w.last != (n ? chunk[n - 1] : before))
				last_ok = false;
			if (w.buf.len > fa)
				last_ok = false;
		}
		uint64_t before_close = w.bytes_out;
		bool accounted = before_close + w.buf.len == want.len &&
				 fd_size(fd) == (off_t)before_close;
		anon_writer_close(&w);
		ok(accounted && last_ok && file_is(fd, want.p, want.len) && w.bytes_out == want.len,
		   "flush_at %zu: 2000 random puts come out exactly (%zu bytes), bytes_out counts "
		   "them, the buffer never holds more than flush_at, last follows", fa, want.len);
		anon_buf_free(&want);
		close(fd);
	}
}

/* A pipe to a child that hashes what it reads, slowly; a timer interrupts the writes, so
 * they come back short or with EINTR. */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

static void test_pipe(void)
{
	int data[2], result[2];
	ok(pipe(data) == 0 && pipe(result) == 0, "pipes");
	pid_t pid = fork();
	if (pid == 0) {
		close(data[1]);
		close(result[0]);
		uint64_t h = 14695981039346656037u, n = 0;
		unsigned char buf[1000];
		ssize_t k;
		while ((k = read(data[0], buf, sizeof buf)) != 0) {
			if (k < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			h = fnv(h, buf, (size_t)k);
			n += (uint64_t)k;
		}
		uint64_t out[2] = { h, n };
		_exit(write(result[1], out, sizeof out) == sizeof out ? 0 : 1);
	}
	close(data[0]);
	close(result[1]);

	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: writes return early */
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = { { 0, 200 }, { 0, 200 } }, off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &it, NULL);

	struct anon_writer w;
	anon_writer_open(&w, data[1], "pipe", 65536);
	unsigned seed = 7;
	uint64_t h = 14695981039346656037u, total = 0;
	static unsigned char chunk[300 * 1024];
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)rand_r(&seed) % (i % 10 == 0 ? sizeof chunk : 5000);
		for (size_t j = 0; j < n; j++)
			chunk[j] = (unsigned char)(i + j * 31);
		anon_writer_put(&w, chunk, n);
		h = fnv(h, chunk, n);
		total += n;
	}
	anon_writer_close(&w);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	close(data[1]);

	uint64_t got[2] = { 0, 0 };
	ssize_t k;
	while ((k = read(result[0], got, sizeof got)) < 0 && errno == EINTR)
		;
	close(result[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ok(k == sizeof got && got[0] == h && got[1] == total && w.bytes_out == total,
	   "a pipe under %d interrupting signals gets every byte in order (%llu bytes, bytes_out "
	   "%llu)", (int)alarms, (unsigned long long)got[1], (unsigned long long)w.bytes_out);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reading child ended well");
}

/* ---- write errors, in a child ---------------------------------------------------------------- */

static struct anon_writer child_w; /* global: the child ends without freeing it */
static int report_fd = -1;

static void child_epipe(void *arg)
{
	char c = child_w.failed ? 'F' : 'f';
	(void)!write(report_fd, &c, 1);
	(void)!write(report_fd, (const char *)arg, strlen(arg));
}

static void child_abort(void *arg, int code)
{
	(void)arg;
	_exit(code); /* what anon_die would exit with; skips exit handlers (LeakSanitizer) */
}

struct outcome {
	int status;
	char report[256]; /* what the child wrote to report_fd */
	char err[1024];   /* its stderr */
};

static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t k;
	while (n + 1 < cap && (k = read(fd, buf + n, cap - 1 - n)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)k;
	}
	while (n && buf[n - 1] == '\n') /* one line for TAP */
		n--;
	buf[n] = 0;
}

/* Run put+flush of n bytes to fd in a child, with flush_at. */
static void child_write(int fd, size_t flush_at, size_t n, bool ignore_sigpipe, struct outcome *o)
{
	int rep[2], err[2];
	memset(o, 0, sizeof *o);
	if (pipe(rep) != 0 || pipe(err) != 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]);
		close(err[0]);
		dup2(err[1], 2);
		report_fd = rep[1];
		if (ignore_sigpipe)
			signal(SIGPIPE, SIG_IGN);
		anon_abort_hook = child_abort;
		anon_writer_open(&child_w, fd, "out", flush_at);
		child_w.on_epipe = child_epipe;
		child_w.epipe_arg = "epipe-arg";
		unsigned char *p = calloc(1, n);
		anon_writer_put(&child_w, p, n);
		anon_writer_flush(&child_w);
		(void)!write(report_fd, "survived", 8);
		_exit(0);
	}
	close(rep[1]);
	close(err[1]);
	read_all(rep[0], o->report, sizeof o->report);
	read_all(err[0], o->err, sizeof o->err);
	close(rep[0]);
	close(err[0]);
	while (waitpid(pid, &o->status, 0) < 0 && errno == EINTR)
		;
}

static void test_errors(void)
{
	struct outcome o;
	int p[2];

	/* a closed pipe: on_epipe (with failed already set), then death by SIGPIPE */
	ok(pipe(p) == 0, "pipe");
	close(p[0]);
	child_write(p[1], 64, 10, true, &o);
	close(p[1]);
	ok(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGPIPE,
	   "a closed pipe ends the process by SIGPIPE (status %#x)", o.status);
	ok(strcmp(o.report, "Fepipe-arg") == 0,
	   "on_epipe ran first, with its argument, the writer marked failed (%s)", o.report);
	ok(o.err[0] == 0, "a closed pipe is quiet (stderr: %s)", o.err);

	/* the same through a put bigger than flush_at, written straight through */
	ok(pipe(p) == 0, "pipe");
	close(p[0]);
	child_write(p[1], 64, 1000, true, &o);
	close(p[1]);
	ok(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGPIPE && strcmp(o.report, "Fepipe-arg") == 0,
	   "a closed pipe under a big put: on_epipe, then SIGPIPE");

	/* a full disk: exit 74 with the name and the reason */
	int full = open("/dev/full", O_WRONLY);
	if (full >= 0) {
		child_write(full, 64, 10, false, &o);
		close(full);
		ok(WIFEXITED(o.status) && WEXITSTATUS(o.status) == EX_IOERR,
		   "a full disk exits 74 (status %#x)", o.status);
		ok(strstr(o.err, "out: write: No space left on device") != NULL,
		   "and says which output and why (%s)", o.err);
		ok(strcmp(o.report, "") == 0, "nothing runs after the failed write");
	} else {
		ok(1, "# skip no /dev/full");
		ok(1, "# skip no /dev/full");
		ok(1, "# skip no /dev/full");
	}

	/* a descriptor open for reading only */
	int ro = open("/dev/null", O_RDONLY);
	child_write(ro, 64, 100, false, &o);
	close(ro);
	ok(WIFEXITED(o.status) && WEXITSTATUS(o.status) == EX_IOERR &&
		   strstr(o.err, "out: write: Bad file descriptor") != NULL,
	   "a write error exits 74 with its reason (%s)", o.err);

	/* a writer marked failed (anon_die is on its way out) does not write its buffer again */
	int fd = temp_file();
	struct anon_writer w;
	anon_writer_open(&w, fd, "tmp", 64);
	anon_writer_put(&w, "buffered", 8);
	w.failed = true;
	anon_writer_flush(&w);
	ok(fd_size(fd) == 0 && w.buf.len == 0 && w.bytes_out == 0,
	   "flush of a failed writer drops the buffer, writes nothing");
	anon_writer_close(&w);
	close(fd);
}

/* ---- row transactions -------------------------------------------------------------------- */

static void test_tx(void)
{
	struct anon_buf b = {0};
	size_t m = anon_tx_begin(&b);
	anon_buf_addstr(&b, "partial");
	anon_tx_abort(&b, m);
	ok(b.len == 0 && m == 0, "abort on an empty buffer empties it");

	anon_buf_addstr(&b, "row1\n");
	m = anon_tx_begin(&b);
	ok(m == 5, "begin marks the end of what is committed");
	anon_buf_addstr(&b, "row2,");
	for (int i = 0; i < 10000; i++) /* grows the buffer: the mark is an offset, not a pointer */
		anon_buf_addc(&b, 'x');
	anon_tx_abort(&b, m);
	ok(b.len == 5 && memcmp(b.p, "row1\n", 5) == 0, "abort after growth drops exactly the row");
	anon_buf_addstr(&b, "row3\n");
	ok(b.len == 10 && memcmp(b.p, "row1\nrow3\n", 10) == 0, "the next row follows the last "
	   "committed one");
	m = anon_tx_begin(&b);
	anon_tx_abort(&b, m);
	ok(b.len == 10, "an empty transaction aborts to the same place");

	/* rows built field by field; a failing field drops its row; the writer sees only
	 * committed rows */
	b.len = 0;
	struct anon_buf want = {0};
	for (int row = 0; row < 200; row++) {
		size_t mark = anon_tx_begin(&b);
		bool failed = false;
		char field[32];
		for (int f = 0; f < 5 && !failed; f++) {
			if (f)
				anon_buf_addc(&b, ',');
			if ((row * 7 + f) % 11 == 0) {
				failed = true; /* a rule refused this field */
				break;
			}
			int n = snprintf(field, sizeof field, "r%df%d", row, f);
			anon_buf_add(&b, field, (size_t)n);
		}
		if (failed) {
			anon_tx_abort(&b, mark);
			continue;
		}
		anon_buf_addc(&b, '\n');
		anon_buf_add(&want, b.p + mark, b.len - mark);
	}
	int fd = temp_file();
	struct anon_writer w;
	anon_writer_open(&w, fd, "tmp", 100);
	anon_writer_put(&w, b.p, b.len);
	anon_writer_close(&w);
	ok(b.len == want.len && file_is(fd, want.p, want.len) && w.last == '\n',
	   "rows with a failing field leave nothing; the others come out whole (%zu bytes)",
	   want.len);
	close(fd);
	anon_buf_free(&want);
	anon_buf_free(&b);
}

int main(void)
{
	test_buffering();
	test_random_puts();
	test_pipe();
	test_errors();
	test_tx();
	return tap_done();
}
