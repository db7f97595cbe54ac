/* fpe_vectors.c: FF1 and FF3-1 at the numeral level against every published known-answer
 * vector in t/data/vectors (fpe-public.tsv and fpe-full/), in both directions.
 * The directory is $ANON_VECTORS when set, else the in-tree t/data/vectors. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpe.h"
#include "tap.h"

static char vecdir[PATH_MAX + 32];

/* $ANON_VECTORS alone when it is set (an override that silently fell back would test
 * something else); otherwise t/data/vectors from the working directory (make check runs
 * from the top of the tree), then from this binary's place in build/<flavour>/t/. */
static bool find_vectors(void)
{
	const char *env = getenv("ANON_VECTORS");
	char exe[PATH_MAX];
	char fromexe[PATH_MAX + 32];
	const char *tries[2] = { "t/data/vectors", NULL };
	if (env && *env) {
		tries[0] = env;
	} else {
		/* build/<flavour>/t/fpe_vectors -> the top of the tree is three levels up */
		ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (l > 0) {
			exe[l] = 0;
			for (int up = 0; up < 4; up++) {
				char *slash = strrchr(exe, '/');
				if (slash)
					*slash = 0;
			}
			snprintf(fromexe, sizeof fromexe, "%s/t/data/vectors", exe);
			tries[1] = fromexe;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!tries[i])
			continue;
		char probe[PATH_MAX + 64];
		snprintf(probe, sizeof probe, "%s/fpe-public.tsv", tries[i]);
		if (access(probe, R_OK) == 0) {
			snprintf(vecdir, sizeof vecdir, "%s", tries[i]);
			return true;
		}
	}
	return false;
}

static bool unhex(const char *s, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > max)
		return false;
	if (!anon_hex_decode(s, n, out))
		return false;
	*len = n / 2;
	return true;
}

/* Split a line at TABs in place; fields are not trimmed. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == '\t') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

/* A string over the alphabet to numerals; false when a symbol is outside it. */
static bool to_numerals(const struct fpe_alphabet *a, const char *s, uint16_t **out, size_t *n)
{
	size_t len = strlen(s);
	*out = malloc((len + 1) * sizeof **out);
	*n = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t l = anon_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		int32_t v = l ? fpe_alphabet_find(a, cp) : -1;
		if (v < 0)
			return false;
		(*out)[(*n)++] = (uint16_t)v;
		i += l;
	}
	return true;
}

/* "12 0 7" to numerals; false for a value outside 0..65535 (the invalid cases have -1). */
static bool parse_numeral_list(const char *s, uint16_t **out, size_t *n)
{
	size_t cap = strlen(s) / 2 + 2;
	*out = malloc(cap * sizeof **out);
	*n = 0;
	while (*s) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (end == s || errno || v < 0 || v > 65535)
			return false;
		(*out)[(*n)++] = (uint16_t)v;
		s = end;
		while (*s == ' ')
			s++;
	}
	return true;
}

struct tally {
	const char *file;
	long rows, passed, skipped;
	int shown;
};

static void fail_row(struct tally *t, long line, const char *what)
{
	if (t->shown++ < 5)
		printf("# %s line %ld: %s\n", t->file, line, what);
}

/* Run one vector: expect_ok says whether E/D must succeed and match, or must be refused. */
static void run_vector(struct tally *t, long line, const char *alg, const char *key_hex,
		       const char *tweak_hex, unsigned radix, const uint16_t *pt,
		       const uint16_t *ct, size_t n, bool numerals_ok, bool expect_ok)
{
	enum fpe_algo algo = strcmp(alg, "FF1") == 0 ? FPE_FF1 : FPE_FF3_1;
	unsigned char key[64], tweak[512];
	size_t klen, tlen;
	struct fpe_cipher c;
	t->rows++;
	if (!unhex(key_hex, key, sizeof key, &klen) || !unhex(tweak_hex, tweak, sizeof tweak, &tlen)) {
		if (expect_ok)
			fail_row(t, line, "bad hex");
		else
			t->passed++;
		return;
	}
	if (fpe_cipher_init(&c, algo, key, klen) != 0) {
		if (expect_ok)
			fail_row(t, line, "key refused");
		else
			t->passed++;
		return;
	}
	uint16_t *got = malloc((n + 1) * sizeof *got);
	struct fpe_plan plan;
	const char *why = fpe_plan_init(&plan, &c, tweak, tlen, radix, n);
	if (!expect_ok) {
		if (why || !numerals_ok || fpe_plan_run(&plan, pt, got, false))
			t->passed++;
		else
			fail_row(t, line, "accepted a case that must be refused");
		goto out;
	}
	if (why || !numerals_ok) {
		fail_row(t, line, why ? why : "symbol outside alphabet");
		goto out;
	}
	if ((why = fpe_plan_run(&plan, pt, got, false)) || memcmp(got, ct, n * sizeof *got)) {
		fail_row(t, line, why ? why : "encrypt mismatch");
		goto out;
	}
	if ((why = fpe_plan_run(&plan, ct, got, true)) || memcmp(got, pt, n * sizeof *got)) {
		fail_row(t, line, why ? why : "decrypt mismatch");
		goto out;
	}
	/* The bignum path must agree with the fast one wherever both apply. */
	if (plan.path != FPE_PATH_BIG && algo == FPE_FF1) {
		fpe_plan_force_big(&plan);
		if (fpe_plan_run(&plan, pt, got, false) || memcmp(got, ct, n * sizeof *got) ||
		    fpe_plan_run(&plan, ct, got, true) || memcmp(got, pt, n * sizeof *got)) {
			fail_row(t, line, "bignum path disagrees");
			goto out;
		}
	}
	t->passed++;
out:
	free(got);
	fpe_cipher_free(&c);
}

