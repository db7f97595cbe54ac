/* vault-sqlite.c: the embedded vault, one SQLite file in WAL mode. Readers never block;
 * writers take the lock with BEGIN IMMEDIATE (a deferred transaction that turns into a
 * write cannot wait on the busy timeout), one chunk's inserts per transaction. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "token.h"

#define APPLICATION_ID 0x616e746b /* "antk" */
#define SCHEMA_VERSION 1
#define BUSY_MS 120000

struct sq {
	struct vault v;
	sqlite3 *db;
	sqlite3_stmt *sel_fp, *ins, *del_exp, *sel_tok, *begin_imm, *begin_read, *commit,
		*rollback;
	char *path;
	bool create;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS " VAULT_TABLE " (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ns BLOB NOT NULL,\n"      /* key and domain: a namespace of tokens */
	"  fp BLOB NOT NULL,\n"      /* HMAC of the value: lookup without the value */
	"  token TEXT NOT NULL,\n"
	"  ct BLOB NOT NULL,\n"      /* the value, AES-SIV sealed with ns and token */
	"  created INTEGER NOT NULL,\n"
	"  expires INTEGER,\n"
	"  UNIQUE (ns, fp),\n"
	"  UNIQUE (ns, token));\n"
	"CREATE INDEX IF NOT EXISTS " VAULT_TABLE "_expires ON " VAULT_TABLE " (expires)\n"
	"  WHERE expires IS NOT NULL;\n";

static int fail(struct sq *s, int code, const char *what)
{
	anon_error("vault %s: %s: %s", s->path, what, s->db ? sqlite3_errmsg(s->db) : "");
	return code;
}

/* SQLITE_FULL, SQLITE_IOERR, a busy vault: an I/O error; anything else is ours. */
static int code_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_BUSY: case SQLITE_LOCKED:
	case SQLITE_CANTOPEN: case SQLITE_READONLY: case SQLITE_PROTOCOL:
		return EX_IOERR;
	case SQLITE_CORRUPT: case SQLITE_NOTADB:
		return EX_CONFIG;
	default:
		return EX_SOFTWARE;
	}
}

static int step_done(struct sq *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, code_of(rc), what);
	return 0;
}

static int exec(struct sq *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, code_of(rc), what);
}

static void sq_close(struct vault *v)
{
	struct sq *s = (struct sq *)v;
	sqlite3_stmt *all[] = { s->sel_fp, s->ins, s->del_exp, s->sel_tok, s->begin_imm,
				s->begin_read, s->commit, s->rollback };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static int pragma_int(struct sq *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, EX_CONFIG, "cannot read the file");
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, code_of(rc), "cannot read it");
}

/* WAL is a property of the file: the first process to open a new vault sets it. Many may
 * try at once, and a change of journal mode does not wait on the busy timeout. */
