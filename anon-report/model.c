/* model.c: the report as data.  The stages of one run are put in pipeline order from their
 * own figures (a stage reads the bytes the one before it wrote: bytes_in == bytes_out), not
 * from the order the records reached the file, and every place where the figures do not
 * join up is flagged.  Everything comes from the records: no clock, no data. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

struct stage {
	const struct report_rec *rec;
	const json_t *j;
	int index;          /* 1-based, pipeline order */
	int follows;        /* index of the stage it read from, 0 none */
	const char *link;   /* "start", "pipe", "file", "gap" */
	bool consumer;      /* read the release from a file without adding to it */
};

static bool is(const char *s, const char *t)
{
	return s && strcmp(s, t) == 0;
}

static void flag(json_t *flags, const char *severity, const char *code, int stage,
		 const char *column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void flag(json_t *flags, const char *severity, const char *code, int stage,
		 const char *column, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *f = json_pack("{s:s, s:s, s:s}", "severity", severity, "code", code, "message", msg);
	json_object_set_new(f, "stage", stage ? json_integer(stage) : json_null());
	json_object_set_new(f, "column", column ? json_string(column) : json_null());
	json_array_append_new(flags, f);
}

static bool reads_stdin(const json_t *j)
{
	const char *in = report_str(j, "input");
	return !in || is(in, "-");
}

static bool reverses(const json_t *j)
{
	if (is(report_str(j, "direction"), "detokenize"))
		return true;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(j, "columns"), i, c)
		if (is(report_str(json_object_get(c, "params"), "direction"), "decrypt"))
			return true;
	return false;
}

/* Put the stages in pipeline order: after each stage, the first stage (in reading order)
 * that read what it wrote through a pipe, else one that read it from a file; a stage that
 * only reads the result from a file (a validator, a decryption) is a consumer and the chain
 * goes on from the stage it read. */
static size_t order_stages(struct stage *st, size_t n, struct stage *out)
{
	bool *used = calloc(n ? n : 1, sizeof *used);
	size_t k = 0;
	int cur = -1; /* position in out[] of the stage whose output the chain is at */
	while (k < n) {
		int next = -1;
		const char *link = "start";
		if (cur >= 0) {
			json_int_t want = report_int(out[cur].j, "bytes_out");
			for (size_t i = 0; i < n && next < 0; i++)
				if (!used[i] && reads_stdin(st[i].j) &&
				    report_int(st[i].j, "bytes_in") == want)
					next = (int)i, link = "pipe";
			for (size_t i = 0; i < n && next < 0 && want > 0; i++)
				if (!used[i] && !reads_stdin(st[i].j) &&
				    report_int(st[i].j, "bytes_in") == want)
					next = (int)i, link = "file";
		}
		/* a stage reading a pipe that no remaining stage wrote: its writer's record is
		 * missing, and it goes on from where the chain is */
		for (size_t i = 0; i < n && next < 0 && cur >= 0; i++) {
			if (used[i] || !reads_stdin(st[i].j))
				continue;
			bool writer = false;
			for (size_t w = 0; w < n && !writer; w++)
				writer = !used[w] && w != i &&
					 report_int(st[w].j, "bytes_out") == report_int(st[i].j, "bytes_in");
			if (!writer)
				next = (int)i, link = "gap";
		}
		if (next < 0) {
			for (size_t i = 0; i < n && next < 0; i++)
				if (!used[i] && !reads_stdin(st[i].j))
					next = (int)i, link = "start";
			for (size_t i = 0; i < n && next < 0; i++)
				if (!used[i])
					next = (int)i, link = cur >= 0 ? "gap" : "start";
		}
		used[next] = true;
		out[k] = st[next];
		out[k].index = (int)k + 1;
		out[k].link = link;
		out[k].follows = is(link, "start") ? 0 : out[cur].index;
		out[k].consumer = is(link, "file") &&
				  (is(report_str(out[k].j, "tool"), "anon-validate") || reverses(out[k].j));
		if (!out[k].consumer)
			cur = (int)k;
		k++;
	}
	free(used);
	return k;
}

