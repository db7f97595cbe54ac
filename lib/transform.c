/* transform.c: the row transform, a function of one worker's state over one chunk.  It
 * writes the chunk's output, rejected rows, data-error messages and counters into the chunk,
 * and nothing else: the main thread retires chunks in input order, so a run gives the same
 * bytes, messages and rejects whatever --jobs is.
 *
 * Rows are built in place under a row transaction: a failing field rolls the output back to
 * where the row began, so no partial row is ever written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"

/* lib's view of one row, behind anon_rowinfo.priv */
struct rowview {
	const struct anon_cell *cells;
	size_t ncell;
	const struct anon_tablesel *t;
	struct anon_worker *w;
};

bool anon_row_get(const struct anon_rowinfo *row, const struct anon_ref *ref,
		  struct anon_field *out)
{
	const struct rowview *v = row->priv;
	int idx = v->t->refidx[ref->id];
	if (idx < 0 || (size_t)idx >= v->ncell)
		return false;
	anon_field_decode(&v->w->run->cfg.d, &v->cells[idx], &v->w->refscratch[ref->id], out);
	return true;
}

size_t anon_row_width(const struct anon_rowinfo *row)
{
	return ((const struct rowview *)row->priv)->ncell;
}

const char *anon_row_name(const struct anon_rowinfo *row, size_t i)
{
	const struct rowview *v = row->priv;
	return i < v->t->nnames ? v->t->names[i] : NULL;
}

void anon_row_field(const struct anon_rowinfo *row, size_t i, struct anon_field *out)
{
	const struct rowview *v = row->priv;
	struct anon_worker *w = v->w;
	if (i >= w->ncellscratch) {
		size_t n = i + 16;
		w->cellscratch = anon_xrealloc(w->cellscratch, n * sizeof *w->cellscratch);
		memset(w->cellscratch + w->ncellscratch, 0,
		       (n - w->ncellscratch) * sizeof *w->cellscratch);
		w->ncellscratch = n;
	}
	anon_field_decode(&w->run->cfg.d, &v->cells[i], &w->cellscratch[i], out);
}

size_t anon_chunk_rows(const struct anon_chunk *c)
{
	return c->nitems;
}

bool anon_chunk_field(const struct anon_chunk *c, size_t i, const struct anon_column *col,
		      struct anon_buf *scratch, struct anon_field *out)
{
	const struct anon_item *it = &c->items[i];
	const struct anon_tablesel *t = c->table;
	if (i >= c->nitems || it->kind != ANON_ITEM_ROW || !t || (t->width && it->ncell != t->width))
		return false;
	for (size_t k = 0; k < t->nsel; k++)
		if (t->sel[k].col == col && (size_t)t->sel[k].index < it->ncell) {
			anon_field_decode(c->d, &c->cells[it->cell0 + t->sel[k].index], scratch,
					  out);
			return true;
		}
	return false;
}

/* Line where a field of a (possibly multi-line CSV) row starts. */
static uint64_t field_line(const struct anon_item *it, const struct anon_cell *cell)
{
	uint64_t line = it->line;
	for (const unsigned char *p = it->raw; p < cell->p; p++)
		line += *p == '\n';
	return line;
}

/* "input:line:column (name): reason", with the name only when it looks like one. */
static void where(const struct anon_worker *w, const struct anon_chunk *c, uint64_t line,
		  size_t field, const char *reason, char *out, size_t outlen)
{
	const struct anon_tablesel *t = c->table;
	const char *name = t && field < t->nnames ? anon_name_printable(t->names[field]) : NULL;
	snprintf(out, outlen, "%s:%llu:%zu%s%s%s: %s", w->run->cfg.input, (unsigned long long)line,
		 field + 1, name ? " (" : "", name ? name : "", name ? ")" : "", reason);
}

/* Bytes that go out as they came in are kept as one span of the input while they follow each
 * other there, and copied only when something else must come after them: a chunk that changes
 * nothing is written straight from the input buffer. */
static void emit_raw(struct anon_chunk *c, const unsigned char *p, size_t n)
{
	if (c->span_len && c->span + c->span_len == p) {
		c->span_len += n;
		return;
	}
	if (c->span_len)
		anon_buf_add(&c->out, c->span, c->span_len);
	c->span = p;
	c->span_len = n;
}

static void flush_span(struct anon_chunk *c)
{
	if (c->span_len)
		anon_buf_add(&c->out, c->span, c->span_len);
	c->span_len = 0;
}

static void stop(struct anon_chunk *c, int code, const char *msg)
{
	c->stopped = true;
	c->stop_code = code;
	snprintf(c->stop_msg, sizeof c->stop_msg, "%s", msg);
}

static void event(struct anon_chunk *c, uint64_t line, const char *msg, const char *action)
{
	if (c->nevents == c->capevents) {
		c->capevents = c->capevents ? c->capevents * 2 : 8;
		c->events = anon_xrealloc(c->events, c->capevents * sizeof *c->events);
	}
	struct anon_event *e = &c->events[c->nevents++];
	e->line = line;
	snprintf(e->msg, sizeof e->msg, "%s (%s)", msg, action);
}

/* A row that cannot be used whole (a structural error, a failing row() check, or a failing
 * field under --on-error skip): never written, it goes to the rejects. */
static void reject_row(struct anon_worker *w, struct anon_chunk *c, const struct anon_item *it,
		       uint64_t line, size_t field, const char *reason)
{
	char msg[400];
	where(w, c, line, field, reason, msg, sizeof msg);
	c->errors++;
	if (w->run->cfg.on_error == ANON_ON_ERROR_FAIL) {
		stop(c, EX_DATAERR, msg);
		return;
	}
	event(c, line, msg, "row rejected");
	c->rows_rejected++;
	anon_buf_add(&c->rej, it->raw, it->rawlen);
}

