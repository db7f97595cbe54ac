/* anon-hash: keyed hashing of columns (HMAC-SHA-256, HMAC-SHA-512 or keyed BLAKE2b), written
 * as text or as a value that still fits its column (int64, digits, uuid, email). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "anon.h"

enum encoding { ENC_HEX, ENC_BASE64URL, ENC_BASE32, ENC_INT64, ENC_DIGITS, ENC_UUID, ENC_EMAIL };

static const char *const encodings[] = {
	"hex", "base64url", "base32", "int64", "digits", "uuid", "email", NULL,
};

struct algo {
	const char *name, *mac, *digest; /* EVP_MAC name and, for HMAC, its digest */
	size_t outlen;
};

static const struct algo algos[] = {
	{ "hmac-sha256", "HMAC", "SHA256", 32 },
	{ "hmac-sha512", "HMAC", "SHA512", 64 },
	{ "blake2b", "BLAKE2BMAC", NULL, 64 },
};

struct hash {
	const struct algo *algo;
	long length;        /* --length, 0: whole encoding */
	EVP_MAC_CTX *mac;   /* keyed once in start(), never used on a value: the template each
			     * worker copies (a context is re-initialised per value, so no two
			     * threads may share one) */
};

/* A worker's state: its own copy of the keyed context, re-initialised per value without
 * re-keying. */
struct hash_worker {
	EVP_MAC_CTX *mac;
};

enum { OPT_ALGO = 256, OPT_LENGTH };

static const struct option longopts[] = {
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ NULL, 0, NULL, 0 },
};

static int option(struct anon_run *run, int opt, const char *arg)
{
	struct hash *h = anon_tool_state(run);
	int64_t n;
	switch (opt) {
	case OPT_ALGO:
		for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
			if (strcmp(arg, algos[i].name) == 0) {
				h->algo = &algos[i];
				return 0;
			}
		anon_error("--algo takes hmac-sha256, hmac-sha512 or blake2b");
		return EX_USAGE;
	case OPT_LENGTH:
		if (!anon_parse_int64(arg, &n) || n < 1 || n > 1024) {
			anon_error("--length takes a number of characters from 1 to 1024");
			return EX_USAGE;
		}
		h->length = (long)n;
		return 0;
	}
	return EX_USAGE;
}

static int rule(struct anon_run *run, struct anon_column *col)
{
	const char *r = col->rule ? col->rule : "hex";
	for (int i = 0; encodings[i]; i++)
		if (strcmp(r, encodings[i]) == 0) {
			col->state = (void *)(intptr_t)i;
			col->params = json_pack("{ss}", "encoding", r);
			return 0;
		}
	anon_error("column '%s': unknown rule '%s' (hex, base64url, base32, int64, digits, uuid, "
		   "email)", col->spec, r);
	return EX_USAGE;
}

static int start(struct anon_run *run)
{
	struct hash *h = anon_tool_state(run);
	size_t ncols;
	anon_run_columns(run, &ncols);
	if (ncols == 0)
		return 0; /* nothing selected: a passthrough needs no key */
	unsigned char key[32];
	char purpose[32];
	snprintf(purpose, sizeof purpose, "hash-%s", h->algo->name);
	anon_key_derive(purpose, key, sizeof key);
	EVP_MAC *mac = EVP_MAC_fetch(NULL, h->algo->mac, NULL);
	h->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end() };
	if (h->algo->digest)
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							     (char *)h->algo->digest, 0);
	if (!h->mac || !EVP_MAC_init(h->mac, key, sizeof key, params))
		anon_die(EX_SOFTWARE, "%s is not available in this OpenSSL", h->algo->name);
	EVP_MAC_free(mac);
	OPENSSL_cleanse(key, sizeof key);
	return 0;
}

static void *worker_init(struct anon_run *run)
{
	const struct hash *h = anon_tool_state(run);
	struct hash_worker *w = calloc(1, sizeof(*w));
	if (!w)
		anon_die(EX_SOFTWARE, "out of memory");
	/* No template when nothing is selected: apply() is never called then. */
	if (h->mac && !(w->mac = EVP_MAC_CTX_dup(h->mac)))
		anon_die(EX_SOFTWARE, "%s: cannot copy the MAC context", h->algo->name);
	return w;
}

