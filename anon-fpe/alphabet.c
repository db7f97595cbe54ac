/* alphabet.c: alphabets of Unicode code points; the i-th code point is numeral i.
 * ASCII symbols map through a byte table, others through a sorted array. */
#include <stdlib.h>
#include <string.h>

#include "fpe.h"

/* The named alphabets. alnum extends the NIST/ACVP radix-36 order 0-9a-z with A-Z, as Go's
 * math/big, Bouncy Castle and capitalone/fpe do; alpha is lower case first for the same reason. */
static const struct {
	const char *name, *chars;
} named[] = {
	{ "digits", "0123456789" },
	{ "hex", "0123456789abcdef" },
	{ "lower", "abcdefghijklmnopqrstuvwxyz" },
	{ "upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ" },
	{ "alpha", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" },
	{ "alnum", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" },
};

const char *fpe_alphabet_named(const char *name)
{
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (strcmp(name, named[i].name) == 0)
			return named[i].chars;
	return NULL;
}

static int symbol_cmp(const void *x, const void *y)
{
	const struct fpe_symbol *a = x, *b = y;
	return a->cp < b->cp ? -1 : a->cp > b->cp;
}

const char *fpe_alphabet_init(struct fpe_alphabet *a, const char *utf8, size_t len)
{
	const unsigned char *s = (const unsigned char *)utf8;
	memset(a, 0, sizeof *a);
	for (int i = 0; i < 128; i++)
		a->byte_map[i] = -1;
	if (!anon_utf8_valid(s, len))
		return "alphabet is not valid UTF-8";
	size_t count = anon_utf8_count(s, len);
	if (count < 2)
		return "alphabet needs at least 2 symbols";
	if (count > FPE_MAX_RADIX)
		return "alphabet has more than 65536 symbols";
	a->radix = (unsigned)count;
	a->cps = malloc(count * sizeof *a->cps);
	a->sorted = malloc(count * sizeof *a->sorted);
	a->text = malloc(len + 1);
	if (!a->cps || !a->sorted || !a->text) {
		fpe_alphabet_free(a);
		return "out of memory";
	}
	memcpy(a->text, utf8, len);
	a->text[len] = 0;
	a->ascii = true;
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += anon_utf8_decode(s + i, len - i, &cp);
		a->cps[k] = cp;
		if (cp < 128) {
			if (a->byte_map[cp] >= 0)
				goto dup;
			a->byte_map[cp] = (int32_t)k;
		} else {
			a->ascii = false;
			a->sorted[a->nsorted].cp = cp;
			a->sorted[a->nsorted++].numeral = (uint32_t)k;
		}
		k++;
	}
	qsort(a->sorted, a->nsorted, sizeof *a->sorted, symbol_cmp);
	for (size_t i = 1; i < a->nsorted; i++)
		if (a->sorted[i].cp == a->sorted[i - 1].cp)
			goto dup;
	return NULL;
dup:
	fpe_alphabet_free(a);
	return "alphabet has a duplicate symbol";
}

void fpe_alphabet_free(struct fpe_alphabet *a)
{
	free(a->cps);
	free(a->sorted);
	free(a->text);
	a->cps = NULL;
	a->sorted = NULL;
	a->text = NULL;
}

int32_t fpe_alphabet_find(const struct fpe_alphabet *a, uint32_t cp)
{
	if (cp < 128)
		return a->byte_map[cp];
	size_t lo = 0, hi = a->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->sorted[mid].cp == cp)
			return (int32_t)a->sorted[mid].numeral;
		if (a->sorted[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
