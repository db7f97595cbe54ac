/* load.c: the audit files: every JSON value in them (one a line, as the tools append them, or
 * pretty-printed, as a verdict document may be), and which run to report. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void report_printf(struct anon_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	anon_buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *report_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *report_col_name(const json_t *c)
{
	const json_t *res = json_object_get(c, "resolved"), *x;
	const char *h = NULL;
	size_t i;
	json_array_foreach(res, i, x) {
		const char *hx = report_str(x, "header");
		if (!hx || (h && strcmp(h, hx) != 0))
			return report_str(c, "name"); /* unnamed, or two names: the -c says it */
		h = hx;
	}
	return h ? h : report_str(c, "name");
}

const char *report_step_alias(const json_t *col, const json_t *step)
{
	const char *as = report_str(step, "selected_as"), *name = report_str(col, "column");
	return as && name && strcmp(as, name) != 0 ? as : NULL;
}

json_int_t report_int(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (json_int_t)json_real_value(v);
	return 0;
}

bool report_has_num(const json_t *o, const char *key)
{
	return json_is_number(json_object_get(o, key));
}

double report_num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

void report_fmt_num(char *out, size_t n, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		snprintf(out, n, "%.0f", v);
	else
		snprintf(out, n, "%.6g", v);
}

bool report_is_verdict(const json_t *j)
{
	return json_is_array(json_object_get(j, "checks")) && !json_object_get(j, "columns");
}

static int slurp(const char *path, struct anon_buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		anon_error("%s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		anon_buf_add(b, chunk, k);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		anon_error("%s: read error", path);
		return EX_IOERR;
	}
	return 0;
}

int report_load(struct report_input *in, const char *path)
{
	struct anon_buf b = { 0 };
	int rc = slurp(path, &b);
	if (rc)
		return rc;
	if (!in->files)
		in->files = json_array();
	json_array_append_new(in->files, json_string(path));
	size_t off = 0, line = 1;
	while (off < b.len) {
		unsigned char c = b.p[off];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			line += c == '\n';
			off++;
			continue;
		}
		json_error_t e;
		json_t *j = json_loadb((const char *)b.p + off, b.len - off,
				       JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &e);
		if (!j) {
			/* jansson's message quotes no input; its line is relative to the value */
			anon_error("%s:%zu: not JSON: %s", path, line + (size_t)(e.line > 0 ? e.line - 1 : 0),
				   e.text);
			rc = EX_DATAERR;
			break;
		}
		if (!json_is_object(j) || !json_is_string(json_object_get(j, "tool")) ||
		    !json_is_string(json_object_get(j, "run_id"))) {
			anon_error("%s:%zu: not an anon audit record (no tool and run_id)", path, line);
			json_decref(j);
			rc = EX_DATAERR;
			break;
		}
		if (in->n == in->cap) {
			in->cap = in->cap ? 2 * in->cap : 16;
			in->v = realloc(in->v, in->cap * sizeof *in->v);
			if (!in->v)
				anon_die(EX_OSERR, "out of memory");
		}
		char src[64];
		snprintf(src, sizeof src, ":%zu", line);
		size_t plen = strlen(path);
		char *s = malloc(plen + strlen(src) + 1);
		if (!s)
			anon_die(EX_OSERR, "out of memory");
		memcpy(s, path, plen);
		strcpy(s + plen, src);
		in->v[in->n] = (struct report_rec){ j, s, in->n };
		in->n++;
		for (size_t i = 0; i < (size_t)e.position && off + i < b.len; i++)
			line += b.p[off + i] == '\n';
		off += (size_t)e.position;
	}
	anon_buf_free(&b);
	return rc;
}

void report_input_free(struct report_input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		json_decref(in->v[i].j);
		free(in->v[i].source);
	}
	free(in->v);
	json_decref(in->files);
	memset(in, 0, sizeof *in);
}

const char *report_pick_run(const struct report_input *in, const char *want)
{
	const char *best = NULL, *best_time = "";
	for (size_t i = 0; i < in->n; i++) {
		const char *id = report_str(in->v[i].j, "run_id");
		if (want) {
			if (strcmp(id, want) == 0)
				return id;
			continue;
		}
		const char *t = report_str(in->v[i].j, "time");
		if (!t)
			t = "";
		if (!best || strcmp(t, best_time) >= 0) {
			best = id;
			best_time = t;
		}
	}
	return best;
}
