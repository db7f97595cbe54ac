/* run.c: anon_main and the run loop.  The main thread reads records, resolves each table as
 * it starts, and cuts the input into chunks of rows; workers transform chunks (transform.c);
 * the main thread retires them in input order: messages, rejects, output, counters.  With
 * --jobs 1 the one worker is the main thread itself, so both paths are the same code.
 *
 * Memory: at most 2 * jobs + 2 chunks are in flight; a chunk is one read buffer's rows
 * (256 KiB unless one row is larger, or a tool asked for more: anon_run_set_chunk), at most
 * 4096 of them unless asked, with their cells and their output.
 *
 * Fail closed: a run that stops after its output began ends that output with a rollback
 * line PostgreSQL refuses (unless --no-rollback), so a load under psql --single-transaction
 * -v ON_ERROR_STOP=1 commits nothing; the audit record is written on every way out. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "anon-int.h"

struct runner {
	struct anon_run *run;
	struct anon_reader r;
	struct anon_writer out;
	pthread_mutex_t wlock;       /* recursive: the writer, and the way out */
	pthread_t main_thread;
	bool running;                /* the way out has work to do */
	bool progress;
	bool out_in_copy;            /* pgdump: the output so far ends inside a COPY block */
	uint64_t rows_flushed;       /* rows whose bytes have been written */

	struct anon_worker *workers;
	unsigned nworkers;           /* worker states: nthreads threads and the main thread */
	unsigned nthreads;
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct anon_chunk *head, *tail, *todo; /* in flight, oldest first; first not taken */
	size_t inflight, max_inflight;
	unsigned nready;             /* worker threads whose state is made (worker_setup) */
	bool quit;
	struct anon_chunk *spare;
	struct anon_cellarena spare_cells;

	struct anon_inbuf *inbuf;    /* the reader's current buffer */
	struct anon_chunk *cur;      /* the chunk being filled */
	const struct anon_tablesel *table;
	bool in_copy;                /* reader side: inside a COPY block */
	bool stopping;
};

void *anon_tool_state(const struct anon_run *run) { return run->state; }
bool anon_run_quiet(const struct anon_run *run) { return run->cfg.quiet; }
unsigned anon_run_jobs(const struct anon_run *run) { return run->cfg.jobs; }
void anon_run_set_output(struct anon_run *run, enum anon_output mode) { run->output = mode; }

void anon_run_set_chunk(struct anon_run *run, size_t rows, size_t bytes)
{
	/* at most 2^20 rows and 1 GiB: a typo must not ask for all of memory */
	run->chunk_rows_max = rows < ANON_CHUNK_ROWS ? ANON_CHUNK_ROWS :
			      rows > ANON_CHUNK_ROWS_MAX ? ANON_CHUNK_ROWS_MAX : rows;
	run->chunk_bytes = bytes < ANON_CHUNK_BYTES ? ANON_CHUNK_BYTES :
			   bytes > (size_t)1 << 30 ? (size_t)1 << 30 : bytes;
	anon_run_set_chunk_rows(run, rows);
}

void anon_run_set_chunk_rows(const struct anon_run *run, size_t rows)
{
	/* like in_order: an atomic the main thread reads as it cuts chunks */
	rows = rows < ANON_CHUNK_ROWS ? ANON_CHUNK_ROWS : rows > run->chunk_rows_max ?
	       run->chunk_rows_max : rows;
	atomic_store_explicit(&((struct anon_run *)run)->chunk_rows, rows, memory_order_relaxed);
}

/* The reads that fit the chunks asked for now: chunk_bytes at chunk_rows_max, in proportion
 * below (a large buffer costs page faults and cache where small chunks do not need it). */
static size_t chunk_rows(const struct anon_run *run)
{
	return atomic_load_explicit(&((struct anon_run *)run)->chunk_rows, memory_order_relaxed);
}

static size_t chunk_read_size(const struct anon_run *run)
{
	size_t rows = chunk_rows(run);
	size_t bytes = (size_t)((double)run->chunk_bytes * (double)rows / (double)run->chunk_rows_max);
	return bytes < ANON_CHUNK_BYTES ? ANON_CHUNK_BYTES : bytes;
}
void anon_run_counts(const struct anon_run *run, struct anon_counts *out) { *out = run->n; }

void anon_run_in_order(const struct anon_run *run, bool on)
{
	/* the one field hooks may change: an atomic the main thread reads between chunks */
	atomic_store(&((struct anon_run *)run)->in_order, on);
}

bool anon_run_is_in_order(const struct anon_run *run)
{
	return atomic_load(&((struct anon_run *)run)->in_order);
}

