/* verdict.c: the verdict: one entry per check and table from the merged slots, the summary
 * finish() adds to the audit record, and the text written (a member a line, and a line per
 * table and per check). */
#include <stdlib.h>
#include <string.h>

#include "state.h"

const char *const ck_names[] = { "require", "type", "range", "unique", "k-anonymity" };

/* A string for the verdict, or null when it is not UTF-8 (JSON cannot hold it). */
json_t *jstr(const char *s)
{
	return s && anon_utf8_valid((const unsigned char *)s, strlen(s)) ? json_string(s)
									  : json_null();
}

size_t pii_width(const struct vstate *st, const struct slot *s)
{
	return st->npii ? st->npii : s->width;
}

json_t *col_json(const char *name, size_t i)
{
	const char *p = anon_name_printable(name);
	return p ? json_string(p) : json_sprintf("column %zu", i + 1);
}


static json_t *entry(const char *check, const struct slot *s, bool passed)
{
	json_t *o = json_object();
	json_object_set_new(o, "check", json_string(check));
	json_object_set_new(o, "table", jstr(s ? s->name : NULL));
	json_object_set_new(o, "passed", json_boolean(passed));
	return o;
}

static json_t *spec_list(char **specs, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(specs[i]));
	return a;
}

/* The first lines of the classes that a test finds too small, and how many rows they hold. */
struct small {
	uint64_t min, classes, rows;
	struct rowlist first;
};

static void small_add(struct small *m, uint64_t size, uint64_t count, uint64_t minline,
		      uint64_t bound)
{
	if (size < m->min)
		m->min = size;
	if (size < bound) {
		m->classes++;
		m->rows += count;
		rowlist_add(&m->first, minline);
	}
}

static void kanon_entries(const struct check *c, const struct slot *s, struct tally *t,
			  json_t *out)
{
	struct small m = { .min = UINT64_MAX };
	const struct ktab *cl = &t->classes;
	for (size_t i = 0; i < cl->n; i++)
		small_add(&m, cl->e[i].count, cl->e[i].count, cl->e[i].minline, c->k);
	json_t *o = entry("k-anonymity", s, m.rows == 0);
	json_object_set_new(o, "columns", spec_list(c->specs, c->ncols));
	json_object_set_new(o, "k", json_integer((json_int_t)c->k));
	json_object_set_new(o, "rows_checked", json_integer((json_int_t)t->values));
	json_object_set_new(o, "classes", json_integer((json_int_t)cl->n));
	json_object_set_new(o, "min_k", json_integer(m.min == UINT64_MAX ? 0 : (json_int_t)m.min));
	json_object_set_new(o, "classes_below_k", json_integer((json_int_t)m.classes));
	json_object_set_new(o, "rows_below_k", json_integer((json_int_t)m.rows));
	json_object_set_new(o, "rows", rowlist_json(&m.first));
	json_array_append_new(out, o);
	uint64_t *distinct = xcalloc(cl->n, sizeof *distinct);
	for (size_t j = 0; j < c->nldiv; j++) {
		memset(distinct, 0, cl->n * sizeof *distinct);
		const struct ktab *p = &t->pairs[j];
		for (size_t i = 0; i < p->n; i++) { /* each pair is one more value of its class */
			const struct kent *e = ktab_find(cl, ktab_key(p, &p->e[i]), p->e[i].prefix);
			if (e)
				distinct[e - cl->e]++;
		}
		struct small l = { .min = UINT64_MAX };
		for (size_t i = 0; i < cl->n; i++)
			small_add(&l, distinct[i], cl->e[i].count, cl->e[i].minline, c->ldiv[j].l);
		o = entry("l-diversity", s, l.rows == 0);
		json_object_set_new(o, "columns", spec_list(c->specs, c->ncols));
		json_object_set_new(o, "column", jstr(c->ldiv[j].spec));
		json_object_set_new(o, "l", json_integer((json_int_t)c->ldiv[j].l));
		json_object_set_new(o, "min_l", json_integer(l.min == UINT64_MAX ? 0 : (json_int_t)l.min));
		json_object_set_new(o, "classes_below_l", json_integer((json_int_t)l.classes));
		json_object_set_new(o, "rows_below_l", json_integer((json_int_t)l.rows));
		json_object_set_new(o, "rows", rowlist_json(&l.first));
		json_array_append_new(out, o);
	}
	free(distinct);
}