/* "2026-12-01T21:52:27.002Z" to seconds since the epoch; -1 when it is not one. */
static double parse_time(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

static void fmt_time(char out[64], double t)
{
	time_t s = (time_t)floor(t);
	struct tm tm;
	gmtime_r(&s, &tm);
	int ms = (int)llround((t - (double)s) * 1000);
	if (ms > 999)
		ms = 999;
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* The members a tool adds to its record; a failed run with --jobs > 1 lacks them. */
static const char *tool_member(const char *tool)
{
	static const char *const m[][2] = {
		{ "anon-hash", "algorithm" }, { "anon-mask", "mask" }, { "anon-noise", "noise" },
		{ "anon-validate", "verdict" }, { "anon-token", "direction" },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (is(tool, m[i][0]))
			return m[i][1];
	return NULL;
}

static bool known_tool(const char *tool)
{
	return tool_member(tool) || is(tool, "anon-fpe");
}

static json_t *stage_json(const struct stage *s)
{
	const json_t *j = s->j;
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(s->index));
	static const char *const copy[] = { "tool", "version", "time", "input", "format", "status",
		"exit_code", "rows_in", "rows_out", "rows_rejected", "errors", "nulls", "bytes_in",
		"bytes_out", "seconds", "jobs", "on_error", "domain", "key_fingerprint", NULL };
	for (int i = 0; copy[i]; i++) {
		json_t *v = json_object_get(j, copy[i]);
		json_object_set(o, copy[i], v ? v : json_null());
	}
	json_object_set_new(o, "follows", s->follows ? json_integer(s->follows) : json_null());
	json_object_set_new(o, "link", json_string(s->link));
	json_object_set_new(o, "consumer", json_boolean(s->consumer));
	json_object_set_new(o, "source", json_string(s->rec->source));
	json_t *cols = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(j, "columns"), i, c)
		if (report_str(c, "name"))
			json_array_append_new(cols, json_string(report_str(c, "name")));
	json_object_set_new(o, "columns", cols);
	/* the tool's own top-level figures, whatever the tool */
	json_t *tool = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v) {
		bool common = strcmp(k, "columns") == 0 || strcmp(k, "run_id") == 0 ||
			      strcmp(k, "verdict") == 0;
		for (int q = 0; copy[q] && !common; q++)
			common = strcmp(k, copy[q]) == 0;
		if (!common)
			json_object_set(tool, k, v);
	}
	json_object_set_new(o, "tool_figures", tool);
	return o;
}

static void check_stage(json_t *flags, const struct stage *s, const struct stage *prev)
{
	const json_t *j = s->j;
	const char *tool = report_str(j, "tool");
	const char *status = report_str(j, "status");
	json_int_t code = report_int(j, "exit_code");
	int ix = s->index;
	if (is(status, "check-failed"))
		flag(flags, "error", "check-failed", ix, NULL, "stage %d (%s): its check failed "
		     "(status check-failed, exit %lld)", ix, tool, (long long)code);
	else if (is(status, "closed-pipe"))
		flag(flags, "warning", "closed-pipe", ix, NULL, "stage %d (%s): the reader of its "
		     "output went away (exit %lld): rows after that point were not written", ix, tool,
		     (long long)code);
	else if (!is(status, "ok") || code != 0)
		flag(flags, "error", "stage-failed", ix, NULL, "stage %d (%s) failed: status %s, "
		     "exit %lld: its output ends with the rollback line and nothing after it loads",
		     ix, tool, status ? status : "missing", (long long)code);
	if (is(s->link, "gap"))
		flag(flags, "error", "missing-stage", ix, NULL, "stage %d (%s) read %lld bytes and "
		     "%lld rows from a pipe, but no recorded stage of this run wrote them (stage %d "
		     "wrote %lld bytes, %lld rows): the record of a stage between them is missing",
		     ix, tool, (long long)report_int(j, "bytes_in"), (long long)report_int(j, "rows_in"),
		     prev->index, (long long)report_int(prev->j, "bytes_out"),
		     (long long)report_int(prev->j, "rows_out"));
	else if (prev && report_int(j, "rows_in") < report_int(prev->j, "rows_out") &&
		 !is(status, "ok"))
		flag(flags, "error", "stopped-early", ix, NULL, "stage %d (%s) stopped after reading "
		     "%lld of the %lld rows stage %d wrote: the rows after that point are not in "
		     "the output", ix, tool, (long long)report_int(j, "rows_in"),
		     (long long)report_int(prev->j, "rows_out"), prev->index);
	else if (prev && report_int(j, "rows_in") != report_int(prev->j, "rows_out"))
		flag(flags, "error", "rows-mismatch", ix, NULL, "stage %d (%s) read %lld rows, but "
		     "stage %d (%s) wrote %lld: a stage's record is missing or the data was changed "
		     "between them", ix, tool, (long long)report_int(j, "rows_in"), prev->index,
		     report_str(prev->j, "tool"), (long long)report_int(prev->j, "rows_out"));
	json_int_t rin = report_int(j, "rows_in"), rout = report_int(j, "rows_out"),
		   rrej = report_int(j, "rows_rejected");
	if (rrej > 0)
		flag(flags, "warning", "rows-rejected", ix, NULL, "stage %d (%s) left %lld rows out "
		     "(--on-error %s)", ix, tool, (long long)rrej,
		     report_str(j, "on_error") ? report_str(j, "on_error") : "?");
	if (is(status, "ok") && report_int(j, "bytes_out") > 0 && rin != rout + rrej)
		flag(flags, "warning", "rows-lost", ix, NULL, "stage %d (%s): %lld rows in, %lld out "
		     "and %lld rejected do not add up", ix, tool, (long long)rin, (long long)rout,
		     (long long)rrej);
	if (!known_tool(tool))
		flag(flags, "warning", "unknown-tool", ix, NULL, "stage %d: %s is a tool this report "
		     "does not know: its columns are listed but not classified", ix, tool);
	else if (tool_member(tool) && !json_object_get(j, tool_member(tool)) &&
		 !(is(tool, "anon-validate") && json_object_get(j, "mode")))
		flag(flags, "warning", "figures-missing", ix, NULL, "stage %d (%s): the record has "
		     "no \"%s\" (a failed run with --jobs %lld records only lib's figures)", ix, tool,
		     tool_member(tool), (long long)report_int(j, "jobs"));
	const json_t *noise = json_object_get(j, "noise");
	if (is(report_str(noise, "rng"), "seeded-insecure") ||
	    json_is_false(json_object_get(noise, "private")))
		flag(flags, "warning", "seeded-noise", ix, NULL, "stage %d (%s) ran with --seed: the "
		     "noise can be reproduced and removed by anyone who knows the seed; its epsilon "
		     "does not hold and the run is not private", ix, tool);
	if (reverses(j))
		flag(flags, "warning", "re-identified", ix, NULL, "stage %d (%s) turned values back "
		     "into the originals%s", ix, tool,
		     s->consumer ? " (reading the output from a file: a consumer of the release, "
				   "not a stage of it)" : "");
}

