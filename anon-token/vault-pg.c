/* vault-pg.c: a vault in a PostgreSQL table, for many machines sharing one. One round trip
 * per chunk and step: lookups with fp = ANY($2), inserts from unnest() with ON CONFLICT DO
 * NOTHING RETURNING fp, all parameters and results in binary. Rows are inserted in
 * fingerprint order, so two runs inserting overlapping values wait on each other instead
 * of deadlocking; a deadlock or serialization failure all the same is retried. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "token.h"

#define OID_INT8 20
#define OID_BYTEA 17
#define OID_TEXT 25
#define OID_BYTEA_ARRAY 1001
#define OID_TEXT_ARRAY 1009

struct pg {
	struct vault v;
	PGconn *c;
	bool create;
	struct anon_buf a1, a2, a3; /* array parameters */
	size_t *idx;                /* items sorted by fingerprint */
	size_t nidx;
};

static int fail(struct pg *p, int code, const char *what, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(p->c);
	/* the server's message names constraints and statements, never our values: they
	 * travel as binary parameters */
	size_t n = strcspn(msg, "\n");
	anon_error("vault postgres: %s: %.*s", what, (int)n, msg);
	return code;
}

/* 40P01 deadlock, 40001 serialization: the write step is run again. */
static int result(struct pg *p, PGresult *res, ExecStatusType want, const char *what)
{
	if (PQresultStatus(res) == want)
		return 0;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0))
		return -1;
	if (PQstatus(p->c) != CONNECTION_OK)
		return fail(p, EX_IOERR, what, res);
	return fail(p, EX_SOFTWARE, what, res);
}

static void be32(struct anon_buf *b, uint32_t v)
{
	v = htonl(v);
	anon_buf_add(b, &v, 4);
}

static void be64(unsigned char out[8], int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (int i = 7; i >= 0; i--, u >>= 8)
		out[i] = (unsigned char)u;
}

static int64_t get64(const char *p)
{
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u = u << 8 | (unsigned char)p[i];
	return (int64_t)u;
}

/* A one-dimensional array in PostgreSQL's binary format. */
static void arr_begin(struct anon_buf *b, uint32_t elem, size_t n)
{
	b->len = 0;
	be32(b, 1);
	be32(b, 0);
	be32(b, elem);
	be32(b, (uint32_t)n);
	be32(b, 1);
}

static void arr_add(struct anon_buf *b, const void *p, size_t n)
{
	be32(b, (uint32_t)n);
	anon_buf_add(b, p, n);
}

static _Thread_local struct ventry *const *sort_items;
static int by_fp(const void *a, const void *b)
{
	return memcmp(sort_items[*(const size_t *)a]->fp, sort_items[*(const size_t *)b]->fp,
		      FP_LEN);
}