static void check_entries(const struct vstate *st, size_t ci, json_t *out)
{
	const struct check *c = &st->checks[ci];
	for (struct slot *s = st->slots; s; s = s->next) {
		struct tally *t = &s->t[ci];
		json_t *o;
		switch (c->kind) {
		case CK_REQUIRE:
			for (size_t j = 0; j < c->ncols; j++) {
				if (!t->seen[j])
					continue;
				o = entry("require", s, t->fail[j].count == 0);
				json_object_set_new(o, "column", jstr(c->specs[j]));
				json_object_set_new(o, "failures", json_integer((json_int_t)t->fail[j].count));
				json_object_set_new(o, "rows", rowlist_json(&t->fail[j]));
				json_array_append_new(out, o);
			}
			break;
		case CK_TYPE:
		case CK_RANGE:
			if (!t->seen[0])
				break;
			o = entry(ck_names[c->kind], s, t->fail[0].count == 0);
			json_object_set_new(o, "column", jstr(c->specs[0]));
			if (c->kind == CK_TYPE) {
				json_object_set_new(o, "type", json_string(vtype_names[c->type]));
			} else {
				json_object_set_new(o, "min", c->range.has_lo ? jstr(c->range.lo) : json_null());
				json_object_set_new(o, "max", c->range.has_hi ? jstr(c->range.hi) : json_null());
			}
			json_object_set_new(o, "failures", json_integer((json_int_t)t->fail[0].count));
			json_object_set_new(o, "rows", rowlist_json(&t->fail[0]));
			json_array_append_new(out, o);
			break;
		case CK_UNIQUE:
			if (!t->seen[0])
				break;
			o = entry("unique", s, t->fail[0].count == 0);
			json_object_set_new(o, "columns", spec_list(c->specs, c->ncols));
			json_object_set_new(o, "values", json_integer((json_int_t)t->values));
			json_object_set_new(o, "distinct", json_integer((json_int_t)t->set.n));
			json_object_set_new(o, "duplicates", json_integer((json_int_t)t->fail[0].count));
			json_object_set_new(o, "rows", rowlist_json(&t->fail[0]));
			json_array_append_new(out, o);
			break;
		case CK_KANON:
			if (t->seen[0])
				kanon_entries(c, s, t, out);
			break;
		}
	}
}

/* One entry per kind: its hits (values with one), the first rows, and the columns with hits. */
static void pii_entries(const struct vstate *st, json_t *out)
{
	for (int k = 0; k < PII_NKINDS; k++) {
		if (!(st->pii_kinds & (1u << k)))
			continue;
		struct rowlist all = { 0 };
		json_t *cols = json_array();
		size_t scanned = 0;
		for (struct slot *s = st->slots; s; s = s->next) {
			size_t n = pii_width(st, s);
			for (size_t i = 0; i < n; i++) {
				if (st->npii && !s->pii_seen[i])
					continue;
				scanned++;
				const struct rowlist *r = &s->pii[i * PII_NKINDS + k];
				if (r->count == 0)
					continue;
				rowlist_merge(&all, r);
				json_t *c = json_object();
				json_object_set_new(c, "table", jstr(s->name));
				if (st->npii) {
					json_object_set_new(c, "column", jstr(st->pii_specs[i]));
				} else {
					json_object_set_new(c, "column", i < s->ncols && s->cols ?
						col_json(s->cols[i], i) : json_null());
					json_object_set_new(c, "number", json_integer((json_int_t)i + 1));
				}
				json_object_set_new(c, "hits", json_integer((json_int_t)r->count));
				json_object_set_new(c, "rows", rowlist_json(r));
				json_array_append_new(cols, c);
			}
		}
		json_t *o = entry("pii", NULL, all.count == 0);
		json_object_del(o, "table");
		json_object_set_new(o, "kind", json_string(pii_kind_names[k]));
		json_object_set_new(o, "columns_scanned", json_integer((json_int_t)scanned));
		json_object_set_new(o, "hits", json_integer((json_int_t)all.count));
		json_object_set_new(o, "rows", rowlist_json(&all));
		json_object_set_new(o, "columns", cols);
		json_array_append_new(out, o);
	}
}

static void deny_entries(const struct vstate *st, json_t *out)
{
	struct rowlist all = { 0 };
	json_t *cols = json_array();
	for (struct slot *s = st->slots; s; s = s->next)
		for (size_t i = 0; i < s->width; i++) {
			const struct rowlist *r = &s->deny[i];
			if (r->count == 0)
				continue;
			rowlist_merge(&all, r);
			json_t *c = json_object();
			json_object_set_new(c, "table", jstr(s->name));
			json_object_set_new(c, "column", i < s->ncols && s->cols ? col_json(s->cols[i], i)
									   : json_null());
			json_object_set_new(c, "number", json_integer((json_int_t)i + 1));
			json_object_set_new(c, "hits", json_integer((json_int_t)r->count));
			json_object_set_new(c, "rows", rowlist_json(r));
			json_array_append_new(cols, c);
		}
	json_t *o = entry("deny-list", NULL, all.count == 0);
	json_object_del(o, "table");
	json_object_set_new(o, "values", json_integer((json_int_t)st->deny_values));
	json_object_set_new(o, "hits", json_integer((json_int_t)all.count));
	json_object_set_new(o, "rows", rowlist_json(&all));
	json_object_set_new(o, "columns", cols);
	json_array_append_new(out, o);
}

