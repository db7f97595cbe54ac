/* anon-report: a compliance and lineage report of one pipeline run, from the audit records
 * its stages wrote (never from the data): what each column went through, by which stage,
 * with what parameters and key, what GDPR, CCPA and PIPEDA make of it, the privacy budget
 * spent, what validation found, and every place where the records do not join up.
 * Markdown, JSON or self-contained HTML; a detached Ed25519 signature on request.
 * It is not a row filter: it does not use anon_main. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: anon-report [-q] [-o FILE] [--format md|html|json] [--run ID] "
		   "[--meta FILE]\n"
		   "                   [--sign KEY.pem] AUDIT ...\n"
		   "       anon-report --verify --pubkey PUB.pem [--sig FILE] REPORT\n");
}

static void help(void)
{
	usage(stdout);
	printf("  -o, --output FILE     write the report to FILE (default: stdout)\n"
	       "      --format FMT      md (default), html or json\n"
	       "      --run ID          the run to report (default: the latest in the files)\n"
	       "      --meta FILE       JSON: controller, purpose, data categories, recipients,\n"
	       "                        retention (the GDPR Art. 30 record), columns\n"
	       "      --sign KEY.pem    write a detached Ed25519 signature to FILE.sig (needs -o)\n"
	       "      --verify          check REPORT against REPORT.sig (or --sig FILE)\n"
	       "      --pubkey PUB.pem  the Ed25519 public key for --verify\n"
	       "  -q, --quiet           no warnings\n"
	       "  -h, --help            this help\n"
	       "  -V, --version         print the version\n"
	       "exit: 0 ok; 1 the report flags an error (it is still written), or a signature\n"
	       "      that does not match; 64 usage; 65 bad audit or signature data; 66 cannot\n"
	       "      open; 74 cannot write; 78 bad key\n");
}

static int read_file(const char *path, struct anon_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		anon_error("%s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		anon_buf_add(b, chunk, k);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		anon_error("%s: read error", path);
		return EX_IOERR;
	}
	return 0;
}

static int write_file(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	if (!f) {
		anon_error("%s: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	size_t k = n ? fwrite(p, 1, n, f) : 0;
	int bad = k != n || ferror(f);
	if (fclose(f) != 0)
		bad = 1;
	if (bad) {
		anon_error("%s: write error: %s", path ? path : "standard output", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

static int verify(const char *pub, const char *sigpath, const char *report)
{
	struct anon_buf msg = { 0 }, sig = { 0 };
	char *defsig = NULL;
	if (!sigpath) {
		defsig = malloc(strlen(report) + 5);
		if (!defsig)
			anon_die(EX_OSERR, "out of memory");
		sprintf(defsig, "%s.sig", report);
		sigpath = defsig;
	}
	int rc = read_file(report, &msg);
	if (!rc)
		rc = read_file(sigpath, &sig);
	if (!rc)
		rc = report_verify(pub, msg.p ? msg.p : (const unsigned char *)"", msg.len, sig.p,
				   sig.len);
	if (!rc)
		fprintf(stderr, "anon-report: %s: signature OK\n", report);
	anon_buf_free(&msg);
	anon_buf_free(&sig);
	free(defsig);
	return rc;
}

int main(int argc, char **argv)
{
	anon_progname = "anon-report";
	enum { O_FORMAT = 256, O_RUN, O_META, O_SIGN, O_VERIFY, O_PUBKEY, O_SIG };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "run", required_argument, NULL, O_RUN },
		{ "meta", required_argument, NULL, O_META },
		{ "sign", required_argument, NULL, O_SIGN },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "sig", required_argument, NULL, O_SIG },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *out = NULL, *format = "md", *run = NULL, *metapath = NULL, *signkey = NULL,
		   *pubkey = NULL, *sigpath = NULL;
	bool do_verify = false, quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "o:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case O_FORMAT: format = optarg; break;
		case O_RUN: run = optarg; break;
		case O_META: metapath = optarg; break;
		case O_SIGN: signkey = optarg; break;
		case O_VERIFY: do_verify = true; break;
		case O_PUBKEY: pubkey = optarg; break;
		case O_SIG: sigpath = optarg; break;
		case 'q': quiet = true; break;
		case 'h': help(); return 0;
		case 'V': printf("anon-report %s\n", ANON_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (do_verify) {
		if (!pubkey || argc != 1 || out || signkey) {
			anon_error("--verify takes --pubkey PUB.pem and one REPORT");
			usage(stderr);
			return EX_USAGE;
		}
		return verify(pubkey, sigpath, argv[0]);
	}
	if (pubkey || sigpath) {
		anon_error("--pubkey and --sig go with --verify");
		return EX_USAGE;
	}
	if (strcmp(format, "md") != 0 && strcmp(format, "html") != 0 && strcmp(format, "json") != 0) {
		anon_error("--format: md, html or json");
		return EX_USAGE;
	}
	if (argc < 1) {
		anon_error("no audit file (\"-\" reads standard input)");
		usage(stderr);
		return EX_USAGE;
	}
	if (signkey && !out) {
		anon_error("--sign needs -o FILE: the signature goes next to it, in FILE.sig");
		return EX_USAGE;
	}
	json_t *meta = NULL;
	if (metapath) {
		json_error_t e;
		FILE *f = fopen(metapath, "rb");
		if (!f) {
			anon_error("%s: %s", metapath, strerror(errno));
			return EX_NOINPUT;
		}
		meta = json_loadf(f, 0, &e);
		fclose(f);
		if (!json_is_object(meta)) {
			anon_error("%s:%d: --meta wants a JSON object: %s", metapath, e.line,
				   meta ? "not an object" : e.text);
			json_decref(meta);
			return EX_DATAERR;
		}
	}
	struct report_input in = { 0 };
	for (int i = 0; i < argc; i++) {
		int rc = report_load(&in, argv[i]);
		if (rc) {
			report_input_free(&in);
			json_decref(meta);
			return rc;
		}
	}
	const char *id = report_pick_run(&in, run);
	if (!id) {
		if (run)
			anon_error("no record of run %s in the audit files", run);
		else
			anon_error("the audit files hold no record");
		report_input_free(&in);
		json_decref(meta);
		return EX_DATAERR;
	}
	json_t *model = report_build(&in, id, meta);
	struct anon_buf buf = { 0 };
	if (strcmp(format, "json") == 0) {
		char *s = json_dumps(model, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		anon_buf_addstr(&buf, s);
		anon_buf_addc(&buf, '\n');
		free(s);
	} else if (strcmp(format, "html") == 0) {
		report_html(model, &buf);
	} else {
		report_md(model, &buf);
	}
	int worst = report_worst(model);
	if (worst && !quiet) {
		const json_t *s = json_object_get(model, "summary");
		anon_warn("run %s: %lld errors and %lld warnings flagged (see the report)", id,
			  (long long)report_int(s, "errors"), (long long)report_int(s, "warnings"));
	}
	int rc = write_file(out, buf.p, buf.len);
	if (!rc && signkey) {
		unsigned char sig[64];
		rc = report_sign(signkey, buf.p, buf.len, sig);
		if (!rc) {
			char *sp = malloc(strlen(out) + 5);
			if (!sp)
				anon_die(EX_OSERR, "out of memory");
			sprintf(sp, "%s.sig", out);
			rc = write_file(sp, sig, sizeof sig);
			free(sp);
		}
	}
	anon_buf_free(&buf);
	json_decref(model);
	json_decref(meta);
	report_input_free(&in);
	if (rc)
		return rc;
	return worst == 2 ? ANON_EX_CHECK : 0;
}
