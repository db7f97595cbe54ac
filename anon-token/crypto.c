/* crypto.c: the OpenSSL EVP calls of anon-token: HMAC-SHA256 and AES-SIV (RFC 5297) from
 * keyed templates that each worker copies (an SIV context reused where OpenSSL allows it),
 * and the MAC stream of a keyed token. */
#include <stdatomic.h>
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

/* ---- AES-SIV -------------------------------------------------------------------------------
 * OpenSSL's SIV context does one message per key set-up, and the state after the key and
 * the associated data is the same for every value: the reference path starts each value
 * from a copy of the template. A copy re-creates the context's CMAC and CTR contexts, and
 * costs more than sealing a short value, so a worker's context is reused in OpenSSL's
 * "speed" mode (OSSL_CIPHER_PARAM_SPEED: more than one message per set-up) where that
 * gives what a copy gives. In OpenSSL's S2V (crypto/modes/siv128.c), a value of 16 bytes
 * or more is MACed with the state it finds, unchanged; a shorter one doubles the state in
 * place, and associated data given with the value changes it too, so those take a copy and
 * leave the context to be copied afresh. tok_siv_template checks at start that reuse gives
 * the bytes of the copy path (siv_reuse_verified); if not, its templates always copy.
 *
 * The bookkeeping lives in the contexts' app data: a template holds an id (0: always copy)
 * that no other template has had, so a freed template's address is never mistaken for a
 * new one's; a work context holds id << SIV_USE_BITS | the values it has served since its
 * copy (0: not reusable). After 2^SIV_USE_BITS - 1 values it is copied afresh, which keeps
 * OpenSSL's count of messages far from its limits. */
#define SIV_BLOCK 16
#define SIV_USE_BITS 16
#define SIV_USES_MAX (((uintptr_t)1 << SIV_USE_BITS) - 1)

enum siv_path {
	SIV_COPY,          /* the reference: every value from a copy of the template */
	SIV_REUSE,         /* reuse where it is valid; a reuse that fails is done again by copy */
	SIV_REUSE_STRICT,  /* the self-check's: a reuse that fails is a failure */
};

static _Atomic uintptr_t siv_last_id;

static uintptr_t siv_new_id(void)
{
	uintptr_t id = atomic_fetch_add(&siv_last_id, 1) + 1;
	return id <= (UINTPTR_MAX >> SIV_USE_BITS) ? id : 0; /* out of ids: copy */
}

static uintptr_t siv_id(const EVP_CIPHER_CTX *tmpl)
{
	return (uintptr_t)EVP_CIPHER_CTX_get_app_data(tmpl);
}

static void siv_set_state(EVP_CIPHER_CTX *work, uintptr_t state)
{
	EVP_CIPHER_CTX_set_app_data(work, (void *)state);
}

/* work is tmpl's reusable state, in speed mode, with values left before its next copy */
static bool siv_reusable(const EVP_CIPHER_CTX *work, uintptr_t id)
{
	uintptr_t st = (uintptr_t)EVP_CIPHER_CTX_get_app_data(work);
	return id != 0 && st >> SIV_USE_BITS == id && (st & SIV_USES_MAX) < SIV_USES_MAX;
}

static bool siv_speed(EVP_CIPHER_CTX *ctx)
{
	unsigned int one = 1;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_SPEED, &one),
		OSSL_PARAM_construct_end(),
	};
	return EVP_CIPHER_CTX_set_params(ctx, p) == 1;
}

static EVP_CIPHER_CTX *siv_new(EVP_CIPHER *c, const unsigned char *key, bool enc,
			       const void *ad, size_t adlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l;
	if (!ctx ||
	    !(enc ? EVP_EncryptInit_ex2(ctx, c, key, NULL, NULL) :
		    EVP_DecryptInit_ex2(ctx, c, key, NULL, NULL)) ||
	    /* an empty string would be no associated data at all to EVP: none is given then */
	    (adlen && !EVP_CipherUpdate(ctx, NULL, &l, ad, (int)adlen))) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool seal_once(EVP_CIPHER_CTX *c, const void *ad, size_t adlen, const unsigned char *in,
		      size_t n, unsigned char *out)
{
	int l, f;
	if (adlen && !EVP_EncryptUpdate(c, NULL, &l, ad, (int)adlen))
		return false;
	if (!EVP_EncryptUpdate(c, out + TOK_TAG_LEN, &l, in, (int)n) ||
	    !EVP_EncryptFinal_ex(c, out + TOK_TAG_LEN + l, &f))
		return false;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out, TOK_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};
	return EVP_CIPHER_CTX_get_params(c, p) == 1;
}

