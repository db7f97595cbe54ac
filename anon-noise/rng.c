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
	r->size = r->pos = bufsize;
	r->buf = xmalloc(bufsize);
}

void anon_noise_rng_chacha(struct anon_noise_rng *r, size_t bufsize, const unsigned char key[32],
			   const unsigned char iv[16])
{
	memset(r, 0, sizeof(*r));
	r->size = r->pos = bufsize;
	r->buf = xmalloc(bufsize);
	if (!chacha20 && !(chacha20 = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL)))
		anon_noise_rng_fatal("cannot fetch ChaCha20");
	if (!(r->chacha = EVP_CIPHER_CTX_new()))
		anon_noise_rng_fatal("out of memory");
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

void anon_noise_rng_seeded(struct anon_noise_rng *r, size_t bufsize, uint64_t seed,
			   uint32_t stream)
{
	static const char label[] = "anon-noise/test/v1";
	char msg[64];
	unsigned char key[32], iv[16] = { 0 };
	unsigned int klen = 0;
	int n = snprintf(msg, sizeof(msg), "%s%llu", label, (unsigned long long)seed);
	if (!EVP_Digest(msg, (size_t)n, key, &klen, EVP_sha256(), NULL))
		anon_noise_rng_fatal("SHA-256 failed");
	/* counter 0, nonce = the stream number (little-endian) */
	for (int i = 0; i < 4; i++)
		iv[4 + i] = (unsigned char)(stream >> (8 * i));
	anon_noise_rng_chacha(r, bufsize, key, iv);
	OPENSSL_cleanse(key, sizeof(key));
}

void anon_noise_rng_free(struct anon_noise_rng *r)
{
	if (r->buf) {
		OPENSSL_cleanse(r->buf, r->size);
		free(r->buf);
	}
	EVP_CIPHER_CTX_free(r->chacha);
	OPENSSL_cleanse(&r->bits, sizeof(r->bits));
	memset(r, 0, sizeof(*r));
}

static void refill(struct anon_noise_rng *r)
{
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
