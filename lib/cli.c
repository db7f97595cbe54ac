/* cli.c: anon_main, the loop every tool runs: common options, key, column resolution, then
 * rows in, rules applied to the selected fields, rows out, and one audit record. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anon-int.h"

enum on_error { ON_ERROR_FAIL, ON_ERROR_SKIP, ON_ERROR_KEEP };

/* long-only common options; tools use values below 1000 for theirs */
enum {
	OPT_SCHEMA = 1000, OPT_KEY_FILE, OPT_DOMAIN, OPT_AUDIT, OPT_ON_ERROR, OPT_REJECTS,
	OPT_PROGRESS, OPT_NO_PROGRESS, OPT_HEADER, OPT_NO_HEADER, OPT_QUOTE,
};

static const struct option common_longopts[] = {
	{ "column", required_argument, NULL, 'c' },
	{ "format", required_argument, NULL, 'f' },
	{ "delimiter", required_argument, NULL, 'd' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "audit", required_argument, NULL, OPT_AUDIT },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "rejects", required_argument, NULL, OPT_REJECTS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "header", no_argument, NULL, OPT_HEADER },
	{ "no-header", no_argument, NULL, OPT_NO_HEADER },
	{ "quote", required_argument, NULL, OPT_QUOTE },
};
#define NCOMMON (sizeof common_longopts / sizeof common_longopts[0])

struct anon_ref {
	char *spec;
	char *parts[3];   /* pgdump: identifiers of the spec */
	int nparts;
	int index;        /* in the current table, -1 when absent */
	bool matched;
	struct anon_buf scratch;
	struct anon_ref *next;
};

struct selected {
	int index;
	struct anon_column *col;
	struct anon_buf scratch;
};

struct anon_ctx {
	const struct anon_tool *tool;
	void *state;
	struct anon_dialect d;
	int header;             /* -1: the format's default */
	char **schema;
	size_t nschema;
	const char *key_file, *domain, *audit_path, *rejects_path;
	enum on_error on_error;
	int progress;           /* -1: auto */
	bool quiet;
	const char *input;
	struct anon_column *cols;
	size_t ncols;
	struct anon_ref *refs;  /* extra references, and one per column */
	struct anon_ref **colrefs;

	struct anon_reader r;
	struct anon_writer out, rej;
	bool rej_open, running, header_seen;
	struct selected *sel;
	size_t nsel;
	char **names;           /* column names of the current table (borrowed) */
	size_t nnames, expected;
	char table[512];
	const struct anon_row *row;

	uint64_t rows_in, rows_out, rows_rejected, errors, shown;
	double t0, last_progress;
	char time[64], run_id[40];
	struct anon_buf scratch_out;
};

static struct anon_ctx *running_ctx;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *anon_fmt_name(enum anon_fmt f)
{
	static const char *names[] = { "csv", "tsv", "copy", "pgdump" };
	return names[f];
}

bool anon_fmt_parse(const char *s, enum anon_fmt *f)
{
	for (int i = ANON_FMT_CSV; i <= ANON_FMT_PGDUMP; i++)
		if (strcmp(s, anon_fmt_name((enum anon_fmt)i)) == 0) {
			*f = (enum anon_fmt)i;
			return true;
		}
	return false;
}