static int set_wal(struct sq *s)
{
	for (int tries = 0; tries < 400; tries++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
			return fail(s, EX_CONFIG, "cannot read the file");
		int rc = sqlite3_step(st);
		bool wal = rc == SQLITE_ROW &&
			   strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
		sqlite3_finalize(st);
		if (wal)
			return 0;
		if (rc != SQLITE_ROW && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return fail(s, code_of(rc), "cannot use WAL mode");
		struct timespec ts = { 0, 25 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return fail(s, EX_IOERR, "cannot switch to WAL mode (the file stays locked)");
}

static int prepare(struct sq *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return fail(s, EX_CONFIG, "not a vault this anon-token can use");
	return 0;
}

/* Statements once the table exists (setup() ran in this or another process). */
static int statements(struct sq *s)
{
	int rc;
	if ((rc = prepare(s, &s->sel_fp, "SELECT token, expires FROM " VAULT_TABLE
			  " WHERE ns = ?1 AND fp = ?2")) ||
	    (rc = prepare(s, &s->ins, "INSERT INTO " VAULT_TABLE
			  " (ns, fp, token, ct, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			  " ON CONFLICT DO NOTHING")) ||
	    (rc = prepare(s, &s->del_exp, "DELETE FROM " VAULT_TABLE " WHERE ns = ?1 AND fp = ?2"
			  " AND expires IS NOT NULL AND expires <= ?3")) ||
	    (rc = prepare(s, &s->sel_tok, "SELECT ct, expires FROM " VAULT_TABLE
			  " WHERE ns = ?1 AND token = ?2")) ||
	    (rc = prepare(s, &s->begin_imm, "BEGIN IMMEDIATE")) ||
	    (rc = prepare(s, &s->begin_read, "BEGIN")) ||
	    (rc = prepare(s, &s->commit, "COMMIT")) ||
	    (rc = prepare(s, &s->rollback, "ROLLBACK")))
		return rc;
	return 0;
}

/* Check the file is a vault this program reads (making one when asked), then prepare the
 * statements. */
static int sq_setup(struct vault *v)
{
	struct sq *s = (struct sq *)v;
	int app = 0, version = 0, rc;
	if ((rc = set_wal(s)))
		return rc;
	if ((rc = exec(s, "BEGIN IMMEDIATE", "cannot lock it")))
		return rc;
	if ((rc = pragma_int(s, "PRAGMA application_id", &app)) ||
	    (rc = pragma_int(s, "PRAGMA user_version", &version)))
		goto out;
	if (app == 0 && !s->create) {
		anon_error("vault %s: not an anon-token vault (it has no tokens yet)", s->path);
		rc = EX_CONFIG;
		goto out;
	}
	if (app == 0) {
		int tables = 0;
		if ((rc = pragma_int(s, "SELECT count(*) FROM sqlite_master", &tables)))
			goto out;
		if (tables) {
			anon_error("vault %s: a SQLite database that is not an anon-token vault",
				   s->path);
			rc = EX_CONFIG;
			goto out;
		}
		char sql[sizeof schema + 128];
		snprintf(sql, sizeof sql, "%sPRAGMA application_id = %d; PRAGMA user_version = %d;",
			 schema, APPLICATION_ID, SCHEMA_VERSION);
		if ((rc = exec(s, sql, "cannot create the vault table")))
			goto out;
	} else if (app != APPLICATION_ID) {
		anon_error("vault %s: a SQLite database that is not an anon-token vault", s->path);
		rc = EX_CONFIG;
		goto out;
	} else if (version != SCHEMA_VERSION) {
		anon_error("vault %s: vault version %d, this anon-token reads version %d", s->path,
			   version, SCHEMA_VERSION);
		rc = EX_CONFIG;
		goto out;
	}
	if ((rc = exec(s, "COMMIT", "cannot create the vault table")))
		return rc;
	return statements(s);
out:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int read_begin(struct sq *s)
{
	return s->v.in_write ? 0 : step_done(s, s->begin_read, "cannot read it");
}

static int read_end(struct sq *s)
{
	return s->v.in_write ? 0 : step_done(s, s->commit, "cannot read it");
}

static int sq_find_fp(struct vault *v, struct vmap *m, struct ventry **items, size_t n)
{
	struct sq *s = (struct sq *)v;
	int rc = read_begin(s);
	if (rc)
		return rc;
	sqlite3_bind_blob(s->sel_fp, 1, v->ns, NS_LEN, SQLITE_STATIC);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(s->sel_fp, 2, items[i]->fp, FP_LEN, SQLITE_STATIC);
		int r = sqlite3_step(s->sel_fp);
		items[i]->hit = r == SQLITE_ROW;
		if (items[i]->hit) {
			const void *t = sqlite3_column_blob(s->sel_fp, 0);
			size_t tl = (size_t)sqlite3_column_bytes(s->sel_fp, 0);
			items[i]->roff = vmap_store(m, t, tl);
			items[i]->rlen = (uint32_t)tl;
			items[i]->expires = sqlite3_column_int64(s->sel_fp, 1);
		}
		sqlite3_reset(s->sel_fp);
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			rc = fail(s, code_of(r), "lookup failed");
			break;
		}
	}
	int rc2 = read_end(s);
	return rc ? rc : rc2;
}

static int sq_find_token(struct vault *v, struct vmap *m, struct ventry **items, size_t n)
{
	struct sq *s = (struct sq *)v;
	int rc = read_begin(s);
	if (rc)
		return rc;
	sqlite3_bind_blob(s->sel_tok, 1, v->ns, NS_LEN, SQLITE_STATIC);
	for (size_t i = 0; i < n; i++) {
		struct ventry *e = items[i];
		sqlite3_bind_text(s->sel_tok, 2, (const char *)vmap_bytes(m, e->koff), (int)e->klen,
				  SQLITE_STATIC);
		int r = sqlite3_step(s->sel_tok);
		e->hit = r == SQLITE_ROW;
		if (e->hit) {
			const void *c = sqlite3_column_blob(s->sel_tok, 0);
			size_t cl = (size_t)sqlite3_column_bytes(s->sel_tok, 0);
			e->coff = vmap_store(m, c, cl);
			e->clen = (uint32_t)cl;
			e->expires = sqlite3_column_int64(s->sel_tok, 1);
		}
		sqlite3_reset(s->sel_tok);
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			rc = fail(s, code_of(r), "lookup failed");
			break;
		}
	}
	int rc2 = read_end(s);
	return rc ? rc : rc2;
}

static int sq_begin_write(struct vault *v)
{
	struct sq *s = (struct sq *)v;
	int rc = sqlite3_step(s->begin_imm);
	sqlite3_reset(s->begin_imm);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_BUSY)
			return fail(s, EX_IOERR, "still locked by another writer after 120 s");
		return fail(s, code_of(rc), "cannot begin a transaction");
	}
	v->in_write = true;
	return 0;
}

static int sq_insert(struct vault *v, struct vmap *m, struct ventry **items, size_t n,
		     int64_t created, int64_t expires)
{
	struct sq *s = (struct sq *)v;
	sqlite3_stmt *st = s->ins;
	sqlite3_bind_blob(st, 1, v->ns, NS_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, created);
	if (expires)
		sqlite3_bind_int64(st, 6, expires);
	else
		sqlite3_bind_null(st, 6);
	for (size_t i = 0; i < n; i++) {
		struct ventry *e = items[i];
		sqlite3_bind_blob(st, 2, e->fp, FP_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, (const char *)vmap_bytes(m, e->toff), (int)e->tlen,
				  SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, vmap_bytes(m, e->coff), (int)e->clen, SQLITE_STATIC);
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r != SQLITE_DONE)
			return fail(s, code_of(r), "insert failed");
		e->hit = sqlite3_changes(s->db) == 1;
	}
	return 0;
}

