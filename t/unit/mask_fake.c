/* mask_fake.c: anon-mask's fakes: deterministic per key, drawn from their dictionaries.
 * Run from the top of the tree (as make check does), or with ANON_DATADIR set. */
#include <stdlib.h>
#include <string.h>

#include "../../anon-mask/mask.h"
#include "tap.h"

static struct fake_ctx fc;
static EVP_MAC_CTX *hmac; /* a copy of fc's keyed HMAC, as each worker has */

static const char *fake_with(EVP_MAC_CTX *h, enum fake_kind kind, const char *value)
{
	static char res[4][256];
	static int slot;
	struct anon_buf b = { 0 };
	anon_fake_make(&fc, h, kind, (const unsigned char *)value, strlen(value), &b);
	char *r = res[slot++ & 3];
	snprintf(r, sizeof(res[0]), "%.*s", (int)b.len, (const char *)b.p);
	anon_buf_free(&b);
	return r;
}

static const char *fake(enum fake_kind kind, const char *value)
{
	return fake_with(hmac, kind, value);
}

static bool in_dict(enum fake_dict_id id, const char *s)
{
	for (size_t i = 0; i < fc.dicts[id].n; i++)
		if (strcmp(fc.dicts[id].entries[i], s) == 0)
			return true;
	return false;
}

int main(void)
{
	const char *dir = getenv("ANON_DATADIR") ? getenv("ANON_DATADIR") : "data";
	char err[512];
	bool loaded = true;
	for (int i = 0; i < FAKE_NDICTS; i++)
		if (anon_fake_dict_load(&fc, i, dir, err, sizeof(err)) < 0) {
			loaded = false;
			printf("# %s\n", err);
		}
	ok(loaded, "dictionaries load from %s/fake", dir);
	if (!loaded)
		return tap_done();
	for (int i = 0; i < FAKE_NDICTS; i++)
		ok(fc.dicts[i].n >= 100 && fc.dicts[i].n <= 2000, "%s: %zu entries, no comments",
		   anon_fake_dict_name(i), fc.dicts[i].n);
	ok(!in_dict(DICT_CITY, "# city: names of incorporated places in the United States."),
	   "header comments are not entries");
	unsigned char zero[32] = { 0 };
	ok(memcmp(fc.dicts[DICT_CITY].sha256, zero, 32) != 0 &&
	   memcmp(fc.dicts[DICT_CITY].sha256, fc.dicts[DICT_STREET].sha256, 32) != 0,
	   "each dictionary has its own SHA-256");

	ok(anon_fake_hmac_dup(&fc) == NULL, "no copy of an HMAC not yet keyed");
	unsigned char key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	ok(anon_fake_key(&fc, key, sizeof(key)) == 0 && (hmac = anon_fake_hmac_dup(&fc)),
	   "HMAC keyed and copied");

	char a[256];
	snprintf(a, sizeof(a), "%s", fake(FAKE_FIRST_NAME, "Zoë Dupont"));
	ok(strcmp(a, fake(FAKE_FIRST_NAME, "Zoë Dupont")) == 0, "same value, same fake (%s)", a);
	ok(in_dict(DICT_FIRST_NAME, a), "first_name comes from its dictionary");
	/* Another worker's copy of the same keyed HMAC gives the same fakes. */
	EVP_MAC_CTX *other_hmac = anon_fake_hmac_dup(&fc);
	ok(other_hmac && strcmp(a, fake_with(other_hmac, FAKE_FIRST_NAME, "Zoë Dupont")) == 0 &&
	   strcmp(fake(FAKE_STREET, "x"), fake_with(other_hmac, FAKE_STREET, "x")) == 0,
	   "two copies of the keyed HMAC, the same fakes");
	EVP_MAC_CTX_free(other_hmac);

	/* Every fake stays within its dictionary, and many values spread over it. */
	bool within = true;
	size_t distinct = 0;
	const char *seen[200];
	for (int i = 0; i < 200; i++) {
		char v[32];
		snprintf(v, sizeof(v), "value-%d", i);
		const char *c = fake(FAKE_CITY, v);
		within &= in_dict(DICT_CITY, c);
		size_t k;
		for (k = 0; k < distinct; k++)
			if (strcmp(seen[k], c) == 0)
				break;
		if (k == distinct)
			seen[distinct++] = strdup(c);
		within &= in_dict(DICT_LAST_NAME, fake(FAKE_LAST_NAME, v));
		within &= in_dict(DICT_COMPANY, fake(FAKE_COMPANY, v));
		const char *st = fake(FAKE_STREET, v);
		const char *sp = strchr(st, ' ');
		within &= sp && atoi(st) >= 1 && atoi(st) <= 9999 && in_dict(DICT_STREET, sp + 1);
	}
	ok(within, "city, last_name, company and street fakes stay within their dictionaries");
	ok(distinct > 100, "200 values give %zu distinct cities", distinct);
	for (size_t k = 0; k < distinct; k++)
		free((void *)seen[k]);

	char full[256], first[256], last[256];
	snprintf(full, sizeof(full), "%s", fake(FAKE_FULL_NAME, "jane@example.org"));
	snprintf(first, sizeof(first), "%s", fake(FAKE_FIRST_NAME, "jane@example.org"));
	snprintf(last, sizeof(last), "%s", fake(FAKE_LAST_NAME, "jane@example.org"));
	char want[512];
	snprintf(want, sizeof(want), "%s %s", first, last);
	ok(strcmp(full, want) == 0, "full_name is first_name and last_name of the same value");

	const char *email = fake(FAKE_EMAIL, "jane@example.org");
	const char *at = strchr(email, '@');
	ok(at && (strcmp(at, "@example.com") == 0 || strcmp(at, "@example.net") == 0 ||
		  strcmp(at, "@example.org") == 0) && strchr(email, '.') < at,
	   "email is first.last at a reserved example domain (%s)", email);

	/* Another key, other fakes: the mapping is secret. */
	snprintf(a, sizeof(a), "%s", fake(FAKE_FULL_NAME, "value-1"));
	char b2[256];
	snprintf(b2, sizeof(b2), "%s", fake(FAKE_FULL_NAME, "value-2"));
	struct fake_ctx keep = fc;
	EVP_MAC_CTX *keep_hmac = hmac;
	fc.mac = NULL;
	fc.hmac = NULL;
	key[0] ^= 1;
	ok(anon_fake_key(&fc, key, sizeof(key)) == 0 && (hmac = anon_fake_hmac_dup(&fc)),
	   "second key");
	bool differs = strcmp(a, fake(FAKE_FULL_NAME, "value-1")) != 0 ||
		       strcmp(b2, fake(FAKE_FULL_NAME, "value-2")) != 0;
	ok(differs, "a different key gives different fakes");
	EVP_MAC_CTX_free(hmac);
	EVP_MAC_CTX_free(fc.hmac);
	EVP_MAC_free(fc.mac);
	fc.hmac = keep.hmac;
	fc.mac = keep.mac;
	hmac = keep_hmac;

	ok(anon_fake_dict_load(&fc, DICT_CITY, "/nonexistent", err, sizeof(err)) == 0,
	   "a loaded dictionary is not read again");
	struct fake_ctx other = { 0 };
	ok(anon_fake_dict_load(&other, DICT_CITY, "/nonexistent", err, sizeof(err)) < 0 &&
	   strstr(err, "/nonexistent/fake/city.txt"), "a missing dictionary is named: %s", err);
	anon_fake_free(&other);
	EVP_MAC_CTX_free(hmac);
	anon_fake_free(&fc);
	return tap_done();
}
