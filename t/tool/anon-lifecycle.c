/* anon-lifecycle: a test tool (never installed) that exercises every hook of struct anon_tool
 * and traces each call to --trace FILE, so t/lifecycle.bats can check the order lib calls
 * them in, with one worker and with several.  Its rule upper-cases ASCII letters. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"

enum { OPT_TRACE = 900, OPT_OUTPUT, OPT_REFUSE_TABLE, OPT_REJECT_ROW, OPT_FAIL_COMMIT,
       OPT_FAIL_FINISH, OPT_FAIL_VALUE, OPT_CHUNK };

static const struct option longopts[] = {
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "refuse-table", required_argument, NULL, OPT_REFUSE_TABLE },
	{ "reject-row", required_argument, NULL, OPT_REJECT_ROW },
	{ "fail-commit", required_argument, NULL, OPT_FAIL_COMMIT },
	{ "fail-finish", no_argument, NULL, OPT_FAIL_FINISH },
	{ "fail-value", required_argument, NULL, OPT_FAIL_VALUE },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ 0 },
};

struct state {
	FILE *trace;
	pthread_mutex_t mu;
	enum anon_output output;
	const char *refuse_table, *reject_row, *fail_value;
	long fail_commit;       /* the commit that fails (1-based), 0: none */
	long commits;
	bool fail_finish;
	size_t chunk_rows, chunk_bytes; /* --chunk ROWS,BYTES: anon_run_set_chunk in start() */
	size_t chunk_start;             /* ,START: START rows at first, ROWS after a chunk */
	const struct anon_run *run;
	uint64_t rows, applied; /* folded from the workers */
	unsigned workers;
};

struct worker {
	unsigned id;
	uint64_t rows, applied, chunks;
	pthread_t thread;       /* the one worker_init ran on */
	uint64_t foreign;       /* hooks of this worker that ran on another thread */
};

/* A worker's hooks all run on the thread that made it (anon.h, worker_init). */
static void on_own_thread(struct worker *w)
{
	if (!pthread_equal(pthread_self(), w->thread))
		w->foreign++;
}

static void trace(struct state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct state *st, const char *fmt, ...)
{
	if (!st->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&st->mu);
	vfprintf(st->trace, fmt, ap);
	fputc('\n', st->trace);
	fflush(st->trace);
	pthread_mutex_unlock(&st->mu);
	va_end(ap);
}

static int option(struct anon_run *run, int opt, const char *arg)
{
	struct state *st = anon_tool_state(run);
	switch (opt) {
	case OPT_TRACE:
		if (!(st->trace = fopen(arg, "w"))) {
			anon_error("--trace: cannot open %s", arg);
			return EX_CANTCREAT;
		}
		trace(st, "option trace");
		return 0;
	case OPT_OUTPUT:
		st->output = strcmp(arg, "none") == 0 ? ANON_OUTPUT_NONE :
			     strcmp(arg, "pass") == 0 ? ANON_OUTPUT_PASS : ANON_OUTPUT_ROWS;
		return 0;
	case OPT_REFUSE_TABLE: st->refuse_table = arg; return 0;
	case OPT_REJECT_ROW: st->reject_row = arg; return 0;
	case OPT_FAIL_COMMIT: st->fail_commit = atol(arg); return 0;
	case OPT_FAIL_FINISH: st->fail_finish = true; return 0;
	case OPT_FAIL_VALUE: st->fail_value = arg; return 0;
	case OPT_CHUNK:
		if (sscanf(arg, "%zu,%zu,%zu", &st->chunk_rows, &st->chunk_bytes,
			   &st->chunk_start) < 2) {
			anon_error("--chunk: ROWS,BYTES[,START]");
			return EX_USAGE;
		}
		return 0;
	}
	return EX_USAGE;
}

static int rule(struct anon_run *run, struct anon_column *col)
{
	trace(anon_tool_state(run), "rule %s", col->spec);
	if (col->rule && strcmp(col->rule, "upper") != 0) {
		anon_error("column '%s': the only rule is upper", col->spec);
		return EX_USAGE;
	}
	col->params = json_pack("{ss}", "rule", "upper");
	return 0;
}

static int check(struct anon_run *run)
{
	struct state *st = anon_tool_state(run);
	trace(st, "check");
	anon_run_set_output(run, st->output);
	return 0;
}

static int start(struct anon_run *run)
{
	struct state *st = anon_tool_state(run);
	trace(st, "start jobs=%u", anon_run_jobs(run));
	st->run = run;
	if (st->chunk_rows)
		anon_run_set_chunk(run, st->chunk_rows, st->chunk_bytes);
	if (st->chunk_start)
		anon_run_set_chunk_rows(run, st->chunk_start);
	return 0;
}

static void *worker_init(struct anon_run *run)
{
	struct state *st = anon_tool_state(run);
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		anon_die(EX_SOFTWARE, "out of memory");
	w->id = st->workers++;
	w->thread = pthread_self();
	trace(st, "worker_init %u", w->id);
	return w;
}