struct colent {
	char *name;
	json_t *steps;
	enum report_class cls;
	double epsilon, delta;
	uint64_t raw;
	bool noised;
	json_t *notes;
};

struct cols {
	struct colent *v;
	size_t n, cap;
};

static struct colent *col_get(struct cols *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].name, name) == 0)
			return &cs->v[i];
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 16;
		cs->v = realloc(cs->v, cs->cap * sizeof *cs->v);
		if (!cs->v)
			anon_die(EX_OSERR, "out of memory");
	}
	struct colent *c = &cs->v[cs->n++];
	*c = (struct colent){ strdup(name), json_array(), RC_UNTOUCHED, 0, 0, 0, false,
			      json_array() };
	return c;
}

/* The column names a verdict mentions (columns that exist, whether selected or not). */
static void verdict_names(const json_t *verdict, struct cols *cs)
{
	size_t i, q;
	json_t *c, *x;
	json_array_foreach(json_object_get(verdict, "checks"), i, c) {
		json_array_foreach(json_object_get(c, "columns"), q, x) {
			if (json_is_string(x))
				col_get(cs, json_string_value(x));
			else if (report_str(x, "column"))
				col_get(cs, report_str(x, "column"));
		}
		if (report_str(c, "column"))
			col_get(cs, report_str(c, "column"));
	}
}

static json_int_t verdict_width(const json_t *verdict)
{
	json_int_t w = 0;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(verdict, "tables"), i, t)
		if (report_int(t, "columns") > w)
			w = report_int(t, "columns");
	return w;
}

