/* select.c: column selection.  Specs (-c and the tools' references) are checked against the
 * format once, then resolved for each table as it starts: a file's header or --schema, or
 * each COPY header of a dump, before any of the table's rows is read.  A name that is
 * unknown in a table it names, or that the header holds twice, stops the run there. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

struct anon_ref *anon_ref_add(struct anon_run *run, const char *spec)
{
	struct anon_ref *r = anon_xcalloc(1, sizeof *r);
	r->spec = anon_xstrdup(spec);
	r->id = run->nrefs++;
	r->next = run->refs;
	run->refs = r;
	return r;
}

int anon_spec_split(const char *spec, char *parts[3])
{
	const char *p = spec, *end = spec + strlen(spec);
	int n = 0;
	for (;;) {
		if (n == 3)
			goto bad;
		if (!(parts[n] = anon_sql_ident(&p, end, ".")))
			goto bad;
		n++;
		if (p == end)
			return n;
		if (*p != '.')
			goto bad;
		p++;
	}
bad:
	for (int i = 0; i < n; i++)
		free(parts[i]);
	return -1;
}

void anon_select_prepare(struct anon_run *run)
{
	for (struct anon_ref *r = run->refs; r; r = r->next) {
		if (run->cfg.d.fmt != ANON_FMT_PGDUMP || r->nparts > 0)
			continue;
		if (all_digits(r->spec))
			anon_usage_error(run, "column '%s': with -f pgdump name columns as "
					 "table.column or schema.table.column", r->spec);
		r->nparts = anon_spec_split(r->spec, r->parts);
		if (r->nparts < 0)
			anon_usage_error(run, "column '%s': not a valid [schema.]table.column", r->spec);
	}
	/* A flat name in double quotes may hold '=' or '.': -c '"x=y"' names column x=y. */
	for (struct anon_ref *r = run->refs; r; r = r->next) {
		if (run->cfg.d.fmt == ANON_FMT_PGDUMP || r->spec[0] != '"' || r->nparts)
			continue;
		const char *p = r->spec, *end = p + strlen(p);
		char *name = anon_sql_ident(&p, end, "");
		if (!name || p != end)
			anon_usage_error(run, "column '%s': a quoted name ends at its closing quote",
					 r->spec);
		r->parts[0] = name;
		r->nparts = 1;
	}
	if (run->cfg.d.fmt != ANON_FMT_PGDUMP && !run->cfg.header && !run->cfg.nschema)
		for (struct anon_ref *r = run->refs; r; r = r->next)
			if (!all_digits(r->spec) || r->nparts)
				anon_usage_error(run, "column '%s': headerless input has no names; "
						 "give --schema or use column numbers", r->spec);
}

const char *anon_name_printable(const char *name)
{
	if (!name)
		return NULL;
	size_t n = strlen(name), digits = 0;
	bool letter = false;
	if (n == 0 || n > 63 || !anon_utf8_valid((const unsigned char *)name, n))
		return NULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '@')
			return NULL;
		digits += isdigit(*p) != 0;
		letter |= isalpha(*p) || *p == '_' || *p >= 0x80;
	}
	/* a number, a phone number or a date is data, not a name */
	return letter && digits * 2 <= n ? name : NULL;
}

static bool names_rel(const struct anon_ref *r, const char *schema, const char *table)
{
	if (strcmp(r->parts[r->nparts - 2], table) != 0)
		return false;
	return r->nparts < 3 || (schema && strcmp(r->parts[0], schema) == 0);
}

/* Does ref r name table h (its schema and table parts, if it has them), or a partitioned
 * table h is a partition of? */
static bool names_table(const struct anon_ref *r, const struct anon_copyhdr *h,
			const struct anon_relname *anc, size_t nanc)
{
	if (r->nparts < 2)
		return r->nparts == 1;
	if (names_rel(r, h->schema, h->table))
		return true;
	for (size_t i = 0; i < nanc; i++)
		if (names_rel(r, anc[i].schema, anc[i].table))
			return true;
	return false;
}

bool anon_select_names_table(const struct anon_run *run, const struct anon_copyhdr *h,
			     const struct anon_relname *anc, size_t nanc)
{
	for (const struct anon_ref *r = run->refs; r; r = r->next)
		if (names_table(r, h, anc, nanc))
			return true;
	return false;
}

/* The column a spec names in a flat table (by name, or by number unless it was quoted), -1
 * when none, -2 when the header holds the name twice (*dup gets the two column numbers). */
static int resolve_flat(const char *spec, bool quoted, char **names, size_t n, size_t width,
			size_t dup[2])
{
	int found = -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], spec) == 0) {
			if (found >= 0) {
				dup[0] = (size_t)found + 1;
				dup[1] = i + 1;
				return -2;
			}
			found = (int)i;
		}
	if (found >= 0)
		return found;
	if (!quoted && all_digits(spec)) { /* a quoted spec is a name, never a number */
		long k = strtol(spec, NULL, 10);
		if (k >= 1 && (size_t)k <= width)
			return (int)(k - 1);
	}
	return -1;
}