struct anon_column *anon_run_columns(struct anon_run *run, size_t *n)
{
	*n = run->ncols;
	return run->cols;
}

/* ---- the way out ---------------------------------------------------------------------------- */

/* The line that makes PostgreSQL refuse the load, and a later anon stage stop (reader.c). */
static void rollback_line(struct runner *R, int code)
{
	const struct anon_run *run = R->run;
	char line[512];
	int n;
	bool lone_bom = R->out.bytes_out == 0 && R->out.buf.len == 3 &&
			memcmp(R->out.buf.p, "\xef\xbb\xbf", 3) == 0;
	if (R->out.last && R->out.last != '\n' && !lone_bom)
		anon_writer_put(&R->out, "\n", 1); /* after a last row that had no line break */
	switch (run->cfg.d.fmt) {
	case ANON_FMT_PGDUMP:
		if (R->out_in_copy)
			anon_writer_put(&R->out, "\\.\n", 3);
		/* \set makes psql stop here even without -v ON_ERROR_STOP=1; inside a dump's
		 * \restrict block psql refuses meta-commands, so it is left out there */
		if (!R->r.restricted)
			anon_writer_put(&R->out, "\\set ON_ERROR_STOP on\n", 22);
		n = snprintf(line, sizeof line, "DO $anon_abort$ BEGIN RAISE EXCEPTION 'anon: %s "
			     "failed (exit %d): this dump is incomplete; nothing of it may be "
			     "restored'; END $anon_abort$;\n", run->tool->name, code);
		break;
	case ANON_FMT_CSV:
		n = snprintf(line, sizeof line, "%c\\.anon: %s failed (exit %d): this output is "
			     "incomplete; do not load it\n", run->cfg.d.quote, run->tool->name, code);
		break;
	default:
		n = snprintf(line, sizeof line, "\\.anon: %s failed (exit %d): this output is "
			     "incomplete; do not load it\n", run->tool->name, code);
	}
	anon_writer_put(&R->out, line, (size_t)n);
}

/* On the way out: no more chunks for the workers; wait (a bounded time) until they have
 * finished the one in hand. True when every worker thread has ended. */
static bool workers_quit(struct runner *R)
{
	if (!R->threads)
		return true;
	pthread_mutex_lock(&R->mu);
	R->quit = true;
	R->todo = NULL;
	pthread_cond_broadcast(&R->work_cv);
	pthread_mutex_unlock(&R->mu);
	for (unsigned i = 0; i < R->nthreads; i++) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		if (pthread_timedjoin_np(R->threads[i], NULL, &until) != 0)
			return false;
	}
	return true;
}

static void on_abort(void *arg, int code)
{
	struct runner *R = arg;
	struct anon_run *run = R->run;
	pthread_mutex_lock(&R->wlock); /* held until exit: one thread goes out */
	if (!R->running)
		return;
	R->running = false;
	/* Even with nothing written yet: an empty stream would load as zero rows, and let
	 * whatever else the loading transaction does commit. */
	if (!R->out.failed) {
		if (run->cfg.rollback && run->output != ANON_OUTPUT_NONE)
			rollback_line(R, code);
		anon_writer_flush(&R->out);
	}
	if (run->rej_fd >= 0 && !run->rej.failed)
		anon_writer_flush(&run->rej);
	if (R->out.failed)
		run->n.rows_out = R->rows_flushed;
	run->n.bytes_in = R->r.bytes_in;
	run->n.bytes_out = R->out.bytes_out;
	json_t *rec = anon_audit_record(run);
	/* The tool's figures, once no other thread can be inside the tool: from the main thread,
	 * after the workers finished the chunk in hand (a worker stuck in its own way out, or
	 * a way out taken on a worker, leaves them out). */
	if (R->workers && pthread_equal(pthread_self(), R->main_thread) && workers_quit(R)) {
		for (unsigned i = 0; i < R->nworkers; i++)
			if (run->tool->worker_free)
				run->tool->worker_free(run, R->workers[i].tool);
		if (run->tool->finish)
			run->tool->finish(run, rec);
	}
	anon_audit_append(run, rec, code, "error");
	anon_key_wipe();
}

/* A closed pipe downstream (| head): the record still goes out, then the tool ends quietly. */
static void on_epipe(void *arg)
{
	struct runner *R = arg;
	pthread_mutex_lock(&R->wlock);
	if (!R->running)
		return;
	R->running = false;
	R->run->n.bytes_in = R->r.bytes_in;
	R->run->n.bytes_out = R->out.bytes_out;
	anon_audit_append(R->run, anon_audit_record(R->run), 128 + 13, "closed-pipe");
	anon_key_wipe();
}