static void add_step(struct colent *ce, const struct stage *s, const json_t *c, json_t *flags)
{
	const json_t *j = s->j;
	char desc[512];
	enum report_class k = report_step_class(j, c, desc, sizeof desc);
	json_t *step = json_object();
	json_object_set_new(step, "stage", json_integer(s->index));
	json_object_set(step, "tool", json_object_get(j, "tool"));
	/* the -c that selected it, which may be a number or table.column */
	json_object_set_new(step, "selected_as", report_str(c, "name") ?
			    json_string(report_str(c, "name")) : json_null());
	json_object_set_new(step, "rule", json_deep_copy(json_object_get(c, "rule")));
	if (!json_object_get(step, "rule"))
		json_object_set_new(step, "rule", json_null());
	json_t *params = json_object_get(c, "params");
	json_object_set_new(step, "params", params ? json_deep_copy(params) : json_object());
	json_t *fp = json_object_get(j, "key_fingerprint");
	json_object_set_new(step, "key_fingerprint", fp ? json_deep_copy(fp) : json_null());
	json_t *dom = json_object_get(j, "domain");
	json_object_set_new(step, "domain", dom ? json_deep_copy(dom) : json_null());
	json_object_set_new(step, "treatment", json_string(report_class_name(k)));
	json_object_set_new(step, "description", json_string(desc));
	static const char *const counts[] = { "values", "nulls", "changed", "errors", "kept",
					      "nulled", NULL };
	for (int i = 0; counts[i]; i++)
		json_object_set_new(step, counts[i], json_integer(report_int(c, counts[i])));
	uint64_t raw = (uint64_t)report_int(c, "kept");
	const json_t *mask = json_object_get(j, "mask");
	if (is(report_str(mask, "on_mismatch"), "keep"))
		raw += (uint64_t)report_int(json_object_get(mask, "mismatched"),
					    report_str(c, "name"));
	if (report_int(mask, "where_columns") > 0)
		raw += (uint64_t)report_int(mask, "outside_where");
	json_object_set_new(step, "raw", json_integer((json_int_t)raw));
	json_object_set_new(step, "after_release", json_boolean(s->consumer));
	json_array_append_new(ce->steps, step);
	const char *name = ce->name;
	if (s->consumer) {
		char note[256];
		snprintf(note, sizeof note, "stage %d (%s) read the output from a file and %s; its "
			 "output is not part of this lineage", s->index, report_str(j, "tool"),
			 k == RC_REIDENTIFIED ? "turned the values back" : "changed it");
		json_array_append_new(ce->notes, json_string(note));
		return;
	}
	if (report_int(c, "values") == 0 && report_int(j, "rows_in") > 0)
		flag(flags, "warning", "column-unread", s->index, name, "stage %d (%s): column %s "
		     "was selected but no value of it was read", s->index, report_str(j, "tool"),
		     name);
	else
		ce->cls = report_compose(ce->cls, k);
	if (raw > 0) {
		ce->raw += raw;
		flag(flags, "warning", "values-kept", s->index, name, "stage %d (%s): %llu values of "
		     "%s were written as they were read", s->index, report_str(j, "tool"),
		     (unsigned long long)raw, name);
	}
	if (k == RC_DP) {
		ce->noised = true;
		ce->epsilon += report_num(params, "epsilon");
		ce->delta += report_num(params, "delta");
	}
}