static int sq_delete_expired(struct vault *v, struct ventry **items, size_t n, int64_t now)
{
	struct sq *s = (struct sq *)v;
	sqlite3_bind_blob(s->del_exp, 1, v->ns, NS_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s->del_exp, 3, now);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(s->del_exp, 2, items[i]->fp, FP_LEN, SQLITE_STATIC);
		int rc = step_done(s, s->del_exp, "cannot remove an expired token");
		if (rc)
			return rc;
	}
	return 0;
}

static int sq_commit(struct vault *v)
{
	struct sq *s = (struct sq *)v;
	v->in_write = false;
	return step_done(s, s->commit, "commit failed");
}

static int sq_rollback(struct vault *v)
{
	struct sq *s = (struct sq *)v;
	v->in_write = false;
	return step_done(s, s->rollback, "rollback failed");
}

static int sq_scan(struct vault *v, size_t limit, bool *complete,
		   bool (*each)(void *arg, const unsigned char *fp, const unsigned char *tok,
				size_t toklen, int64_t expires),
		   void *arg)
{
	struct sq *s = (struct sq *)v;
	sqlite3_stmt *st;
	/* the table in rowid order, not the index: one sequential read */
	if (sqlite3_prepare_v2(s->db, "SELECT fp, token, expires FROM " VAULT_TABLE
			       " NOT INDEXED WHERE ns = ?1", -1, &st, NULL) != SQLITE_OK)
		return fail(s, EX_SOFTWARE, "cannot read it");
	sqlite3_bind_blob(st, 1, v->ns, NS_LEN, SQLITE_STATIC);
	size_t k = 0;
	int r;
	*complete = true;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (k++ == limit) {
			*complete = false;
			break;
		}
		if (sqlite3_column_bytes(st, 0) != FP_LEN)
			continue;
		if (!each(arg, sqlite3_column_blob(st, 0), sqlite3_column_blob(st, 1),
			  (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_int64(st, 2))) {
			*complete = false;
			break;
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(s, code_of(r), "cannot read it");
	return 0;
}

static int sq_size_hint(struct vault *v, uint64_t *n)
{
	int max = 0, rc = pragma_int((struct sq *)v, "SELECT coalesce(max(id), 0) FROM "
				     VAULT_TABLE, &max);
	*n = max < 0 ? 0 : (uint64_t)max;
	return rc;
}

static int sq_stats(struct vault *v, int64_t now, json_t *out)
{
	struct sq *s = (struct sq *)v;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT hex(ns), count(*), count(expires),"
			       " coalesce(sum(expires <= ?1), 0), min(created), max(created) FROM "
			       VAULT_TABLE " GROUP BY ns ORDER BY ns", -1, &st, NULL) != SQLITE_OK)
		return fail(s, EX_SOFTWARE, "cannot read it");
	sqlite3_bind_int64(st, 1, now);
	struct vault_totals tot = {0};
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		vault_totals_add(&tot, (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
				 sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
				 sqlite3_column_int64(st, 5));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		json_decref(tot.by);
		return fail(s, code_of(r), "cannot read it");
	}
	vault_totals_put(&tot, out);
	return 0;
}