/* ---- chunks --------------------------------------------------------------------------------- */

static struct anon_chunk *chunk_get(struct runner *R)
{
	struct anon_chunk *c = R->spare;
	if (c) {
		R->spare = c->next;
	} else {
		c = anon_xcalloc_apart(1, sizeof *c);
		c->counts = anon_xcalloc_apart(R->run->ncols, sizeof *c->counts);
	}
	c->next = NULL;
	c->table = R->table;
	c->in_copy = R->in_copy;
	c->d = &R->run->cfg.d;
	/* the reader may have moved or grown its buffer while nothing pointed into it */
	R->inbuf->p = R->r.buf;
	c->inbuf = R->inbuf;
	R->inbuf->refs++;
	return c;
}

static void inbuf_put(struct anon_inbuf *b)
{
	if (--b->refs == 0) {
		free(b->p);
		free(b);
	}
}

static void chunk_release(struct runner *R, struct anon_chunk *c)
{
	inbuf_put(c->inbuf);
	if (c->cells) { /* one spare cell array: --jobs 1 never allocates another */
		if (!R->spare_cells.p)
			R->spare_cells = (struct anon_cellarena){ c->cells, 0, c->capcells };
		else
			free(c->cells);
		c->cells = NULL;
		c->capcells = 0;
	}
	c->nitems = c->ncells = c->nevents = 0;
	c->out.len = c->rej.len = c->span_len = 0;
	memset(c->counts, 0, R->run->ncols * sizeof *c->counts);
	c->rows_in = c->rows_out = c->rows_rejected = c->errors = 0;
	c->stopped = c->done = false;
	c->next = R->spare;
	R->spare = c;
}

static void chunk_free(struct anon_chunk *c)
{
	free(c->items);
	free(c->cells);
	free(c->events);
	free(c->counts);
	anon_buf_free(&c->out);
	anon_buf_free(&c->rej);
	free(c);
}

/* The main thread retires chunks in input order. */
static void retire(struct runner *R, struct anon_chunk *c)
{
	struct anon_run *run = R->run;
	pthread_mutex_lock(&R->wlock);
	anon_rejects_retire(run, c);
	uint64_t rows_before = run->n.rows_out;
	run->n.rows_in += c->rows_in;
	run->n.rows_out += c->rows_out;
	run->n.rows_rejected += c->rows_rejected;
	run->n.errors += c->errors;
	for (size_t i = 0; i < run->ncols; i++) {
		struct anon_column *col = &run->cols[i];
		const struct anon_colcount *k = &c->counts[i];
		col->values += k->values;
		col->nulls += k->nulls;
		col->changed += k->changed;
		col->errors += k->errors;
		col->kept += k->kept;
		col->nulled += k->nulled;
	}
	uint64_t before = R->out.bytes_out;
	if (c->out.len)
		anon_writer_put(&R->out, c->out.p, c->out.len);
	else
		anon_writer_put(&R->out, c->span, c->span_len);
	/* rows whose bytes have left: the audit of a failed write counts no more */
	if (R->out.buf.len == 0)
		R->rows_flushed = run->n.rows_out;
	else if (R->out.bytes_out > before)
		R->rows_flushed = rows_before;
	if (c->out.len || c->span_len || c->nitems)
		R->out_in_copy = c->out_in_copy;
	pthread_mutex_unlock(&R->wlock);
	if (c->stopped)
		anon_die(c->stop_code, "%s", c->stop_msg);
	if (R->progress)
		anon_progress(run, R->r.bytes_in, R->r.size, false);
	chunk_release(R, c);
}

/* Wait for the oldest chunk to be done, and retire it. While it is not, the main thread
 * transforms a chunk no worker has taken yet itself, with its own worker state: --jobs N is
 * N - 1 threads and the main thread, so no core waits on another. */
static void retire_oldest(struct runner *R)
{
	pthread_mutex_lock(&R->mu);
	struct anon_chunk *c = R->head;
	while (!c->done) {
		struct anon_chunk *t = R->todo;
		if (!t) {
			pthread_cond_wait(&R->done_cv, &R->mu);
			continue;
		}
		R->todo = t->next;
		pthread_mutex_unlock(&R->mu);
		anon_transform_chunk(&R->workers[R->nworkers - 1], t);
		pthread_mutex_lock(&R->mu);
		t->done = true;
	}
	R->head = c->next;
	if (!R->head)
		R->tail = NULL;
	R->inflight--;
	pthread_mutex_unlock(&R->mu);
	retire(R, c);
}