void *anon_tool_state(struct anon_ctx *ctx) { return ctx->state; }
struct anon_column *anon_ctx_columns(struct anon_ctx *ctx, size_t *n)
{
	*n = ctx->ncols;
	return ctx->cols;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

/* ---- usage ------------------------------------------------------------------------------- */

static void usage(struct anon_ctx *ctx, FILE *f)
{
	fprintf(f, "usage: %s %s\n", ctx->tool->name, ctx->tool->synopsis);
	fputs("common options:\n"
	      "  -c, --column SPEC[=RULE]  select a column (name, number, table.column)\n"
	      "  -f, --format FMT          csv | tsv | copy | pgdump (env ANON_FORMAT; csv)\n"
	      "      --schema NAMES        column names for headerless input (a,b,c)\n"
	      "      --header, --no-header csv/tsv: first line names the columns (default on)\n"
	      "  -d, --delimiter C         field delimiter (csv ',', copy TAB)\n"
	      "      --quote C             csv quote character (\")\n"
	      "      --key-file FILE       secret key (env ANON_KEY_FILE, or ANON_KEY as hex)\n"
	      "      --domain NAME         key-derivation context (default none)\n"
	      "      --audit FILE          append a JSON audit record (env ANON_AUDIT)\n"
	      "      --on-error MODE       fail | skip | keep (default fail)\n"
	      "      --rejects FILE        write rejected rows to FILE\n"
	      "      --progress            rows, bytes, rate and ETA on stderr\n"
	      "  -q, --quiet               no warnings\n"
	      "  -h, --help                this help\n"
	      "  -V, --version             print the version\n", f);
}

static void usage_error(struct anon_ctx *ctx, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
static void usage_error(struct anon_ctx *ctx, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "%s: ", anon_progname);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	fprintf(stderr, "usage: %s %s\n", ctx->tool->name, ctx->tool->synopsis);
	fprintf(stderr, "Try '%s --help' for more information.\n", ctx->tool->name);
	exit(EX_USAGE);
}

/* ---- options ----------------------------------------------------------------------------- */

static unsigned char one_char(struct anon_ctx *ctx, const char *opt, const char *arg)
{
	if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0)
		return '\t';
	if (strlen(arg) != 1 || arg[0] == '\n' || arg[0] == '\r' || arg[0] == '\\')
		usage_error(ctx, "%s takes one single-byte character", opt);
	return (unsigned char)arg[0];
}

static void add_column(struct anon_ctx *ctx, const char *arg)
{
	char *spec = xstrdup(arg), *eq = strchr(spec, '=');
	if (eq)
		*eq++ = '\0';
	if (!*spec)
		usage_error(ctx, "-c needs a column name or number");
	struct anon_column *cols = realloc(ctx->cols, (ctx->ncols + 1) * sizeof *cols);
	if (!cols)
		anon_die(EX_SOFTWARE, "out of memory");
	ctx->cols = cols;
	memset(&cols[ctx->ncols], 0, sizeof *cols);
	cols[ctx->ncols].spec = spec;
	cols[ctx->ncols].rule = eq;
	cols[ctx->ncols].index = -1;
	ctx->ncols++;
}

static void split_schema(struct anon_ctx *ctx, const char *arg)
{
	char *s = xstrdup(arg), *save = NULL;
	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char **v = realloc(ctx->schema, (ctx->nschema + 1) * sizeof *v);
		if (!v)
			anon_die(EX_SOFTWARE, "out of memory");
		ctx->schema = v;
		ctx->schema[ctx->nschema++] = t;
	}
	if (ctx->nschema == 0)
		usage_error(ctx, "--schema needs column names");
}

