/* opts.c: the common options, parsed once into the run's configuration (read-only after),
 * and the tool's own options handed to its option() hook in command-line order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon-int.h"

/* long-only common options; tools use values below 1000 for theirs */
enum {
	OPT_SCHEMA = 1000, OPT_KEY_FILE, OPT_DOMAIN, OPT_AUDIT, OPT_ON_ERROR, OPT_REJECTS,
	OPT_PROGRESS, OPT_NO_PROGRESS, OPT_HEADER, OPT_NO_HEADER, OPT_QUOTE, OPT_JOBS,
	OPT_NO_ROLLBACK, OPT_NULL, OPT_CSV_STRICT,
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
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
	{ "null", required_argument, NULL, OPT_NULL },
	{ "csv-strict", no_argument, NULL, OPT_CSV_STRICT },
};
#define NCOMMON (sizeof common_longopts / sizeof common_longopts[0])
#define MAX_JOBS 64

static const char *const on_error_names[] = { "fail", "skip", "keep", "null" };

const char *anon_on_error_name(enum anon_on_error m)
{
	return on_error_names[m];
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

static void usage(const struct anon_run *run, FILE *f)
{
	fprintf(f, "usage: %s %s\n", run->tool->name, run->tool->synopsis);
	if (run->tool->help)
		fputs(run->tool->help, f);
	fputs("common options:\n"
	      "  -c, --column SPEC[=RULE]  select a column (name, number, table.column)\n"
	      "  -f, --format FMT          csv | tsv | copy | pgdump (env ANON_FORMAT; csv)\n"
	      "      --schema NAMES        column names for headerless input (a,b,c)\n"
	      "      --header, --no-header first line names the columns (csv/tsv: on; copy: off)\n"
	      "  -d, --delimiter C         field delimiter (csv ',', copy TAB)\n"
	      "      --quote C             csv quote character (\")\n"
	      "      --null STRING         the NULL marker of the input (csv: unquoted empty;\n"
	      "                            copy: \\N)\n"
	      "      --csv-strict          a quote inside an unquoted csv field is an error\n"
	      "      --key-file FILE       secret key (env ANON_KEY_FILE, or ANON_KEY as hex)\n"
	      "      --domain NAME         key-derivation context (default none)\n"
	      "      --audit FILE          append a JSON audit record (env ANON_AUDIT)\n"
	      "      --on-error MODE       fail | skip | keep | null (default fail)\n"
	      "      --rejects FILE        write rejected rows to FILE\n"
	      "      --no-rollback         on failure, end output after the last complete row\n"
	      "                            (no line that makes PostgreSQL refuse the load)\n"
	      "      --jobs N              worker threads (default 1; 0: one per core)\n"
	      "      --progress            rows, bytes, rate and ETA on stderr\n"
	      "  -q, --quiet               no warnings\n"
	      "  -h, --help                this help\n"
	      "  -V, --version             print the version\n", f);
}

void anon_usage_error(const struct anon_run *run, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		char msg[512];
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		anon_error("%s", msg);
	}
	fprintf(stderr, "usage: %s %s\n", run->tool->name, run->tool->synopsis);
	fprintf(stderr, "Try '%s --help' for more information.\n", run->tool->name);
	exit(EX_USAGE);
}

static unsigned char one_char(const struct anon_run *run, const char *opt, const char *arg)
{
	if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0)
		return '\t';
	if (strlen(arg) != 1 || arg[0] == '\n' || arg[0] == '\r' || arg[0] == '\\')
		anon_usage_error(run, "%s takes one single-byte character", opt);
	return (unsigned char)arg[0];
}

/* The '=' that starts the rule: the first one outside double quotes, so a quoted name may
 * hold one (-c '"x=y"=hex'). */
static char *rule_start(char *spec)
{
	bool quoted = false;
	for (char *p = spec; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '=' && !quoted)
			return p;
	}
	return NULL;
}

