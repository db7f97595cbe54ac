/* vault.c: which back end a --vault names, and what the back ends share. */
#include <string.h>

#include "token.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

const char *vault_kind(const char *spec)
{
	return has_prefix(spec, "postgres:") || has_prefix(spec, "postgresql:") ? "postgres" :
	       "sqlite";
}

struct vault *vault_open(const char *spec, const unsigned char ns[NS_LEN], enum vault_sync sync,
			 bool create, int *code)
{
	struct vault *v;
	if (has_prefix(spec, "postgres://") || has_prefix(spec, "postgresql://"))
		v = vault_pg_open(spec, create, code); /* a libpq URI as it is */
	else if (has_prefix(spec, "postgres:"))
		v = vault_pg_open(spec + 9, create, code);
	else if (has_prefix(spec, "postgresql:"))
		v = vault_pg_open(spec + 11, create, code);
	else
		v = vault_sqlite_open(has_prefix(spec, "sqlite:") ? spec + 7 : spec, sync, create,
				      code);
	if (v)
		memcpy(v->ns, ns, NS_LEN);
	return v;
}

void vault_totals_add(struct vault_totals *s, const char *ns, int64_t tokens, int64_t ttl,
		      int64_t expired, int64_t oldest, int64_t newest)
{
	if (!s->by)
		s->by = json_array();
	json_array_append_new(s->by, json_pack("{s:s, s:I, s:I, s:I}", "namespace", ns, "tokens",
					       (json_int_t)tokens, "with_ttl", (json_int_t)ttl,
					       "expired", (json_int_t)expired));
	s->tokens += tokens;
	s->ttl += ttl;
	s->expired += expired;
	if (!s->oldest || oldest < s->oldest)
		s->oldest = oldest;
	if (newest > s->newest)
		s->newest = newest;
}

void vault_totals_put(struct vault_totals *s, json_t *out)
{
	json_object_set_new(out, "tokens", json_integer(s->tokens));
	json_object_set_new(out, "with_ttl", json_integer(s->ttl));
	json_object_set_new(out, "expired", json_integer(s->expired));
	json_object_set_new(out, "oldest", s->oldest ? json_integer(s->oldest) : json_null());
	json_object_set_new(out, "newest", s->newest ? json_integer(s->newest) : json_null());
	json_object_set_new(out, "namespaces", s->by ? s->by : json_array());
	s->by = NULL;
}
