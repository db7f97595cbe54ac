/* rng.c: the byte streams behind the bit reservoir.  The DRBG and ChaCha20 are read in big
 * blocks: one RAND call per sample would cost more than the sampling itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "noise.h"

static void default_fatal(const char *why)
{
	fprintf(stderr, "anon-noise: %s\n", why);
	abort();
}

void (*anon_noise_rng_fatal)(const char *why) = default_fatal;

static EVP_CIPHER *chacha20;

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p)
		anon_noise_rng_fatal("out of memory");
	return p;
}

void anon_noise_rng_secure(struct anon_noise_rng *r, size_t bufsize)
{
	memset(r, 0, sizeof(*r));
	r->store = r->buf = xmalloc(bufsize);
	r->store_size = r->size = r->pos = bufsize;
}

/* The cipher is fetched on the main thread, where every rng is made. */
static EVP_CIPHER_CTX *chacha_new(void)
{
	EVP_CIPHER_CTX *c;
	if (!chacha20 && !(chacha20 = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL)))
		anon_noise_rng_fatal("cannot fetch ChaCha20");
	if (!(c = EVP_CIPHER_CTX_new()))
		anon_noise_rng_fatal("out of memory");
	return c;
}

void anon_noise_rng_chacha(struct anon_noise_rng *r, size_t bufsize, const unsigned char key[32],
			   const unsigned char iv[16])
{
	memset(r, 0, sizeof(*r));
	r->store = r->buf = xmalloc(bufsize);
	r->store_size = r->size = r->pos = bufsize;
	r->chacha = chacha_new();
	anon_noise_rng_rekey(r, key, iv);
}

void anon_noise_rng_rekey(struct anon_noise_rng *r, const unsigned char key[32],
			  const unsigned char iv[16])
{
	if (!EVP_EncryptInit_ex2(r->chacha, chacha20, key, iv, NULL))
		anon_noise_rng_fatal("ChaCha20 initialisation failed");
	r->pos = r->size;
	r->bits = 0;
	r->nbits = 0;
}

static void seed_key(uint64_t seed, unsigned char key[32])
{
	static const char label[] = "anon-noise/test/v1";
	char msg[64];
	unsigned int klen = 0;
	int n = snprintf(msg, sizeof(msg), "%s%llu", label, (unsigned long long)seed);
	if (!EVP_Digest(msg, (size_t)n, key, &klen, EVP_sha256(), NULL))
		anon_noise_rng_fatal("SHA-256 failed");
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void anon_noise_rng_seeded(struct anon_noise_rng *r, size_t bufsize, uint64_t seed,
			   uint32_t stream)
{
	unsigned char key[32], iv[16] = { 0 };
	seed_key(seed, key);
	/* counter 0, nonce = the stream number (little-endian) */
	put32(iv + 4, stream);
	anon_noise_rng_chacha(r, bufsize, key, iv);
	OPENSSL_cleanse(key, sizeof(key));
}

#define SLICE 64          /* one ChaCha20 block per row: enough for almost every draw */
#define OWN_BYTES 256     /* a row past its slice: its own stream, a few blocks at a time */
#define OWN_STREAM (UINT32_C(1) << 31)

void anon_noise_rng_rows(struct anon_noise_rng *r, uint64_t seed, uint32_t stream)
{
	static const unsigned char iv[16];
	unsigned char key[32];
	if (stream >= OWN_STREAM)
		anon_noise_rng_fatal("too many random streams");
	memset(r, 0, sizeof(*r));
	r->store_size = ANON_NOISE_WINDOW * SLICE + OWN_BYTES;
	r->store = xmalloc(r->store_size);
	r->chacha = chacha_new();
	seed_key(seed, key);
	if (!EVP_EncryptInit_ex2(r->chacha, chacha20, key, iv, NULL))
		anon_noise_rng_fatal("ChaCha20 initialisation failed");
	OPENSSL_cleanse(key, sizeof(key));
	r->by_row = true;
	r->stream = stream;
	r->window_line = UINT64_MAX;
}

/* n bytes of keystream from block `counter` under the nonce (a, b, c); the key stays. */
static void keystream(EVP_CIPHER_CTX *c, uint32_t counter, uint32_t a, uint32_t b, uint32_t n3,
		      unsigned char *out, size_t n)
{
	unsigned char iv[16];
	int outl = 0;
	put32(iv, counter);
	put32(iv + 4, a);
	put32(iv + 8, b);
	put32(iv + 12, n3);
	memset(out, 0, n);
	if (!EVP_EncryptInit_ex2(c, NULL, NULL, iv, NULL) ||
	    !EVP_EncryptUpdate(c, out, &outl, out, (int)n) || (size_t)outl != n)
		anon_noise_rng_fatal("ChaCha20 keystream failed");
}

static void refill_row(struct anon_noise_rng *r)
{
	if (!r->past_slice) {
		/* windows are aligned, so a window's block counters never wrap */
		uint64_t first = r->line & ~(uint64_t)(ANON_NOISE_WINDOW - 1);
		if (first != r->window_line) {
			keystream(r->chacha, (uint32_t)first, r->stream, (uint32_t)(first >> 32), 1,
			    r->store, ANON_NOISE_WINDOW * SLICE);
			r->window_line = first;
		}
		r->buf = r->store + (r->line - first) * SLICE;
		r->size = SLICE;
		r->past_slice = true;
	} else {
		r->buf = r->store + ANON_NOISE_WINDOW * SLICE;
		keystream(r->chacha, r->own_block, r->stream | OWN_STREAM, (uint32_t)r->line,
		    (uint32_t)(r->line >> 32), r->buf, OWN_BYTES);
		r->own_block += OWN_BYTES / 64;
		r->size = OWN_BYTES;
		/* the window's tail was not touched: it still holds the next rows' slices */
	}
	r->pos = 0;
}

void anon_noise_rng_wipe(struct anon_noise_rng *r)
{
	if (r->store)
		OPENSSL_cleanse(r->store, r->store_size);
	OPENSSL_cleanse(&r->bits, sizeof(r->bits));
}

void anon_noise_rng_free(struct anon_noise_rng *r)
{
	if (r->store) {
		OPENSSL_cleanse(r->store, r->store_size);
		free(r->store);
	}
	EVP_CIPHER_CTX_free(r->chacha);
	OPENSSL_cleanse(&r->bits, sizeof(r->bits));
	memset(r, 0, sizeof(*r));
}

static void refill(struct anon_noise_rng *r)
{
	if (r->by_row) {
		refill_row(r);
		return;
	}
	if (r->chacha) {
		/* The keystream is ChaCha20 over zeros. */
		int outl = 0;
		memset(r->buf, 0, r->size);
		if (!EVP_EncryptUpdate(r->chacha, r->buf, &outl, r->buf, (int)r->size) ||
		    (size_t)outl != r->size)
			anon_noise_rng_fatal("ChaCha20 keystream failed");
	} else if (RAND_priv_bytes(r->buf, (int)r->size) != 1) {
		/* Never fall back to anything weaker. */
		anon_noise_rng_fatal("the OpenSSL random generator failed");
	}
	r->pos = 0;
}

uint64_t anon_noise_rng_word(struct anon_noise_rng *r)
{
	if (r->size - r->pos < 8)
		refill(r);
	const unsigned char *p = r->buf + r->pos;
	uint64_t w = 0;
	for (int i = 7; i >= 0; i--)
		w = (w << 8) | p[i];
	r->pos += 8;
	r->bytes_used += 8;
	return w;
}
