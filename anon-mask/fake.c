/* fake.c: deterministic fakes.  A value picks its entries from installed dictionaries by a
 * keyed HMAC-SHA-256 of its bytes, so the same input gets the same fake in every column,
 * table and run that shares the key and --domain, and nothing else can predict it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "mask.h"

#ifndef ANON_DATADIR
#define ANON_DATADIR "/usr/local/share/anon"
#endif

static const char *const kind_names[] = {
	[FAKE_FIRST_NAME] = "first_name", [FAKE_LAST_NAME] = "last_name",
	[FAKE_FULL_NAME] = "full_name", [FAKE_EMAIL] = "email", [FAKE_CITY] = "city",
	[FAKE_COMPANY] = "company", [FAKE_STREET] = "street",
};

static const char *const dict_names[FAKE_NDICTS] = {
	[DICT_FIRST_NAME] = "first_name", [DICT_LAST_NAME] = "last_name", [DICT_CITY] = "city",
	[DICT_COMPANY] = "company", [DICT_STREET] = "street",
};

const char anon_fake_kind_names[] = "first_name, last_name, full_name, email, city, company, "
	"street";

bool anon_fake_kind_parse(const char *name, enum fake_kind *kind)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind = (enum fake_kind)i;
			return true;
		}
	}
	return false;
}

unsigned anon_fake_dicts_needed(enum fake_kind kind)
{
	switch (kind) {
	case FAKE_FIRST_NAME:
		return 1u << DICT_FIRST_NAME;
	case FAKE_LAST_NAME:
		return 1u << DICT_LAST_NAME;
	case FAKE_FULL_NAME:
	case FAKE_EMAIL:
		return 1u << DICT_FIRST_NAME | 1u << DICT_LAST_NAME;
	case FAKE_CITY:
		return 1u << DICT_CITY;
	case FAKE_COMPANY:
		return 1u << DICT_COMPANY;
	case FAKE_STREET:
		return 1u << DICT_STREET;
	}
	return 0;
}

const char *anon_fake_dict_name(enum fake_dict_id id)
{
	return dict_names[id];
}

static bool has_fake_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/fake", dir) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *anon_fake_datadir(void)
{
	static char beside[PATH_MAX];
	const char *env = getenv("ANON_DATADIR");
	if (env && *env && has_fake_dir(env))
		return env;
	/* Run from a source tree: bin/anon-mask finds data/ next to bin/. */
	ssize_t n = readlink("/proc/self/exe", beside, sizeof(beside) - 1);
	if (n > 0) {
		beside[n] = '\0';
		char *slash = strrchr(beside, '/');
		if (slash && (size_t)(slash - beside) + sizeof("/../data") <= sizeof(beside)) {
			strcpy(slash, "/../data");
			if (has_fake_dir(beside))
				return beside;
		}
	}
	if (has_fake_dir(ANON_DATADIR))
		return ANON_DATADIR;
	return NULL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct anon_buf b = { 0 };
	size_t got;
	do {
		anon_buf_reserve(&b, 65536);
		got = fread(b.p + b.len, 1, 65536, f);
		b.len += got;
	} while (got > 0);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		anon_buf_free(&b);
		return NULL;
	}
	anon_buf_addc(&b, '\0');
	*len = b.len - 1;
	return (char *)b.p;
}

