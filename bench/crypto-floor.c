/* crypto-floor.c: the OpenSSL calls anon-token makes for one value, alone, timed over
 * every value of column COL (0 first) of a CSV file (bench/bench-token.sh gives it the
 * workload). It is the floor under a token: no tool can make a token in less time than these
 * calls take, so the time of the passthrough plus this one bounds what a mode can reach on
 * the machine. It links anon-token's own crypto.o, so it times the tool's calls, not a copy:
 *
 *   crypto-floor hmac CSV COL  tok_keyed_start: HMAC-SHA256 of "context, 0 byte, value"
 *                              (the default, empty context), as a keyed token begins
 *   crypto-floor siv CSV COL   tok_siv_seal with AES-256-SIV and no associated data (the
 *                              default context), as a siv token is made
 *
 * Prints one line: the mode, the number of values, seconds, and nanoseconds a value. The
 * file is read and its column found before the clock starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "token.h"


static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "crypto-floor: %s\n", what);
	exit(1);
}

struct lines {
	char *buf;
	size_t *off, *len, n, max; /* max: the longest value */
};

/* Column col (0 first) of every record of a CSV file after its header (RFC 4180: a quoted
 * field may hold commas, "" and line breaks), unquoted in place; empty fields are left out,
 * as anon-token makes no token for them either. */
static struct lines load(const char *path, size_t col)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open the CSV file");
	struct lines l = { 0 };
	size_t cap = 0, size = 0, got;
	char chunk[65536];
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (size + got > cap) {
			cap = (size + got) * 2;
			if (!(l.buf = realloc(l.buf, cap)))
				die("out of memory");
		}
		memcpy(l.buf + size, chunk, got);
		size += got;
	}
	fclose(f);
	size_t lcap = 0, field = 0, record = 0, i = 0;
	while (i < size) {
		size_t start = i, w = i; /* the field's bytes, unquoted, are written from w */
		if (l.buf[i] == '"') {
			for (i++; i < size; i++) {
				if (l.buf[i] == '"' && (i + 1 >= size || l.buf[i + 1] != '"'))
					break;
				if (l.buf[i] == '"')
					i++;
				l.buf[w++] = l.buf[i];
			}
			i++; /* the closing quote */
		} else {
			while (i < size && l.buf[i] != ',' && l.buf[i] != '\n' && l.buf[i] != '\r')
				i++;
			w = i;
		}
		if (record > 0 && field == col && w > start) {
			if (l.n == lcap) {
				lcap = lcap ? lcap * 2 : 1 << 16;
				l.off = realloc(l.off, lcap * sizeof *l.off);
				l.len = realloc(l.len, lcap * sizeof *l.len);
				if (!l.off || !l.len)
					die("out of memory");
			}
			l.off[l.n] = start;
			l.len[l.n++] = w - start;
			if (w - start > l.max)
				l.max = w - start;
		}
		if (i < size && l.buf[i] == ',') {
			field++;
			i++;
		} else {
			if (i < size && l.buf[i] == '\r')
				i++;
			if (i < size && l.buf[i] == '\n')
				i++;
			field = 0;
			record++;
		}
	}
	return l;
}

static volatile unsigned char sink; /* the outputs are read */
static const unsigned char key[64] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static double run_hmac(const struct lines *l)
{
	EVP_MAC_CTX *mac = tok_hmac_template(key, 32);
	if (!mac)
		die("HMAC set-up failed");
	struct tok_keyed_stream k;
	unsigned char sum = 0;
	double t = now();
	for (size_t i = 0; i < l->n; i++) {
		tok_keyed_start(&k, mac, "", (const unsigned char *)l->buf + l->off[i], l->len[i]);
		sum ^= k.first[0];
	}
	t = now() - t;
	EVP_MAC_CTX_free(mac);
	sink = sum;
	return t;
}

static double run_siv(const struct lines *l)
{
	EVP_CIPHER_CTX *tmpl = tok_siv_template("AES-256-SIV", key, true, NULL, 0);
	EVP_CIPHER_CTX *work = tmpl ? tok_siv_dup(tmpl) : NULL;
	unsigned char *out = malloc(l->max + TOK_TAG_LEN), sum = 0;
	if (!work || !out)
		die("SIV set-up failed");
	double t = now();
	for (size_t i = 0; i < l->n; i++) {
		if (!tok_siv_seal(work, tmpl, NULL, 0, (const unsigned char *)l->buf + l->off[i],
				  l->len[i], out))
			die("SIV seal failed");
		sum ^= out[0];
	}
	t = now() - t;
	EVP_CIPHER_CTX_free(work);
	EVP_CIPHER_CTX_free(tmpl);
	free(out);
	sink = sum;
	return t;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "hmac") && strcmp(argv[1], "siv")))
		die("usage: crypto-floor hmac|siv CSV COLUMN");
	struct lines l = load(argv[2], strtoul(argv[3], NULL, 10));
	if (l.n == 0)
		die("no values in the file");
	double t = strcmp(argv[1], "hmac") ? run_siv(&l) : run_hmac(&l);
	printf("%s %zu %.3f %.0f\n", argv[1], l.n, t, t / (double)l.n * 1e9);
	free(l.buf);
	free(l.off);
	free(l.len);
	return 0;
}