static void add_column(struct anon_run *run, const char *arg)
{
	char *spec = anon_xstrdup(arg), *eq = rule_start(spec);
	if (eq)
		*eq++ = '\0';
	if (!*spec)
		anon_usage_error(run, "-c needs a column name or number");
	run->cols = anon_xrealloc(run->cols, (run->ncols + 1) * sizeof *run->cols);
	struct anon_column *c = &run->cols[run->ncols];
	memset(c, 0, sizeof *c);
	c->spec = spec;
	c->rule = eq;
	c->ordinal = run->ncols++;
}

/* --schema a,b,"C d": names as SQL writes them (a quoted one may hold commas, "" is a quote),
 * the way -c and a pg_dump COPY line write them. An empty name would move every name after
 * it one column left of its data: it is an error, as is a quote left open. */
static void split_schema(struct anon_run *run, const char *arg)
{
	struct anon_config *cfg = &run->cfg;
	const char *p = arg, *end = arg + strlen(arg);
	for (size_t n = 1;; n++) {
		char *name = anon_sql_ident(&p, end, ",");
		if (!name || !name[0] || (p < end && *p != ','))
			anon_usage_error(run, "--schema: name %zu is %s", n,
					 !name || !name[0] ? "empty, or its quote is not closed" :
							     "followed by more than a comma");
		cfg->schema = anon_xrealloc(cfg->schema, (cfg->nschema + 1) * sizeof *cfg->schema);
		cfg->schema[cfg->nschema++] = name;
		if (p == end)
			break;
		p++; /* the comma */
	}
}

static bool parse_on_error(const char *arg, enum anon_on_error *m)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(arg, on_error_names[i]) == 0) {
			*m = (enum anon_on_error)i;
			return true;
		}
	return false;
}

static unsigned parse_jobs(const struct anon_run *run, const char *arg)
{
	uint64_t n;
	if (!anon_parse_uint64(arg, &n) || n > MAX_JOBS)
		anon_usage_error(run, "--jobs takes a number of workers from 0 (one per core) to %d",
				 MAX_JOBS);
	if (n == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores < 1 ? 1 : cores > MAX_JOBS ? MAX_JOBS : (uint64_t)cores;
	}
	return (unsigned)n;
}

static void exit_after_print(void)
{
	if (ferror(stdout) | (fclose(stdout) != 0))
		exit(EX_IOERR);
	exit(0);
}

