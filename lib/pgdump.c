/* pgdump.c: SQL identifiers and quoting, for the COPY and INSERT statements of pg_dump and
 * for column specs. */
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"

/* Bare words are kept as written (pg_dump writes them in lower case already). */
char *anon_sql_ident(const char **pp, const char *end, const char *stops)
{
	const char *p = *pp;
	if (p < end && *p == '"') {
		struct anon_buf b = {0};
		for (p++;; p++) {
			if (p >= end) {
				anon_buf_free(&b);
				return NULL;
			}
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"') {
					anon_buf_addc(&b, '"');
					p++;
					continue;
				}
				p++;
				break;
			}
			anon_buf_addc(&b, (unsigned char)*p);
		}
		*pp = p;
		char *s = anon_xstrndup(b.p ? (char *)b.p : "", b.len);
		anon_buf_free(&b);
		return s;
	}
	const char *s = p;
	while (p < end && !strchr(stops, *p))
		p++;
	if (p == s)
		return NULL;
	*pp = p;
	return anon_xstrndup(s, (size_t)(p - s));
}

void anon_copyhdr_free(struct anon_copyhdr *h)
{
	free(h->schema);
	free(h->table);
	for (size_t i = 0; i < h->ncols; i++)
		free(h->cols[i]);
	free(h->cols);
	memset(h, 0, sizeof *h);
}