static int sq_purge(struct vault *v, int64_t now, uint64_t *removed)
{
	struct sq *s = (struct sq *)v;
	sqlite3_stmt *st;
	int rc = sq_begin_write(v);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM " VAULT_TABLE
			       " WHERE expires IS NOT NULL AND expires <= ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		sq_rollback(v);
		return fail(s, EX_SOFTWARE, "cannot purge it");
	}
	sqlite3_bind_int64(st, 1, now);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		rc = fail(s, code_of(r), "cannot purge it");
		sq_rollback(v);
		return rc;
	}
	*removed = (uint64_t)sqlite3_changes64(s->db);
	return sq_commit(v);
}

static const struct vault_ops sq_ops = {
	.name = "sqlite",
	.close = sq_close,
	.find_fp = sq_find_fp,
	.find_token = sq_find_token,
	.begin_write = sq_begin_write,
	.insert = sq_insert,
	.delete_expired = sq_delete_expired,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.scan = sq_scan,
	.size_hint = sq_size_hint,
	.stats = sq_stats,
	.purge = sq_purge,
};

struct vault *vault_sqlite_open(const char *path, enum vault_sync sync, bool create, int *code)
{
	if (!*path) {
		anon_error("--vault sqlite: needs a file name");
		*code = EX_USAGE;
		return NULL;
	}
	struct stat st;
	if (stat(path, &st) != 0) {
		if (!create) {
			anon_error("vault %s: %s", path, strerror(errno));
			*code = EX_CONFIG;
			return NULL;
		}
		/* The vault pairs tokens with sealed values: only its owner reads it. SQLite gives
		 * its -wal and -shm files the mode of the database file. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			anon_error("vault %s: %s", path, strerror(errno));
			*code = EX_CANTCREAT;
			return NULL;
		}
		if (fd >= 0)
			close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		anon_error("vault %s: is a directory", path);
		*code = EX_CONFIG;
		return NULL;
	}
	struct sq *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path)))
		anon_die(EX_SOFTWARE, "out of memory");
	s->v.ops = &sq_ops;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		*code = fail(s, code_of(rc), "cannot open it");
		sq_close(&s->v);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	/* FULL: a committed token survives a power cut, not only a crash of the process */
	char sql[200];
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s; PRAGMA cache_size = -262144;"
		 " PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 16384;", sync == SYNC_FULL ? "FULL" : "NORMAL");
	s->create = create;
	if ((*code = exec(s, sql, "cannot set it up")) || (*code = sq_setup(&s->v))) {
		sq_close(&s->v);
		return NULL;
	}
	return &s->v;
}
