/* token_crypto.c: anon-token's AES-SIV calls against RFC 5297 appendix A.1 (the template
 * path and the one-more-string path give the same output, the output opens, any changed
 * byte does not), longer values against the cryptography package, the reused context
 * against the copy path, HMAC-SHA256 against RFC 4231 test case 2, and the keyed stream's
 * counter blocks. */
#include <string.h>

#include "token.h"
#include "tap.h"

static size_t unhex(const char *s, unsigned char *out)
{
	size_t n = strlen(s) / 2;
	anon_hex_decode(s, 2 * n, out);
	return n;
}

static bool same_hex(const unsigned char *p, size_t n, const char *hex)
{
	unsigned char want[256];
	return unhex(hex, want) == n && memcmp(p, want, n) == 0;
}

static void rfc5297_a1(void)
{
	unsigned char key[32], ad[24], pt[14], out[64], back[64];
	unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key);
	size_t adlen = unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad);
	size_t n = unhex("112233445566778899aabbccddee", pt);
	const char *want = "85632d07c6e8f37f950acd320a2ecc93" "40c02b9690c4dc04daef7f6afe5c";
	EVP_CIPHER_CTX *work = EVP_CIPHER_CTX_new();

	/* the associated data in the template (siv mode's context) */
	EVP_CIPHER_CTX *enc = tok_siv_template("AES-128-SIV", key, true, ad, adlen);
	EVP_CIPHER_CTX *dec = tok_siv_template("AES-128-SIV", key, false, ad, adlen);
	ok(tok_siv_seal(work, enc, NULL, 0, pt, n, out), "A.1: seal");
	ok(same_hex(out, n + TOK_TAG_LEN, want), "A.1: V || C as the RFC gives it");
	ok(tok_siv_seal(work, enc, NULL, 0, pt, n, out) && same_hex(out, n + TOK_TAG_LEN, want),
	   "A.1: the template is unchanged by a seal (the same output again)");
	ok(tok_siv_open(work, dec, NULL, 0, out, n + TOK_TAG_LEN, back) &&
	   memcmp(back, pt, n) == 0, "A.1: opens to the plaintext");
	int bad = 0;
	for (size_t i = 0; i < n + TOK_TAG_LEN; i++)
		for (int bit = 0; bit < 8; bit++) {
			out[i] ^= (unsigned char)(1 << bit);
			bad += tok_siv_open(work, dec, NULL, 0, out, n + TOK_TAG_LEN, back);
			out[i] ^= (unsigned char)(1 << bit);
		}
	ok(bad == 0, "A.1: no single flipped bit of tag or ciphertext opens (%d did)", bad);
	ok(!tok_siv_open(work, dec, NULL, 0, out, TOK_TAG_LEN, back), "a tag alone is refused");

	/* the associated data given with the value (the vault's namespace and token) */
	EVP_CIPHER_CTX *enc0 = tok_siv_template("AES-128-SIV", key, true, NULL, 0);
	EVP_CIPHER_CTX *dec0 = tok_siv_template("AES-128-SIV", key, false, NULL, 0);
	memset(out, 0, sizeof out);
	ok(tok_siv_seal(work, enc0, ad, adlen, pt, n, out) &&
	   same_hex(out, n + TOK_TAG_LEN, want), "A.1 with the data given to seal()");
	ok(tok_siv_open(work, dec0, ad, adlen, out, n + TOK_TAG_LEN, back) &&
	   memcmp(back, pt, n) == 0, "... and to open()");
	ad[0] ^= 1;
	ok(!tok_siv_open(work, dec0, ad, adlen, out, n + TOK_TAG_LEN, back),
	   "other associated data does not open");
	ok(tok_siv_open(work, dec, NULL, 0, out, n + TOK_TAG_LEN, back) &&
	   memcmp(back, pt, n) == 0, "data in the template or given to open() is the same data");
	ok(!tok_siv_open(work, dec0, NULL, 0, out, n + TOK_TAG_LEN, back),
	   "no associated data does not open");
	ok(!tok_siv_seal(work, enc0, NULL, 0, pt, 0, out), "an empty value is not sealed");

	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_CIPHER_CTX_free(enc0);
	EVP_CIPHER_CTX_free(dec0);
	EVP_CIPHER_CTX_free(work);
}

static void aes256_siv_roundtrip(void)
{
	unsigned char key[64], out[300], back[300], v[256];
	for (int i = 0; i < 64; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 256; i++)
		v[i] = (unsigned char)(i * 7);
	EVP_CIPHER_CTX *enc = tok_siv_template("AES-256-SIV", key, true, "ctx", 3);
	EVP_CIPHER_CTX *dec = tok_siv_template("AES-256-SIV", key, false, "ctx", 3);
	EVP_CIPHER_CTX *dup = tok_siv_dup(enc), *work = EVP_CIPHER_CTX_new();
	int good = 0;
	for (size_t n = 1; n <= 256; n++) {
		unsigned char out2[300];
		good += tok_siv_seal(work, enc, NULL, 0, v, n, out) &&
			tok_siv_seal(work, dup, NULL, 0, v, n, out2) &&
			memcmp(out, out2, n + TOK_TAG_LEN) == 0 &&
			tok_siv_open(work, dec, NULL, 0, out, n + TOK_TAG_LEN, back) &&
			memcmp(back, v, n) == 0;
	}
	ok(good == 256, "AES-256-SIV: values of 1..256 bytes seal alike from a copy and open");
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_CIPHER_CTX_free(dup);
	EVP_CIPHER_CTX_free(work);
}

