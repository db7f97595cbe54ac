/* buf.c: growable byte buffers; an allocation failure ends the tool with exit 70. */
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"

void anon_buf_reserve(struct anon_buf *b, size_t extra)
{
	size_t need = b->len + extra;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	b->p = p;
	b->cap = cap;
}

void anon_buf_add(struct anon_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	anon_buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void anon_buf_addc(struct anon_buf *b, unsigned char c)
{
	anon_buf_reserve(b, 1);
	b->p[b->len++] = c;
}

void anon_buf_addstr(struct anon_buf *b, const char *s)
{
	anon_buf_add(b, s, strlen(s));
}

void anon_buf_free(struct anon_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void *anon_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

void *anon_xcalloc_apart(size_t n, size_t size)
{
	size_t bytes = (n ? n : 1) * (size ? size : 1);
	if (size && bytes / size != (n ? n : 1))
		anon_die(EX_SOFTWARE, "out of memory");
	bytes = (bytes + ANON_APART - 1) / ANON_APART * ANON_APART;
	void *p = aligned_alloc(ANON_APART, bytes);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return memset(p, 0, bytes);
}

void *anon_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		anon_die(EX_SOFTWARE, "out of memory");
	return q;
}

char *anon_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

char *anon_xstrdup(const char *s)
{
	return anon_xstrndup(s, strlen(s));
}
