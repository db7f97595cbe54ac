/* suggest.c: --suggest's report: per column the kinds of personal data the sample holds and
 * their share, then a starting pipeline, one stage per tool, that runs as a shell filter. */
#include <stdio.h>
#include <string.h>

#include "state.h"

static bool name_hint(const char *name, const char *const *words)
{
	if (!name)
		return false;
	char low[64];
	size_t n = strlen(name);
	if (n >= sizeof low)
		n = sizeof low - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	low[n] = '\0';
	for (int i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}


static const char *const name_words[] = { "name", NULL };
static const char *const birth_words[] = { "dob", "birth", "born", NULL };

/* What to do with a column: a tool and its rule, or NULL. */
static const char *suggest_rule(const struct sugcol *c, const char *name, const char **tool,
				char *rule, size_t rulen)
{
	if (c->values == 0)
		return NULL;
	int best = -1;
	for (int k = 0; k < PII_NKINDS; k++)
		if (c->hits[k] * 2 >= c->values && c->whole[k] * 10 >= c->hits[k] * 8 &&
		    (best < 0 || c->hits[k] > c->hits[best]))
			best = k;
	static const char *const tools[PII_NKINDS] = { "anon-hash", "anon-mask", "anon-mask",
						       "anon-mask", "anon-hash", "anon-hash" };
	static const char *const rules[PII_NKINDS] = { "email", "phone", "card", "last:4", "hex",
						       "hex" };
	if (best >= 0) {
		*tool = tools[best];
		snprintf(rule, rulen, "%s", rules[best]);
		return rule;
	}
	if (c->names * 2 >= c->values || (c->names * 5 >= c->values && name_hint(name, name_words))) {
		*tool = "anon-mask";
		snprintf(rule, rulen, "fake:full_name");
		return rule;
	}
	bool email = c->hits[PII_EMAIL] > 0, digits = false;
	for (int k = PII_PHONE; k < PII_NKINDS; k++)
		digits |= c->hits[k] > 0;
	if (email || digits) { /* free text that holds some: mask what looks like them */
		*tool = "anon-mask";
		snprintf(rule, rulen, "regex:%s%s%s", email ? "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+" : "",
			 email && digits ? "|" : "", digits ? "[0-9]" : "");
		return rule;
	}
	if (c->dates * 10 >= c->values * 9 && name_hint(name, birth_words)) {
		*tool = "anon-noise";
		snprintf(rule, rulen, "truncate:year");
		return rule;
	}
	return NULL;
}

/* A word for sh: as it is, or in single quotes. */
static void sh_word(struct anon_buf *b, const char *s)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:=/+-@%",
			    *p))
			plain = false;
	if (plain) {
		anon_buf_addstr(b, s);
		return;
	}
	anon_buf_addc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			anon_buf_addstr(b, "'\\''");
		else
			anon_buf_addc(b, (unsigned char)*p);
	}
	anon_buf_addc(b, '\'');
}

/* How -c names column i of the slot: the name when lib reads it back as that column (a name,
 * quoted when need be, with its table in a dump), else its number. */
static void col_spec(struct anon_buf *b, const struct slot *s, size_t i)
{
	const char *nm = s->cols && i < s->ncols ? s->cols[i] : NULL;
	char num[24];
	if (s->name) {
		const char *dot = strchr(s->name, '.');
		if (dot) {
			char schema[256];
			snprintf(schema, sizeof schema, "%.*s", (int)(dot - s->name), s->name);
			ident_quote(b, schema);
			anon_buf_addc(b, '.');
			ident_quote(b, dot + 1);
		} else {
			ident_quote(b, s->name);
		}
		anon_buf_addc(b, '.');
		ident_quote(b, nm ? nm : "?");
		return;
	}
	bool plain = nm && anon_name_printable(nm) && !strpbrk(nm, "=\"");
	for (const char *p = nm; plain && *p; p++)
		plain = *p > ' ' && *p != 0x7f;
	if (plain && strspn(nm, "0123456789") == strlen(nm))
		plain = false;
	if (plain) {
		anon_buf_addstr(b, nm);
		return;
	}
	snprintf(num, sizeof num, "%zu", i + 1);
	anon_buf_addstr(b, num);
}