static json_t *budget(const struct stage *st, size_t n, struct cols *cs, json_t *flags,
		      const struct report_input *in, const char *run_id)
{
	json_t *b = json_object(), *entries = json_array(), *percol = json_array(),
	       *warn = json_array();
	double eps = 0, delta = 0, rec_eps = 0, rec_delta = 0;
	bool private = true, any = false, recorded = true;
	for (size_t i = 0; i < n; i++) {
		const json_t *j = st[i].j;
		if (!is(report_str(j, "tool"), "anon-noise") || st[i].consumer)
			continue;
		const json_t *noise = json_object_get(j, "noise");
		bool seeded = is(report_str(noise, "rng"), "seeded-insecure") ||
			      json_is_false(json_object_get(noise, "private"));
		if (seeded) {
			private = false;
			char w[256];
			snprintf(w, sizeof w, "stage %d ran with --seed%s: the noise is reproducible, "
				 "the run is not private", st[i].index,
				 report_has_num(noise, "seed") ? " (the seed is in its record)" : "");
			json_array_append_new(warn, json_string(w));
		}
		if (noise) {
			rec_eps += report_num(noise, "epsilon_per_row");
			rec_delta += report_num(noise, "delta_per_row");
		} else {
			recorded = false;
		}
		size_t q;
		json_t *c;
		json_array_foreach(json_object_get(j, "columns"), q, c) {
			json_t *p = json_object_get(c, "params");
			const char *mech = report_str(p, "mechanism");
			if (!report_has_num(p, "epsilon"))
				continue;
			any = true;
			json_t *e = json_object();
			const char *name = report_col_name(c);
			json_object_set_new(e, "column", name ? json_string(name) : json_null());
			json_object_set_new(e, "stage", json_integer(st[i].index));
			json_object_set_new(e, "mechanism", mech ? json_string(mech) : json_null());
			json_object_set(e, "epsilon", json_object_get(p, "epsilon"));
			json_object_set_new(e, "delta", json_real(report_num(p, "delta")));
			json_t *req = json_object_get(p, "epsilon_requested");
			json_object_set_new(e, "epsilon_requested", req ? json_deep_copy(req) : json_null());
			json_object_set_new(e, "private", json_boolean(!seeded));
			json_array_append_new(entries, e);
			eps += report_num(p, "epsilon");
			delta += report_num(p, "delta");
		}
	}
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].noised) {
			json_t *e = json_pack("{s:s, s:f, s:f}", "column", cs->v[i].name, "epsilon",
					      cs->v[i].epsilon, "delta", cs->v[i].delta);
			/* the same column noised by other runs in these files: losses add up */
			double other = 0;
			json_t *runs = json_array();
			for (size_t r = 0; r < in->n; r++) {
				const json_t *j = in->v[r].j;
				if (is(report_str(j, "run_id"), run_id) ||
				    !is(report_str(j, "tool"), "anon-noise"))
					continue;
				size_t q;
				json_t *c;
				json_array_foreach(json_object_get(j, "columns"), q, c)
					if (is(report_col_name(c), cs->v[i].name) &&
					    report_has_num(json_object_get(c, "params"), "epsilon")) {
						other += report_num(json_object_get(c, "params"), "epsilon");
						json_array_append_new(runs, json_string(report_str(j, "run_id")));
					}
			}
			json_object_set_new(e, "other_runs", runs);
			json_object_set_new(e, "epsilon_other_runs", json_real(other));
			json_array_append_new(percol, e);
		}
	json_object_set_new(b, "entries", entries);
	json_object_set_new(b, "per_column", percol);
	json_object_set_new(b, "per_row", json_pack("{s:f, s:f}", "epsilon", eps, "delta", delta));
	json_object_set_new(b, "recorded_per_row", recorded ?
			    json_pack("{s:f, s:f}", "epsilon", rec_eps, "delta", rec_delta) : json_null());
	json_object_set_new(b, "noised", json_boolean(any));
	json_object_set_new(b, "private", json_boolean(private));
	json_object_set_new(b, "guarantee", json_string("local differential privacy, per released "
		"value: losses add across columns (the per-row sum), rows of one person and "
		"re-runs; unnoised columns and NULL-ness are not protected"));
	json_object_set_new(b, "warnings", warn);
	if (any && recorded && fabs(rec_eps - eps) > 1e-9 * (1 + eps))
		flag(flags, "warning", "budget-mismatch", 0, NULL, "the per-row epsilon the records "
		     "state (%g) is not the sum over their columns (%g)", rec_eps, eps);
	return b;
}