static void submit(struct runner *R)
{
	struct anon_chunk *c = R->cur;
	R->cur = NULL;
	if (!c)
		return;
	if (R->r.cells.n) { /* the chunk takes the cells of its rows; the reader takes a spare */
		c->cells = R->r.cells.p;
		c->ncells = R->r.cells.n;
		c->capcells = R->r.cells.cap;
		R->r.cells = R->spare_cells;
		R->spare_cells = (struct anon_cellarena){ 0 };
		R->r.cells.n = 0;
	}
	if (R->nworkers == 1) {
		anon_transform_chunk(&R->workers[0], c);
		retire(R, c);
		return;
	}
	pthread_mutex_lock(&R->mu);
	if (R->tail)
		R->tail->next = c;
	else
		R->head = c;
	R->tail = c;
	if (!R->todo)
		R->todo = c;
	R->inflight++;
	pthread_cond_signal(&R->work_cv);
	pthread_mutex_unlock(&R->mu);
	while (R->inflight >= R->max_inflight || (R->inflight && anon_run_is_in_order(R->run)))
		retire_oldest(R);
}

/* A worker's state is made on the thread that uses it: glibc gives each thread a malloc arena
 * of its own, so what a worker allocates (scratch buffers, the tool's worker state, OpenSSL's
 * and PCRE2's contexts) shares no cache line with another thread's hot data. The threads
 * make theirs one at a time, in order: a tool's worker_init need not be thread-safe. */
static void worker_setup(struct anon_worker *w)
{
	struct anon_run *run = w->run;
	w->colscratch = anon_xcalloc(run->ncols, sizeof *w->colscratch);
	w->refscratch = anon_xcalloc(run->nrefs, sizeof *w->refscratch);
	w->tool = run->tool->worker_init ? run->tool->worker_init(run) : NULL;
}

static void *worker_main(void *arg)
{
	struct anon_worker *w = arg;
	struct runner *R = w->runner;
	worker_setup(w);
	pthread_mutex_lock(&R->mu);
	R->nready++;
	pthread_cond_broadcast(&R->done_cv);
	pthread_mutex_unlock(&R->mu);
	for (;;) {
		pthread_mutex_lock(&R->mu);
		while (!R->todo && !R->quit)
			pthread_cond_wait(&R->work_cv, &R->mu);
		struct anon_chunk *c = R->todo;
		if (!c) {
			pthread_mutex_unlock(&R->mu);
			return NULL;
		}
		R->todo = c->next;
		pthread_mutex_unlock(&R->mu);
		anon_transform_chunk(w, c);
		pthread_mutex_lock(&R->mu);
		c->done = true;
		pthread_cond_broadcast(&R->done_cv);
		pthread_mutex_unlock(&R->mu);
	}
}

static struct anon_item *add_item(struct runner *R, enum anon_item_kind kind,
				  const unsigned char *raw, size_t rawlen, uint64_t line)
{
	if (!R->cur)
		R->cur = chunk_get(R);
	struct anon_chunk *c = R->cur;
	if (c->nitems == c->capitems) {
		c->capitems = c->capitems ? c->capitems * 2 : 256;
		c->items = anon_xrealloc(c->items, c->capitems * sizeof *c->items);
	}
	struct anon_item *it = &c->items[c->nitems++];
	memset(it, 0, sizeof *it);
	it->kind = (unsigned char)kind;
	it->raw = raw;
	it->rawlen = rawlen;
	it->line = line;
	R->r.pinned = true;
	return it;
}

/* A data row: its cells stay where the reader scanned them, at the end of the reader's cell
 * arena, which the chunk takes whole when it is submitted. */
static void add_row(struct runner *R, const struct anon_row *row)
{
	struct anon_item *it = add_item(R, ANON_ITEM_ROW, row->raw, row->rawlen, row->line);
	it->cell0 = row->base;
	it->ncell = row->ncell;
	R->r.cells.n = row->base + row->ncell;
	if (R->cur->nitems >= chunk_rows(R->run))
		submit(R);
}

/* Input that stops the run here: everything before it goes out first, in order. */
static void add_fatal(struct runner *R, int code, const char *msg)
{
	add_item(R, ANON_ITEM_FATAL, NULL, 0, R->r.line);
	R->cur->fatal_code = code;
	snprintf(R->cur->fatal_msg, sizeof R->cur->fatal_msg, "%s", msg);
	submit(R);
	R->stopping = true;
}

/* The reader needs its buffer back: the chunks pointing into it keep it, the reader goes on
 * in a new one; with nothing pointing into it, the reader just moves the bytes. */