static FILE *open_vec(const char *rel)
{
	char path[PATH_MAX + 128];
	snprintf(path, sizeof path, "%s/%s", vecdir, rel);
	return fopen(path, "r");
}

/* alg key tweak radix alphabet plaintext ciphertext [expected flags] */
static void run_string_file(const char *rel, bool all_refused)
{
	struct tally t = { .file = rel };
	FILE *f = open_vec(rel);
	ok(f != NULL, "open %s", rel);
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = 0;
		if (++lineno == 1)
			continue;
		char *fld[10];
		size_t nf = split_tabs(line, fld, 10);
		if (nf < 7) {
			fail_row(&t, lineno, "short row");
			t.rows++;
			continue;
		}
		if (strcmp(fld[0], "FF3") == 0) {  /* legacy 64-bit tweak FF3: not ours */
			t.skipped++;
			continue;
		}
		bool expect_ok = !all_refused && !(nf >= 8 && strcmp(fld[7], "reject") == 0);
		struct fpe_alphabet a;
		unsigned radix = (unsigned)strtoul(fld[3], NULL, 10);
		const char *why = fpe_alphabet_init(&a, fld[4], strlen(fld[4]));
		if (why || a.radix != radix) {
			t.rows++;
			if (expect_ok)
				fail_row(&t, lineno, why ? why : "radix differs from alphabet size");
			else
				t.passed++;
			if (!why)
				fpe_alphabet_free(&a);
			continue;
		}
		uint16_t *pt, *ct;
		size_t npt, nct;
		bool okp = to_numerals(&a, fld[5], &pt, &npt);
		bool okc = to_numerals(&a, fld[6], &ct, &nct);
		if (expect_ok && (!okc || nct != npt)) {
			t.rows++;
			fail_row(&t, lineno, "ciphertext not over the alphabet");
		} else {
			run_vector(&t, lineno, fld[0], fld[1], fld[2], radix, pt, ct, npt, okp,
				   expect_ok);
		}
		free(pt);
		free(ct);
		fpe_alphabet_free(&a);
	}
	free(line);
	fclose(f);
	ok(t.passed == t.rows && t.rows > 0, "%s: %ld of %ld rows%s (%ld legacy FF3 rows skipped)",
	   rel, t.passed, t.rows, all_refused ? " refused" : "", t.skipped);
}

/* alg key tweak radix plaintext_numerals ciphertext_numerals expected flags source */
static void run_numeral_file(const char *rel)
{
	struct tally t = { .file = rel };
	FILE *f = open_vec(rel);
	ok(f != NULL, "open %s", rel);
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, refused = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = 0;
		if (++lineno == 1)
			continue;
		char *fld[10];
		size_t nf = split_tabs(line, fld, 10);
		if (nf < 8) {
			fail_row(&t, lineno, "short row");
			t.rows++;
			continue;
		}
		/* Rev.1 requires radix^n >= 10^6: the 2016 SmallMessageSize cases are refused. */
		bool expect_ok = strcmp(fld[6], "ok") == 0 && strcmp(fld[7], "SmallMessageSize") != 0;
		refused += !expect_ok;
		uint16_t *pt, *ct;
		size_t npt, nct;
		bool okp = parse_numeral_list(fld[4], &pt, &npt);
		bool okc = parse_numeral_list(fld[5], &ct, &nct);
		if (expect_ok && (!okp || !okc || npt != nct)) {
			t.rows++;
			fail_row(&t, lineno, "bad numeral lists");
		} else {
			run_vector(&t, lineno, fld[0], fld[1], fld[2],
				   (unsigned)strtoul(fld[3], NULL, 10), pt, ct, npt, okp, expect_ok);
		}
		free(pt);
		free(ct);
	}
	free(line);
	fclose(f);
	ok(t.passed == t.rows && t.rows > 0, "%s: %ld of %ld rows (%ld must be refused)", rel,
	   t.passed, t.rows, refused);
}

int main(void)
{
	bool found = find_vectors();
	ok(found, "vectors found ($ANON_VECTORS, else t/data/vectors)");
	if (!found)
		return tap_done();
	printf("# vectors in %s\n", vecdir);
	run_string_file("fpe-public.tsv", false);
	run_string_file("fpe-full/ff1-acvp.tsv", false);
	run_string_file("fpe-full/ff1-other.tsv", false);
	run_string_file("fpe-full/ff1-wycheproof.tsv", false);
	run_string_file("fpe-full/ff3-1-acvp.tsv", false);
	run_string_file("fpe-full/ff3-1-other.tsv", false);
	run_string_file("fpe-full/extra/ff1-wycheproof-small-domain.tsv", true);
	run_string_file("fpe-full/extra/ff1-wycheproof-invalid.tsv", false);
	run_numeral_file("fpe-full/extra/ff1-numerals.tsv");
	run_numeral_file("fpe-full/extra/ff3-1-numerals.tsv");
	return tap_done();
}