/* items sorted by fingerprint, as indexes (the caller's order stays) */
static void sort_by_fp(struct pg *p, struct ventry **items, size_t n)
{
	if (n > p->nidx) {
		free(p->idx);
		p->nidx = n;
		p->idx = malloc(n * sizeof *p->idx);
		if (!p->idx)
			anon_die(EX_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		p->idx[i] = i;
	/* qsort passes the comparison no argument: a thread-local, for workers run at once */
	sort_items = items;
	qsort(p->idx, n, sizeof *p->idx, by_fp);
}

static ssize_t find_sorted(struct pg *p, struct ventry **items, size_t n, const char *fp)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(items[p->idx[mid]]->fp, fp, FP_LEN);
		if (c == 0)
			return (ssize_t)p->idx[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void pg_close(struct vault *v)
{
	struct pg *p = (struct pg *)v;
	PQfinish(p->c);
	anon_buf_free(&p->a1);
	anon_buf_free(&p->a2);
	anon_buf_free(&p->a3);
	free(p->idx);
	free(p);
}

static int pg_find_fp(struct vault *v, struct vmap *m, struct ventry **items, size_t n)
{
	struct pg *p = (struct pg *)v;
	sort_by_fp(p, items, n);
	arr_begin(&p->a1, OID_BYTEA, n);
	for (size_t i = 0; i < n; i++) {
		items[i]->hit = false;
		arr_add(&p->a1, items[p->idx[i]]->fp, FP_LEN);
	}
	const char *vals[] = { (const char *)v->ns, (const char *)p->a1.p };
	int lens[] = { NS_LEN, (int)p->a1.len }, fmts[] = { 1, 1 };
	PGresult *res = PQexecPrepared(p->c, "fp", 2, vals, lens, fmts, 1);
	int rc = result(p, res, PGRES_TUPLES_OK, "lookup failed");
	for (int r = 0; !rc && r < PQntuples(res); r++) {
		if (PQgetlength(res, r, 0) != FP_LEN)
			continue;
		ssize_t i = find_sorted(p, items, n, PQgetvalue(res, r, 0));
		if (i < 0)
			continue;
		items[i]->hit = true;
		items[i]->roff = vmap_store(m, PQgetvalue(res, r, 1), (size_t)PQgetlength(res, r, 1));
		items[i]->rlen = (uint32_t)PQgetlength(res, r, 1);
		items[i]->expires = PQgetisnull(res, r, 2) ? 0 : get64(PQgetvalue(res, r, 2));
	}
	PQclear(res);
	return rc < 0 && !v->in_write ? EX_IOERR : rc;
}

static int pg_find_token(struct vault *v, struct vmap *m, struct ventry **items, size_t n)
{
	struct pg *p = (struct pg *)v;
	arr_begin(&p->a1, OID_TEXT, n);
	for (size_t i = 0; i < n; i++) {
		items[i]->hit = false;
		arr_add(&p->a1, vmap_bytes(m, items[i]->koff), items[i]->klen);
	}
	const char *vals[] = { (const char *)v->ns, (const char *)p->a1.p };
	int lens[] = { NS_LEN, (int)p->a1.len }, fmts[] = { 1, 1 };
	PGresult *res = PQexecPrepared(p->c, "tok", 2, vals, lens, fmts, 1);
	int rc = result(p, res, PGRES_TUPLES_OK, "lookup failed");
	for (int r = 0; !rc && r < PQntuples(res); r++) {
		/* the chunk's map is keyed by the token (class 0 when detokenizing) */
		struct ventry *e = (struct ventry *)vmap_find(m, 0,
			(const unsigned char *)PQgetvalue(res, r, 0), (size_t)PQgetlength(res, r, 0));
		if (!e)
			continue;
		e->hit = true;
		e->coff = vmap_store(m, PQgetvalue(res, r, 1), (size_t)PQgetlength(res, r, 1));
		e->clen = (uint32_t)PQgetlength(res, r, 1);
		e->expires = PQgetisnull(res, r, 2) ? 0 : get64(PQgetvalue(res, r, 2));
	}
	PQclear(res);
	return rc < 0 ? EX_IOERR : rc;
}

static int simple(struct pg *p, const char *sql, const char *what)
{
	PGresult *res = PQexec(p->c, sql);
	int rc = result(p, res, PGRES_COMMAND_OK, what);
	PQclear(res);
	return rc;
}

static int pg_begin_write(struct vault *v)
{
	int rc = simple((struct pg *)v, "BEGIN", "cannot begin a transaction");
	v->in_write = rc == 0;
	return rc;
}

static int pg_insert(struct vault *v, struct vmap *m, struct ventry **items, size_t n,
		     int64_t created, int64_t expires)
{
	struct pg *p = (struct pg *)v;
	sort_by_fp(p, items, n);
	arr_begin(&p->a1, OID_BYTEA, n);
	arr_begin(&p->a2, OID_TEXT, n);
	arr_begin(&p->a3, OID_BYTEA, n);
	for (size_t k = 0; k < n; k++) {
		const struct ventry *e = items[p->idx[k]];
		items[p->idx[k]]->hit = false;
		arr_add(&p->a1, e->fp, FP_LEN);
		arr_add(&p->a2, vmap_bytes(m, e->toff), e->tlen);
		arr_add(&p->a3, vmap_bytes(m, e->coff), e->clen);
	}
	unsigned char c8[8], e8[8];
	be64(c8, created);
	be64(e8, expires);
	const char *vals[] = { (const char *)v->ns, (const char *)p->a1.p, (const char *)p->a2.p,
			       (const char *)p->a3.p, (const char *)c8,
			       expires ? (const char *)e8 : NULL };
	int lens[] = { NS_LEN, (int)p->a1.len, (int)p->a2.len, (int)p->a3.len, 8, 8 };
	int fmts[] = { 1, 1, 1, 1, 1, 1 };
	PGresult *res = PQexecPrepared(p->c, "ins", 6, vals, lens, fmts, 1);
	int rc = result(p, res, PGRES_TUPLES_OK, "insert failed");
	for (int r = 0; !rc && r < PQntuples(res); r++) {
		if (PQgetlength(res, r, 0) != FP_LEN)
			continue;
		ssize_t i = find_sorted(p, items, n, PQgetvalue(res, r, 0));
		if (i >= 0)
			items[i]->hit = true;
	}
	PQclear(res);
	return rc;
}

static int pg_delete_expired(struct vault *v, struct ventry **items, size_t n, int64_t now)
{
	struct pg *p = (struct pg *)v;
	sort_by_fp(p, items, n);
	arr_begin(&p->a1, OID_BYTEA, n);
	for (size_t k = 0; k < n; k++)
		arr_add(&p->a1, items[p->idx[k]]->fp, FP_LEN);
	unsigned char n8[8];
	be64(n8, now);
	const char *vals[] = { (const char *)v->ns, (const char *)p->a1.p, (const char *)n8 };
	int lens[] = { NS_LEN, (int)p->a1.len, 8 }, fmts[] = { 1, 1, 1 };
	PGresult *res = PQexecPrepared(p->c, "del", 3, vals, lens, fmts, 1);
	int rc = result(p, res, PGRES_COMMAND_OK, "cannot remove an expired token");
	PQclear(res);
	return rc;
}

static int pg_commit(struct vault *v)
{
	v->in_write = false;
	return simple((struct pg *)v, "COMMIT", "commit failed");
}

static int pg_rollback(struct vault *v)
{
	v->in_write = false;
	return simple((struct pg *)v, "ROLLBACK", "rollback failed");
}

static int pg_size_hint(struct vault *v, uint64_t *n)
{
	*n = UINT64_MAX; /* no preloading over the network: lookups are batched per chunk */
	return 0;
}

static int pg_stats(struct vault *v, int64_t now, json_t *out)
{
	struct pg *p = (struct pg *)v;
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT encode(ns, 'hex'), count(*), count(expires),"
		 " coalesce(sum((expires <= %lld)::int), 0), min(created), max(created) FROM "
		 VAULT_TABLE " GROUP BY ns ORDER BY ns", (long long)now);
	PGresult *res = PQexec(p->c, sql);
	int rc = result(p, res, PGRES_TUPLES_OK, "cannot read it");
	if (rc) {
		PQclear(res);
		return rc < 0 ? EX_IOERR : rc;
	}
	struct vault_totals tot = {0};
	for (int r = 0; r < PQntuples(res); r++) {
		/* the same hex as sqlite's hex(): upper case */
		char ns[2 * NS_LEN + 1];
		snprintf(ns, sizeof ns, "%s", PQgetvalue(res, r, 0));
		for (char *c = ns; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 32);
		vault_totals_add(&tot, ns, atoll(PQgetvalue(res, r, 1)), atoll(PQgetvalue(res, r, 2)),
				 atoll(PQgetvalue(res, r, 3)), atoll(PQgetvalue(res, r, 4)),
				 atoll(PQgetvalue(res, r, 5)));
	}
	PQclear(res);
	vault_totals_put(&tot, out);
	return 0;
}

static int pg_purge(struct vault *v, int64_t now, uint64_t *removed)
{
	struct pg *p = (struct pg *)v;
	char sql[256];
	snprintf(sql, sizeof sql, "DELETE FROM " VAULT_TABLE
		 " WHERE expires IS NOT NULL AND expires <= %lld", (long long)now);
	PGresult *res = PQexec(p->c, sql);
	int rc = result(p, res, PGRES_COMMAND_OK, "cannot purge it");
	*removed = rc ? 0 : strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc < 0 ? EX_IOERR : rc;
}

static const struct vault_ops pg_ops = {
	.name = "postgres",
	.close = pg_close,
	.find_fp = pg_find_fp,
	.find_token = pg_find_token,
	.begin_write = pg_begin_write,
	.insert = pg_insert,
	.delete_expired = pg_delete_expired,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.size_hint = pg_size_hint,
	.stats = pg_stats,
	.purge = pg_purge,
};

static void no_notices(void *arg, const char *message) {}

/* The table, made under an advisory lock: CREATE TABLE IF NOT EXISTS alone can fail when
 * two sessions run it at once. */
static int setup(struct pg *p)
{
	int rc;
	if (!p->create) {
		PGresult *res = PQexec(p->c, "SELECT to_regclass('" VAULT_TABLE "') IS NOT NULL");
		rc = result(p, res, PGRES_TUPLES_OK, "cannot read it");
		bool there = !rc && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (rc)
			return rc < 0 ? EX_IOERR : rc;
		if (!there) {
			anon_error("vault postgres: no table " VAULT_TABLE " (no token was made yet)");
			return EX_CONFIG;
		}
	} else if ((rc = simple(p, "BEGIN; SELECT pg_advisory_xact_lock(7368291405);"
				" CREATE TABLE IF NOT EXISTS " VAULT_TABLE " ("
				" ns bytea NOT NULL, fp bytea NOT NULL, token text NOT NULL,"
				" ct bytea NOT NULL, created bigint NOT NULL, expires bigint,"
				" UNIQUE (ns, fp), UNIQUE (ns, token));"
				" CREATE INDEX IF NOT EXISTS " VAULT_TABLE "_expires ON " VAULT_TABLE
				" (expires) WHERE expires IS NOT NULL; COMMIT",
				"cannot create the vault table"))) {
		return rc < 0 ? EX_IOERR : rc;
	}
	static const struct {
		const char *name, *sql;
		int n;
		Oid types[6];
	} stmts[] = {
		{ "fp", "SELECT fp, token, expires FROM " VAULT_TABLE
		  " WHERE ns = $1 AND fp = ANY($2)", 2, { OID_BYTEA, OID_BYTEA_ARRAY } },
		{ "tok", "SELECT token, ct, expires FROM " VAULT_TABLE
		  " WHERE ns = $1 AND token = ANY($2)", 2, { OID_BYTEA, OID_TEXT_ARRAY } },
		{ "ins", "INSERT INTO " VAULT_TABLE " (ns, fp, token, ct, created, expires)"
		  " SELECT $1, u.f, u.t, u.c, $5, $6 FROM unnest($2, $3, $4) AS u(f, t, c)"
		  " ORDER BY u.f ON CONFLICT DO NOTHING RETURNING fp", 6,
		  { OID_BYTEA, OID_BYTEA_ARRAY, OID_TEXT_ARRAY, OID_BYTEA_ARRAY, OID_INT8,
		    OID_INT8 } },
		{ "del", "DELETE FROM " VAULT_TABLE " WHERE ns = $1 AND fp = ANY($2)"
		  " AND expires <= $3", 3, { OID_BYTEA, OID_BYTEA_ARRAY, OID_INT8 } },
	};
	for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		PGresult *res = PQprepare(p->c, stmts[i].name, stmts[i].sql, stmts[i].n,
					  stmts[i].types);
		rc = result(p, res, PGRES_COMMAND_OK, "not a vault this anon-token can use");
		PQclear(res);
		if (rc)
			return rc < 0 ? EX_IOERR : rc;
	}
	return 0;
}

struct vault *vault_pg_open(const char *conninfo, bool create, int *code)
{
	struct pg *p = calloc(1, sizeof *p);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	p->v.ops = &pg_ops;
	p->create = create;
	p->c = PQconnectdb(conninfo);
	if (PQstatus(p->c) != CONNECTION_OK) {
		*code = fail(p, EX_CONFIG, "cannot connect", NULL);
		pg_close(&p->v);
		return NULL;
	}
	PQsetNoticeProcessor(p->c, no_notices, NULL);
	if ((*code = setup(p))) {
		pg_close(&p->v);
		return NULL;
	}
	return &p->v;
}