/* Values of 16 bytes or more reuse the worker's context in OpenSSL's speed mode: the same
 * bytes as a fresh copy of the template for every length either side of the block, in any
 * order, with templates alternating on one work context and associated data given with some
 * values; what does not open still does not. */
static void siv_reuse_kat(void)
{
	/* the A.1 key and associated data, longer values: sealed by the cryptography package's
	 * AESSIV, twice each (the second seal is on the reused context) */
	static const struct { size_t n; const char *want; } kat[] = {
		{ 16, "07fe2f603e235f22c31329e3e7c35b63" "0a8ad3412f8afd92367f4131f2fa3be9" },
		{ 17, "a94fbd68a184b9ab3718d7cf0d208c4b" "eaba8baf0dcf9fb373b191dbdf660af49f" },
		{ 40, "74509fcee49f02bd54ba01c3ca6031ab" "8833b0f6c39bfce06f96b3eabaf896dc915e637c"
		      "8b925191c73668b110868969fb06cf6b54c8dc1a" },
	};
	unsigned char key[32], ad[24], pt[40], out[64], back[64];
	unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key);
	size_t adlen = unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad);
	for (int i = 0; i < 40; i++)
		pt[i] = (unsigned char)(0x20 + i);
	EVP_CIPHER_CTX *enc = tok_siv_template("AES-128-SIV", key, true, ad, adlen);
	EVP_CIPHER_CTX *dec = tok_siv_template("AES-128-SIV", key, false, ad, adlen);
	EVP_CIPHER_CTX *work = EVP_CIPHER_CTX_new();
	ok(tok_siv_reuses(enc) && tok_siv_reuses(dec),
	   "OpenSSL's speed mode passed the self-check (else every value would copy)");
	int good = 0;
	for (int round = 0; round < 2; round++)
		for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++) {
			size_t n = kat[k].n;
			good += tok_siv_seal(work, enc, NULL, 0, pt, n, out) &&
				same_hex(out, n + TOK_TAG_LEN, kat[k].want) &&
				tok_siv_seal(work, enc, NULL, 0, pt, n, out) &&
				same_hex(out, n + TOK_TAG_LEN, kat[k].want) &&
				tok_siv_open(work, dec, NULL, 0, out, n + TOK_TAG_LEN, back) &&
				memcmp(back, pt, n) == 0;
		}
	ok(good == 6, "16, 17 and 40 bytes as the cryptography package seals them, again on the "
	   "reused context, and they open (%d of 6)", good);
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_CIPHER_CTX_free(work);
}

#define MAXV 200