bool anon_copyhdr_parse(const unsigned char *line, size_t len, struct anon_copyhdr *h)
{
	static const char tail[] = " FROM stdin;";
	const char *p = (const char *)line, *end = p + len;

	memset(h, 0, sizeof *h);
	if (len < 5 + sizeof tail || memcmp(p, "COPY ", 5) != 0)
		return false;
	if (memcmp(end - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
		return false;
	end -= sizeof tail - 1;
	p += 5;
	char *a = anon_sql_ident(&p, end, ". (");
	if (!a)
		return false;
	if (p < end && *p == '.') {
		p++;
		h->schema = a;
		if (!(h->table = anon_sql_ident(&p, end, ". (")))
			goto bad;
	} else {
		h->table = a;
	}
	/* "COPY t  FROM stdin;": pg_dump's column list of a table without columns is empty */
	if (p == end || (end - p == 1 && *p == ' '))
		return true;
	if (end - p < 3 || p[0] != ' ' || p[1] != '(' || end[-1] != ')')
		goto bad;
	p += 2;
	end--;
	h->has_cols = true;
	while (p < end) {
		char *col = anon_sql_ident(&p, end, ",");
		if (!col)
			goto bad;
		char **cols = realloc(h->cols, (h->ncols + 1) * sizeof *cols);
		if (!cols) {
			free(col);
			anon_die(EX_SOFTWARE, "out of memory");
		}
		h->cols = cols;
		h->cols[h->ncols++] = col;
		if (p == end)
			break;
		if (end - p < 2 || p[0] != ',' || p[1] != ' ')
			goto bad;
		p += 2;
	}
	return true;
bad:
	anon_copyhdr_free(h);
	return false;
}

/* ident[.ident] at *pp into a relation name. */
static bool relname(const char **pp, const char *end, struct anon_relname *out)
{
	char *a = anon_sql_ident(pp, end, ". (;");
	if (!a)
		return false;
	if (*pp < end && **pp == '.') {
		++*pp;
		out->schema = a;
		if (!(out->table = anon_sql_ident(pp, end, ". (;"))) {
			free(a);
			out->schema = NULL;
			return false;
		}
	} else {
		out->schema = NULL;
		out->table = a;
	}
	return true;
}

static bool skip_word(const char **pp, const char *end, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0)
		return false;
	*pp += n;
	return true;
}

static void relname_free(struct anon_relname *r)
{
	free(r->schema);
	free(r->table);
	r->schema = r->table = NULL;
}

bool anon_partition_parse(const unsigned char *line, size_t len, struct anon_partition *out)
{
	const char *p = (const char *)line, *end = p + len;
	memset(out, 0, sizeof *out);
	if (skip_word(&p, end, "ALTER TABLE ")) {
		skip_word(&p, end, "ONLY ");
		if (!relname(&p, end, &out->parent))
			return false;
		if (skip_word(&p, end, " ATTACH PARTITION ") && relname(&p, end, &out->child))
			return true;
	} else if (skip_word(&p, end, "CREATE TABLE ")) {
		if (!relname(&p, end, &out->child))
			return false;
		if (skip_word(&p, end, " PARTITION OF ") && relname(&p, end, &out->parent))
			return true;
	}
	relname_free(&out->child);
	relname_free(&out->parent);
	return false;
}

bool anon_insert_parse(const unsigned char *line, size_t len, struct anon_copyhdr *h)
{
	static const char head[] = "INSERT INTO ";
	const char *p = (const char *)line, *end = p + len;
	memset(h, 0, sizeof *h);
	if (len < sizeof head || memcmp(p, head, sizeof head - 1) != 0)
		return false;
	p += sizeof head - 1;
	char *a = anon_sql_ident(&p, end, ". (");
	if (!a)
		return false;
	if (p < end && *p == '.') {
		p++;
		h->schema = a;
		if (!(h->table = anon_sql_ident(&p, end, ". ("))) {
			anon_copyhdr_free(h);
			return false;
		}
	} else {
		h->table = a;
	}
	return true;
}

/* Track SQL quoting across the lines outside COPY blocks, so that a line reading "COPY ..."
 * inside a function body, a string or a comment is never taken for a data block. */
static bool ident_char(unsigned char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c >= 0x80;
}

void anon_sql_lex(struct anon_sqlstate *s, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	while (p < end) {
		switch (s->state) {
		case ANON_SQL_NORMAL:
			if (*p == '-' && p + 1 < end && p[1] == '-') {
				s->prev = '\n'; /* comment to the end of the line: a word break */
				s->prev2 = 0;
				return;
			}
			if (*p == '/' && p + 1 < end && p[1] == '*') {
				s->state = ANON_SQL_BLOCK;
				s->depth = 1;
				p += 2;
				continue;
			}
			if (*p == '\'') {
				/* E'...' only when the E is a word of its own (LIKE'x' is not) */
				bool e = (s->prev == 'E' || s->prev == 'e') && !ident_char(s->prev2);
				s->state = e ? ANON_SQL_ESTRING : ANON_SQL_STRING;
			} else if (*p == '"') {
				s->state = ANON_SQL_IDENT;
			} else if (*p == '$' && !ident_char(s->prev) && s->prev != '$') {
				const unsigned char *q = p + 1;
				while (q < end && ident_char(*q) && !(q == p + 1 && *q >= '0' && *q <= '9'))
					q++;
				if (q < end && *q == '$') {
					s->taglen = (size_t)(q + 1 - p);
					if (s->taglen > s->tagcap) {
						s->tagcap = s->taglen * 2;
						s->tag = anon_xrealloc(s->tag, s->tagcap);
					}
					memcpy(s->tag, p, s->taglen);
					s->state = ANON_SQL_DOLLAR;
					p = q + 1;
					s->prev = s->prev2 = 0;
					continue;
				}
			}
			s->prev2 = s->prev;
			s->prev = *p++;
			continue;
		case ANON_SQL_STRING:
		case ANON_SQL_ESTRING:
		case ANON_SQL_IDENT: {
			unsigned char q = s->state == ANON_SQL_IDENT ? '"' : '\'';
			if (*p == '\\' && s->state == ANON_SQL_ESTRING) {
				p += 2;
				continue;
			}
			if (*p == q) {
				if (p + 1 < end && p[1] == q) {
					p += 2;
					continue;
				}
				s->state = ANON_SQL_NORMAL;
				s->prev = s->prev2 = 0;
			}
			p++;
			continue;
		}
		case ANON_SQL_DOLLAR:
			if (*p == '$' && (size_t)(end - p) >= s->taglen &&
			    memcmp(p, s->tag, s->taglen) == 0) {
				s->state = ANON_SQL_NORMAL;
				s->prev = s->prev2 = 0;
				p += s->taglen;
				continue;
			}
			p++;
			continue;
		case ANON_SQL_BLOCK:
			if (*p == '/' && p + 1 < end && p[1] == '*') {
				s->depth++;
				p += 2;
			} else if (*p == '*' && p + 1 < end && p[1] == '/') {
				if (--s->depth == 0) {
					s->state = ANON_SQL_NORMAL;
					s->prev = 0;
				}
				p += 2;
			} else {
				p++;
			}
			continue;
		}
	}
	if (s->state == ANON_SQL_NORMAL) {
		s->prev = '\n';
		s->prev2 = 0;
	}
}

void anon_sqlstate_free(struct anon_sqlstate *s)
{
	free(s->tag);
	s->tag = NULL;
	s->taglen = s->tagcap = 0;
}