static void worker_free(struct anon_run *run, void *arg)
{
	struct state *st = anon_tool_state(run);
	struct worker *w = arg;
	trace(st, "worker_free %u foreign=%llu", w->id, (unsigned long long)w->foreign);
	st->rows += w->rows;
	st->applied += w->applied;
	free(w);
}

static int table(struct anon_run *run, const struct anon_table *t)
{
	struct state *st = anon_tool_state(run);
	trace(st, "table %s cols=%zu first=%s line=%llu", t->name ? t->name : "-", t->ncols,
	      t->cols && t->ncols ? t->cols[0] : "-", (unsigned long long)t->line);
	if (st->refuse_table && t->name && strcmp(st->refuse_table, t->name) == 0) {
		anon_error("table %s is refused", t->name);
		return EX_DATAERR;
	}
	return 0;
}

static struct state *g_state; /* for chunk() and commit(), which see only the worker */

static int chunk(void *arg, const struct anon_chunk *c)
{
	struct worker *w = arg;
	on_own_thread(w);
	w->chunks++;
	trace(g_state, "chunk rows=%zu", anon_chunk_rows(c));
	if (g_state->chunk_start)
		anon_run_set_chunk_rows(g_state->run, g_state->chunk_rows);
	return 0;
}

static enum anon_status row(const struct anon_rowinfo *r, const char **errmsg)
{
	struct state *st = anon_tool_state(r->run);
	struct worker *w = r->worker;
	on_own_thread(w);
	w->rows++;
	size_t n = anon_row_width(r);
	for (size_t i = 0; st->reject_row && i < n; i++) {
		struct anon_field f;
		anon_row_field(r, i, &f);
		if (!f.null && f.len == strlen(st->reject_row) && memcmp(f.p, st->reject_row, f.len) == 0) {
			*errmsg = "row() refused this row";
			return ANON_ERR;
		}
	}
	const char *name = n ? anon_row_name(r, 0) : NULL;
	trace(st, "row line=%llu width=%zu name0=%s", (unsigned long long)r->line, n,
	      name ? name : "-");
	return ANON_OK;
}

static enum anon_status apply(const struct anon_rowinfo *r, const struct anon_column *col,
			      const struct anon_field *in, struct anon_field *out,
			      struct anon_buf *scratch, const char **errmsg)
{
	struct state *st = anon_tool_state(r->run);
	struct worker *w = r->worker;
	if (st->fail_value && in->len == strlen(st->fail_value) &&
	    memcmp(in->p, st->fail_value, in->len) == 0) {
		*errmsg = "apply() refused this value";
		return ANON_ERR;
	}
	on_own_thread(w);
	w->applied++;
	anon_buf_reserve(scratch, in->len);
	for (size_t i = 0; i < in->len; i++) {
		unsigned char ch = in->p[i];
		scratch->p[i] = ch >= 'a' && ch <= 'z' ? (unsigned char)(ch - 32) : ch;
	}
	scratch->len = in->len;
	out->p = scratch->p;
	out->len = scratch->len;
	out->null = false;
	return ANON_OK;
}

static int commit(void *arg)
{
	struct state *st = g_state;
	pthread_mutex_lock(&st->mu);
	long k = ++st->commits;
	pthread_mutex_unlock(&st->mu);
	trace(st, "commit %ld", k);
	return st->fail_commit && k == st->fail_commit ? EX_TEMPFAIL : 0;
}

static int finish(struct anon_run *run, json_t *record)
{
	struct state *st = anon_tool_state(run);
	struct anon_counts n;
	anon_run_counts(run, &n);
	trace(st, "finish rows_in=%llu rows_out=%llu rows=%llu applied=%llu",
	      (unsigned long long)n.rows_in, (unsigned long long)n.rows_out,
	      (unsigned long long)st->rows, (unsigned long long)st->applied);
	json_object_set_new(record, "lifecycle_rows", json_integer((json_int_t)st->rows));
	return st->fail_finish ? ANON_EX_CHECK : 0;
}

static const struct anon_tool tool = {
	.name = "anon-lifecycle",
	.synopsis = "[options] [--trace FILE] [--output rows|none|pass] -c COLUMN[=upper] ... [FILE]",
	.longopts = longopts,
	.option = option,
	.rule = rule,
	.check = check,
	.start = start,
	.worker_init = worker_init,
	.worker_free = worker_free,
	.table = table,
	.chunk = chunk,
	.row = row,
	.apply = apply,
	.commit = commit,
	.finish = finish,
};

int main(int argc, char **argv)
{
	struct state st = { 0 };
	pthread_mutex_init(&st.mu, NULL);
	g_state = &st;
	int rc = anon_main(&tool, &st, argc, argv);
	if (st.trace)
		fclose(st.trace);
	return rc;
}
