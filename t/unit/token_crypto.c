/* token_crypto.c: anon-token's AES-SIV calls against RFC 5297 appendix A.1 (the template
 * path and the one-more-string path give the same output, the output opens, any changed
 * byte does not), HMAC-SHA256 against RFC 4231 test case 2, and the keyed stream's
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
	hmac();
	return tap_done();
}