void anon_config_parse(struct anon_run *run, int argc, char **argv)
{
	const struct anon_tool *t = run->tool;
	struct anon_config *cfg = &run->cfg;
	size_t ntool = 0;
	while (t->longopts && t->longopts[ntool].name)
		ntool++;
	struct option *longopts = anon_xcalloc(NCOMMON + ntool + 1, sizeof *longopts);
	memcpy(longopts, common_longopts, sizeof common_longopts);
	if (ntool)
		memcpy(longopts + NCOMMON, t->longopts, ntool * sizeof *longopts);
	char shortopts[128];
	snprintf(shortopts, sizeof shortopts, "+c:f:d:qhV%s", t->shortopts ? t->shortopts : "");

	cfg->d.fmt = ANON_FMT_CSV;
	cfg->d.quote = '"';
	cfg->rollback = true;
	cfg->jobs = 1;
	int header = -1, progress = -1;
	bool fmt_set = false;
	cfg->audit_path = getenv("ANON_AUDIT");
	if (cfg->audit_path && !*cfg->audit_path)
		cfg->audit_path = NULL;

	bool delim_set = false;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'c': add_column(run, optarg); break;
		case 'f':
			if (!anon_fmt_parse(optarg, &cfg->d.fmt))
				anon_usage_error(run, "unknown format '%s' (csv, tsv, copy, pgdump)",
						 optarg);
			fmt_set = true;
			break;
		case 'd': cfg->d.delim = one_char(run, "--delimiter", optarg); delim_set = true; break;
		case 'q': cfg->quiet = anon_quiet = true; break;
		case 'h': usage(run, stdout); exit_after_print(); break;
		case 'V': printf("%s %s\n", t->name, ANON_VERSION); exit_after_print(); break;
		case OPT_SCHEMA: split_schema(run, optarg); break;
		case OPT_KEY_FILE: cfg->key_file = optarg; break;
		case OPT_DOMAIN: cfg->domain = optarg; break;
		case OPT_AUDIT: cfg->audit_path = optarg; break;
		case OPT_ON_ERROR:
			if (!parse_on_error(optarg, &cfg->on_error))
				anon_usage_error(run, "--on-error takes fail, skip, keep or null");
			break;
		case OPT_REJECTS: cfg->rejects_path = optarg; break;
		case OPT_PROGRESS: progress = 1; break;
		case OPT_NO_PROGRESS: progress = 0; break;
		case OPT_HEADER: header = 1; break;
		case OPT_NO_HEADER: header = 0; break;
		case OPT_QUOTE: cfg->d.quote = one_char(run, "--quote", optarg); break;
		case OPT_JOBS: cfg->jobs = parse_jobs(run, optarg); break;
		case OPT_NO_ROLLBACK: cfg->rollback = false; break;
		case OPT_NULL:
			cfg->d.null = (const unsigned char *)optarg;
			cfg->d.nulllen = strlen(optarg);
			break;
		case OPT_CSV_STRICT: cfg->d.strict = true; break;
		case '?': anon_usage_error(run, NULL);
		default: {
			if (!t->option)
				anon_usage_error(run, NULL);
			int rc = t->option(run, c, optarg);
			if (rc == EX_USAGE)
				anon_usage_error(run, NULL);
			if (rc)
				exit(rc);
		}
		}
	}
	free(longopts);
	const char *env = getenv("ANON_FORMAT"); /* -f wins over it, even when it is bogus */
	if (!fmt_set && env && *env && !anon_fmt_parse(env, &cfg->d.fmt))
		anon_usage_error(run, "ANON_FORMAT: unknown format (csv, tsv, copy, pgdump)");
	if (argc - optind > 1)
		anon_usage_error(run, "one input file at most");
	cfg->input = optind < argc ? argv[optind] : "-";
	cfg->delim_set = delim_set;
	if (!delim_set)
		cfg->d.delim = cfg->d.fmt == ANON_FMT_CSV ? ',' : '\t';
	if (cfg->d.fmt == ANON_FMT_PGDUMP)
		cfg->d.delim = '\t';
	if (cfg->d.delim == cfg->d.quote && cfg->d.fmt == ANON_FMT_CSV)
		anon_usage_error(run, "the delimiter and the quote must differ");
	if (header < 0)
		header = cfg->d.fmt == ANON_FMT_CSV || cfg->d.fmt == ANON_FMT_TSV;
	/* COPY text has a header line only when asked (COPY ... WITH (HEADER), PostgreSQL 15) */
	cfg->header = header && cfg->d.fmt != ANON_FMT_PGDUMP;
	if (cfg->d.null && cfg->d.fmt == ANON_FMT_PGDUMP)
		anon_usage_error(run, "--null is for csv and copy input: a dump's COPY blocks use \\N");
	if (cfg->d.null && (memchr(cfg->d.null, cfg->d.delim, cfg->d.nulllen) ||
			    strpbrk((const char *)cfg->d.null, "\r\n")))
		anon_usage_error(run, "--null must not hold the delimiter or a line break");
	if (cfg->header && cfg->nschema)
		anon_usage_error(run, "--schema is for headerless input (add --no-header)");
	if (cfg->rejects_path && cfg->on_error == ANON_ON_ERROR_FAIL)
		anon_usage_error(run, "--rejects goes with --on-error skip, keep or null");
	/* progress: asked for, or auto when stderr is a terminal (and stdin a regular file:
	 * decided when the input is open) */
	cfg->progress = progress >= 0 ? progress : isatty(STDERR_FILENO) ? 2 : 0;
}

void anon_config_free(struct anon_run *run)
{
	for (size_t i = 0; i < run->cfg.nschema; i++)
		free(run->cfg.schema[i]);
	free(run->cfg.schema);
	for (size_t i = 0; i < run->ncols; i++) {
		if (run->tool->rule_free && run->cols[i].state)
			run->tool->rule_free(&run->cols[i]);
		free((char *)run->cols[i].spec); /* the rule lives in the same allocation */
		json_decref(run->cols[i].params);
	}
	free(run->cols);
}