static void parse_options(struct anon_ctx *ctx, int argc, char **argv)
{
	const struct anon_tool *t = ctx->tool;
	size_t ntool = 0;
	while (t->longopts && t->longopts[ntool].name)
		ntool++;
	struct option *longopts = xcalloc(NCOMMON + ntool + 1, sizeof *longopts);
	memcpy(longopts, common_longopts, sizeof common_longopts);
	if (ntool)
		memcpy(longopts + NCOMMON, t->longopts, ntool * sizeof *longopts);
	char shortopts[128];
	snprintf(shortopts, sizeof shortopts, "+c:f:d:qhV%s", t->shortopts ? t->shortopts : "");

	const char *env = getenv("ANON_FORMAT");
	if (env && *env && !anon_fmt_parse(env, &ctx->d.fmt))
		usage_error(ctx, "ANON_FORMAT: unknown format (csv, tsv, copy, pgdump)");
	ctx->audit_path = getenv("ANON_AUDIT");
	if (ctx->audit_path && !*ctx->audit_path)
		ctx->audit_path = NULL;

	bool delim_set = false;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'c': add_column(ctx, optarg); break;
		case 'f':
			if (!anon_fmt_parse(optarg, &ctx->d.fmt))
				usage_error(ctx, "unknown format '%s' (csv, tsv, copy, pgdump)", optarg);
			break;
		case 'd': ctx->d.delim = one_char(ctx, "--delimiter", optarg); delim_set = true; break;
		case 'q': ctx->quiet = true; break;
		case 'h':
			usage(ctx, stdout);
			if (ferror(stdout) | (fclose(stdout) != 0))
				exit(EX_IOERR);
			exit(0);
		case 'V':
			printf("%s %s\n", t->name, ANON_VERSION);
			if (ferror(stdout) | (fclose(stdout) != 0))
				exit(EX_IOERR);
			exit(0);
		case OPT_SCHEMA: split_schema(ctx, optarg); break;
		case OPT_KEY_FILE: ctx->key_file = optarg; break;
		case OPT_DOMAIN: ctx->domain = optarg; break;
		case OPT_AUDIT: ctx->audit_path = optarg; break;
		case OPT_ON_ERROR:
			if (strcmp(optarg, "fail") == 0)
				ctx->on_error = ON_ERROR_FAIL;
			else if (strcmp(optarg, "skip") == 0)
				ctx->on_error = ON_ERROR_SKIP;
			else if (strcmp(optarg, "keep") == 0)
				ctx->on_error = ON_ERROR_KEEP;
			else
				usage_error(ctx, "--on-error takes fail, skip or keep");
			break;
		case OPT_REJECTS: ctx->rejects_path = optarg; break;
		case OPT_PROGRESS: ctx->progress = 1; break;
		case OPT_NO_PROGRESS: ctx->progress = 0; break;
		case OPT_HEADER: ctx->header = 1; break;
		case OPT_NO_HEADER: ctx->header = 0; break;
		case OPT_QUOTE: ctx->d.quote = one_char(ctx, "--quote", optarg); break;
		case '?': usage_error(ctx, NULL);
		default:
			if (!t->option)
				usage_error(ctx, NULL);
			int rc = t->option(ctx, c, optarg);
			if (rc == EX_USAGE)
				usage_error(ctx, NULL);
			if (rc)
				exit(rc);
		}
	}
	free(longopts);
	if (argc - optind > 1)
		usage_error(ctx, "one input file at most");
	ctx->input = optind < argc ? argv[optind] : "-";
	if (!delim_set)
		ctx->d.delim = ctx->d.fmt == ANON_FMT_CSV ? ',' : '\t';
	if (ctx->d.fmt == ANON_FMT_PGDUMP)
		ctx->d.delim = '\t';
	if (ctx->d.delim == ctx->d.quote && ctx->d.fmt == ANON_FMT_CSV)
		usage_error(ctx, "the delimiter and the quote must differ");
	if (ctx->header < 0)
		ctx->header = ctx->d.fmt == ANON_FMT_CSV || ctx->d.fmt == ANON_FMT_TSV;
	if (ctx->d.fmt == ANON_FMT_PGDUMP)
		ctx->header = 0;
	if (ctx->header && ctx->nschema)
		usage_error(ctx, "--schema is for headerless input (add --no-header)");
	if (ctx->rejects_path && ctx->on_error == ON_ERROR_FAIL)
		usage_error(ctx, "--rejects goes with --on-error skip or keep");
}

/* ---- column resolution ------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static struct anon_ref *ref_new(struct anon_ctx *ctx, const char *spec)
{
	struct anon_ref *r = xcalloc(1, sizeof *r);
	r->spec = xstrdup(spec);
	r->index = -1;
	r->next = ctx->refs;
	ctx->refs = r;
	return r;
}

/* Once every option is known (tools add references from their option callbacks, maybe
 * before -f): check each spec against the format. */
static void refs_prepare(struct anon_ctx *ctx)
{
	for (struct anon_ref *r = ctx->refs; r; r = r->next) {
		if (ctx->d.fmt != ANON_FMT_PGDUMP || r->nparts > 0)
			continue;
		if (all_digits(r->spec))
			usage_error(ctx, "column '%s': with -f pgdump name columns as "
				    "table.column or schema.table.column", r->spec);
		r->nparts = anon_spec_split(r->spec, r->parts);
		if (r->nparts < 0)
			usage_error(ctx, "column '%s': not a valid [schema.]table.column", r->spec);
	}
}