static void siv_reuse_paths(void)
{
	unsigned char key[64], v[MAXV];
	for (int i = 0; i < 64; i++)
		key[i] = (unsigned char)(255 - i);
	for (int i = 0; i < MAXV; i++)
		v[i] = (unsigned char)(i * 13 + 1);
	/* the rule templates, and a worker's copies of them, as main.c makes them */
	EVP_CIPHER_CTX *te = tok_siv_template("AES-256-SIV", key, true, "crm", 3);
	EVP_CIPHER_CTX *td = tok_siv_template("AES-256-SIV", key, false, "crm", 3);
	EVP_CIPHER_CTX *te2 = tok_siv_template("AES-256-SIV", key, true, "other", 5);
	EVP_CIPHER_CTX *enc = tok_siv_dup(te), *dec = tok_siv_dup(td), *enc2 = tok_siv_dup(te2);
	/* a worker that tokenizes, one that detokenizes, and the reference path's context */
	EVP_CIPHER_CTX *work = EVP_CIPHER_CTX_new(), *dwork = EVP_CIPHER_CTX_new();
	EVP_CIPHER_CTX *ref = EVP_CIPHER_CTX_new();
	ok(tok_siv_reuses(enc) && tok_siv_reuses(dec), "a worker's copies reuse as well");

	/* lengths up, down, and in a scattered order */
	size_t order[3 * MAXV];
	for (size_t i = 0; i < MAXV; i++) {
		order[i] = i + 1;
		order[MAXV + i] = MAXV - i;
		order[2 * MAXV + i] = (i * 37) % MAXV + 1;
	}
	int sealed = 0, opened = 0, refused = 0, reopened = 0, total = 3 * MAXV;
	unsigned char a[MAXV + TOK_TAG_LEN], b[MAXV + TOK_TAG_LEN], pa[MAXV], pb[MAXV];
	for (int i = 0; i < total; i++) {
		size_t n = order[i], len = n + TOK_TAG_LEN;
		sealed += tok_siv_seal(work, enc, NULL, 0, v, n, a) &&
			  tok_siv_seal_copy(ref, enc, NULL, 0, v, n, b) && memcmp(a, b, len) == 0;
		opened += tok_siv_open(dwork, dec, NULL, 0, a, len, pa) &&
			  tok_siv_open_copy(ref, dec, NULL, 0, a, len, pb) &&
			  memcmp(pa, v, n) == 0 && memcmp(pb, v, n) == 0;
		/* one bit of the tag, then one of the ciphertext */
		size_t at[2] = { (size_t)i % TOK_TAG_LEN, TOK_TAG_LEN + (size_t)i % n };
		int bad = 0;
		for (int k = 0; k < 2; k++) {
			a[at[k]] ^= (unsigned char)(1 << (i % 8));
			bad += tok_siv_open(dwork, dec, NULL, 0, a, len, pa) +
			       tok_siv_open_copy(ref, dec, NULL, 0, a, len, pb);
			a[at[k]] ^= (unsigned char)(1 << (i % 8));
		}
		refused += bad == 0;
		reopened += tok_siv_open(dwork, dec, NULL, 0, a, len, pa) && memcmp(pa, v, n) == 0;
	}
	ok(sealed == total, "seal: 1..%d bytes give the copy path's bytes (%d of %d)", MAXV,
	   sealed, total);
	ok(opened == total, "open: both paths give the value back (%d of %d)", opened, total);
	ok(refused == total, "a changed bit of tag or ciphertext opens on neither path (%d of %d)",
	   refused, total);
	ok(reopened == total, "and a token opens right after one that did not (%d of %d)",
	   reopened, total);

	/* one work context for two columns' templates, and the vault's data given per value */
	int alike = 0;
	for (int i = 0; i < total; i++) {
		size_t n = order[i], len = n + TOK_TAG_LEN;
		const EVP_CIPHER_CTX *t = i % 3 == 2 ? enc2 : enc;
		const char *ad = i % 5 == 4 ? "ns and token" : NULL;
		size_t adl = ad ? strlen(ad) : 0;
		alike += tok_siv_seal(work, t, ad, adl, v, n, a) &&
			 tok_siv_seal_copy(ref, t, ad, adl, v, n, b) && memcmp(a, b, len) == 0;
	}
	ok(alike == total, "templates alternating on one context, data given with some values: "
	   "the copy path's bytes (%d of %d)", alike, total);

	/* the context is copied afresh after 65535 values: past that, still the same bytes */
	tok_siv_seal_copy(ref, enc, NULL, 0, v, 20, b);
	int same = 0;
	for (int i = 0; i < 70000; i++)
		same += tok_siv_seal(work, enc, NULL, 0, v, 20, a) && memcmp(a, b, 20 + TOK_TAG_LEN) == 0;
	ok(same == 70000, "70000 values on one context, the same bytes (%d)", same);

	EVP_CIPHER_CTX *ctxs[] = { te, td, te2, enc, dec, enc2, work, dwork, ref };
	for (size_t i = 0; i < sizeof ctxs / sizeof ctxs[0]; i++)
		EVP_CIPHER_CTX_free(ctxs[i]);
}

static void hmac(void)
{
	unsigned char out[32], second[32];
	EVP_MAC_CTX *t = tok_hmac_template((const unsigned char *)"Jefe", 4);
	EVP_MAC_CTX *c = tok_hmac_dup(t);
	ok(tok_hmac(c, "what do ya want ", 16, "for nothing?", 12, out) &&
	   same_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	   "HMAC-SHA256: RFC 4231 test case 2 (prefix and value are one message)");

	/* the keyed stream: first block HMAC(context 0 value), then HMAC(first || 1), ... */
	struct tok_keyed_stream k;
	tok_keyed_start(&k, c, "what do ya want for nothing?", (const unsigned char *)"", 0);
	unsigned char zero = 0;
	tok_hmac(c, "what do ya want for nothing?", 28, &zero, 1, out);
	ok(memcmp(k.first, out, 32) == 0, "the stream starts with HMAC(context || 0 || value)");
	unsigned char bytes[70];
	for (int i = 0; i < 70; i++) {
		if (k.b.pos == k.b.n)
			k.b.refill(&k.b);
		bytes[i] = k.b.p[k.b.pos++];
	}
	unsigned char ctr[4] = { 0, 0, 0, 1 };
	tok_hmac(c, out, 32, ctr, 4, second);
	ok(memcmp(bytes, out, 32) == 0 && memcmp(bytes + 32, second, 32) == 0,
	   "then HMAC(first || 00000001)");
	ctr[3] = 2;
	tok_hmac(c, out, 32, ctr, 4, second);
	ok(memcmp(bytes + 64, second, 6) == 0, "then HMAC(first || 00000002)");
	EVP_MAC_CTX_free(c);
	EVP_MAC_CTX_free(t);
}

int main(void)
{
	rfc5297_a1();
	aes256_siv_roundtrip();
	siv_reuse_kat();
	siv_reuse_paths();
	hmac();
	return tap_done();
}
