/* md.c: the report as Markdown (CommonMark with GitHub tables), from the model alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define P(...) report_printf(b, __VA_ARGS__)

/* Text in a table cell or a line: no line breaks, '|' escaped, no raw HTML. */
static void text(struct anon_buf *b, const char *s, bool cell)
{
	for (; s && *s; s++) {
		if (*s == '\n' || *s == '\r')
			anon_buf_addc(b, ' ');
		else if (*s == '|' && cell)
			anon_buf_addstr(b, "\\|");
		else if (*s == '<')
			anon_buf_addstr(b, "&lt;");
		else if (*s == '>')
			anon_buf_addstr(b, "&gt;");
		else if (*s == '&')
			anon_buf_addstr(b, "&amp;");
		else
			anon_buf_addc(b, (unsigned char)*s);
	}
}

/* A code span whose fence is longer than any run of backticks inside. */
static void code(struct anon_buf *b, const char *s, bool cell)
{
	if (!s) {
		P("—");
		return;
	}
	size_t run = 0, most = 0;
	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > most)
			most = run;
	}
	bool pad = *s == '`' || (*s && s[strlen(s) - 1] == '`') || *s == ' ';
	for (size_t i = 0; i <= most; i++)
		anon_buf_addc(b, '`');
	if (pad)
		anon_buf_addc(b, ' ');
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r')
			anon_buf_addc(b, ' ');
		else if (*s == '|' && cell)
			anon_buf_addstr(b, "\\|");
		else
			anon_buf_addc(b, (unsigned char)*s);
	}
	if (pad)
		anon_buf_addc(b, ' ');
	for (size_t i = 0; i <= most; i++)
		anon_buf_addc(b, '`');
}

static void num(struct anon_buf *b, const json_t *v)
{
	char t[64];
	if (json_is_number(v)) {
		report_fmt_num(t, sizeof t, json_number_value(v));
		P("%s", t);
	} else if (json_is_string(v)) {
		text(b, json_string_value(v), true);
	} else if (json_is_boolean(v)) {
		P("%s", json_is_true(v) ? "yes" : "no");
	} else {
		P("—");
	}
}

/* The parameters of a step, as name=value; the utility figures are shown apart. */
static void params(struct anon_buf *b, const json_t *p)
{
	const char *k;
	json_t *v;
	bool first = true;
	json_object_foreach((json_t *)p, k, v) {
		if (strcmp(k, "utility") == 0)
			continue;
		if (!first)
			P(", ");
		first = false;
		char *s;
		char t[64];
		if (json_is_string(v))
			s = strdup(json_string_value(v));
		else if (json_is_number(v))
			report_fmt_num(t, sizeof t, json_number_value(v)), s = strdup(t);
		else
			s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		size_t len = strlen(k) + strlen(s ? s : "") + 2;
		char kv[len];
		snprintf(kv, len, "%s=%s", k, s ? s : "");
		code(b, kv, true);
		free(s);
	}
	if (first)
		P("none");
}

static void summary(struct anon_buf *b, const json_t *m)
{
	const json_t *s = json_object_get(m, "summary");
	size_t i;
	json_t *x;
	P("## Summary\n\n| | |\n|---|---|\n| run | ");
	code(b, report_str(m, "run_id"), true);
	P(" |\n| status | **%s**: %lld errors, %lld warnings flagged |\n| inputs | ",
	  report_str(s, "status"), (long long)report_int(s, "errors"),
	  (long long)report_int(s, "warnings"));
	json_array_foreach(json_object_get(s, "inputs"), i, x) {
		if (i)
			P(", ");
		if (strcmp(json_string_value(x), "-") == 0)
			P("standard input");
		else
			code(b, json_string_value(x), true);
	}
	P(" |\n| stages | %lld |\n| rows in | ", (long long)report_int(s, "stages"));
	num(b, json_object_get(s, "rows_in"));
	P(" |\n| rows out (released) | ");
	num(b, json_object_get(s, "rows_out"));
	if (json_is_integer(json_object_get(s, "release_stage")))
		P(" (stage %lld)", (long long)report_int(s, "release_stage"));
	P(" |\n| rows rejected | %lld |\n| started | ", (long long)report_int(s, "rows_rejected"));
	num(b, json_object_get(s, "started"));
	P(" |\n| ended | ");
	num(b, json_object_get(s, "ended"));
	P(" |\n| seconds | ");
	num(b, json_object_get(s, "seconds"));
	P(" |\n| audit files | ");
	json_array_foreach(json_object_get(m, "sources"), i, x) {
		if (i)
			P(", ");
		code(b, json_string_value(x), true);
	}
	P(" |\n");
	if (json_array_size(json_object_get(m, "other_runs")))
		P("| other runs in the files | %zu (choose one with `--run`) |\n",
		  json_array_size(json_object_get(m, "other_runs")));
	P("\nTimes are the records' own (each stage's start, and start plus its seconds).\n\n");
	P("### Stages, in pipeline order\n\n"
	  "| # | tool | input | reads | rows in | rows out | rejected | status | exit | jobs | key |\n"
	  "|---|---|---|---|---|---|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(m, "stages"), i, x) {
		const char *link = report_str(x, "link");
		P("| %lld | ", (long long)report_int(x, "index"));
		text(b, report_str(x, "tool"), true);
		P(" | ");
		const char *in = report_str(x, "input");
		if (!in || strcmp(in, "-") == 0)
			P("stdin");
		else
			code(b, in, true);
		P(" | ");
		if (strcmp(link, "start") == 0)
			P("the input");
		else if (strcmp(link, "gap") == 0)
			P("**?** (after %lld: gap)", (long long)report_int(x, "follows"));
		else
			P("stage %lld (%s)%s", (long long)report_int(x, "follows"), link,
			  json_is_true(json_object_get(x, "consumer")) ? ", consumer" : "");
		P(" | ");
		num(b, json_object_get(x, "rows_in"));
		P(" | ");
		num(b, json_object_get(x, "rows_out"));
		P(" | ");
		num(b, json_object_get(x, "rows_rejected"));
		P(" | ");
		num(b, json_object_get(x, "status"));
		P(" | ");
		num(b, json_object_get(x, "exit_code"));
		P(" | ");
		num(b, json_object_get(x, "jobs"));
		P(" | ");
		code(b, report_str(x, "key_fingerprint"), true);
		P(" |\n");
	}
	P("\n");
}

