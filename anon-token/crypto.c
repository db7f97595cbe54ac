/* crypto.c: the OpenSSL EVP calls of anon-token: HMAC-SHA256 and AES-SIV (RFC 5297) from
 * keyed templates that each worker copies, and the MAC stream of a keyed token. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "token.h"

EVP_MAC_CTX *tok_hmac_template(const unsigned char *key, size_t keylen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!ctx || !EVP_MAC_init(ctx, key, keylen, params))
		anon_die(EX_SOFTWARE, "HMAC-SHA256 is not available in this OpenSSL");
	EVP_MAC_free(mac);
	return ctx;
}

EVP_MAC_CTX *tok_hmac_dup(const EVP_MAC_CTX *tmpl)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(tmpl);
	if (!c)
		anon_die(EX_SOFTWARE, "cannot copy the MAC context");
	return c;
}

bool tok_hmac(EVP_MAC_CTX *ctx, const void *pre, size_t prelen, const void *p, size_t n,
	      unsigned char out[32])
{
	size_t outl;
	return EVP_MAC_init(ctx, NULL, 0, NULL) && EVP_MAC_update(ctx, pre, prelen) &&
	       EVP_MAC_update(ctx, p, n) && EVP_MAC_final(ctx, out, &outl, 32);
}

EVP_CIPHER_CTX *tok_siv_template(const char *cipher, const unsigned char *key, bool enc,
				 const void *ad, size_t adlen)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, cipher, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l;
	if (!c || !ctx ||
	    !(enc ? EVP_EncryptInit_ex2(ctx, c, key, NULL, NULL) :
		    EVP_DecryptInit_ex2(ctx, c, key, NULL, NULL)))
		anon_die(EX_SOFTWARE, "%s is not available in this OpenSSL", cipher);
	/* an empty string would be no associated data at all to EVP: none is given then */
	if (adlen && !EVP_CipherUpdate(ctx, NULL, &l, ad, (int)adlen))
		anon_die(EX_SOFTWARE, "%s failed", cipher);
	EVP_CIPHER_free(c);
	return ctx;
}

EVP_CIPHER_CTX *tok_siv_dup(const EVP_CIPHER_CTX *tmpl)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c || !EVP_CIPHER_CTX_copy(c, tmpl))
		anon_die(EX_SOFTWARE, "cannot copy the AES-SIV context");
	return c;
}

/* OpenSSL's SIV context does one message per key set-up, and the state after the key and
 * the associated data is the same for every value: each value starts from a copy. */
bool tok_siv_seal(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		  size_t adlen, const unsigned char *in, size_t n, unsigned char *out)
{
	int l, f;
	if (n == 0 || n > INT32_MAX || !EVP_CIPHER_CTX_copy(work, tmpl))
		return false;
	if (adlen && !EVP_EncryptUpdate(work, NULL, &l, ad, (int)adlen))
		return false;
	if (!EVP_EncryptUpdate(work, out + TOK_TAG_LEN, &l, in, (int)n) ||
	    !EVP_EncryptFinal_ex(work, out + TOK_TAG_LEN + l, &f))
		return false;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out, TOK_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};
	return EVP_CIPHER_CTX_get_params(work, p) == 1;
}

bool tok_siv_open(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		  size_t adlen, const unsigned char *in, size_t n, unsigned char *out)
{
	int l, f;
	if (n <= TOK_TAG_LEN || n - TOK_TAG_LEN > INT32_MAX || !EVP_CIPHER_CTX_copy(work, tmpl))
		return false;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)in,
						  TOK_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_CIPHER_CTX_set_params(work, p))
		return false;
	if (adlen && !EVP_DecryptUpdate(work, NULL, &l, ad, (int)adlen))
		return false;
	/* the tag is checked as the ciphertext is decrypted: a failure leaves nothing */
	if (!EVP_DecryptUpdate(work, out, &l, in + TOK_TAG_LEN, (int)(n - TOK_TAG_LEN)) ||
	    !EVP_DecryptFinal_ex(work, out + l, &f)) {
		OPENSSL_cleanse(out, n - TOK_TAG_LEN);
		return false;
	}
	return true;
}

static void keyed_refill(struct tok_bytes *b)
{
	struct tok_keyed_stream *k = b->arg;
	k->counter++;
	unsigned char ctr[4] = { (unsigned char)(k->counter >> 24), (unsigned char)(k->counter >> 16),
				 (unsigned char)(k->counter >> 8), (unsigned char)k->counter };
	if (!tok_hmac(k->mac, k->first, sizeof k->first, ctr, 4, k->block))
		anon_die(EX_SOFTWARE, "HMAC-SHA256 failed");
	b->p = k->block;
	b->n = sizeof k->block;
	b->pos = 0;
}

void tok_keyed_start(struct tok_keyed_stream *k, EVP_MAC_CTX *mac, const char *context,
		     const unsigned char *value, size_t n)
{
	memset(k, 0, sizeof *k);
	k->mac = mac;
	/* the context and a 0 byte first: one input per (context, value); one update when it
	 * fits a small buffer, as most values do */
	size_t cl = strlen(context) + 1, outl;
	unsigned char buf[256];
	bool ok;
	if (cl + n <= sizeof buf) {
		memcpy(buf, context, cl);
		memcpy(buf + cl, value, n);
		ok = EVP_MAC_init(mac, NULL, 0, NULL) && EVP_MAC_update(mac, buf, cl + n) &&
		     EVP_MAC_final(mac, k->first, &outl, sizeof k->first);
	} else {
		ok = tok_hmac(mac, context, cl, value, n, k->first);
	}
	if (!ok)
		anon_die(EX_SOFTWARE, "HMAC-SHA256 failed");
	k->b.p = k->first;
	k->b.n = sizeof k->first;
	k->b.refill = keyed_refill;
	k->b.arg = k;
}