/* The summary: {passed, rows, malformed_rows, tables, checks}. */
json_t *verdict_summary(struct vstate *st, const struct anon_counts *n, json_t *rec)
{
	json_t *v = json_object(), *checks = json_array(), *tables = json_array();
	size_t ntables = 0;
	for (struct slot *s = st->slots; s; s = s->next)
		ntables++;
	/* no table at all: not even a header, as from a stage that failed on its command line */
	json_t *o = entry("structure", NULL, n->errors == 0 && ntables > 0);
	json_object_del(o, "table");
	json_object_set_new(o, "tables", json_integer((json_int_t)ntables));
	json_object_set_new(o, "rows", json_integer((json_int_t)n->rows_in));
	json_object_set_new(o, "malformed", json_integer((json_int_t)n->errors));
	if (ntables == 0)
		anon_error("%s holds no table (not even a header): nothing to check",
			   json_string_value(json_object_get(rec, "input")) ?
				   json_string_value(json_object_get(rec, "input")) : "the input");
	json_array_append_new(checks, o);
	for (struct slot *s = st->slots; s; s = s->next) {
		json_t *t = json_object();
		json_object_set_new(t, "table", jstr(s->name));
		json_object_set_new(t, "line", json_integer((json_int_t)s->line));
		json_object_set_new(t, "columns", json_integer((json_int_t)s->ncols));
		json_object_set_new(t, "rows", json_integer((json_int_t)s->rows));
		json_array_append_new(tables, t);
	}
	for (struct slot *s = st->slots; s; s = s->next)
		if (s->expect)
			json_array_append(checks, s->expect);
	for (struct slot *s = st->slots; s; s = s->next)
		if (s->policy)
			json_array_append(checks, s->policy);
	for (size_t i = 0; i < st->nchecks; i++)
		check_entries(st, i, checks);
	if (st->pii_kinds)
		pii_entries(st, checks);
	if (st->ndeny_paths)
		deny_entries(st, checks);
	bool passed = true;
	size_t failed = 0, i;
	json_t *c;
	json_array_foreach(checks, i, c)
		if (!json_is_true(json_object_get(c, "passed"))) {
			passed = false;
			failed++;
		}
	json_object_set_new(v, "passed", json_boolean(passed));
	json_object_set_new(v, "checks_failed", json_integer((json_int_t)failed));
	json_object_set_new(v, "rows", json_integer((json_int_t)n->rows_in));
	json_object_set_new(v, "tables", tables);
	json_object_set_new(v, "checks", checks);
	return v;
}


/* The verdict as people read it and JSON tools parse it: one member a line, and one line per
 * table and per check. */
char *verdict_text(const json_t *v)
{
	struct anon_buf b = { 0 };
	const char *key;
	json_t *val;
	bool first = true;
	anon_buf_addstr(&b, "{");
	json_object_foreach((json_t *)v, key, val) {
		json_t *k = json_string(key);
		char *ks = json_dumps(k, JSON_ENCODE_ANY), *vs;
		json_decref(k);
		anon_buf_addstr(&b, first ? "\n  " : ",\n  ");
		first = false;
		anon_buf_addstr(&b, ks);
		anon_buf_addstr(&b, ": ");
		free(ks);
		if (json_is_array(val) && json_array_size(val) > 0 &&
		    (strcmp(key, "checks") == 0 || strcmp(key, "tables") == 0)) {
			size_t i;
			json_t *e;
			anon_buf_addstr(&b, "[");
			json_array_foreach(val, i, e) {
				vs = json_dumps(e, JSON_ENCODE_ANY);
				anon_buf_addstr(&b, i ? ",\n    " : "\n    ");
				anon_buf_addstr(&b, vs ? vs : "null");
				free(vs);
			}
			anon_buf_addstr(&b, "\n  ]");
			continue;
		}
		vs = json_dumps(val, JSON_ENCODE_ANY);
		anon_buf_addstr(&b, vs ? vs : "null");
		free(vs);
	}
	anon_buf_addstr(&b, "\n}\n");
	anon_buf_addc(&b, 0);
	return (char *)b.p;
}