static void flags(struct anon_buf *b, const json_t *m)
{
	const json_t *f = json_object_get(m, "flags");
	P("## Flags\n\n");
	if (!json_array_size(f)) {
		P("None: every stage ended well and each read what the one before it wrote.\n\n");
		return;
	}
	size_t i;
	json_t *x;
	json_array_foreach(f, i, x) {
		P("- **%s** `%s`: ", report_str(x, "severity"), report_str(x, "code"));
		text(b, report_str(x, "message"), false);
		P("\n");
	}
	P("\n");
}

static void lineage(struct anon_buf *b, const json_t *m)
{
	P("## Lineage per column\n\n");
	size_t i, q;
	json_t *x, *s;
	json_array_foreach(json_object_get(m, "lineage"), i, x) {
		P("### ");
		code(b, report_str(x, "column"), false);
		P(": %s\n\n", report_str(x, "treatment"));
		if (!json_array_size(json_object_get(x, "steps")))
			P("- untouched: no stage selected it\n");
		json_array_foreach(json_object_get(x, "steps"), q, s) {
			P("- stage %lld, %s%s", (long long)report_int(s, "stage"), report_str(s, "tool"),
			  json_is_true(json_object_get(s, "after_release")) ? " (after the release)" : "");
			const char *as = report_step_alias(x, s);
			if (as) {
				P(" as ");
				code(b, as, false);
			}
			P(": rule ");
			code(b, report_str(s, "rule") ? report_str(s, "rule") : "(default)", false);
			P("; %s\n  - parameters: ", report_str(s, "treatment"));
			params(b, json_object_get(s, "params"));
			P("\n  - ");
			text(b, report_str(s, "description"), false);
			P("\n  - key fingerprint ");
			code(b, report_str(s, "key_fingerprint"), false);
			if (report_str(s, "domain")) {
				P(", domain ");
				code(b, report_str(s, "domain"), false);
			}
			P("; values %lld, NULL %lld, changed %lld, errors %lld, kept %lld, nulled %lld\n",
			  (long long)report_int(s, "values"), (long long)report_int(s, "nulls"),
			  (long long)report_int(s, "changed"), (long long)report_int(s, "errors"),
			  (long long)report_int(s, "kept"), (long long)report_int(s, "nulled"));
			const json_t *u = json_object_get(json_object_get(s, "params"), "utility");
			if (report_has_num(u, "mean_abs_error")) {
				char t[64];
				report_fmt_num(t, sizeof t, report_num(u, "mean_abs_error"));
				P("  - utility: mean absolute error %s over %lld values\n", t,
				  (long long)report_int(u, "values"));
			}
		}
		json_array_foreach(json_object_get(x, "notes"), q, s) {
			P("- note: ");
			text(b, json_string_value(s), false);
			P("\n");
		}
		P("\n");
	}
	const json_t *u = json_object_get(m, "untouched");
	P("Untouched columns: ");
	json_array_foreach(json_object_get(u, "columns"), i, x) {
		if (i)
			P(", ");
		code(b, json_string_value(x), false);
	}
	if (!json_array_size(json_object_get(u, "columns")))
		P("none");
	P(". ");
	text(b, report_str(u, "note"), false);
	P(".\n\n");
}