static int resolve_pgdump(const struct anon_ref *r, const struct anon_copyhdr *h,
			  const struct anon_relname *anc, size_t nanc)
{
	if (!names_table(r, h, anc, nanc))
		return -1;
	const char *col = r->parts[r->nparts - 1];
	for (size_t i = 0; i < h->ncols; i++)
		if (strcmp(h->cols[i], col) == 0)
			return (int)i;
	return -1;
}

static int cmp_sel(const void *a, const void *b)
{
	const struct anon_sel *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

static struct anon_tablesel *fail(struct anon_tablesel *t, int *code, int c)
{
	*code = c;
	free(t->refidx);
	free(t->sel);
	free(t);
	return NULL;
}

struct anon_tablesel *anon_select_table(struct anon_run *run, const char *name,
					const struct anon_copyhdr *copy,
					const struct anon_relname *anc, size_t nanc, char **names,
					size_t nnames, size_t width, int *code, char *msg,
					size_t msglen)
{
	bool pgdump = run->cfg.d.fmt == ANON_FMT_PGDUMP;
	struct anon_tablesel *t = anon_xcalloc(1, sizeof *t);
	t->refidx = anon_xcalloc(run->nrefs, sizeof *t->refidx);
	t->sel = anon_xcalloc(run->ncols, sizeof *t->sel);
	t->width = width;
	for (struct anon_ref *r = run->refs; r; r = r->next) {
		int idx;
		size_t dup[2] = { 0, 0 };
		if (pgdump) {
			idx = copy->has_cols ? resolve_pgdump(r, copy, anc, nanc) : -1;
			if (idx < 0 && r->nparts >= 2 && names_table(r, copy, anc, nanc)) {
				snprintf(msg, msglen, "column '%s': table %s has no such column (it has "
					 "%zu)", r->spec, name, copy->ncols);
				return fail(t, code, EX_USAGE);
			}
		} else {
			idx = resolve_flat(r->nparts ? r->parts[0] : r->spec, r->nparts > 0, names,
					   nnames, width, dup);
			if (idx == -2) {
				snprintf(msg, msglen, "column '%s' is ambiguous: the header names it "
					 "twice (columns %zu and %zu); select it by number", r->spec,
					 dup[0], dup[1]);
				return fail(t, code, EX_USAGE);
			}
			if (idx < 0) {
				if (nnames)
					snprintf(msg, msglen, "column '%s' not found: the input has %zu "
						 "column%s (names or numbers 1..%zu)", r->spec, width,
						 width == 1 ? "" : "s", width);
				else
					snprintf(msg, msglen, "column '%s' not found: name columns with "
						 "--schema, or use numbers 1..%zu", r->spec, width);
				return fail(t, code, EX_USAGE);
			}
		}
		t->refidx[r->id] = idx;
		if (idx >= 0)
			r->matched = true;
	}
	for (size_t i = 0; i < run->ncols; i++) {
		struct anon_column *col = &run->cols[i];
		int idx = t->refidx[run->colrefs[i]->id];
		if (idx < 0)
			continue;
		col->matched = true;
		for (size_t j = 0; j < t->nsel; j++)
			if (t->sel[j].index == idx) {
				snprintf(msg, msglen, "column %d is selected twice ('%s' and '%s')",
					 idx + 1, t->sel[j].col->spec, col->spec);
				return fail(t, code, EX_USAGE);
			}
		t->sel[t->nsel].index = idx;
		t->sel[t->nsel].col = col;
		t->nsel++;
	}
	qsort(t->sel, t->nsel, sizeof *t->sel, cmp_sel);
	t->name = name ? anon_xstrdup(name) : NULL;
	t->names = names;
	t->nnames = nnames;
	t->next = run->tables;
	run->tables = t;
	return t;
}

void anon_select_free(struct anon_run *run)
{
	while (run->tables) {
		struct anon_tablesel *t = run->tables;
		run->tables = t->next;
		for (size_t i = 0; i < t->nnames; i++)
			free(t->names[i]);
		free(t->names);
		free(t->name);
		free(t->sel);
		free(t->refidx);
		free(t->copy_stmt);
		free(t);
	}
	while (run->refs) {
		struct anon_ref *r = run->refs;
		run->refs = r->next;
		for (int i = 0; i < r->nparts; i++)
			free(r->parts[i]);
		free(r->spec);
		free(r);
	}
	free(run->colrefs);
	run->colrefs = NULL;
}

int anon_table_ref(const struct anon_table *t, const struct anon_ref *ref)
{
	const struct anon_tablesel *sel = t->priv;
	return sel->refidx[ref->id];
}

int anon_table_column(const struct anon_table *t, const struct anon_column *col)
{
	const struct anon_tablesel *sel = t->priv;
	for (size_t i = 0; i < sel->nsel; i++)
		if (sel->sel[i].col == col)
			return sel->sel[i].index;
	return -1;
}
