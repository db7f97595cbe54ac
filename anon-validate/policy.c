/* policy.c: the policy file of --policy: every column that may reach the output, one a line,
 * with keep or the rule a stage applies to it.  A column the input has and the policy does
 * not name stops the gate at its table's start. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool same_parts(const struct policy_entry *a, const struct policy_entry *b)
{
	if (a->nparts != b->nparts)
		return false;
	for (int i = 0; i < a->nparts; i++)
		if (strcmp(a->parts[i], b->parts[i]) != 0)
			return false;
	return true;
}

bool policy_load(struct policy *p, const char *path, int *code)
{
	memset(p, 0, sizeof *p);
	FILE *f = fopen(path, "r");
	if (!f) {
		anon_error("--policy: %s: %s", path, strerror(errno));
		*code = EX_NOINPUT;
		return false;
	}
	p->path = strdup(path);
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	bool ok = true;
	while (ok && getline(&line, &cap, f) >= 0) {
		lineno++;
		bool quoted = false;
		for (char *c = line; *c; c++) { /* a comment starts at a '#' outside quotes */
			if (*c == '"')
				quoted = !quoted;
			else if (*c == '#' && !quoted) {
				*c = '\0';
				break;
			}
		}
		char *s = trim(line), *e = s;
		if (!*s)
			continue;
		quoted = false;
		while (*e && (quoted || !isspace((unsigned char)*e))) {
			if (*e == '"')
				quoted = !quoted;
			e++;
		}
		char *rule = trim(*e ? (*e = '\0', e + 1) : e);
		struct policy_entry ent = { .line = lineno };
		if (!*rule) {
			anon_error("%s:%u: '%s' has no rule: write keep, or the rule a stage applies "
				   "(hash:email)", path, lineno, s);
			ok = false;
			break;
		}
		if ((ent.nparts = anon_spec_split(s, ent.parts)) < 0) {
			anon_error("%s:%u: '%s' is not a column name, table.column or "
				   "schema.table.column", path, lineno, s);
			ok = false;
			break;
		}
		ent.spec = strdup(s);
		ent.rule = strdup(rule);
		for (size_t i = 0; i < p->n; i++)
			if (same_parts(&p->e[i], &ent)) {
				anon_error("%s:%u: '%s' is named twice (first on line %u)", path, lineno,
					   s, p->e[i].line);
				ok = false;
			}
		struct policy_entry *ne = realloc(p->e, (p->n + 1) * sizeof *ne);
		if (!ne || !ent.spec || !ent.rule)
			anon_die(EX_SOFTWARE, "out of memory");
		p->e = ne;
		p->e[p->n++] = ent;
	}
	free(line);
	if (ferror(f)) {
		anon_error("--policy: %s: %s", path, strerror(errno));
		fclose(f);
		*code = EX_NOINPUT;
		return false;
	}
	fclose(f);
	if (ok && p->n == 0) {
		anon_error("--policy: %s names no column", path);
		ok = false;
	}
	if (!ok)
		*code = EX_CONFIG;
	return ok;
}

/* Does "schema.table" (or "table") end with the table part `t` of an entry, and begin with its
 * schema part `s` when there is one? */
static bool names_table(const char *table, const char *s, const char *t)
{
	size_t n = strlen(table), tn = strlen(t);
	if (s) {
		size_t sn = strlen(s);
		return n == sn + 1 + tn && memcmp(table, s, sn) == 0 && table[sn] == '.' &&
		       strcmp(table + sn + 1, t) == 0;
	}
	return strcmp(table, t) == 0 || (n > tn && table[n - tn - 1] == '.' &&
					 strcmp(table + n - tn, t) == 0);
}

bool spec_names_table(const char *table, char *const parts[3], int nparts)
{
	return nparts == 1 || names_table(table, nparts == 3 ? parts[0] : NULL, parts[nparts - 2]);
}

struct policy_entry *policy_find(struct policy *p, const char *table, const char *col)
{
	struct policy_entry *best = NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct policy_entry *e = &p->e[i];
		bool hit;
		if (!table) /* a file: its header's names, which may hold dots */
			hit = (e->nparts == 1 && strcmp(e->parts[0], col) == 0) ||
			      strcmp(e->spec, col) == 0;
		else
			hit = strcmp(e->parts[e->nparts - 1], col) == 0 &&
			      spec_names_table(table, e->parts, e->nparts);
		if (hit && (!best || e->nparts > best->nparts))
			best = e;
	}
	if (best)
		best->used = true;
	return best;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n; i++) {
		for (int k = 0; k < p->e[i].nparts; k++)
			free(p->e[i].parts[k]);
		free(p->e[i].spec);
		free(p->e[i].rule);
	}
	free(p->e);
	free(p->path);
	memset(p, 0, sizeof *p);
}