static bool open_once(EVP_CIPHER_CTX *c, const void *ad, size_t adlen, const unsigned char *in,
		      size_t n, unsigned char *out)
{
	int l, f;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)in,
						  TOK_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_CIPHER_CTX_set_params(c, p))
		return false;
	if (adlen && !EVP_DecryptUpdate(c, NULL, &l, ad, (int)adlen))
		return false;
	/* the tag is checked as the ciphertext is decrypted: a failure leaves nothing */
	if (!EVP_DecryptUpdate(c, out, &l, in + TOK_TAG_LEN, (int)(n - TOK_TAG_LEN)) ||
	    !EVP_DecryptFinal_ex(c, out + l, &f)) {
		OPENSSL_cleanse(out, n - TOK_TAG_LEN);
		return false;
	}
	return true;
}

typedef bool siv_once_fn(EVP_CIPHER_CTX *c, const void *ad, size_t adlen,
			 const unsigned char *in, size_t n, unsigned char *out);

/* One value through work, from tmpl's state. len is the plaintext's length, which decides
 * whether the state may be reused. */
static bool siv_run(siv_once_fn *once, enum siv_path path, EVP_CIPHER_CTX *work,
		    const EVP_CIPHER_CTX *tmpl, const void *ad, size_t adlen,
		    const unsigned char *in, size_t n, size_t len, unsigned char *out)
{
	uintptr_t id = path == SIV_COPY ? 0 : siv_id(tmpl);
	bool reuse = id != 0 && adlen == 0 && len >= SIV_BLOCK;
	if (reuse && siv_reusable(work, id)) {
		uintptr_t st = (uintptr_t)EVP_CIPHER_CTX_get_app_data(work);
		if (once(work, NULL, 0, in, n, out)) {
			siv_set_state(work, st + 1);
			return true;
		}
		siv_set_state(work, 0);
		if (path == SIV_REUSE_STRICT)
			return false;
	}
	if (!EVP_CIPHER_CTX_copy(work, tmpl)) {
		siv_set_state(work, 0);
		return false;
	}
	/* the copy holds tmpl's app data: the work context's own is set here, in every case */
	reuse = reuse && siv_speed(work);
	siv_set_state(work, 0);
	if (!once(work, ad, adlen, in, n, out))
		return false;
	if (reuse)
		siv_set_state(work, id << SIV_USE_BITS | 1);
	return true;
}

static bool siv_seal(enum siv_path path, EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl,
		     const void *ad, size_t adlen, const unsigned char *in, size_t n,
		     unsigned char *out)
{
	if (n == 0 || n > INT32_MAX)
		return false;
	return siv_run(seal_once, path, work, tmpl, ad, adlen, in, n, n, out);
}

static bool siv_open(enum siv_path path, EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl,
		     const void *ad, size_t adlen, const unsigned char *in, size_t n,
		     unsigned char *out)
{
	if (n <= TOK_TAG_LEN || n - TOK_TAG_LEN > INT32_MAX)
		return false;
	return siv_run(open_once, path, work, tmpl, ad, adlen, in, n, n - TOK_TAG_LEN, out);
}

/* Whether reuse gives the copy path's bytes with this cipher: seal and open values either
 * side of SIV's block (a short one between long ones must leave the next long one to a
 * copy), associated data in the template and given with a value, tokens that do not open,
 * and a tag that opens after one that did not. */