static void refill(struct runner *R)
{
	if (R->cur && R->cur->nitems)
		submit(R);
	/* the tool may have asked for other chunks; large ones are worth waiting for: a pipe
	 * is 64 KiB, a vault transaction costs the same for 600 rows as for 128k */
	size_t want = chunk_read_size(R->run);
	R->r.wait_fill = chunk_rows(R->run) > ANON_CHUNK_ROWS;
	if (R->inbuf->refs > 1) {
		R->r.read_size = want; /* the new buffer's */
		R->inbuf->p = anon_reader_detach(&R->r);
		inbuf_put(R->inbuf);
		R->inbuf = anon_xcalloc(1, sizeof *R->inbuf);
		R->inbuf->p = R->r.buf;
		R->inbuf->refs = 1;
	} else {
		anon_reader_set_size(&R->r, want); /* grows the buffer, never shrinks it */
		R->inbuf->p = R->r.buf;
	}
	R->r.pinned = false;
}

/* ---- tables --------------------------------------------------------------------------------- */

static bool same_rel(const char *s1, const char *t1, const char *s2, const char *t2)
{
	return strcmp(t1, t2) == 0 && ((!s1 && !s2) || (s1 && s2 && strcmp(s1, s2) == 0));
}

/* The partitioned tables a dump's table belongs to, nearest first (borrowed names). */
static size_t ancestors(const struct anon_reader *r, const struct anon_copyhdr *h,
			struct anon_relname *out, size_t max)
{
	const char *schema = h->schema, *table = h->table;
	size_t n = 0;
	while (n < max) {
		size_t i;
		for (i = 0; i < r->npartitions; i++)
			if (same_rel(r->partitions[i].child.schema, r->partitions[i].child.table,
				     schema, table))
				break;
		if (i == r->npartitions)
			break;
		out[n++] = r->partitions[i].parent;
		schema = r->partitions[i].parent.schema;
		table = r->partitions[i].parent.table;
	}
	return n;
}

static struct anon_tablesel *table_start(struct runner *R, const char *name,
					 const struct anon_copyhdr *copy, char **names,
					 size_t nnames, size_t width, uint64_t line)
{
	struct anon_run *run = R->run;
	char msg[300], where[400];
	int code = 0;
	struct anon_relname anc[16];
	size_t nanc = copy ? ancestors(&R->r, copy, anc, 16) : 0;
	struct anon_tablesel *t = anon_select_table(run, name, copy, anc, nanc, names, nnames,
						    width, &code, msg, sizeof msg);
	if (!t) {
		for (size_t i = 0; i < nnames; i++)
			free(names[i]);
		free(names);
		snprintf(where, sizeof where, "%s:%llu: %s", run->cfg.input, (unsigned long long)line,
			 msg);
		add_fatal(R, code, where);
		return NULL;
	}
	t->utf8 = !R->r.not_utf8;
	if (run->tool->table) {
		struct anon_table info = { t->name, (const char *const *)t->names,
					   t->nnames ? t->nnames : t->width, line, t };
		int rc = run->tool->table(run, &info);
		if (rc) {
			snprintf(where, sizeof where, "%s:%llu: the table is refused", run->cfg.input,
				 (unsigned long long)line);
			add_fatal(R, rc, where);
			return NULL;
		}
	}
	submit(R);
	R->table = t;
	return t;
}

static char **copy_names(char *const *src, size_t n)
{
	char **v = anon_xcalloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = anon_xstrdup(src[i]);
	return v;
}

static void take_header(struct runner *R)
{
	const struct anon_row *row = &R->r.row;
	char **names = anon_xcalloc(row->ncell, sizeof *names);
	struct anon_buf scratch = {0};
	for (size_t i = 0; i < row->ncell; i++) {
		struct anon_field f;
		struct anon_cell c = row->cell[i];
		c.flags &= ~(unsigned)ANON_CELL_NULL; /* a name that reads as the NULL marker */
		anon_field_decode(&R->run->cfg.d, &c, &scratch, &f);
		names[i] = anon_xstrndup((const char *)f.p, f.len);
	}
	anon_buf_free(&scratch);
	table_start(R, NULL, NULL, names, row->ncell, row->ncell, row->line);
	if (!R->stopping)
		add_item(R, ANON_ITEM_HEADER, row->raw, row->rawlen, row->line);
}

static void take_copy(struct runner *R)
{
	const struct anon_copyhdr *h = &R->r.copy;
	char name[512];
	snprintf(name, sizeof name, "%s%s%s", h->schema ? h->schema : "", h->schema ? "." : "",
		 h->table);
	uint64_t line = R->r.line - R->r.rawlines;
	struct anon_tablesel *t = table_start(R, name, h, copy_names(h->cols, h->ncols), h->ncols,
					      h->has_cols ? h->ncols : 0, line);
	if (!t)
		return;
	t->copy_stmt = anon_xstrndup((const char *)R->r.raw, R->r.rawlen); /* for --rejects */
	struct anon_item *it = add_item(R, ANON_ITEM_RAW, R->r.raw, R->r.rawlen, line);
	it->flags = ANON_ITEM_COPY_BEGIN;
	R->in_copy = true;
}

