/* audit.c: the audit record, one JSON line per run, appended to a file opened before any input
 * is read (so a bad path fails before any output), and written on every way out: success, a
 * failure, or a closed pipe downstream. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "anon-int.h"

void anon_audit_open(struct anon_run *run)
{
	run->audit_fd = -1;
	if (!run->cfg.audit_path)
		return;
	run->audit_fd = open(run->cfg.audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (run->audit_fd < 0)
		anon_die(EX_IOERR, "%s: %s", run->cfg.audit_path, strerror(errno));
}

/* Where a -c column went: one {table, number, header} per table it was selected in, in the
 * order the tables started. The header is null unless it looks like a name: a header read
 * from the input may be data. */
static json_t *column_resolved(const struct anon_run *run, const struct anon_column *c)
{
	json_t *a = json_array();
	/* run->tables is newest first: each entry goes in front of the ones after it */
	for (const struct anon_tablesel *t = run->tables; t; t = t->next)
		for (size_t i = 0; i < t->nsel; i++) {
			if (t->sel[i].col != c)
				continue;
			size_t idx = (size_t)t->sel[i].index;
			const char *h = idx < t->nnames ? anon_name_printable(t->names[idx]) : NULL;
			json_array_insert_new(a, 0, json_pack("{s:s?, s:I, s:s?}", "table", t->name,
							      "number", (json_int_t)idx + 1,
							      "header", h));
		}
	return a;
}

static json_t *column_record(const struct anon_run *run, const struct anon_column *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(c->spec));
	json_object_set_new(o, "resolved", column_resolved(run, c));
	json_object_set_new(o, "rule", c->rule ? json_string(c->rule) : json_null());
	/* shared, not copied: finish() may still add its figures to the params */
	json_object_set_new(o, "params", c->params ? json_incref(c->params) : json_object());
	json_object_set_new(o, "values", json_integer((json_int_t)c->values));
	json_object_set_new(o, "nulls", json_integer((json_int_t)c->nulls));
	json_object_set_new(o, "changed", json_integer((json_int_t)c->changed));
	json_object_set_new(o, "errors", json_integer((json_int_t)c->errors));
	json_object_set_new(o, "kept", json_integer((json_int_t)c->kept));
	json_object_set_new(o, "nulled", json_integer((json_int_t)c->nulled));
	return o;
}

/* The record lib writes for every run; the tool's finish() adds its own figures. */
json_t *anon_audit_record(struct anon_run *run)
{
	const struct anon_config *cfg = &run->cfg;
	json_t *rec = json_object();
	json_object_set_new(rec, "tool", json_string(run->tool->name));
	json_object_set_new(rec, "version", json_string(ANON_VERSION));
	json_object_set_new(rec, "time", json_string(run->time));
	json_object_set_new(rec, "run_id", json_string(run->run_id));
	json_object_set_new(rec, "format", json_string(anon_fmt_name(cfg->d.fmt)));
	json_object_set_new(rec, "input", json_string(cfg->input));
	json_object_set_new(rec, "domain", cfg->domain ? json_string(cfg->domain) : json_null());
	const char *fp = anon_key_fingerprint();
	json_object_set_new(rec, "key_fingerprint", fp ? json_string(fp) : json_null());
	json_object_set_new(rec, "on_error", json_string(anon_on_error_name(cfg->on_error)));
	json_object_set_new(rec, "jobs", json_integer(cfg->jobs));
	json_t *cols = json_array();
	uint64_t nulls = 0;
	for (size_t i = 0; i < run->ncols; i++) {
		json_array_append_new(cols, column_record(run, &run->cols[i]));
		nulls += run->cols[i].nulls;
	}
	json_object_set_new(rec, "columns", cols);
	json_object_set_new(rec, "rows_in", json_integer((json_int_t)run->n.rows_in));
	json_object_set_new(rec, "rows_out", json_integer((json_int_t)run->n.rows_out));
	json_object_set_new(rec, "rows_rejected", json_integer((json_int_t)run->n.rows_rejected));
	json_object_set_new(rec, "nulls", json_integer((json_int_t)nulls));
	json_object_set_new(rec, "errors", json_integer((json_int_t)run->n.errors));
	json_object_set_new(rec, "bytes_in", json_integer((json_int_t)run->n.bytes_in));
	json_object_set_new(rec, "bytes_out", json_integer((json_int_t)run->n.bytes_out));
	json_object_set_new(rec, "seconds", json_real(anon_now() - run->t0));
	return rec;
}

/* One write(2) on the O_APPEND descriptor opened at start, so every stage of a pipeline can
 * share the file without interleaving. */
static void append(struct anon_run *run, const json_t *record)
{
	char *line = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
	int fd = run->audit_fd;
	run->audit_fd = -1; /* a failing append must not recurse through anon_die */
	if (!line)
		anon_die(EX_SOFTWARE, "cannot encode the audit record");
	size_t n = strlen(line);
	line[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite, then write n + 1 */
	ssize_t k;
	do
		k = write(fd, line, n + 1);
	while (k < 0 && errno == EINTR);
	int e = errno;
	free(line);
	if (k != (ssize_t)(n + 1) || close(fd) != 0)
		anon_die(EX_IOERR, "%s: write: %s", run->cfg.audit_path,
			 k < 0 ? strerror(e) : "short write");
}

void anon_audit_append(struct anon_run *run, json_t *rec, int code, const char *status)
{
	if (run->audit_fd >= 0) {
		json_object_set_new(rec, "exit_code", json_integer(code));
		json_object_set_new(rec, "status", json_string(status));
		append(run, rec);
	}
	json_decref(rec);
}

void anon_audit_time(char out[64], double epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	int ms = (int)((epoch - (double)t) * 1000);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void anon_run_id(char out[40])
{
	const char *env = getenv("ANON_RUN_ID");
	if (env && *env) {
		snprintf(out, 40, "%s", env);
		return;
	}
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		anon_die(EX_SOFTWARE, "no randomness for a run id");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}
