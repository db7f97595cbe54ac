/* crypto-floor.c: the OpenSSL calls anon-token makes for one value, alone, timed over
 * every value of column COL (0 first) of a CSV file (bench/bench-token.sh gives it the
 * workload). It is the floor under a token: no tool can make a token in less time than these
 * calls take, so the time of the passthrough plus this one bounds what a mode can reach on
 * the machine.
 *
 *   crypto-floor hmac CSV COL  HMAC-SHA256 through EVP_MAC, init from the keyed state, one
 *                            update of "context, 0 byte, value", final: as tok_keyed_start in
 *                            anon-token/crypto.c, with the default (empty) context
 *   crypto-floor siv CSV COL   AES-256-SIV seal through EVP, no associated data (the default
 *                            context): a value shorter than 16 bytes from a copy of the keyed
 *                            template, a longer one in a context reused in OpenSSL's speed
 *                            mode, each with its tag read back: as siv_run in
 *                            anon-token/crypto.c
 *
 * Prints one line: the mode, the number of values, seconds, and nanoseconds a value. The
 * calls are kept in step with anon-token/crypto.c by hand; the file is read and its column
 * found before the clock starts. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG 16

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
	size_t *off, *len, n;
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
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
			   OSSL_PARAM_construct_end() };
	if (!ctx || !EVP_MAC_init(ctx, key, 32, p))
		die("HMAC set-up failed");
	unsigned char buf[256] = { 0 }, out[32], sum = 0; /* buf[0]: the empty context's 0 */
	size_t cl = 1, outl;
	double t = now();
	for (size_t i = 0; i < l->n; i++) {
		size_t n = l->len[i] < sizeof buf - cl ? l->len[i] : sizeof buf - cl;
		memcpy(buf + cl, l->buf + l->off[i], n);
		if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, buf, cl + n) ||
		    !EVP_MAC_final(ctx, out, &outl, sizeof out))
			die("HMAC failed");
		sum ^= out[0];
	}
	t = now() - t;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	sink = sum;
	return t;
}

static bool seal(EVP_CIPHER_CTX *c, const void *ad, size_t adlen, const unsigned char *in,
		 size_t n, unsigned char *out)
{
	int l, f;
	if (adlen && !EVP_EncryptUpdate(c, NULL, &l, ad, (int)adlen))
		return false;
	if (!EVP_EncryptUpdate(c, out + TAG, &l, in, (int)n) ||
	    !EVP_EncryptFinal_ex(c, out + TAG + l, &f))
		return false;
	OSSL_PARAM p[] = { OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out, TAG),
			   OSSL_PARAM_construct_end() };
	return EVP_CIPHER_CTX_get_params(c, p) == 1;
}

static double run_siv(const struct lines *l)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-SIV", NULL);
	EVP_CIPHER_CTX *tmpl = EVP_CIPHER_CTX_new(), *work = EVP_CIPHER_CTX_new();
	if (!c || !tmpl || !work || !EVP_EncryptInit_ex2(tmpl, c, key, NULL, NULL))
		die("SIV set-up failed");
	unsigned char out[4096 + TAG], sum = 0;
	unsigned int one = 1;
	OSSL_PARAM speed[] = { OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_SPEED, &one),
			       OSSL_PARAM_construct_end() };
	int reusable = 0;
	double t = now();
	for (size_t i = 0; i < l->n; i++) {
		const unsigned char *v = (const unsigned char *)l->buf + l->off[i];
		size_t n = l->len[i] < 4096 ? l->len[i] : 4096;
		if (n >= 16 && reusable) {
			if (!seal(work, NULL, 0, v, n, out))
				die("SIV seal failed");
		} else {
			if (!EVP_CIPHER_CTX_copy(work, tmpl))
				die("SIV copy failed");
			reusable = n >= 16 && EVP_CIPHER_CTX_set_params(work, speed) == 1;
			if (!seal(work, NULL, 0, v, n, out))
				die("SIV seal failed");
		}
		sum ^= out[0];
	}
	t = now() - t;
	EVP_CIPHER_CTX_free(work);
	EVP_CIPHER_CTX_free(tmpl);
	EVP_CIPHER_free(c);
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