static void take_insert(struct runner *R)
{
	struct anon_run *run = R->run;
	const struct anon_copyhdr *h = &R->r.copy;
	uint64_t line = R->r.line - R->r.rawlines;
	struct anon_relname anc[16];
	size_t nanc = ancestors(&R->r, h, anc, 16);
	/* a tool with a row() hook (a validator) must see every row: no INSERT may pass it */
	if (anon_select_names_table(run, h, anc, nanc) || run->tool->row) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s:%llu: INSERT statements (pg_dump --inserts or "
			 "--column-inserts) hold the rows of %s%s%s, which %s: dump without "
			 "--inserts, so rows come as COPY data", run->cfg.input,
			 (unsigned long long)line, h->schema ? h->schema : "", h->schema ? "." : "",
			 h->table, run->tool->row ? "this tool must read" :
			 "-c names: they cannot be anonymized");
		add_fatal(R, EX_DATAERR, msg);
		return;
	}
	if (!run->warned_inserts) {
		run->warned_inserts = true;
		anon_warn("%s:%llu: INSERT statements pass through unchanged (no column of their "
			  "tables is selected)", run->cfg.input, (unsigned long long)line);
	}
	add_item(R, ANON_ITEM_RAW, R->r.raw, R->r.rawlen, line);
}

static void read_all(struct runner *R)
{
	struct anon_run *run = R->run;
	struct anon_reader *r = &R->r;
	bool flat = run->cfg.d.fmt != ANON_FMT_PGDUMP;
	while (!R->stopping) {
		enum anon_rec rec = anon_reader_next(r);
		struct anon_item *it;
		switch (rec) {
		case ANON_REC_EOF:
			return;
		case ANON_REC_REFILL:
			refill(R);
			break;
		case ANON_REC_RAW:
			add_item(R, ANON_ITEM_RAW, r->raw, r->rawlen, r->line - r->rawlines);
			break;
		case ANON_REC_SEP:
			/* before any row: the chunks that decode with it are still to come */
			if (!run->cfg.delim_set)
				run->cfg.d.delim = r->d.delim = r->sep;
			add_item(R, ANON_ITEM_RAW, r->raw, r->rawlen, r->line - r->rawlines);
			break;
		case ANON_REC_HEADER:
			take_header(R);
			break;
		case ANON_REC_TABLE:
			take_copy(R);
			break;
		case ANON_REC_COPYEND:
			it = add_item(R, ANON_ITEM_RAW, r->raw, r->rawlen, r->line - r->rawlines);
			it->flags = ANON_ITEM_COPY_END;
			R->in_copy = false;
			submit(R);
			R->table = NULL;
			break;
		case ANON_REC_INSERT:
			take_insert(R);
			break;
		case ANON_REC_FATAL:
			add_fatal(R, r->fatal_code, r->fatal_msg);
			break;
		case ANON_REC_BAD:
			if (run->cfg.header && !R->table) {
				char msg[400];
				snprintf(msg, sizeof msg, "%s:%llu:%zu: %s (in the header)", run->cfg.input,
					 (unsigned long long)r->err.line, r->err.field + 1, r->err.reason);
				add_fatal(R, EX_DATAERR, msg);
				break;
			}
			it = add_item(R, ANON_ITEM_BAD, r->raw, r->rawlen, r->err.line);
			it->reason = r->err.reason;
			it->field = r->err.field;
			it->errline = r->err.line;
			break;
		case ANON_REC_ROW:
			if (flat && !R->table) {
				/* headerless without --schema: the first row sets the width */
				table_start(R, NULL, NULL, NULL, 0, r->row.ncell, r->row.line);
				if (R->stopping)
					break;
			}
			add_row(R, &r->row);
			break;
		}
	}
}

/* ---- main ----------------------------------------------------------------------------------- */