struct anon_ref *anon_ref_add(struct anon_ctx *ctx, const char *spec)
{
	return ref_new(ctx, spec);
}

/* Index of a spec among names (or as a 1-based number), or -1. */
static int resolve_flat(const char *spec, char **names, size_t n, size_t width)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], spec) == 0)
			return (int)i;
	if (all_digits(spec)) {
		long k = strtol(spec, NULL, 10);
		if (k >= 1 && (size_t)k <= width)
			return (int)(k - 1);
	}
	return -1;
}

static int resolve_pgdump(const struct anon_ref *r, const struct anon_copyhdr *h)
{
	const char *col = r->parts[r->nparts - 1];
	if (r->nparts >= 2 && strcmp(r->parts[r->nparts - 2], h->table) != 0)
		return -1;
	if (r->nparts == 3 && (!h->schema || strcmp(r->parts[0], h->schema) != 0))
		return -1;
	for (size_t i = 0; i < h->ncols; i++)
		if (strcmp(h->cols[i], col) == 0)
			return (int)i;
	return -1;
}

static int cmp_selected(const void *a, const void *b)
{
	const struct selected *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

/* Resolve every column and reference against the current table. `width` is its number of
 * columns; `strict` makes an unresolved spec a usage error (flat formats). */
static void resolve(struct anon_ctx *ctx, size_t width, bool strict)
{
	for (struct anon_ref *r = ctx->refs; r; r = r->next) {
		if (ctx->d.fmt == ANON_FMT_PGDUMP)
			r->index = resolve_pgdump(r, &ctx->r.copy);
		else
			r->index = resolve_flat(r->spec, ctx->names, ctx->nnames, width);
		if (r->index >= 0)
			r->matched = true;
		else if (strict) {
			if (ctx->nnames)
				anon_die(EX_USAGE, "column '%s' not found: the input has %zu columns "
					 "(names or numbers 1..%zu)", r->spec, width, width);
			anon_die(EX_USAGE, "column '%s' not found: name columns with --schema, or "
				 "use numbers 1..%zu", r->spec, width);
		}
	}
	ctx->nsel = 0;
	for (size_t i = 0; i < ctx->ncols; i++) {
		struct anon_column *col = &ctx->cols[i];
		col->index = ctx->colrefs[i]->index;
		if (col->index < 0)
			continue;
		col->matched = true;
		for (size_t j = 0; j < ctx->nsel; j++)
			if (ctx->sel[j].index == col->index)
				anon_die(EX_USAGE, "column %d is selected twice ('%s' and '%s')",
					 col->index + 1, ctx->sel[j].col->spec, col->spec);
		ctx->sel[ctx->nsel].index = col->index;
		ctx->sel[ctx->nsel].col = col;
		ctx->nsel++;
	}
	qsort(ctx->sel, ctx->nsel, sizeof *ctx->sel, cmp_selected);
}

/* ---- errors in rows ---------------------------------------------------------------------- */

static const char *column_name(struct anon_ctx *ctx, size_t field)
{
	if (field < ctx->nnames)
		return ctx->names[field];
	return NULL;
}

static void reject(struct anon_ctx *ctx, const unsigned char *raw, size_t rawlen, uint64_t line,
		   size_t field, const char *reason, bool fatal)
{
	ctx->errors++;
	const char *name = column_name(ctx, field);
	char where[600];
	snprintf(where, sizeof where, "%s:%llu:%zu%s%s%s", ctx->r.name, (unsigned long long)line,
		 field + 1, name ? " (" : "", name ? name : "", name ? ")" : "");
	if (fatal || ctx->on_error == ON_ERROR_FAIL)
		anon_die(EX_DATAERR, "%s: %s", where, reason);
	if (ctx->shown++ < 20)
		anon_warn("%s: %s (row %s)", where, reason,
			  ctx->on_error == ON_ERROR_SKIP ? "skipped" : "kept unchanged");
	else if (ctx->shown == 21)
		anon_warn("further data errors are not shown");
	ctx->rows_rejected++;
	if (ctx->rej_open)
		anon_writer_put(&ctx->rej, raw, rawlen);
	if (ctx->on_error == ON_ERROR_KEEP) {
		anon_writer_put(&ctx->out, raw, rawlen);
		ctx->rows_out++;
	}
}

/* Line where a field of a (possibly multi-line CSV) row starts. */
static uint64_t field_line(const struct anon_row *row, const struct anon_cell *c)
{
	uint64_t line = row->line;
	for (const unsigned char *p = row->raw; p < c->p; p++)
		line += *p == '\n';
	return line;
}

/* ---- rows -------------------------------------------------------------------------------- */

bool anon_row_get(const struct anon_rowinfo *info, const struct anon_ref *ref,
		  struct anon_field *out)
{
	struct anon_ctx *ctx = info->ctx;
	struct anon_ref *r = (struct anon_ref *)ref;
	if (r->index < 0 || (size_t)r->index >= ctx->row->ncell)
		return false;
	anon_field_decode(&ctx->d, &ctx->row->cell[r->index], &r->scratch, out);
	return true;
}

static void process_row(struct anon_ctx *ctx, const struct anon_row *row)
{
	ctx->rows_in++;
	if (ctx->expected == 0 && ctx->d.fmt != ANON_FMT_PGDUMP) {
		/* headerless input without --schema: the first row sets the width */
		ctx->expected = row->ncell;
		resolve(ctx, row->ncell, true);
	}
	if (ctx->expected && row->ncell != ctx->expected) {
		char why[96];
		snprintf(why, sizeof why, "row has %zu field%s, expected %zu", row->ncell,
			 row->ncell == 1 ? "" : "s", ctx->expected);
		size_t field = row->ncell < ctx->expected ? row->ncell : ctx->expected;
		reject(ctx, row->raw, row->rawlen, row->line, field, why, false);
		return;
	}
	if (ctx->nsel == 0) {
		anon_writer_put(&ctx->out, row->raw, row->rawlen);
		ctx->rows_out++;
		return;
	}
	ctx->row = row;
	struct anon_rowinfo info = { ctx, row->line, ctx->d.fmt == ANON_FMT_PGDUMP ? ctx->table : NULL,
				     !ctx->r.not_utf8 };
	const struct anon_tool *t = ctx->tool;
	size_t pos = 0;
	bool alone = row->ncell == 1;
	struct anon_buf *out = &ctx->out.buf;
	size_t mark = out->len; /* the row is built in place; an error drops it again */
	for (size_t i = 0; i < ctx->nsel; i++) {
		struct selected *s = &ctx->sel[i];
		const struct anon_cell *c = &row->cell[s->index];
		struct anon_field in, val;
		anon_field_decode(&ctx->d, c, &s->scratch, &in);
		s->col->values++;
		if (in.null) {
			s->col->nulls++;
			if (!t->apply_nulls)
				continue;
		} else if (in.len == 0 && !t->apply_empty) {
			continue;
		}
		const char *msg = NULL;
		ctx->scratch_out.len = 0;
		val = in;
		enum anon_status st = t->apply(&info, s->col, &in, &val, &ctx->scratch_out, &msg);
		if (st == ANON_ERR) {
			s->col->errors++;
			out->len = mark;
			reject(ctx, row->raw, row->rawlen, field_line(row, c), (size_t)s->index,
			       msg ? msg : "value does not fit the rule", false);
			return;
		}
		if (st == ANON_KEEP)
			continue;
		s->col->changed++;
		size_t at = (size_t)(c->p - row->raw);
		anon_buf_add(out, row->raw + pos, at - pos);
		anon_field_encode(&ctx->d, &val, alone, out);
		pos = at + c->len;
	}
	if (pos == 0)
		anon_writer_put(&ctx->out, row->raw, row->rawlen);
	else
		anon_buf_add(out, row->raw + pos, row->rawlen - pos);
	anon_writer_row_done(&ctx->out);
	ctx->rows_out++;
}

/* csv/tsv header: names come from the decoded cells. */
static void take_header(struct anon_ctx *ctx, const struct anon_row *row)
{
	ctx->nnames = row->ncell;
	ctx->names = xcalloc(row->ncell, sizeof *ctx->names);
	struct anon_buf scratch = {0};
	for (size_t i = 0; i < row->ncell; i++) {
		struct anon_field f;
		anon_field_decode(&ctx->d, &row->cell[i], &scratch, &f);
		ctx->names[i] = strndup((const char *)f.p, f.len);
		if (!ctx->names[i])
			anon_die(EX_SOFTWARE, "out of memory");
	}
	anon_buf_free(&scratch);
	ctx->expected = row->ncell;
	ctx->header_seen = true;
	resolve(ctx, row->ncell, true);
}

static void take_table(struct anon_ctx *ctx)
{
	const struct anon_copyhdr *h = &ctx->r.copy;
	snprintf(ctx->table, sizeof ctx->table, "%s%s%s", h->schema ? h->schema : "",
		 h->schema ? "." : "", h->table);
	ctx->names = h->cols;
	ctx->nnames = h->ncols;
	ctx->expected = h->has_cols ? h->ncols : 0;
	resolve(ctx, h->ncols, false);
	if (!h->has_cols)
		ctx->nsel = 0; /* a table without columns has nothing to transform */
}

/* ---- progress ---------------------------------------------------------------------------- */

static void progress(struct anon_ctx *ctx, bool last)
{
	double t = now();
	if (!last && t - ctx->last_progress < 0.25)
		return;
	ctx->last_progress = t;
	double secs = t - ctx->t0, mb = (double)ctx->r.bytes_in / 1e6;
	double rate = secs > 0 ? mb / secs : 0;
	fprintf(stderr, "\r%s: %llu rows, %.1f MB, %.1f MB/s", anon_progname,
		(unsigned long long)ctx->rows_in, mb, rate);
	if (ctx->r.size > 0 && rate > 0 && !last) {
		double left = ((double)ctx->r.size / 1e6 - mb) / rate;
		fprintf(stderr, ", ETA %d:%02d ", (int)left / 60, (int)left % 60);
	}
	fputs(last ? "\n" : "   ", stderr);
}

/* ---- audit ------------------------------------------------------------------------------- */

static void write_audit(struct anon_ctx *ctx, int code)
{
	if (!ctx->audit_path)
		return;
	json_t *rec = json_object();
	json_object_set_new(rec, "tool", json_string(ctx->tool->name));
	json_object_set_new(rec, "version", json_string(ANON_VERSION));
	json_object_set_new(rec, "time", json_string(ctx->time));
	json_object_set_new(rec, "run_id", json_string(ctx->run_id));
	json_object_set_new(rec, "format", json_string(anon_fmt_name(ctx->d.fmt)));
	json_object_set_new(rec, "input", json_string(ctx->input));
	json_object_set_new(rec, "domain", ctx->domain ? json_string(ctx->domain) : json_null());
	const char *fp = anon_key_fingerprint();
	json_object_set_new(rec, "key_fingerprint", fp ? json_string(fp) : json_null());
	static const char *modes[] = { "fail", "skip", "keep" };
	json_object_set_new(rec, "on_error", json_string(modes[ctx->on_error]));
	json_t *cols = json_array();
	uint64_t nulls = 0;
	for (size_t i = 0; i < ctx->ncols; i++) {
		struct anon_column *c = &ctx->cols[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(c->spec));
		json_object_set_new(o, "rule", c->rule ? json_string(c->rule) : json_null());
		json_object_set(o, "params", c->params ? c->params : json_object());
		if (!c->params)
			json_decref(json_object_get(o, "params"));
		json_object_set_new(o, "values", json_integer((json_int_t)c->values));
		json_object_set_new(o, "nulls", json_integer((json_int_t)c->nulls));
		json_object_set_new(o, "changed", json_integer((json_int_t)c->changed));
		json_object_set_new(o, "errors", json_integer((json_int_t)c->errors));
		json_array_append_new(cols, o);
		nulls += c->nulls;
	}
	json_object_set_new(rec, "columns", cols);
	json_object_set_new(rec, "rows_in", json_integer((json_int_t)ctx->rows_in));
	json_object_set_new(rec, "rows_out", json_integer((json_int_t)ctx->rows_out));
	json_object_set_new(rec, "rows_rejected", json_integer((json_int_t)ctx->rows_rejected));
	json_object_set_new(rec, "nulls", json_integer((json_int_t)nulls));
	json_object_set_new(rec, "errors", json_integer((json_int_t)ctx->errors));
	json_object_set_new(rec, "bytes_in", json_integer((json_int_t)ctx->r.bytes_in));
	json_object_set_new(rec, "bytes_out", json_integer((json_int_t)ctx->out.bytes_out));
	json_object_set_new(rec, "seconds", json_real(now() - ctx->t0));
	json_object_set_new(rec, "exit_code", json_integer(code));
	json_object_set_new(rec, "status", json_string(code == 0 ? "ok" : "error"));
	if (ctx->tool->audit)
		ctx->tool->audit(ctx, rec);
	char *audit_path = (char *)ctx->audit_path;
	ctx->audit_path = NULL; /* a failing append must not recurse through anon_die */
	anon_audit_append(audit_path, rec);
	json_decref(rec);
}

void anon_ctx_abort(int code)
{
	struct anon_ctx *ctx = running_ctx;
	if (!ctx || !ctx->running)
		return;
	ctx->running = false;
	/* The complete rows written so far go out; after a usage error nothing does. */
	if (!ctx->out.failed && code != EX_USAGE)
		anon_writer_flush(&ctx->out);
	if (ctx->rej_open && !ctx->rej.failed)
		anon_writer_flush(&ctx->rej);
	write_audit(ctx, code);
	anon_key_wipe();
}

/* ---- main -------------------------------------------------------------------------------- */

static int open_input(struct anon_ctx *ctx)
{
	if (strcmp(ctx->input, "-") == 0)
		return STDIN_FILENO;
	int fd = open(ctx->input, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		anon_die(EX_NOINPUT, "%s: %s", ctx->input, strerror(errno));
	return fd;
}

int anon_main(const struct anon_tool *tool, void *tool_state, int argc, char **argv)
{
	static struct anon_ctx c;
	struct anon_ctx *ctx = &c;
	anon_progname = tool->name;
	ctx->tool = tool;
	ctx->state = tool_state;
	ctx->d.fmt = ANON_FMT_CSV;
	ctx->d.quote = '"';
	ctx->header = -1;
	ctx->progress = -1;
	ctx->t0 = now();
	anon_audit_time(ctx->time, ctx->t0);

	parse_options(ctx, argc, argv);
	if (ctx->ncols == 0 && tool->rule_required)
		usage_error(ctx, "no column selected (-c COLUMN=RULE)");
	if (!anon_key_load(tool->name, ctx->key_file, ctx->domain) && tool->needs_key)
		anon_die(EX_CONFIG, "no key: give --key-file FILE, or set ANON_KEY_FILE or ANON_KEY "
			 "(make one with 'openssl rand -hex 32 > anon.key')");
	anon_run_id(ctx->run_id);

	ctx->colrefs = xcalloc(ctx->ncols, sizeof *ctx->colrefs);
	ctx->sel = xcalloc(ctx->ncols, sizeof *ctx->sel);
	for (size_t i = 0; i < ctx->ncols; i++) {
		struct anon_column *col = &ctx->cols[i];
		if (!col->rule && tool->rule_required)
			usage_error(ctx, "column '%s' needs a rule (-c %s=RULE)", col->spec, col->spec);
		ctx->colrefs[i] = ref_new(ctx, col->spec);
		int rc = tool->rule(ctx, col);
		if (rc)
			exit(rc);
	}
	refs_prepare(ctx);
	if (tool->start) {
		int rc = tool->start(ctx);
		if (rc)
			exit(rc);
	}

	refs_prepare(ctx);
	int fd = open_input(ctx);
	if (ctx->rejects_path) {
		int rfd = open(ctx->rejects_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (rfd < 0)
			anon_die(EX_IOERR, "%s: %s", ctx->rejects_path, strerror(errno));
		anon_writer_open(&ctx->rej, rfd, ctx->rejects_path, 64 * 1024);
		ctx->rej_open = true;
	}
	anon_writer_open(&ctx->out, STDOUT_FILENO, "stdout", 256 * 1024);
	anon_reader_open(&ctx->r, fd, ctx->input, &ctx->d, ctx->header);
	if (ctx->progress < 0)
		ctx->progress = isatty(STDERR_FILENO) && ctx->r.size >= 0;
	running_ctx = ctx;
	ctx->running = true;

	/* Headerless flat input: resolve now, against --schema or numbers. */
	if (!ctx->header && ctx->d.fmt != ANON_FMT_PGDUMP && ctx->nschema) {
		ctx->names = ctx->schema;
		ctx->nnames = ctx->nschema;
		ctx->expected = ctx->nschema;
		resolve(ctx, ctx->nschema, true);
	}
	if (!ctx->header && ctx->d.fmt != ANON_FMT_PGDUMP && !ctx->nschema) {
		for (struct anon_ref *r = ctx->refs; r; r = r->next)
			if (!all_digits(r->spec))
				anon_die(EX_USAGE, "column '%s': headerless input has no names; give "
					 "--schema or use column numbers", r->spec);
	}

	enum anon_rec rec;
	while ((rec = anon_reader_next(&ctx->r)) != ANON_REC_EOF) {
		switch (rec) {
		case ANON_REC_RAW:
			anon_writer_put(&ctx->out, ctx->r.raw, ctx->r.rawlen);
			break;
		case ANON_REC_TABLE:
			anon_writer_put(&ctx->out, ctx->r.raw, ctx->r.rawlen);
			take_table(ctx);
			break;
		case ANON_REC_HEADER:
			take_header(ctx, &ctx->r.row);
			anon_writer_put(&ctx->out, ctx->r.row.raw, ctx->r.row.rawlen);
			if (ctx->rej_open)
				anon_writer_put(&ctx->rej, ctx->r.row.raw, ctx->r.row.rawlen);
			break;
		case ANON_REC_BAD:
			ctx->rows_in++;
			reject(ctx, ctx->r.raw, ctx->r.rawlen, ctx->r.err.line, ctx->r.err.field,
			       ctx->r.err.reason, ctx->header && !ctx->header_seen);
			break;
		case ANON_REC_ROW:
			process_row(ctx, &ctx->r.row);
			if (ctx->progress && (ctx->rows_in & 8191) == 0)
				progress(ctx, false);
			break;
		case ANON_REC_EOF:
			break;
		}
	}
	if (ctx->d.fmt == ANON_FMT_PGDUMP)
		for (size_t i = 0; i < ctx->ncols; i++)
			if (!ctx->cols[i].matched)
				anon_die(EX_USAGE, "column '%s' is in no COPY block of the dump",
					 ctx->cols[i].spec);
	if (ctx->progress)
		progress(ctx, true);
	anon_writer_flush(&ctx->out);
	if (ctx->rej_open) {
		anon_writer_close(&ctx->rej);
		if (close(ctx->rej.fd) != 0)
			anon_die(EX_IOERR, "%s: %s", ctx->rejects_path, strerror(errno));
	}
	if (close(STDOUT_FILENO) != 0 && errno != EBADF)
		anon_die(EX_IOERR, "stdout: %s", strerror(errno));
	if (ctx->rows_rejected && !ctx->quiet)
		anon_warn("%llu row%s rejected", (unsigned long long)ctx->rows_rejected,
			  ctx->rows_rejected == 1 ? "" : "s");
	ctx->running = false;
	write_audit(ctx, 0);
	anon_key_wipe();
	anon_writer_close(&ctx->out);
	anon_reader_close(&ctx->r);
	return 0;
}