static const char *const regs[3] = { "gdpr", "ccpa", "pipeda" };
static const char *const reg_title[3] = { "GDPR", "CCPA", "PIPEDA" };

static void classification(struct anon_buf *b, const json_t *m)
{
	size_t i;
	json_t *x;
	P("## Classification per column\n\n");
	json_array_foreach(json_object_get(m, "classification"), i, x) {
		P("### ");
		code(b, report_str(x, "column"), false);
		P(": %s", report_str(x, "treatment"));
		if (json_is_number(json_object_get(x, "epsilon"))) {
			char t[64];
			report_fmt_num(t, sizeof t, report_num(x, "epsilon"));
			P(", epsilon %s", t);
		}
		P("\n\n");
		for (int r = 0; r < 3; r++) {
			const json_t *v = json_object_get(x, regs[r]);
			P("- %s: **%s** (%s). ", reg_title[r], report_str(v, "status"),
			  report_str(v, "basis"));
			text(b, report_str(v, "reasoning"), false);
			P(".\n");
		}
		P("\n");
	}
	P("## Multi-regulation matrix\n\n"
	  "In scope: the regulation still applies to the column as released.\n\n"
	  "| column | treatment | GDPR | CCPA | PIPEDA | agree | what satisfies all |\n"
	  "|---|---|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(m, "classification"), i, x) {
		P("| ");
		code(b, report_str(x, "column"), true);
		P(" | %s", report_str(x, "treatment"));
		for (int r = 0; r < 3; r++) {
			const json_t *v = json_object_get(x, regs[r]);
			P(" | %s (%s)", report_str(v, "status"),
			  json_is_true(json_object_get(v, "in_scope")) ? "in scope" : "possibly out");
		}
		P(" | %s | ", json_is_true(json_object_get(x, "agree")) ? "yes" : "**no**");
		text(b, report_str(x, "satisfy_all"), true);
		P(" |\n");
	}
	P("\n### The texts the mapping follows\n\n");
	json_array_foreach(json_object_get(m, "regulations"), i, x) {
		P("- **%s** (%s): ", report_str(x, "name"), report_str(x, "id"));
		text(b, report_str(x, "text"), false);
		P(". Provisions: ");
		text(b, report_str(x, "provisions"), false);
		P(".\n");
	}
	P("\nThis mapping is a reading of those texts for the treatments recorded; it is not "
	  "legal advice.\n\n");
}

static void budget(struct anon_buf *b, const json_t *m)
{
	const json_t *bu = json_object_get(m, "budget");
	size_t i;
	json_t *x;
	char t[64], u[64];
	P("## Privacy budget\n\n");
	if (!json_is_true(json_object_get(bu, "noised"))) {
		P("No stage added differentially private noise: no budget was spent.\n\n");
		return;
	}
	P("| column | stage | mechanism | epsilon | delta | requested | private |\n"
	  "|---|---|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(bu, "entries"), i, x) {
		P("| ");
		code(b, report_str(x, "column"), true);
		P(" | %lld | ", (long long)report_int(x, "stage"));
		num(b, json_object_get(x, "mechanism"));
		P(" | ");
		num(b, json_object_get(x, "epsilon"));
		P(" | ");
		num(b, json_object_get(x, "delta"));
		P(" | ");
		num(b, json_object_get(x, "epsilon_requested"));
		P(" | %s |\n", json_is_true(json_object_get(x, "private")) ? "yes" : "**no**");
	}
	P("\nPer column (every stage of this run):\n\n");
	json_array_foreach(json_object_get(bu, "per_column"), i, x) {
		report_fmt_num(t, sizeof t, report_num(x, "epsilon"));
		report_fmt_num(u, sizeof u, report_num(x, "delta"));
		P("- ");
		code(b, report_str(x, "column"), false);
		P(": epsilon %s, delta %s", t, u);
		if (json_array_size(json_object_get(x, "other_runs"))) {
			report_fmt_num(t, sizeof t, report_num(x, "epsilon_other_runs"));
			P("; other runs in these files noised it too (epsilon %s more)", t);
		}
		P("\n");
	}
	const json_t *pr = json_object_get(bu, "per_row");
	report_fmt_num(t, sizeof t, report_num(pr, "epsilon"));
	report_fmt_num(u, sizeof u, report_num(pr, "delta"));
	P("\nPer row (the sum over columns): **epsilon %s, delta %s**", t, u);
	const json_t *rr = json_object_get(bu, "recorded_per_row");
	if (json_is_object(rr)) {
		report_fmt_num(t, sizeof t, report_num(rr, "epsilon"));
		report_fmt_num(u, sizeof u, report_num(rr, "delta"));
		P(" (the records state epsilon %s, delta %s)", t, u);
	}
	P(".\n\nGuarantee: ");
	text(b, report_str(bu, "guarantee"), false);
	P(".\n\n");
	json_array_foreach(json_object_get(bu, "warnings"), i, x) {
		P("- **warning**: ");
		text(b, json_string_value(x), false);
		P("\n");
	}
	if (json_array_size(json_object_get(bu, "warnings")))
		P("\n");
}