static int open_input(const struct anon_run *run)
{
	const char *in = run->cfg.input;
	if (strcmp(in, "-") == 0)
		return STDIN_FILENO;
	int fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		anon_die(EX_NOINPUT, "%s: %s", in, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		anon_die(EX_NOINPUT, "%s: is a directory (a pg_dump -Fd archive?): dump with "
			 "pg_dump -Fp (plain SQL)", in);
	return fd;
}

static void workers_start(struct runner *R)
{
	struct anon_run *run = R->run;
	R->nworkers = run->cfg.jobs;
	R->workers = anon_xcalloc_apart(R->nworkers, sizeof *R->workers);
	for (unsigned i = 0; i < R->nworkers; i++) {
		R->workers[i].run = run;
		R->workers[i].runner = R;
	}
	R->max_inflight = 2 * (size_t)R->nworkers + 2;
	if (R->nworkers > 1) {
		pthread_mutex_init(&R->mu, NULL);
		pthread_cond_init(&R->work_cv, NULL);
		pthread_cond_init(&R->done_cv, NULL);
		/* the last worker state is the main thread's (retire_oldest) */
		R->nthreads = R->nworkers - 1;
		R->threads = anon_xcalloc(R->nthreads, sizeof *R->threads);
		for (unsigned i = 0; i < R->nthreads; i++) {
			if (pthread_create(&R->threads[i], NULL, worker_main, &R->workers[i]) != 0)
				anon_die(EX_OSERR, "cannot start worker threads");
			pthread_mutex_lock(&R->mu);
			while (R->nready <= i)
				pthread_cond_wait(&R->done_cv, &R->mu);
			pthread_mutex_unlock(&R->mu);
		}
	}
	worker_setup(&R->workers[R->nworkers - 1]);
}

/* After the last chunk: stop the threads, and let the tool fold each worker's figures. */
static void workers_stop(struct runner *R)
{
	struct anon_run *run = R->run;
	if (R->threads) {
		pthread_mutex_lock(&R->mu);
		R->quit = true;
		pthread_cond_broadcast(&R->work_cv);
		pthread_mutex_unlock(&R->mu);
		for (unsigned i = 0; i < R->nthreads; i++)
			pthread_join(R->threads[i], NULL);
		free(R->threads);
		R->threads = NULL;
	}
	for (unsigned i = 0; i < R->nworkers; i++) {
		struct anon_worker *w = &R->workers[i];
		if (run->tool->worker_free)
			run->tool->worker_free(run, w->tool);
		for (size_t k = 0; k < run->ncols; k++)
			anon_buf_free(&w->colscratch[k]);
		for (size_t k = 0; k < run->nrefs; k++)
			anon_buf_free(&w->refscratch[k]);
		for (size_t k = 0; k < w->ncellscratch; k++)
			anon_buf_free(&w->cellscratch[k]);
		free(w->colscratch);
		free(w->refscratch);
		free(w->cellscratch);
		anon_buf_free(&w->scratch_out);
	}
	free(R->workers);
	R->workers = NULL;
}

static void prepare(struct anon_run *run, int argc, char **argv)
{
	const struct anon_tool *tool = run->tool;
	anon_config_parse(run, argc, argv);
	if (run->ncols == 0 && tool->rule_required)
		anon_usage_error(run, "no column selected (-c COLUMN=RULE)");
	run->colrefs = anon_xcalloc(run->ncols, sizeof *run->colrefs);
	for (size_t i = 0; i < run->ncols; i++) {
		struct anon_column *col = &run->cols[i];
		if (!col->rule && tool->rule_required)
			anon_usage_error(run, "column '%s' needs a rule (-c %s=RULE)", col->spec,
					 col->spec);
		run->colrefs[i] = anon_ref_add(run, col->spec);
		int rc = tool->rule(run, col);
		if (rc)
			exit(rc);
	}
	if (tool->check) {
		int rc = tool->check(run);
		if (rc)
			exit(rc);
	}
	anon_select_prepare(run);
	anon_run_id(run->run_id);
}

/* The key: after the audit file is open, so a bad key is on the record too. With nothing
 * selected every tool is the identity and needs none. */
static void load_key(struct anon_run *run)
{
	const struct anon_tool *tool = run->tool;
	if (!anon_key_load(tool->name, run->cfg.key_file, run->cfg.domain) && tool->needs_key &&
	    run->ncols > 0)
		anon_die(EX_CONFIG, "no key: give --key-file FILE, or set ANON_KEY_FILE or ANON_KEY "
			 "(make one with 'openssl rand -hex 32 > anon.key')");
}

/* At the end of the input: a spec that never named a column (a dump's tables, or a file
 * with a header but no rows) is a usage error, with the rollback line like any other. */
static void unmatched_specs(struct runner *R)
{
	const struct anon_run *run = R->run;
	if (run->cfg.d.fmt != ANON_FMT_PGDUMP) {
		if (run->tables || !run->cfg.header)
			return; /* resolved at the header, or headerless: numbers need a row */
		for (const struct anon_ref *r = run->refs; r; r = r->next)
			anon_die(EX_USAGE, "column '%s' not found: the input is empty (no header)",
				 r->spec);
		return;
	}
	for (const struct anon_ref *r = run->refs; r; r = r->next)
		if (!r->matched)
			anon_die(EX_USAGE, "column '%s' names no column of any COPY block of the dump "
				 "(check the schema, table and column names)", r->spec);
}

int anon_main(const struct anon_tool *tool, void *tool_state, int argc, char **argv)
{
	struct anon_run run_s = { .tool = tool, .state = tool_state, .output = tool->output,
				  .audit_fd = -1, .rej_fd = -1, .chunk_rows = ANON_CHUNK_ROWS,
				  .chunk_rows_max = ANON_CHUNK_ROWS,
				  .chunk_bytes = ANON_CHUNK_BYTES };
	struct anon_run *run = &run_s;
	struct runner runner_s = { .run = run, .main_thread = pthread_self() };
	struct runner *R = &runner_s;
	anon_progname = tool->name;
	/* No OpenSSL cleanup at exit: a run that ends fail-closed exits while workers may still
	 * be inside OpenSSL, and freeing its state under them would crash the process. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	run->t0 = anon_now();
	anon_audit_time(run->time, run->t0);

	prepare(run, argc, argv);
	anon_audit_open(run);

	/* From here on every way out writes the audit record and the rollback line. */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&R->wlock, &attr);
	pthread_mutexattr_destroy(&attr);
	anon_writer_open(&R->out, STDOUT_FILENO, "stdout", 256 * 1024);
	R->out.on_epipe = on_epipe;
	R->out.epipe_arg = R;
	/* A closed pipe must come back as EPIPE, so the audit record is written first. */
	signal(SIGPIPE, SIG_IGN);
	anon_abort_arg = R;
	anon_abort_hook = on_abort;
	R->running = true;

	load_key(run);
	anon_rejects_open(run);
	int fd = open_input(run);
	if (tool->start) {
		int rc = tool->start(run);
		if (rc)
			anon_exit(rc); /* start() said why */
	}
	anon_reader_open(&R->r, fd, run->cfg.input, &run->cfg.d, run->cfg.header);
	anon_reader_set_size(&R->r, chunk_read_size(run));
	R->inbuf = anon_xcalloc(1, sizeof *R->inbuf);
	R->inbuf->p = R->r.buf;
	R->inbuf->refs = 1;
	R->progress = run->cfg.progress == 1 || (run->cfg.progress == 2 && R->r.size >= 0);
	workers_start(R);

	/* Headerless input named by --schema: the table starts before any row. */
	if (!run->cfg.header && run->cfg.d.fmt != ANON_FMT_PGDUMP && run->cfg.nschema)
		table_start(R, NULL, NULL, copy_names(run->cfg.schema, run->cfg.nschema),
			    run->cfg.nschema, run->cfg.nschema, 0);
	read_all(R);
	submit(R);
	while (R->head)
		retire_oldest(R);
	unmatched_specs(R);
	if (R->progress)
		anon_progress(run, R->r.bytes_in, R->r.size, true);
	workers_stop(R);

	run->n.bytes_in = R->r.bytes_in;
	json_t *rec = anon_audit_record(run);
	int status = tool->finish ? tool->finish(run, rec) : 0;
	if (status != 0 && run->cfg.rollback && run->output != ANON_OUTPUT_NONE)
		rollback_line(R, status); /* a failed check must not let the load commit */
	anon_writer_flush(&R->out);
	if (close(STDOUT_FILENO) != 0 && errno != EBADF)
		anon_die(EX_IOERR, "stdout: %s", strerror(errno));
	anon_rejects_close(run);
	if (run->n.rows_rejected)
		anon_warn("%llu row%s rejected", (unsigned long long)run->n.rows_rejected,
			  run->n.rows_rejected == 1 ? "" : "s");
	R->running = false;
	json_object_set_new(rec, "bytes_out", json_integer((json_int_t)R->out.bytes_out));
	anon_audit_append(run, rec, status, status == 0 ? "ok" : "check-failed");
	anon_key_wipe();

	anon_abort_hook = NULL;
	anon_writer_close(&R->out);
	R->inbuf->p = R->r.buf;
	inbuf_put(R->inbuf);
	R->r.buf = NULL; /* the inbuf owned it */
	anon_reader_close(&R->r);
	while (R->spare) {
		struct anon_chunk *c = R->spare;
		R->spare = c->next;
		chunk_free(c);
	}
	free(R->spare_cells.p);
	anon_select_free(run);
	anon_config_free(run);
	return status;
}