static void worker_free(struct anon_run *run, void *worker)
{
	struct hash_worker *w = worker;
	EVP_MAC_CTX_free(w->mac);
	free(w);
}

/* The MAC of p[0..n) with the worker's own context. */
static void mac(const struct hash *h, EVP_MAC_CTX *ctx, const void *p, size_t n,
		unsigned char *out)
{
	size_t outl;
	if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, p, n) ||
	    !EVP_MAC_final(ctx, out, &outl, h->algo->outlen))
		anon_die(EX_SOFTWARE, "%s failed", h->algo->name);
}

static size_t cap(const struct hash *h, size_t n)
{
	return h->length && (size_t)h->length < n ? (size_t)h->length : n;
}

static void put_hex(struct anon_buf *o, const unsigned char *d, size_t chars)
{
	static const char hex[] = "0123456789abcdef";
	anon_buf_reserve(o, chars + 1);
	unsigned char *w = o->p + o->len;
	for (size_t i = 0; i < (chars + 1) / 2; i++) {
		w[2 * i] = (unsigned char)hex[d[i] >> 4];
		w[2 * i + 1] = (unsigned char)hex[d[i] & 15];
	}
	o->len += chars;
}

static void put_base64url(struct anon_buf *o, const unsigned char *d, size_t n, size_t maxc)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t start = o->len;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		size_t k = n - i >= 3 ? 3 : n - i;
		if (k > 1)
			v |= (uint32_t)d[i + 1] << 8;
		if (k > 2)
			v |= d[i + 2];
		for (size_t j = 0; j < k + 1; j++)
			anon_buf_addc(o, (unsigned char)b64[(v >> (18 - 6 * j)) & 63]);
	}
	if (o->len - start > maxc)
		o->len = start + maxc;
}

static void put_base32(struct anon_buf *o, const unsigned char *d, size_t n, size_t maxc)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t start = o->len, bits = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | d[i];
		bits += 8;
		while (bits >= 5) {
			anon_buf_addc(o, (unsigned char)b32[(acc >> (bits - 5)) & 31]);
			bits -= 5;
		}
	}
	if (bits)
		anon_buf_addc(o, (unsigned char)b32[(acc << (5 - bits)) & 31]);
	if (o->len - start > maxc)
		o->len = start + maxc;
}

/* Same count of digits as the input, other characters kept in place. Digits come from the
 * MAC by rejection sampling (bytes 250..255 are dropped) so each is uniform; when the MAC
 * runs out, it is extended by hashing it again with a counter. */
static enum anon_status put_digits(const struct hash *h, EVP_MAC_CTX *ctx,
				   const struct anon_field *in, unsigned char *d,
				   struct anon_buf *o, const char **err)
{
	size_t pos = h->algo->outlen, ndigits = 0;
	unsigned char ctr = 0;
	anon_buf_reserve(o, in->len);
	for (size_t i = 0; i < in->len; i++) {
		unsigned char c = in->p[i];
		if (c < '0' || c > '9') {
			o->p[o->len++] = c;
			continue;
		}
		for (;;) {
			if (pos == h->algo->outlen) {
				unsigned char next[64 + 1];
				memcpy(next, d, h->algo->outlen);
				next[h->algo->outlen] = ++ctr;
				mac(h, ctx, next, h->algo->outlen + 1, d);
				pos = 0;
			}
			unsigned char b = d[pos++];
			if (b >= 250)
				continue;
			unsigned digit = b % 10;
			/* a leading zero would change the length of an integer column */
			if (ndigits == 0 && digit == 0 && c != '0')
				continue;
			o->p[o->len++] = (unsigned char)('0' + digit);
			break;
		}
		ndigits++;
	}
	if (ndigits == 0) {
		*err = "digits rule: the value has no digits";
		return ANON_ERR;
	}
	return ANON_OK;
}

