/* html.c: the report as one self-contained HTML file: inline CSS (with a print stylesheet,
 * so `chromium --headless --print-to-pdf` makes a clean PDF) and inline SVG charts; no
 * script, no external resource. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define P(...) report_printf(b, __VA_ARGS__)

static void esc(struct anon_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': anon_buf_addstr(b, "&lt;"); break;
		case '>': anon_buf_addstr(b, "&gt;"); break;
		case '&': anon_buf_addstr(b, "&amp;"); break;
		case '"': anon_buf_addstr(b, "&quot;"); break;
		case '\'': anon_buf_addstr(b, "&#39;"); break;
		default: anon_buf_addc(b, (unsigned char)*s);
		}
	}
}

static void val(struct anon_buf *b, const json_t *v)
{
	char t[64];
	if (json_is_number(v)) {
		report_fmt_num(t, sizeof t, json_number_value(v));
		P("%s", t);
	} else if (json_is_string(v)) {
		esc(b, json_string_value(v));
	} else if (json_is_boolean(v)) {
		P("%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_null(v) || !v) {
		P("&mdash;");
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		esc(b, s);
		free(s);
	}
}

static const char *const class_colour[][2] = {
	{ "redacted", "#2e7d32" }, { "masked", "#66bb6a" }, { "generalised", "#9ccc65" },
	{ "dp-noise", "#26a69a" }, { "keyed-irreversible", "#42a5f5" },
	{ "reversible", "#ffa726" }, { "unclassified", "#bdbdbd" }, { "untouched", "#ef5350" },
	{ "re-identified", "#b71c1c" },
};

static const char *colour(const char *cls)
{
	for (size_t i = 0; i < sizeof class_colour / sizeof class_colour[0]; i++)
		if (cls && strcmp(cls, class_colour[i][0]) == 0)
			return class_colour[i][1];
	return "#bdbdbd";
}

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
	"max-width:1100px;margin:2em auto;padding:0 1em}"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;"
	"margin-top:1.8em}table{border-collapse:collapse;margin:.6em 0;width:100%}"
	"th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}"
	"th{background:#f3f3f3}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;"
	"background:#f6f6f6;padding:0 .2em;word-break:break-all}"
	".ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}"
	".warn{color:#b26a00;font-weight:600}.chart{margin:.6em 0}"
	"svg text{font:11px system-ui,sans-serif;fill:#333}.small{color:#666;font-size:.9em}"
	".grid{display:flex;flex-wrap:wrap;gap:1em}"
	"@media print{body{max-width:none;margin:0;font-size:10.5pt}"
	"h2{page-break-after:avoid}table,svg,.chart{page-break-inside:avoid}"
	"a{color:inherit;text-decoration:none}@page{size:A4;margin:14mm}}";

static void rows_chart(struct anon_buf *b, const json_t *stages)
{
	size_t n = json_array_size(stages), i;
	json_t *s;
	double top = 1;
	json_array_foreach(stages, i, s) {
		top = fmax(top, (double)report_int(s, "rows_in"));
		top = fmax(top, (double)report_int(s, "rows_out"));
	}
	int w = 90 * (int)(n ? n : 1) + 70, h = 220, base = 170;
	P("<figure class=\"chart\"><svg id=\"chart-rows\" xmlns=\"http://www.w3.org/2000/svg\" "
	  "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"rows "
	  "through the stages\">", w, h, w, h);
	P("<line x1=\"50\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", base, w - 10, base);
	char t[64];
	report_fmt_num(t, sizeof t, top);
	P("<text x=\"45\" y=\"24\" text-anchor=\"end\">%s</text><text x=\"45\" y=\"%d\" "
	  "text-anchor=\"end\">0</text>", t, base);
	json_array_foreach(stages, i, s) {
		double rin = (double)report_int(s, "rows_in"), rout = (double)report_int(s, "rows_out");
		int x = 60 + 90 * (int)i;
		int hi = (int)lround(140 * rin / top), ho = (int)lround(140 * rout / top);
		bool bad = strcmp(report_str(s, "status") ? report_str(s, "status") : "", "ok") != 0;
		P("<rect x=\"%d\" y=\"%d\" width=\"30\" height=\"%d\" fill=\"#90caf9\"><title>rows in "
		  "%.0f</title></rect>", x, base - hi, hi, rin);
		P("<rect x=\"%d\" y=\"%d\" width=\"30\" height=\"%d\" fill=\"%s\"><title>rows out "
		  "%.0f</title></rect>", x + 32, base - ho, ho, bad ? "#ef5350" : "#1e88e5", rout);
		P("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%lld. ", x + 31, base + 16,
		  (long long)report_int(s, "index"));
		esc(b, report_str(s, "tool"));
		P("</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.0f &#8594; %.0f</text>",
		  x + 31, base + 32, rin, rout);
	}
	P("</svg><figcaption class=\"small\">Rows in (light) and out (dark; red: the stage did "
	  "not end well) at each stage.</figcaption></figure>\n");
}

static void treatment_chart(struct anon_buf *b, const json_t *m)
{
	const json_t *lin = json_object_get(m, "lineage"), *stages = json_object_get(m, "stages");
	size_t nc = json_array_size(lin), ns = json_array_size(stages), i, q;
	json_t *c, *s;
	int cw = 74, rh = 22, left = 130, top = 40;
	int w = left + cw * (int)(ns + 1) + 20, h = top + rh * (int)nc + 20;
	P("<figure class=\"chart\"><svg id=\"chart-treatment\" xmlns=\"http://www.w3.org/2000/svg\" "
	  "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"treatment of "
	  "each column\">", w, h, w, h);
	json_array_foreach(stages, q, s)
		P("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%lld</text>",
		  left + cw * (int)q + cw / 2, top - 8, (long long)report_int(s, "index"));
	P("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">result</text>",
	  left + cw * (int)ns + cw / 2, top - 8);
	json_array_foreach(lin, i, c) {
		int y = top + rh * (int)i;
		P("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 15);
		esc(b, report_str(c, "column"));
		P("</text>");
		json_t *st;
		size_t k;
		json_array_foreach(json_object_get(c, "steps"), k, st) {
			json_int_t ix = report_int(st, "stage");
			if (ix < 1 || (size_t)ix > ns)
				continue;
			P("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\">"
			  "<title>", left + cw * (int)(ix - 1) + 2, y + 2, cw - 4, rh - 4,
			  colour(report_str(st, "treatment")));
			esc(b, report_str(st, "treatment"));
			P("</title></rect>");
		}
		P("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\" "
		  "stroke=\"#333\"><title>", left + cw * (int)ns + 2, y + 2, cw - 4, rh - 4,
		  colour(report_str(c, "treatment")));
		esc(b, report_str(c, "treatment"));
		P("</title></rect>");
	}
	P("</svg><figcaption class=\"small\">The treatment of each column at each stage (by stage "
	  "number) and the result. ");
	for (size_t k = 0; k < sizeof class_colour / sizeof class_colour[0]; k++)
		P("<span style=\"display:inline-block;width:.9em;height:.9em;background:%s;"
		  "vertical-align:middle\"></span> %s ", class_colour[k][1], class_colour[k][0]);
	P("</figcaption></figure>\n");
}

static void histogram(struct anon_buf *b, const char *column, json_int_t stage,
		      const json_t *h, int id)
{
	const json_t *in = json_object_get(h, "input"), *out = json_object_get(h, "output");
	size_t n = json_array_size(in), i;
	if (!n || json_array_size(out) != n)
		return;
	double top = 1;
	for (i = 0; i < n; i++)
		top = fmax(top, fmax(json_number_value(json_array_get(in, i)),
				     json_number_value(json_array_get(out, i))));
	int bw = 14, w = 60 + (int)n * bw + 20, hh = 180, base = 140;
	P("<figure class=\"chart\"><svg id=\"chart-hist-%d\" class=\"hist\" "
	  "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	  "role=\"img\" aria-label=\"histogram\">", id, w, hh, w, hh);
	P("<line x1=\"55\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", base, w - 10, base);
	for (i = 0; i < n; i++) {
		double a = json_number_value(json_array_get(in, i)),
		       o = json_number_value(json_array_get(out, i));
		int x = 60 + (int)i * bw;
		int ha = (int)lround(110 * a / top), ho = (int)lround(110 * o / top);
		P("<rect x=\"%d\" y=\"%d\" width=\"6\" height=\"%d\" fill=\"#b0bec5\"><title>bin %zu "
		  "in: %.0f</title></rect>", x, base - ha, ha, i + 1, a);
		P("<rect x=\"%d\" y=\"%d\" width=\"6\" height=\"%d\" fill=\"#00897b\"><title>bin %zu "
		  "out: %.0f</title></rect>", x + 6, base - ho, ho, i + 1, o);
	}
	char lo[64], hi[64], t[64];
	double l = report_num(h, "lo"), wd = report_num(h, "width");
	report_fmt_num(lo, sizeof lo, l);
	report_fmt_num(hi, sizeof hi, l + wd * (double)n);
	report_fmt_num(t, sizeof t, top);
	P("<text x=\"50\" y=\"34\" text-anchor=\"end\">%s</text>", t);
	P("<text x=\"60\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
	  base + 14, lo, w - 10, base + 14, hi);
	P("<text x=\"60\" y=\"16\">");
	esc(b, column);
	P(" (stage %lld)</text>", (long long)stage);
	P("</svg><figcaption class=\"small\">");
	esc(b, column);
	P(": input (grey) and output (green) counts in %zu bins of width ", n);
	report_fmt_num(t, sizeof t, wd);
	P("%s from %s", t, lo);
	if (report_str(h, "unit")) {
		P(" (");
		esc(b, report_str(h, "unit"));
		P(")");
	}
	P(".</figcaption></figure>\n");
}

static int histograms(struct anon_buf *b, const json_t *m)
{
	size_t i, q;
	json_t *c, *s;
	int id = 0;
	json_array_foreach(json_object_get(m, "lineage"), i, c)
		json_array_foreach(json_object_get(c, "steps"), q, s) {
			const json_t *h = json_object_get(json_object_get(json_object_get(s, "params"),
									  "utility"), "histogram");
			if (!h)
				continue;
			if (!id)
				P("<h3>Noised and generalised columns: input and output</h3>"
				  "<div class=\"grid\">");
			histogram(b, report_str(c, "column"), report_int(s, "stage"), h, ++id);
		}
	if (id)
		P("</div>\n");
	return id;
}

static void kanon(struct anon_buf *b, const json_t *m)
{
	size_t i, q;
	json_t *v, *c;
	int id = 0;
	json_array_foreach(json_object_get(m, "validation"), i, v)
		json_array_foreach(json_object_get(v, "checks"), q, c) {
			const json_t *f = json_object_get(c, "figures");
			if (strcmp(report_str(c, "check") ? report_str(c, "check") : "", "k-anonymity"))
				continue;
			if (!id)
				P("<h3>k-anonymity</h3><div class=\"grid\">");
			id++;
			double k = (double)report_int(f, "k"), mk = (double)report_int(f, "min_k"),
			       cl = (double)report_int(f, "classes"),
			       below = (double)report_int(f, "classes_below_k");
			double top = fmax(1, fmax(fmax(k, mk), cl));
			const char *lab[4] = { "k asked", "smallest class", "classes", "below k" };
			double vals[4] = { k, mk, cl, below };
			P("<figure class=\"chart\"><svg id=\"chart-kanon-%d\" "
			  "xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"130\" "
			  "viewBox=\"0 0 360 130\" role=\"img\" aria-label=\"k-anonymity\">", id);
			for (int r = 0; r < 4; r++) {
				int wd = (int)lround(200 * vals[r] / top);
				P("<text x=\"100\" y=\"%d\" text-anchor=\"end\">%s</text>"
				  "<rect x=\"105\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"%s\"/>"
				  "<text x=\"%d\" y=\"%d\">%.0f</text>", 24 + 26 * r, lab[r], 10 + 26 * r,
				  wd, r == 3 && vals[3] > 0 ? "#ef5350" : "#7e57c2", 110 + wd,
				  24 + 26 * r, vals[r]);
			}
			P("</svg><figcaption class=\"small\">");
			esc(b, report_str(c, "detail"));
			P("</figcaption></figure>");
		}
	if (id)
		P("</div>\n");
}

static void table_row(struct anon_buf *b, const char *k, const json_t *v)
{
	P("<tr><th>%s</th><td>", k);
	val(b, v);
	P("</td></tr>");
}

static const char *const regs[3] = { "gdpr", "ccpa", "pipeda" };

void report_html(const json_t *m, struct anon_buf *b)
{
	const json_t *s = json_object_get(m, "summary");
	size_t i, q;
	json_t *x, *y;
	bool ok = strcmp(report_str(s, "status"), "ok") == 0;
	P("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	  "<meta name=\"generator\" content=\"anon-report %s\"><title>anon report: ", ANON_VERSION);
	esc(b, report_str(m, "run_id"));
	P("</title><style>%s</style></head><body>\n<h1>Compliance and lineage report</h1>"
	  "<p>Run <code>", css);
	esc(b, report_str(m, "run_id"));
	P("</code>, from the audit records its stages wrote (no data was read). Status: "
	  "<span class=\"%s\">%s</span> (%lld errors, %lld warnings).</p>\n", ok ? "ok" : "bad",
	  report_str(s, "status"), (long long)report_int(s, "errors"),
	  (long long)report_int(s, "warnings"));

	P("<h2>Summary</h2><table>");
	table_row(b, "inputs", json_object_get(s, "inputs"));
	table_row(b, "stages", json_object_get(s, "stages"));
	table_row(b, "rows in", json_object_get(s, "rows_in"));
	table_row(b, "rows out (released)", json_object_get(s, "rows_out"));
	table_row(b, "rows rejected", json_object_get(s, "rows_rejected"));
	table_row(b, "started", json_object_get(s, "started"));
	table_row(b, "ended", json_object_get(s, "ended"));
	table_row(b, "seconds", json_object_get(s, "seconds"));
	table_row(b, "audit files", json_object_get(m, "sources"));
	P("</table>\n");
	rows_chart(b, json_object_get(m, "stages"));
	P("<table><tr><th>#</th><th>tool</th><th>input</th><th>reads</th><th>rows in</th>"
	  "<th>rows out</th><th>rejected</th><th>status</th><th>exit</th><th>jobs</th>"
	  "<th>key</th></tr>");
	json_array_foreach(json_object_get(m, "stages"), i, x) {
		P("<tr><td>%lld</td><td>", (long long)report_int(x, "index"));
		val(b, json_object_get(x, "tool"));
		P("</td><td><code>");
		val(b, json_object_get(x, "input"));
		P("</code></td><td>");
		if (strcmp(report_str(x, "link"), "start") == 0)
			P("the input");
		else
			P("%s stage %lld (%s)", strcmp(report_str(x, "link"), "gap") == 0 ?
				  "<span class=\"bad\">gap</span> after" : "", (long long)report_int(x, "follows"),
			  report_str(x, "link"));
		static const char *const f[] = { "rows_in", "rows_out", "rows_rejected", "status",
						 "exit_code", "jobs" };
		for (int k = 0; k < 6; k++) {
			P("</td><td>");
			val(b, json_object_get(x, f[k]));
		}
		P("</td><td><code>");
		val(b, json_object_get(x, "key_fingerprint"));
		P("</code></td></tr>");
	}
	P("</table>\n<h2>Flags</h2>");
	if (!json_array_size(json_object_get(m, "flags")))
		P("<p class=\"ok\">None: every stage ended well and each read what the one before it "
		  "wrote.</p>");
	else {
		P("<ul>");
		json_array_foreach(json_object_get(m, "flags"), i, x) {
			bool err = strcmp(report_str(x, "severity"), "error") == 0;
			P("<li><span class=\"%s\">%s</span> <code>", err ? "bad" : "warn",
			  report_str(x, "severity"));
			esc(b, report_str(x, "code"));
			P("</code>: ");
			esc(b, report_str(x, "message"));
			P("</li>");
		}
		P("</ul>");
	}

	P("\n<h2>Lineage per column</h2>");
	treatment_chart(b, m);
	P("<table><tr><th>column</th><th>stage</th><th>rule</th><th>parameters</th><th>what it "
	  "does</th><th>key</th><th>values / changed</th></tr>");
	json_array_foreach(json_object_get(m, "lineage"), i, x) {
		size_t nst = json_array_size(json_object_get(x, "steps"));
		if (!nst) {
			P("<tr><td><code>");
			esc(b, report_str(x, "column"));
			P("</code></td><td colspan=\"6\">untouched: no stage selected it</td></tr>");
			continue;
		}
		json_array_foreach(json_object_get(x, "steps"), q, y) {
			P("<tr>");
			if (q == 0) {
				P("<td rowspan=\"%zu\"><code>", nst);
				esc(b, report_str(x, "column"));
				P("</code><br>%s</td>", report_str(x, "treatment"));
			}
			P("<td>%lld ", (long long)report_int(y, "stage"));
			esc(b, report_str(y, "tool"));
			const char *as = report_step_alias(x, y);
			if (as) {
				P(" as <code>");
				esc(b, as);
				P("</code>");
			}
			P("</td><td><code>");
			val(b, json_object_get(y, "rule"));
			P("</code></td><td><code>");
			json_t *p = json_deep_copy(json_object_get(y, "params"));
			json_object_del(p, "utility");
			val(b, p);
			json_decref(p);
			P("</code></td><td>");
			esc(b, report_str(y, "description"));
			P("</td><td><code>");
			val(b, json_object_get(y, "key_fingerprint"));
			P("</code></td><td>%lld / %lld</td></tr>", (long long)report_int(y, "values"),
			  (long long)report_int(y, "changed"));
		}
	}
	P("</table><p>");
	esc(b, report_str(json_object_get(m, "untouched"), "note"));
	P(".</p>\n");
	histograms(b, m);

	P("<h2>Classification and the multi-regulation matrix</h2><table><tr><th>column</th>"
	  "<th>treatment</th><th>GDPR</th><th>CCPA</th><th>PIPEDA</th><th>what satisfies all</th></tr>");
	json_array_foreach(json_object_get(m, "classification"), i, x) {
		bool agree = json_is_true(json_object_get(x, "agree"));
		P("<tr><td><code>");
		esc(b, report_str(x, "column"));
		P("</code></td><td>%s", report_str(x, "treatment"));
		if (json_is_number(json_object_get(x, "epsilon"))) {
			P("<br>epsilon ");
			val(b, json_object_get(x, "epsilon"));
		}
		P("%s</td>", agree ? "" : "<br><span class=\"warn\">regulations disagree</span>");
		for (int r = 0; r < 3; r++) {
			const json_t *v = json_object_get(x, regs[r]);
			P("<td><b>");
			esc(b, report_str(v, "status"));
			P("</b> (");
			esc(b, report_str(v, "basis"));
			P(")<br><span class=\"small\">");
			esc(b, report_str(v, "reasoning"));
			P("</span></td>");
		}
		P("<td>");
		esc(b, report_str(x, "satisfy_all"));
		P("</td></tr>");
	}
	P("</table><ul class=\"small\">");
	json_array_foreach(json_object_get(m, "regulations"), i, x) {
		P("<li><b>");
		esc(b, report_str(x, "name"));
		P("</b>: ");
		esc(b, report_str(x, "text"));
		P(". ");
		esc(b, report_str(x, "provisions"));
		P(".</li>");
	}
	P("</ul><p class=\"small\">This mapping is a reading of those texts for the treatments "
	  "recorded; it is not legal advice.</p>\n");

	const json_t *bu = json_object_get(m, "budget");
	P("<h2>Privacy budget</h2>");
	if (!json_is_true(json_object_get(bu, "noised")))
		P("<p>No stage added differentially private noise.</p>");
	else {
		P("<table><tr><th>column</th><th>stage</th><th>mechanism</th><th>epsilon</th>"
		  "<th>delta</th><th>private</th></tr>");
		json_array_foreach(json_object_get(bu, "entries"), i, x) {
			P("<tr><td><code>");
			esc(b, report_str(x, "column"));
			P("</code></td><td>%lld</td><td>", (long long)report_int(x, "stage"));
			val(b, json_object_get(x, "mechanism"));
			P("</td><td>");
			val(b, json_object_get(x, "epsilon"));
			P("</td><td>");
			val(b, json_object_get(x, "delta"));
			P("</td><td>%s</td></tr>", json_is_true(json_object_get(x, "private")) ?
				  "yes" : "<span class=\"bad\">no</span>");
		}
		P("</table><p>Per row (sum over columns): epsilon <b>");
		val(b, json_object_get(json_object_get(bu, "per_row"), "epsilon"));
		P("</b>, delta <b>");
		val(b, json_object_get(json_object_get(bu, "per_row"), "delta"));
		P("</b>. ");
		esc(b, report_str(bu, "guarantee"));
		P(".</p>");
		json_array_foreach(json_object_get(bu, "warnings"), i, x) {
			P("<p class=\"bad\">");
			esc(b, json_string_value(x));
			P("</p>");
		}
	}

	P("\n<h2>Validation</h2>");
	if (!json_array_size(json_object_get(m, "validation")))
		P("<p>No anon-validate stage or verdict in this run: nothing was checked.</p>");
	json_array_foreach(json_object_get(m, "validation"), i, x) {
		bool passed = json_is_true(json_object_get(x, "passed"));
		P("<p>");
		val(b, json_object_get(x, "source"));
		P(": <span class=\"%s\">%s</span></p><table><tr><th>check</th><th>outcome</th>"
		  "<th>figures</th></tr>", passed ? "ok" : "bad", passed ? "passed" : "failed");
		json_array_foreach(json_object_get(x, "checks"), q, y) {
			bool p = json_is_true(json_object_get(y, "passed"));
			P("<tr><td>");
			esc(b, report_str(y, "check"));
			P("</td><td class=\"%s\">%s</td><td>", p ? "ok" : "bad", p ? "pass" : "FAIL");
			esc(b, report_str(y, "detail"));
			P("</td></tr>");
		}
		P("</table>");
	}
	kanon(b, m);
	const json_t *meta = json_object_get(m, "meta");
	if (json_is_object(meta)) {
		P("\n<h2>Record of processing (GDPR Art. 30)</h2><table>");
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)meta, k, v) {
			P("<tr><th>");
			esc(b, k);
			P("</th><td>");
			val(b, v);
			P("</td></tr>");
		}
		P("</table>");
	}
	P("\n<p class=\"small\">Written by anon-report %s (schema %s).</p>\n</body></html>\n",
	  ANON_VERSION, REPORT_SCHEMA);
}