/* One line on what a check found, from its figures (never rows' values: there are none). */
static void check_detail(const json_t *c, char *out, size_t n)
{
	const char *k = report_str(c, "check");
	char cols[256] = "";
	size_t i, len = 0;
	json_t *x;
	json_array_foreach(json_object_get(c, "columns"), i, x) {
		const char *nm = json_is_string(x) ? json_string_value(x) : report_str(x, "column");
		if (nm && len < sizeof cols - 2)
			len += (size_t)snprintf(cols + len, sizeof cols - len, "%s%s", i ? "," : "", nm);
	}
	if (is(k, "structure"))
		snprintf(out, n, "%lld tables, %lld rows, %lld malformed",
			 (long long)report_int(c, "tables"), (long long)report_int(c, "rows"),
			 (long long)report_int(c, "malformed"));
	else if (is(k, "k-anonymity"))
		snprintf(out, n, "columns %s, k=%lld: smallest class %lld rows; %lld of %lld classes "
			 "(%lld rows) below k", cols, (long long)report_int(c, "k"),
			 (long long)report_int(c, "min_k"), (long long)report_int(c, "classes_below_k"),
			 (long long)report_int(c, "classes"), (long long)report_int(c, "rows_below_k"));
	else if (is(k, "l-diversity"))
		snprintf(out, n, "column %s within %s, l=%lld: smallest %lld; %lld classes below l",
			 report_str(c, "column") ? report_str(c, "column") : "?", cols,
			 (long long)report_int(c, "l"), (long long)report_int(c, "min_l"),
			 (long long)report_int(c, "classes_below_l"));
	else if (is(k, "unique"))
		snprintf(out, n, "columns %s: %lld values, %lld distinct, %lld duplicates", cols,
			 (long long)report_int(c, "values"), (long long)report_int(c, "distinct"),
			 (long long)report_int(c, "duplicates"));
	else if (is(k, "pii"))
		snprintf(out, n, "%s: %lld hits in %lld columns scanned%s%s",
			 report_str(c, "kind") ? report_str(c, "kind") : "?",
			 (long long)report_int(c, "hits"), (long long)report_int(c, "columns_scanned"),
			 *cols ? ", in " : "", cols);
	else if (is(k, "deny-list"))
		snprintf(out, n, "%lld listed values: %lld hits%s%s", (long long)report_int(c, "values"),
			 (long long)report_int(c, "hits"), *cols ? ", in " : "", cols);
	else if (report_has_num(c, "failures"))
		snprintf(out, n, "column %s: %lld failures",
			 report_str(c, "column") ? report_str(c, "column") : cols,
			 (long long)report_int(c, "failures"));
	else {
		/* a check this report does not know: its scalar figures */
		const char *key;
		json_t *v;
		len = 0;
		out[0] = '\0';
		json_object_foreach((json_t *)c, key, v) {
			if (strcmp(key, "check") == 0 || strcmp(key, "passed") == 0 ||
			    strcmp(key, "rows") == 0 || strcmp(key, "table") == 0)
				continue;
			char val[64];
			if (json_is_number(v))
				report_fmt_num(val, sizeof val, json_number_value(v));
			else if (json_is_boolean(v))
				snprintf(val, sizeof val, "%s", json_is_true(v) ? "true" : "false");
			else if (json_is_string(v))
				snprintf(val, sizeof val, "%s", json_string_value(v));
			else if (json_is_array(v))
				snprintf(val, sizeof val, "%zu listed", json_array_size(v));
			else
				continue;
			if (len < n)
				len += (size_t)snprintf(out + len, n - len, "%s%s %s", len ? ", " : "",
							key, val);
		}
	}
}

static json_t *validation_entry(const json_t *verdict, int stage, const char *source,
				json_t *flags)
{
	json_t *v = json_object(), *checks = json_array();
	json_object_set_new(v, "stage", stage ? json_integer(stage) : json_null());
	json_object_set_new(v, "source", json_string(source));
	json_object_set_new(v, "passed", json_boolean(json_is_true(json_object_get(verdict, "passed"))));
	json_t *complete = json_object_get(verdict, "complete");
	json_object_set_new(v, "complete", json_boolean(!json_is_false(complete)));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(verdict, "checks"), i, c) {
		char detail[512];
		check_detail(c, detail, sizeof detail);
		bool passed = json_is_true(json_object_get(c, "passed"));
		json_t *e = json_object();
		json_object_set(e, "check", json_object_get(c, "check"));
		json_t *t = json_object_get(c, "table");
		json_object_set_new(e, "table", t ? json_deep_copy(t) : json_null());
		json_object_set_new(e, "passed", json_boolean(passed));
		json_object_set_new(e, "detail", json_string(detail));
		json_object_set_new(e, "figures", json_deep_copy(c));
		json_object_del(json_object_get(e, "figures"), "rows");
		json_array_append_new(checks, e);
		if (!passed)
			flag(flags, "error", "validation-failed", stage, NULL, "validation%s%.0d: %s "
			     "failed (%s)", stage ? " in stage " : "", stage,
			     report_str(c, "check") ? report_str(c, "check") : "a check", detail);
	}
	if (json_is_false(complete))
		flag(flags, "error", "validation-incomplete", stage, NULL, "a validation verdict "
		     "is marked incomplete: its run stopped before the end of the input");
	json_object_set_new(v, "checks", checks);
	return v;
}

static bool recipient_has_key(const json_t *meta)
{
	size_t i;
	json_t *r;
	if (json_is_true(json_object_get(meta, "recipient_has_key")))
		return true;
	json_array_foreach(json_object_get(meta, "recipients"), i, r)
		if (json_is_true(json_object_get(r, "has_key")))
			return true;
	return false;
}