static void validation(struct anon_buf *b, const json_t *m)
{
	size_t i, q;
	json_t *x, *c;
	P("## Validation\n\n");
	if (!json_array_size(json_object_get(m, "validation"))) {
		P("No anon-validate stage or verdict in this run: nothing was checked.\n\n");
		return;
	}
	json_array_foreach(json_object_get(m, "validation"), i, x) {
		if (json_is_integer(json_object_get(x, "stage")))
			P("Stage %lld", (long long)report_int(x, "stage"));
		else {
			P("Verdict ");
			code(b, report_str(x, "source"), false);
		}
		P(": **%s**%s\n\n| check | table | outcome | figures |\n|---|---|---|---|\n",
		  json_is_true(json_object_get(x, "passed")) ? "passed" : "failed",
		  json_is_true(json_object_get(x, "complete")) ? "" : " (incomplete)");
		json_array_foreach(json_object_get(x, "checks"), q, c) {
			P("| ");
			text(b, report_str(c, "check"), true);
			P(" | ");
			if (report_str(c, "table"))
				code(b, report_str(c, "table"), true);
			else
				P("—");
			P(" | %s | ", json_is_true(json_object_get(c, "passed")) ? "pass" : "**FAIL**");
			text(b, report_str(c, "detail"), true);
			P(" |\n");
		}
		P("\n");
	}
}

static void art30(struct anon_buf *b, const json_t *m)
{
	const json_t *meta = json_object_get(m, "meta");
	if (!json_is_object(meta))
		return;
	static const char *const keys[][2] = {
		{ "controller", "Controller (Art. 30(1)(a))" },
		{ "dpo", "Data protection officer (Art. 30(1)(a))" },
		{ "purpose", "Purposes of the processing (Art. 30(1)(b))" },
		{ "data_subjects", "Categories of data subjects (Art. 30(1)(c))" },
		{ "data_categories", "Categories of personal data (Art. 30(1)(c))" },
		{ "recipients", "Categories of recipients (Art. 30(1)(d))" },
		{ "transfers", "Transfers to third countries (Art. 30(1)(e))" },
		{ "retention", "Time limits for erasure (Art. 30(1)(f))" },
		{ "security", "Security measures (Art. 30(1)(g))" },
	};
	P("## Record of processing (GDPR Art. 30)\n\n| | |\n|---|---|\n");
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		const json_t *v = json_object_get(meta, keys[k][0]);
		if (!v)
			continue;
		P("| %s | ", keys[k][1]);
		if (json_is_string(v)) {
			text(b, json_string_value(v), true);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				if (i)
					P("; ");
				if (json_is_string(e))
					text(b, json_string_value(e), true);
				else if (report_str(e, "name")) {
					text(b, report_str(e, "name"), true);
					if (json_is_boolean(json_object_get(e, "has_key")))
						P(json_is_true(json_object_get(e, "has_key")) ?
							  " (holds the key)" : " (does not hold the key)");
				}
			}
		} else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
			text(b, s, true);
			free(s);
		}
		P(" |\n");
	}
	P("| Technical measures (Art. 32(1)(a)), from the records | ");
	size_t i;
	json_t *x;
	bool any = false;
	json_array_foreach(json_object_get(m, "lineage"), i, x) {
		if (!json_array_size(json_object_get(x, "steps")))
			continue;
		if (any)
			P("; ");
		any = true;
		code(b, report_str(x, "column"), true);
		P(" %s", report_str(x, "treatment"));
	}
	if (!any)
		P("none recorded");
	P(" |\n\n");
}

void report_md(const json_t *m, struct anon_buf *b)
{
	P("# Compliance and lineage report\n\n");
	P("Run ");
	code(b, report_str(m, "run_id"), false);
	P(", from the audit records its stages wrote (no data was read). Written by "
	  "anon-report %s, schema `%s`.\n\n", ANON_VERSION, REPORT_SCHEMA);
	summary(b, m);
	flags(b, m);
	lineage(b, m);
	classification(b, m);
	budget(b, m);
	validation(b, m);
	art30(b, m);
}
