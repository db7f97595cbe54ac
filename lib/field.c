/* field.c: turn a raw cell into the value a database would store, and a value back into
 * the bytes of a cell.  Only cells a rule touches ever come here. */
#include <stdio.h>
#include <string.h>

#include "anon-int.h"

/* PostgreSQL COPY text escapes (copyfromparse.c, CopyReadAttributesText). */
static void decode_copy(const unsigned char *p, size_t n, struct anon_buf *out)
{
	const unsigned char *end = p + n;
	anon_buf_reserve(out, n);
	while (p < end) {
		const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
		if (!bs) {
			anon_buf_add(out, p, (size_t)(end - p));
			break;
		}
		anon_buf_add(out, p, (size_t)(bs - p));
		p = bs + 1;
		if (p == end) { /* a lone trailing backslash stays */
			anon_buf_addc(out, '\\');
			break;
		}
		unsigned c = *p++;
		switch (c) {
		case 'b': anon_buf_addc(out, '\b'); break;
		case 'f': anon_buf_addc(out, '\f'); break;
		case 'n': anon_buf_addc(out, '\n'); break;
		case 'r': anon_buf_addc(out, '\r'); break;
		case 't': anon_buf_addc(out, '\t'); break;
		case 'v': anon_buf_addc(out, '\v'); break;
		case 'x': {
			int h = p < end ? anon_hex_digit(*p) : -1;
			if (h < 0) {
				anon_buf_addc(out, 'x');
				break;
			}
			unsigned v = (unsigned)h;
			p++;
			if (p < end && (h = anon_hex_digit(*p)) >= 0) {
				v = v * 16 + (unsigned)h;
				p++;
			}
			anon_buf_addc(out, (unsigned char)v);
			break;
		}
		case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
			unsigned v = c - '0';
			for (int i = 0; i < 2 && p < end && *p >= '0' && *p <= '7'; i++)
				v = v * 8 + (unsigned)(*p++ - '0');
			anon_buf_addc(out, (unsigned char)v);
			break;
		}
		default:
			anon_buf_addc(out, (unsigned char)c);
		}
	}
}

/* Linear TSV: \t \n \r \\ are escapes; any other backslash pair is kept as it is. */
static void decode_tsv(const unsigned char *p, size_t n, struct anon_buf *out)
{
	const unsigned char *end = p + n;
	anon_buf_reserve(out, n);
	while (p < end) {
		if (*p != '\\' || p + 1 == end) {
			out->p[out->len++] = *p++;
			continue;
		}
		switch (p[1]) {
		case 't': out->p[out->len++] = '\t'; break;
		case 'n': out->p[out->len++] = '\n'; break;
		case 'r': out->p[out->len++] = '\r'; break;
		case '\\': out->p[out->len++] = '\\'; break;
		default:
			out->p[out->len++] = p[0];
			out->p[out->len++] = p[1];
		}
		p += 2;
	}
}

void anon_field_decode(const struct anon_dialect *d, const struct anon_cell *c,
		       struct anon_buf *scratch, struct anon_field *out)
{
	out->null = (c->flags & ANON_CELL_NULL) != 0;
	if (out->null) {
		out->p = (const unsigned char *)"";
		out->len = 0;
		return;
	}
	if (d->fmt == ANON_FMT_CSV) {
		const unsigned char *p = c->p;
		size_t n = c->len;
		if (c->flags & ANON_CELL_QUOTED) {
			p++;
			n -= 2;
		}
		if (!(c->flags & ANON_CELL_ESCAPED)) {
			out->p = p;
			out->len = n;
			return;
		}
		scratch->len = 0;
		anon_buf_reserve(scratch, n);
		for (size_t i = 0; i < n; i++) {
			scratch->p[scratch->len++] = p[i];
			if (p[i] == d->quote)
				i++; /* the second quote of a doubled pair */
		}
	} else if (!(c->flags & ANON_CELL_ESCAPED)) {
		out->p = c->p;
		out->len = c->len;
		return;
	} else {
		scratch->len = 0;
		if (d->fmt == ANON_FMT_TSV)
			decode_tsv(c->p, c->len, scratch);
		else
			decode_copy(c->p, c->len, scratch);
	}
	out->p = scratch->p;
	out->len = scratch->len;
}

static bool is_marker(const struct anon_dialect *d, const struct anon_field *v)
{
	return d->null && v->len == d->nulllen && memcmp(v->p, d->null, v->len) == 0;
}

static void encode_csv(const struct anon_dialect *d, const struct anon_field *v, bool alone,
		       struct anon_buf *out)
{
	if (v->null) {
		if (d->null)
			anon_buf_add(out, d->null, d->nulllen);
		return;
	}
	/* a value that reads as the NULL marker is quoted, as COPY TO does */
	bool quote = v->len == 0 || (alone && v->len == 2 && v->p[0] == '\\' && v->p[1] == '.') ||
		     is_marker(d, v) ||
		     anon_find4(v->p, v->p + v->len, d->delim, d->quote, '\n', '\r') < v->p + v->len;
	if (!quote) {
		anon_buf_add(out, v->p, v->len);
		return;
	}
	anon_buf_reserve(out, v->len * 2 + 2);
	out->p[out->len++] = d->quote;
	for (size_t i = 0; i < v->len; i++) {
		if (v->p[i] == d->quote)
			out->p[out->len++] = d->quote;
		out->p[out->len++] = v->p[i];
	}
	out->p[out->len++] = d->quote;
}

/* COPY TO's escaping (copyto.c, CopyAttributeOutText): never octal or hex. TSV escapes
 * only TAB, LF, CR and backslash. */
static void encode_escaped(const struct anon_dialect *d, const struct anon_field *v,
			   struct anon_buf *out)
{
	if (v->null) {
		if (d->null)
			anon_buf_add(out, d->null, d->nulllen);
		else
			anon_buf_add(out, "\\N", 2);
		return;
	}
	bool copy = d->fmt != ANON_FMT_TSV;
	anon_buf_reserve(out, v->len * 2 + 4);
	size_t i = 0;
	/* A value that reads as the NULL marker: its first byte as an octal escape keeps it a
	 * value (COPY compares the marker with the field before it removes escapes). */
	if (copy && is_marker(d, v) && v->len) {
		int k = snprintf((char *)out->p + out->len, 5, "\\%03o", v->p[0]);
		out->len += (size_t)k;
		i = 1;
	}
	for (; i < v->len; i++) {
		unsigned char c = v->p[i], e = 0;
		switch (c) {
		case '\\': e = '\\'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		case '\b': e = copy ? 'b' : 0; break;
		case '\f': e = copy ? 'f' : 0; break;
		case '\v': e = copy ? 'v' : 0; break;
		default:
			if (c == d->delim)
				e = c;
		}
		if (e) {
			out->p[out->len++] = '\\';
			out->p[out->len++] = e;
		} else {
			out->p[out->len++] = c;
		}
	}
}

void anon_field_encode(const struct anon_dialect *d, const struct anon_field *v, bool alone,
		       struct anon_buf *out)
{
	if (d->fmt == ANON_FMT_CSV)
		encode_csv(d, v, alone, out);
	else
		encode_escaped(d, v, out);
}