static void transform_row(struct anon_worker *w, struct anon_chunk *c, const struct anon_item *it)
{
	const struct anon_run *run = w->run;
	const struct anon_tool *tool = run->tool;
	const struct anon_tablesel *t = c->table;
	const struct anon_cell *cells = c->cells + it->cell0;
	c->rows_in++;
	if (t->width && it->ncell != t->width) {
		char why[96];
		snprintf(why, sizeof why, "row has %zu field%s, expected %zu", it->ncell,
			 it->ncell == 1 ? "" : "s", t->width);
		reject_row(w, c, it, it->line, it->ncell < t->width ? it->ncell : t->width, why);
		return;
	}
	struct rowview view = { cells, it->ncell, t, w };
	struct anon_rowinfo info = { run, w->tool, it->line, t->name, t->utf8, &view };
	if (tool->row) {
		const char *msg = NULL;
		if (tool->row(&info, &msg) == ANON_ERR) {
			reject_row(w, c, it, it->line, 0, msg ? msg : "row check failed");
			return;
		}
	}
	if (run->output == ANON_OUTPUT_NONE)
		return;
	struct anon_buf *out = &c->out;
	if (run->output == ANON_OUTPUT_PASS || t->nsel == 0) {
		emit_raw(c, it->raw, it->rawlen);
		c->rows_out++;
		return;
	}
	flush_span(c);
	size_t mark = anon_tx_begin(out), pos = 0;
	bool alone = it->ncell == 1, failed_field = false;
	for (size_t i = 0; i < t->nsel; i++) {
		const struct anon_sel *s = &t->sel[i];
		const struct anon_cell *cell = &cells[s->index];
		struct anon_colcount *n = &c->counts[s->col->ordinal];
		struct anon_field in, val;
		anon_field_decode(&run->cfg.d, cell, &w->colscratch[s->col->ordinal], &in);
		n->values++;
		if (in.null) {
			n->nulls++;
			if (!tool->apply_nulls)
				continue;
		} else if (in.len == 0 && !tool->apply_empty) {
			continue;
		}
		const char *why = NULL;
		w->scratch_out.len = 0;
		val = in;
		enum anon_status st = tool->apply(&info, s->col, &in, &val, &w->scratch_out, &why);
		if (st == ANON_ERR) {
			n->errors++;
			enum anon_on_error mode = run->cfg.on_error;
			if (mode == ANON_ON_ERROR_FAIL || mode == ANON_ON_ERROR_SKIP) {
				anon_tx_abort(out, mark);
				reject_row(w, c, it, field_line(it, cell), (size_t)s->index,
					   why ? why : "value does not fit the rule");
				return;
			}
			char msg[400];
			where(w, c, field_line(it, cell), (size_t)s->index,
			      why ? why : "value does not fit the rule", msg, sizeof msg);
			c->errors++;
			failed_field = true;
			if (mode == ANON_ON_ERROR_KEEP) {
				n->kept++;
				event(c, it->line, msg, "value kept as it was");
				continue;
			}
			n->nulled++;
			event(c, it->line, msg, "value set to NULL");
			val.p = (const unsigned char *)"";
			val.len = 0;
			val.null = true;
		} else if (st == ANON_KEEP) {
			continue;
		} else {
			n->changed++;
		}
		size_t at = (size_t)(cell->p - it->raw);
		anon_buf_add(out, it->raw + pos, at - pos);
		anon_field_encode(&run->cfg.d, &val, alone, out);
		pos = at + cell->len;
	}
	anon_buf_add(out, it->raw + pos, it->rawlen - pos);
	if (failed_field)
		anon_buf_add(&c->rej, it->raw, it->rawlen);
	c->rows_out++;
}

void anon_transform_chunk(struct anon_worker *w, struct anon_chunk *c)
{
	const struct anon_run *run = w->run;
	const struct anon_tool *tool = run->tool;
	bool quiet_out = run->output == ANON_OUTPUT_NONE;
	c->out_in_copy = c->in_copy;
	if (tool->chunk && c->table) {
		int rc = tool->chunk(w->tool, c);
		if (rc) {
			stop(c, rc, "the tool could not prepare a chunk of rows");
			goto commit;
		}
	}
	for (size_t i = 0; i < c->nitems && !c->stopped; i++) {
		const struct anon_item *it = &c->items[i];
		switch (it->kind) {
		case ANON_ITEM_FATAL:
			stop(c, c->fatal_code, c->fatal_msg);
			break;
		case ANON_ITEM_HEADER:
			anon_buf_add(&c->rej, it->raw, it->rawlen);
			/* fall through */
		case ANON_ITEM_RAW:
			if (!quiet_out)
				emit_raw(c, it->raw, it->rawlen);
			if (it->flags & ANON_ITEM_COPY_BEGIN)
				c->out_in_copy = true;
			if (it->flags & ANON_ITEM_COPY_END)
				c->out_in_copy = false;
			break;
		case ANON_ITEM_BAD:
			c->rows_in++;
			reject_row(w, c, it, it->errline, it->field, it->reason);
			break;
		case ANON_ITEM_ROW:
			transform_row(w, c, it);
			break;
		}
	}
commit:
	if (c->out.len)
		flush_span(c); /* else the whole output is the span: written from the input */
	/* Rows leave only after the tool has committed what made them (the token vault). */
	if (tool->commit) {
		int rc = tool->commit(w->tool);
		if (rc) {
			c->out.len = 0;
			c->span_len = 0;
			c->rows_out = 0;
			stop(c, rc, "the tool could not commit a chunk of rows: none of it was written");
		}
	}
}
