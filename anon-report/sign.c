/* sign.c: detached Ed25519 signatures over the report's exact bytes, through OpenSSL's EVP
 * interface (PureEdDSA: the whole message, no prehash).  The signature file is the raw 64
 * bytes, so `openssl pkeyutl -verify -rawin` checks it too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "report.h"

static EVP_PKEY *load_key(const char *path, bool private, int *rc)
{
	BIO *bio = BIO_new_file(path, "r");
	if (!bio) {
		anon_error("%s: %s", path, strerror(errno ? errno : ENOENT));
		*rc = EX_NOINPUT;
		return NULL;
	}
	EVP_PKEY *k = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			      : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!k) {
		anon_error("%s: not a PEM %s key", path, private ? "private" : "public");
		*rc = EX_CONFIG;
		return NULL;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		anon_error("%s: not an Ed25519 key", path);
		EVP_PKEY_free(k);
		*rc = EX_CONFIG;
		return NULL;
	}
	return k;
}

int report_sign(const char *keypath, const unsigned char *msg, size_t n, unsigned char sig[64])
{
	int rc = 0;
	EVP_PKEY *k = load_key(keypath, true, &rc);
	if (!k)
		return rc;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &len, msg, n) != 1 || len != 64) {
		anon_error("%s: cannot sign with this key", keypath);
		rc = EX_SOFTWARE;
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}

int report_verify(const char *pubpath, const unsigned char *msg, size_t n,
		  const unsigned char *sig, size_t siglen)
{
	if (siglen != 64) {
		anon_error("the signature is %zu bytes, not the 64 of an Ed25519 signature", siglen);
		return EX_DATAERR;
	}
	int rc = 0;
	EVP_PKEY *k = load_key(pubpath, false, &rc);
	if (!k)
		return rc;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 ?
			 EVP_DigestVerify(ctx, sig, siglen, msg, n) : -1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	ERR_clear_error();
	if (ok == 1)
		return 0;
	if (ok == 0) {
		anon_error("the signature does not match: the report was changed, or signed with "
			   "another key");
		return ANON_EX_CHECK;
	}
	anon_error("cannot verify the signature");
	return EX_SOFTWARE;
}
