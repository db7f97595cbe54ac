/* key.c: the master key, and the subkeys every use derives from it with HKDF-SHA256, so one
 * key serves every tool without one key ever serving two algorithms. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "anon-int.h"

#define KEY_MAX 64

static struct {
	unsigned char bytes[KEY_MAX];
	size_t len;
	bool loaded;
	char fingerprint[17];
	char tool[64], domain[256];
} key;

/* The one rule for keys, in every message about one. */
#define KEY_RULE "a key is 32 bytes: 64 hex digits or 32 raw bytes ('openssl rand -hex 32 > " \
		 "anon.key'); anon-fpe --key-raw also takes 16 or 24"

static bool key_length_ok(size_t n)
{
	return n == 16 || n == 24 || n == 32;
}

/* Hex (any case, even length) or raw bytes; trailing white space of a hex file is ignored. */
static void key_parse(const unsigned char *s, size_t n, const char *what, bool env)
{
	size_t h = n;
	while (h > 0 && isspace(s[h - 1]))
		h--;
	if (h == 0)
		anon_die(EX_CONFIG, "%s: %s", what, env ? "ANON_KEY is empty" : "key file is empty");
	bool hex = h % 2 == 0;
	for (size_t i = 0; i < h && hex; i++)
		hex = isxdigit(s[i]);
	if (env && !hex)
		anon_die(EX_CONFIG, "ANON_KEY must be hex: %s", KEY_RULE);
	if (hex) {
		if (!key_length_ok(h / 2))
			anon_die(EX_CONFIG, "%s: %zu hex digits: %s", what, h, KEY_RULE);
		anon_hex_decode((const char *)s, h, key.bytes);
		key.len = h / 2;
	} else {
		if (!key_length_ok(n))
			anon_die(EX_CONFIG, "%s: %zu bytes: %s", what, n, KEY_RULE);
		memcpy(key.bytes, s, n);
		key.len = n;
	}
}

static void key_read_file(const char *file)
{
	int fd = open(file, O_RDONLY);
	if (fd < 0)
		anon_die(EX_CONFIG, "%s: %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		anon_warn("%s: key file is readable by group or others (chmod 600 it)", file);
	unsigned char buf[2 * KEY_MAX + 8];
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, sizeof buf - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			anon_die(EX_CONFIG, "%s: %s", file, strerror(errno));
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == sizeof buf)
			anon_die(EX_CONFIG, "%s: key file is too large", file);
	}
	close(fd);
	key_parse(buf, n, file, false);
	OPENSSL_cleanse(buf, sizeof buf);
}

static void mac(const unsigned char *k, size_t klen, const void *msg, size_t mlen,
		unsigned char out[32])
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl;
	if (!c || !EVP_MAC_init(c, k, klen, params) || !EVP_MAC_update(c, msg, mlen) ||
	    !EVP_MAC_final(c, out, &outl, 32))
		anon_die(EX_SOFTWARE, "HMAC-SHA256 unavailable in OpenSSL");
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
}

bool anon_key_load(const char *tool, const char *file, const char *domain)
{
	snprintf(key.tool, sizeof key.tool, "%s", tool);
	snprintf(key.domain, sizeof key.domain, "%s", domain ? domain : "");
	const char *env = getenv("ANON_KEY");
	if (!file || !*file)
		file = getenv("ANON_KEY_FILE");
	if (file && *file)
		key_read_file(file);
	else if (env && *env)
		key_parse((const unsigned char *)env, strlen(env), "ANON_KEY", true);
	else
		return false;
	key.loaded = true;
	static const char label[] = "anon key fingerprint v1";
	unsigned char fp[32];
	mac(key.bytes, key.len, label, sizeof label - 1, fp);
	for (int i = 0; i < 8; i++)
		snprintf(key.fingerprint + 2 * i, 3, "%02x", fp[i]);
	OPENSSL_cleanse(fp, sizeof fp);
	return true;
}

bool anon_key_loaded(void)
{
	return key.loaded;
}

const char *anon_key_fingerprint(void)
{
	return key.loaded ? key.fingerprint : NULL;
}

void anon_key_wipe(void)
{
	OPENSSL_cleanse(key.bytes, sizeof key.bytes);
	key.len = 0;
}

static void need_key(void)
{
	if (!key.loaded)
		anon_die(EX_CONFIG, "no key: give --key-file FILE, or set ANON_KEY_FILE or ANON_KEY "
			 "(make one with 'openssl rand -hex 32 > anon.key')");
}

const unsigned char *anon_key_raw(size_t *len)
{
	need_key();
	*len = key.len;
	return key.bytes;
}

void anon_key_derive(const char *purpose, unsigned char *out, size_t len)
{
	need_key();
	if (key.len != 32)
		anon_die(EX_CONFIG, "the key has %zu bytes: %s", key.len, KEY_RULE);
	struct anon_buf info = {0};
	anon_buf_addstr(&info, key.tool);
	anon_buf_addc(&info, 0);
	anon_buf_addstr(&info, purpose);
	anon_buf_addc(&info, 0);
	anon_buf_addstr(&info, key.domain);
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key.bytes, key.len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.p, info.len),
		OSSL_PARAM_construct_end(),
	};
	if (!c || EVP_KDF_derive(c, out, len, params) != 1)
		anon_die(EX_SOFTWARE, "HKDF-SHA256 unavailable in OpenSSL");
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	anon_buf_free(&info);
}