static bool siv_reuse_verified(EVP_CIPHER *c)
{
	static const size_t lens[] = { 40, 40, 16, 17, 15, 40, 64, 16, 1, 33, 200, 16, 15, 16 };
	static const char tad[] = "anon-token self-check", vad[] = "given with the value";
	unsigned char key[EVP_MAX_KEY_LENGTH], in[200], a[200 + TOK_TAG_LEN],
		b[200 + TOK_TAG_LEN], pa[200], pb[200];
	int kl = EVP_CIPHER_get_key_length(c);
	if (kl <= 0 || kl > (int)sizeof key)
		return false;
	for (int i = 0; i < kl; i++)
		key[i] = (unsigned char)(0xa5 ^ i);
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 29 + 7);
	EVP_CIPHER_CTX *enc = siv_new(c, key, true, tad, sizeof tad - 1);
	EVP_CIPHER_CTX *dec = siv_new(c, key, false, tad, sizeof tad - 1);
	EVP_CIPHER_CTX *we = EVP_CIPHER_CTX_new(), *wd = EVP_CIPHER_CTX_new();
	EVP_CIPHER_CTX *wc = EVP_CIPHER_CTX_new();
	uintptr_t eid = siv_new_id(), did = siv_new_id();
	bool same = enc && dec && we && wd && wc && eid && did;
	if (same) {
		EVP_CIPHER_CTX_set_app_data(enc, (void *)eid);
		EVP_CIPHER_CTX_set_app_data(dec, (void *)did);
	}
	for (size_t k = 0; same && k < sizeof lens / sizeof lens[0]; k++) {
		size_t n = lens[k], adl = k == 9 ? sizeof vad - 1 : 0;
		const void *ad = adl ? vad : NULL;
		same = siv_seal(SIV_REUSE_STRICT, we, enc, ad, adl, in, n, a) &&
		       siv_seal(SIV_COPY, wc, enc, ad, adl, in, n, b) &&
		       memcmp(a, b, n + TOK_TAG_LEN) == 0 &&
		       siv_open(SIV_REUSE_STRICT, wd, dec, ad, adl, b, n + TOK_TAG_LEN, pa) &&
		       siv_open(SIV_COPY, wc, dec, ad, adl, b, n + TOK_TAG_LEN, pb) &&
		       memcmp(pa, in, n) == 0 && memcmp(pb, in, n) == 0;
		b[k % (n + TOK_TAG_LEN)] ^= 0x10;
		same = same && !siv_open(SIV_REUSE_STRICT, wd, dec, ad, adl, b, n + TOK_TAG_LEN, pa) &&
		       !siv_open(SIV_COPY, wc, dec, ad, adl, b, n + TOK_TAG_LEN, pb);
	}
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_CIPHER_CTX_free(we);
	EVP_CIPHER_CTX_free(wd);
	EVP_CIPHER_CTX_free(wc);
	OPENSSL_cleanse(key, sizeof key);
	return same;
}

EVP_CIPHER_CTX *tok_siv_template(const char *cipher, const unsigned char *key, bool enc,
				 const void *ad, size_t adlen)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, cipher, NULL);
	EVP_CIPHER_CTX *ctx = c ? siv_new(c, key, enc, ad, adlen) : NULL;
	if (!ctx)
		anon_die(EX_SOFTWARE, "%s is not available in this OpenSSL", cipher);
	if (siv_reuse_verified(c))
		EVP_CIPHER_CTX_set_app_data(ctx, (void *)siv_new_id());
	EVP_CIPHER_free(c);
	return ctx;
}

EVP_CIPHER_CTX *tok_siv_dup(const EVP_CIPHER_CTX *tmpl)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c || !EVP_CIPHER_CTX_copy(c, tmpl))
		anon_die(EX_SOFTWARE, "cannot copy the AES-SIV context");
	/* the same state as tmpl, but an id of its own (none when tmpl always copies) */
	EVP_CIPHER_CTX_set_app_data(c, (void *)(siv_id(tmpl) ? siv_new_id() : 0));
	return c;
}

bool tok_siv_reuses(const EVP_CIPHER_CTX *tmpl)
{
	return siv_id(tmpl) != 0;
}

bool tok_siv_seal(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		  size_t adlen, const unsigned char *in, size_t n, unsigned char *out)
{
	return siv_seal(SIV_REUSE, work, tmpl, ad, adlen, in, n, out);
}

bool tok_siv_open(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		  size_t adlen, const unsigned char *in, size_t n, unsigned char *out)
{
	return siv_open(SIV_REUSE, work, tmpl, ad, adlen, in, n, out);
}

bool tok_siv_seal_copy(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		       size_t adlen, const unsigned char *in, size_t n, unsigned char *out)
{
	return siv_seal(SIV_COPY, work, tmpl, ad, adlen, in, n, out);
}

bool tok_siv_open_copy(EVP_CIPHER_CTX *work, const EVP_CIPHER_CTX *tmpl, const void *ad,
		       size_t adlen, const unsigned char *in, size_t n, unsigned char *out)
{
	return siv_open(SIV_COPY, work, tmpl, ad, adlen, in, n, out);
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