int anon_fake_dict_load(struct fake_ctx *fc, enum fake_dict_id id, const char *dir,
			char *err, size_t errlen)
{
	struct fake_dict *d = &fc->dicts[id];
	if (d->entries)
		return 0;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/fake/%s.txt", dir, dict_names[id]);
	size_t len;
	if (!(d->text = read_file(path, &len))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fc->sha256 && !(fc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
		anon_die(EX_SOFTWARE, "OpenSSL: SHA256 unavailable");
	if (!EVP_Digest(d->text, len, d->sha256, NULL, fc->sha256, NULL))
		anon_die(EX_SOFTWARE, "OpenSSL: SHA256 failed");
	if (!anon_utf8_valid((const unsigned char *)d->text, len)) {
		snprintf(err, errlen, "%s: invalid UTF-8", path);
		return -1;
	}
	size_t cap = 0;
	for (size_t i = 0; i < len; i++)
		cap += d->text[i] == '\n';
	if (!(d->entries = malloc((cap + 1) * sizeof(*d->entries))))
		anon_die(EX_SOFTWARE, "out of memory");
	for (char *line = d->text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t n = strlen(line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		d->entries[d->n++] = line;
	}
	if (d->n == 0) {
		snprintf(err, errlen, "%s: no entries", path);
		return -1;
	}
	return 0;
}

int anon_fake_key(struct fake_ctx *fc, const unsigned char *key, size_t len)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!(fc->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) ||
	    !(fc->hmac = EVP_MAC_CTX_new(fc->mac)) ||
	    !EVP_MAC_init(fc->hmac, key, len, params))
		return -1;
	fc->keyed = true;
	return 0;
}

EVP_MAC_CTX *anon_fake_hmac_dup(const struct fake_ctx *fc)
{
	if (!fc->keyed)
		return NULL;
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(fc->hmac);
	if (!c)
		anon_die(EX_SOFTWARE, "OpenSSL: cannot copy the HMAC context");
	return c;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A 64-bit draw reduced modulo a few hundred entries: the bias is below 2^-50. */
static const char *pick(const struct fake_dict *d, const unsigned char *mac8)
{
	return d->entries[be64(mac8) % d->n];
}

/* Letters and digits of an entry in lower case, for the local part of an email. */
static void add_local(struct anon_buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			anon_buf_addc(out, (unsigned char)(c - 'A' + 'a'));
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			anon_buf_addc(out, c);
	}
}

void anon_fake_make(const struct fake_ctx *fc, EVP_MAC_CTX *hmac, enum fake_kind kind,
		    const unsigned char *p, size_t n, struct anon_buf *out)
{
	unsigned char mac[32];
	size_t maclen = 0;
	/* A NULL key re-initialises the context with the key it already holds (a copy holds
	 * the key of the context it was copied from). */
	if (!fc->keyed || !hmac || !EVP_MAC_init(hmac, NULL, 0, NULL) ||
	    !EVP_MAC_update(hmac, p, n) ||
	    !EVP_MAC_final(hmac, mac, &maclen, sizeof(mac)) || maclen != sizeof(mac))
		anon_die(EX_SOFTWARE, "OpenSSL: HMAC failed");
	/* Each part of a fake draws from its own eight bytes, so the first name of a full
	 * name is the first_name fake of the same value. */
	const unsigned char *m_first = mac, *m_last = mac + 8, *m_place = mac + 16,
			    *m_extra = mac + 24;
	switch (kind) {
	case FAKE_FIRST_NAME:
		anon_buf_addstr(out, pick(&fc->dicts[DICT_FIRST_NAME], m_first));
		break;
	case FAKE_LAST_NAME:
		anon_buf_addstr(out, pick(&fc->dicts[DICT_LAST_NAME], m_last));
		break;
	case FAKE_FULL_NAME:
		anon_buf_addstr(out, pick(&fc->dicts[DICT_FIRST_NAME], m_first));
		anon_buf_addc(out, ' ');
		anon_buf_addstr(out, pick(&fc->dicts[DICT_LAST_NAME], m_last));
		break;
	case FAKE_EMAIL: {
		/* Domains reserved for examples (RFC 2606): a fake never reaches a real box. */
		static const char *const domains[] = { "example.com", "example.net", "example.org" };
		add_local(out, pick(&fc->dicts[DICT_FIRST_NAME], m_first));
		anon_buf_addc(out, '.');
		add_local(out, pick(&fc->dicts[DICT_LAST_NAME], m_last));
		anon_buf_addc(out, '@');
		anon_buf_addstr(out, domains[be64(m_extra) % 3]);
		break;
	}
	case FAKE_CITY:
		anon_buf_addstr(out, pick(&fc->dicts[DICT_CITY], m_place));
		break;
	case FAKE_COMPANY:
		anon_buf_addstr(out, pick(&fc->dicts[DICT_COMPANY], m_place));
		break;
	case FAKE_STREET: {
		char num[16];
		snprintf(num, sizeof(num), "%u ", (unsigned)(be64(m_extra) % 9999 + 1));
		anon_buf_addstr(out, num);
		anon_buf_addstr(out, pick(&fc->dicts[DICT_STREET], m_place));
		break;
	}
	}
	OPENSSL_cleanse(mac, sizeof(mac));
}

void anon_fake_free(struct fake_ctx *fc)
{
	for (int i = 0; i < FAKE_NDICTS; i++) {
		free(fc->dicts[i].text);
		free(fc->dicts[i].entries);
	}
	EVP_MAC_CTX_free(fc->hmac);
	EVP_MAC_free(fc->mac);
	EVP_MD_free(fc->sha256);
	memset(fc, 0, sizeof(*fc));
}