void suggest_text(struct vstate *st, json_t *rec)
{
	struct anon_buf *b = &st->suggest;
	char line[512];
	const char *input = json_string_value(json_object_get(rec, "input"));
	uint64_t rows = 0;
	for (struct slot *s = st->slots; s; s = s->next)
		rows += s->rows;
	snprintf(line, sizeof line, "# anon-validate --suggest: the first %llu rows of %s (no value "
		 "is shown)\n", (unsigned long long)(rows < st->sample ? rows : st->sample),
		 input && strcmp(input, "-") != 0 ? input : "standard input");
	anon_buf_addstr(b, line);
	static const char *const order[] = { "anon-hash", "anon-mask", "anon-fpe", "anon-noise", NULL };
	struct anon_buf stage[4] = { { 0 } };
	for (struct slot *s = st->slots; s; s = s->next) {
		snprintf(line, sizeof line, "#\n# %-24s %9s  %s\n", s->name ? s->name : "column",
			 "values", "found (share of the values that are neither NULL nor empty)");
		anon_buf_addstr(b, line);
		for (size_t i = 0; i < s->width || (s->cols && i < s->ncols); i++) {
			struct sugcol none = { 0 }, *c = i < s->width ? &s->sug[i] : &none;
			const char *nm = s->cols && i < s->ncols ? s->cols[i] : NULL;
			char lab[80];
			if (anon_name_printable(nm))
				snprintf(lab, sizeof lab, "%s", nm);
			else
				snprintf(lab, sizeof lab, "column %zu", i + 1);
			struct anon_buf found = { 0 };
			for (int k = 0; k < PII_NKINDS; k++)
				if (c->hits[k]) {
					snprintf(line, sizeof line, "%s%s %.1f%%%s", found.len ? ", " : "",
						 pii_kind_names[k], 100.0 * (double)c->hits[k] / (double)c->values,
						 c->whole[k] * 10 >= c->hits[k] * 8 ? "" : " inside text");
					anon_buf_addstr(&found, line);
				}
			if (c->names * 5 >= c->values && c->names) {
				snprintf(line, sizeof line, "%sname %.1f%%", found.len ? ", " : "",
					 100.0 * (double)c->names / (double)c->values);
				anon_buf_addstr(&found, line);
			}
			if (c->dates * 10 >= c->values * 9 && c->values && name_hint(nm, birth_words)) {
				snprintf(line, sizeof line, "%sdate of birth %.1f%%", found.len ? ", " : "",
					 100.0 * (double)c->dates / (double)c->values);
				anon_buf_addstr(&found, line);
			}
			anon_buf_addc(&found, 0);
			snprintf(line, sizeof line, "# %-24s %9llu  %s\n", lab,
				 (unsigned long long)c->values, found.len > 1 ? (char *)found.p : "-");
			anon_buf_addstr(b, line);
			anon_buf_free(&found);
			const char *tool;
			char rule[160];
			if (!suggest_rule(c, nm, &tool, rule, sizeof rule))
				continue;
			int t = 0;
			while (strcmp(order[t], tool) != 0)
				t++;
			struct anon_buf spec = { 0 };
			col_spec(&spec, s, i);
			anon_buf_addc(&spec, '=');
			anon_buf_addstr(&spec, rule);
			anon_buf_addc(&spec, 0);
			anon_buf_addstr(&stage[t], " -c ");
			sh_word(&stage[t], (char *)spec.p);
			anon_buf_free(&spec);
		}
	}
	anon_buf_addstr(b, "#\n# A starting pipeline, one stage per tool: review it, then run it as a "
			   "filter with a key:\n#   ANON_KEY_FILE=anon.key bash -o pipefail THIS_FILE "
			   "< input > output\n");
	int stages = 0;
	for (int t = 0; order[t]; t++)
		stages += stage[t].len > 0;
	int done = 0;
	for (int t = 0; order[t]; t++) {
		if (!stage[t].len)
			continue;
		anon_buf_addstr(b, order[t]);
		if (st->format) {
			anon_buf_addstr(b, " -f ");
			anon_buf_addstr(b, st->format);
		}
		if (st->format && strcmp(st->format, "copy") == 0 && st->slots && st->slots->cols) {
			struct anon_buf names = { 0 };
			for (size_t i = 0; i < st->slots->ncols; i++) {
				if (i)
					anon_buf_addc(&names, ',');
				anon_buf_addstr(&names, st->slots->cols[i]);
			}
			anon_buf_addc(&names, 0);
			anon_buf_addstr(b, " --schema ");
			sh_word(b, (char *)names.p);
			anon_buf_free(&names);
		}
		anon_buf_add(b, stage[t].p, stage[t].len);
		anon_buf_addstr(b, ++done < stages ? " |\n" : "\n");
		anon_buf_free(&stage[t]);
	}
	if (!stages)
		anon_buf_addstr(b, "# nothing to suggest: no personal data was found\ncat\n");
}