json_t *report_build(const struct report_input *in, const char *run_id, json_t *meta)
{
	json_t *m = json_object(), *flags = json_array();
	json_object_set_new(m, "schema", json_string(REPORT_SCHEMA));
	json_object_set_new(m, "generator", json_pack("{s:s, s:s}", "tool", "anon-report",
						      "version", ANON_VERSION));
	json_object_set_new(m, "run_id", json_string(run_id));
	json_object_set(m, "sources", in->files);
	/* the other runs in the files */
	json_t *others = json_array();
	for (size_t i = 0; i < in->n; i++) {
		const char *id = report_str(in->v[i].j, "run_id");
		bool seen = strcmp(id, run_id) == 0;
		size_t q;
		json_t *x;
		json_array_foreach(others, q, x)
			seen = seen || is(json_string_value(x), id);
		if (!seen)
			json_array_append_new(others, json_string(id));
	}
	json_object_set_new(m, "other_runs", others);
	json_object_set_new(m, "meta", meta ? json_incref(meta) : json_null());

	size_t n = 0;
	struct stage *st = calloc(in->n + 1, sizeof *st), *ord = calloc(in->n + 1, sizeof *ord);
	json_t *verdict_docs = json_array();
	for (size_t i = 0; i < in->n; i++) {
		const json_t *j = in->v[i].j;
		if (!is(report_str(j, "run_id"), run_id))
			continue;
		if (report_is_verdict(j)) {
			json_array_append_new(verdict_docs, json_pack("{s:O, s:s}", "verdict", j,
								      "source", in->v[i].source));
			continue;
		}
		st[n++] = (struct stage){ &in->v[i], j, 0, 0, "start", false };
	}
	n = order_stages(st, n, ord);

	json_t *stages = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct stage *prev = ord[i].follows ? &ord[ord[i].follows - 1] : NULL;
		check_stage(flags, &ord[i], prev);
		json_array_append_new(stages, stage_json(&ord[i]));
	}
	if (n == 0)
		flag(flags, "error", "no-stages", 0, NULL, "run %s has no stage record, only "
		     "validation verdicts", run_id);

	/* lineage, in the order columns first appear */
	struct cols cs = { 0 };
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(meta, "columns"), i, x)
		if (json_is_string(x))
			col_get(&cs, json_string_value(x));
	for (size_t s = 0; s < n; s++) {
		if (is(report_str(ord[s].j, "tool"), "anon-validate"))
			continue;
		json_array_foreach(json_object_get(ord[s].j, "columns"), i, x)
			if (report_col_name(x))
				add_step(col_get(&cs, report_col_name(x)), &ord[s], x, flags);
	}
	/* validation, and the columns only a verdict names */
	json_t *validation = json_array();
	json_int_t width = 0;
	for (size_t s = 0; s < n; s++) {
		json_t *v = json_object_get(ord[s].j, "verdict");
		if (!v)
			continue;
		verdict_names(v, &cs);
		if (verdict_width(v) > width)
			width = verdict_width(v);
		json_array_append_new(validation, validation_entry(v, ord[s].index,
								   ord[s].rec->source, flags));
	}
	json_array_foreach(verdict_docs, i, x) {
		json_t *v = json_object_get(x, "verdict");
		bool dup = false;
		for (size_t s = 0; s < n && !dup; s++) {
			json_t *sv = json_object_get(ord[s].j, "verdict");
			dup = sv && json_equal(json_object_get(sv, "checks"), json_object_get(v, "checks"));
		}
		if (dup)
			continue;
		verdict_names(v, &cs);
		if (verdict_width(v) > width)
			width = verdict_width(v);
		json_array_append_new(validation, validation_entry(v, 0, report_str(x, "source"), flags));
	}
	json_decref(verdict_docs);

	bool has_key = recipient_has_key(meta);
	json_t *lineage = json_array(), *classification = json_array(), *untouched = json_array();
	for (size_t c = 0; c < cs.n; c++) {
		struct colent *ce = &cs.v[c];
		const char *cls = report_class_name(ce->cls);
		json_t *l = json_object();
		json_object_set_new(l, "column", json_string(ce->name));
		json_object_set_new(l, "touched", json_boolean(json_array_size(ce->steps) > 0));
		json_object_set_new(l, "treatment", json_string(cls));
		json_object_set_new(l, "steps", json_incref(ce->steps));
		json_object_set_new(l, "notes", json_incref(ce->notes));
		json_array_append_new(lineage, l);
		if (ce->cls == RC_UNTOUCHED)
			json_array_append_new(untouched, json_string(ce->name));
		json_t *k = report_classify(ce->cls, cls, ce->epsilon, ce->raw, has_key);
		json_object_set_new(k, "column", json_string(ce->name));
		json_object_set_new(k, "epsilon", ce->noised ? json_real(ce->epsilon) : json_null());
		json_array_append_new(classification, k);
	}
	json_t *unt = json_object();
	json_object_set_new(unt, "columns", untouched);
	json_int_t unnamed = width > (json_int_t)cs.n ? width - (json_int_t)cs.n : 0;
	bool complete = json_is_array(json_object_get(meta, "columns")) || (width > 0 && unnamed == 0);
	json_object_set_new(unt, "input_width", width ? json_integer(width) : json_null());
	json_object_set_new(unt, "unnamed", width ? json_integer(unnamed) : json_null());
	json_object_set_new(unt, "complete", json_boolean(complete));
	char note[512];
	if (complete)
		snprintf(note, sizeof note, "Every column of the input is named above");
	else if (width)
		snprintf(note, sizeof note, "The input has %lld columns; %lld of them are named by no "
			 "record: no stage selected them, so they are untouched", (long long)width,
			 (long long)unnamed);
	else
		snprintf(note, sizeof note, "The records list only the columns a stage selected, "
			 "not every column of the input: any other column passed untouched (name "
			 "them with \"columns\" in --meta, or add an anon-validate stage)");
	json_object_set_new(unt, "note", json_string(note));

	json_object_set_new(m, "regulations", report_regulations());
	json_t *bud = budget(ord, n, &cs, flags, in, run_id);

	/* summary */
	json_t *sum = json_object(), *inputs = json_array();
	double t0 = -1, t1 = -1;
	json_int_t rejected = 0;
	int release = 0;
	for (size_t s = 0; s < n; s++) {
		const json_t *j = ord[s].j;
		if (is(ord[s].link, "start"))
			json_array_append_new(inputs, json_string(reads_stdin(j) ? "-" :
								  report_str(j, "input")));
		double t = parse_time(report_str(j, "time"));
		if (t >= 0) {
			if (t0 < 0 || t < t0)
				t0 = t;
			double e = t + report_num(j, "seconds");
			if (e > t1)
				t1 = e;
		}
		rejected += report_int(j, "rows_rejected");
		if (!ord[s].consumer && report_int(j, "bytes_out") > 0)
			release = ord[s].index;
	}
	char tb[64];
	json_object_set_new(sum, "inputs", inputs);
	json_object_set_new(sum, "stages", json_integer((json_int_t)n));
	json_object_set_new(sum, "rows_in", n ? json_integer(report_int(ord[0].j, "rows_in")) : json_null());
	json_object_set_new(sum, "release_stage", release ? json_integer(release) : json_null());
	json_object_set_new(sum, "rows_out", release ?
			    json_integer(report_int(ord[release - 1].j, "rows_out")) : json_null());
	json_object_set_new(sum, "rows_rejected", json_integer(rejected));
	if (t0 >= 0) {
		fmt_time(tb, t0);
		json_object_set_new(sum, "started", json_string(tb));
		fmt_time(tb, t1);
		json_object_set_new(sum, "ended", json_string(tb));
		json_object_set_new(sum, "seconds", json_real(round((t1 - t0) * 1000) / 1000));
	} else {
		json_object_set_new(sum, "started", json_null());
		json_object_set_new(sum, "ended", json_null());
		json_object_set_new(sum, "seconds", json_null());
	}
	json_object_set_new(sum, "columns", json_integer((json_int_t)cs.n));
	json_object_set_new(m, "summary", sum);
	json_object_set_new(m, "stages", stages);
	json_object_set_new(m, "lineage", lineage);
	json_object_set_new(m, "untouched", unt);
	json_object_set_new(m, "classification", classification);
	json_object_set_new(m, "budget", bud);
	json_object_set_new(m, "validation", validation);
	size_t errs = 0, warns = 0;
	json_array_foreach(flags, i, x) {
		if (is(report_str(x, "severity"), "error"))
			errs++;
		else
			warns++;
	}
	json_object_set_new(sum, "status", json_string(errs ? "flagged" : "ok"));
	json_object_set_new(sum, "errors", json_integer((json_int_t)errs));
	json_object_set_new(sum, "warnings", json_integer((json_int_t)warns));
	json_object_set_new(m, "flags", flags);
	for (size_t c = 0; c < cs.n; c++) {
		free(cs.v[c].name);
		json_decref(cs.v[c].steps);
		json_decref(cs.v[c].notes);
	}
	free(cs.v);
	free(st);
	free(ord);
	return m;
}

int report_worst(const json_t *model)
{
	const json_t *s = json_object_get(model, "summary");
	return report_int(s, "errors") ? 2 : report_int(s, "warnings") ? 1 : 0;
}