static enum anon_status apply(const struct anon_rowinfo *row, const struct anon_column *col,
			      const struct anon_field *in, struct anon_field *out,
			      struct anon_buf *o, const char **err)
{
	const struct hash *h = anon_tool_state(row->run);
	EVP_MAC_CTX *ctx = ((struct hash_worker *)row->worker)->mac;
	unsigned char d[64];
	size_t n = h->algo->outlen;
	mac(h, ctx, in->p, in->len, d);
	switch ((enum encoding)(intptr_t)col->state) {
	case ENC_HEX:
		put_hex(o, d, cap(h, 2 * n));
		break;
	case ENC_BASE64URL:
		put_base64url(o, d, n, cap(h, (4 * n + 2) / 3));
		break;
	case ENC_BASE32:
		put_base32(o, d, n, cap(h, (8 * n + 4) / 5));
		break;
	case ENC_INT64: {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | d[i];
		char num[24];
		int k = snprintf(num, sizeof num, "%llu", (unsigned long long)(v >> 1));
		anon_buf_add(o, num, (size_t)k);
		break;
	}
	case ENC_DIGITS:
		if (put_digits(h, ctx, in, d, o, err) != ANON_OK)
			return ANON_ERR;
		break;
	case ENC_UUID: {
		d[6] = (unsigned char)((d[6] & 0x0f) | 0x80); /* version 8: custom (RFC 9562) */
		d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* RFC variant */
		char u[40];
		int k = snprintf(u, sizeof u,
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
				 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10],
				 d[11], d[12], d[13], d[14], d[15]);
		anon_buf_add(o, u, (size_t)k);
		break;
	}
	case ENC_EMAIL: {
		/* The local part becomes the hash of the whole address (at most 64 characters,
		 * RFC 5321); the domain stays. No '@': the whole value is hashed. */
		const unsigned char *at = NULL;
		for (size_t i = in->len; i-- > 0;)
			if (in->p[i] == '@') {
				at = in->p + i;
				break;
			}
		put_hex(o, d, cap(h, 2 * n < 64 ? 2 * n : 64));
		if (at && at > in->p && at + 1 < in->p + in->len)
			anon_buf_add(o, at, (size_t)(in->p + in->len - at));
		break;
	}
	}
	out->p = o->p;
	out->len = o->len;
	out->null = false;
	return ANON_OK;
}

static int finish(struct anon_run *run, json_t *rec)
{
	const struct hash *h = anon_tool_state(run);
	json_object_set_new(rec, "algorithm", json_string(h->algo->name));
	json_object_set_new(rec, "length", h->length ? json_integer(h->length) : json_null());
	return 0;
}

static const struct anon_tool tool = {
	.name = "anon-hash",
	.synopsis = "[options] [--algo hmac-sha256|hmac-sha512|blake2b] [--length N]\n"
		    "       -c COLUMN[=hex|base64url|base32|int64|digits|uuid|email] ... [FILE]",
	.help = "rules (-c COLUMN=RULE; a column without a rule is hex):\n"
		"  hex         the keyed hash in lower-case hex (64 characters with hmac-sha256)\n"
		"  base64url   the hash in base64url, no padding\n"
		"  base32      the hash in base32 (RFC 4648 alphabet), no padding\n"
		"  int64       a non-negative 63-bit integer (fits a bigint column)\n"
		"  digits      as many digits as the value has, other characters kept in place\n"
		"  uuid        a version 8 UUID\n"
		"  email       the local part becomes a hash of the whole address; the domain stays\n"
		"options:\n"
		"      --algo ALGO   hmac-sha256 (default), hmac-sha512 or blake2b\n"
		"      --length N    cut hex, base64url and base32 output to N characters\n",
	.longopts = longopts,
	.option = option,
	.rule = rule,
	.start = start,
	.worker_init = worker_init,
	.worker_free = worker_free,
	.apply = apply,
	.finish = finish,
};

int main(int argc, char **argv)
{
	struct hash h = { .algo = &algos[0] };
	int rc = anon_main(&tool, &h, argc, argv);
	EVP_MAC_CTX_free(h.mac); /* the template: each worker freed its own copy */
	return rc;
}
