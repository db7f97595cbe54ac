/* anon-noise: exact differential-privacy noise and generalization of numbers and dates.
 * The rules and samplers live in rule.c and sampler.c; this file is the command. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "anon.h"
#include "noise.h"

enum { OPT_SEED = 900, OPT_ENTITY };

static const struct option longopts[] = {
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "entity", required_argument, NULL, OPT_ENTITY },
	{ 0 },
};

#define RNG_BUF (64 * 1024)

/* One --entity: lib resolves it per table (noise_table asks it at each table's start). */
struct entity {
	const char *spec;
	struct anon_ref *ref;
};

struct noise_state {
	bool seeded;
	uint64_t seed;
	struct entity *ents;   /* every --entity, in command-line order */
	size_t nents;
	struct anon_noise_shift shift; /* from the subkey; workers draw with copies of it */
	uint32_t streams;      /* one random stream per noised column, in -c order */
	bool need_shift_key;
	bool grids_pending;    /* some rule takes its grid from the first value (check()) */
	/* from start(): each column's figures, folded from the workers as they end */
	size_t nslots;         /* columns, by ordinal */
	struct anon_noise_hist *hist;
	uint64_t *special;     /* values kept as PostgreSQL's special values */
	/* the one write to the tool state after start: a warning given once per column */
	atomic_bool *warned;
};

/* A worker's side of every column: what drawing and counting change. */
struct noise_column {
	struct anon_noise_slot slot;
	struct anon_noise_rng rng;
};

struct noise_worker {
	struct noise_worker *next;     /* in the registry */
	struct anon_noise_shift shift; /* per-entity dateshift: this worker's HMAC and stream */
	struct noise_column *cols;     /* by column ordinal */
	size_t ncols;
	/* which --entity the last table's rows use: a table's rows come together */
	bool ent_known;
	const char *ent_table;         /* lib's name of the table (NULL: csv, tsv, copy) */
	size_t ent_idx;
};

static void rng_fatal(const char *why)
{
	anon_die(EX_SOFTWARE, "%s", why);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		anon_die(EX_SOFTWARE, "out of memory");
	return p;
}

/* Random buffers and the shift subkey are wiped at exit, whatever the path out.  anon_die
 * may exit from any thread while other workers still draw, so the exit path only zeroes
 * memory (a late draw reads zeros, never freed memory); workers join the registry once
 * complete and leave it before they are freed, under a lock no one holds across a call
 * that could exit. */
static struct noise_state *cleanup_state;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct noise_worker *registry;

static void worker_wipe(struct noise_worker *w)
{
	for (size_t i = 0; i < w->ncols; i++) {
		struct anon_noise_slot *sl = &w->cols[i].slot;
		anon_noise_rng_wipe(&w->cols[i].rng);
		if (sl->last_entity)
			OPENSSL_cleanse(sl->last_entity, sl->last_cap);
		OPENSSL_cleanse(&sl->last_shift, sizeof(sl->last_shift));
	}
	anon_noise_rng_wipe(&w->shift.stream);
}

static void wipe_at_exit(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct noise_worker *w = registry; w; w = w->next)
		worker_wipe(w);
	pthread_mutex_unlock(&registry_lock);
	/* only worker_init reads the run's shift, and it is done before any row */
	if (cleanup_state)
		anon_noise_shift_free(&cleanup_state->shift);
}

static void entity_list(const struct noise_state *st, char *out, size_t n)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < st->nents && k < n; i++)
		k += (size_t)snprintf(out + k, n - k, "%s%s", i ? ", " : "", st->ents[i].spec);
}

static int noise_option(struct anon_run *run, int opt, const char *arg)
{
	struct noise_state *st = anon_tool_state(run);
	switch (opt) {
	case OPT_SEED:
		if (!anon_parse_uint64(arg, &st->seed)) {
			anon_error("--seed takes a non-negative integer, not '%s'", arg);
			return EX_USAGE;
		}
		st->seeded = true;
		return 0;
	case OPT_ENTITY: {
		struct entity *e = realloc(st->ents, (st->nents + 1) * sizeof(*e));
		if (!e)
			anon_die(EX_SOFTWARE, "out of memory");
		st->ents = e;
		e = &st->ents[st->nents++];
		memset(e, 0, sizeof(*e));
		e->spec = arg;
		e->ref = anon_ref_add(run, arg);
		return 0;
	}
	}
	return EX_USAGE;
}

static json_t *dec_json(const struct anon_noise_dec *v)
{
	char buf[48];
	size_t n = anon_noise_fixed_format(v->mant, v->ndec, buf);
	return json_stringn(buf, n);
}

static int noise_rule(struct anon_run *run, struct anon_column *col)
{
	struct noise_state *st = anon_tool_state(run);
	struct anon_noise_rule *r = xcalloc(1, sizeof(*r));
	const char *why = anon_noise_rule_parse(r, col->rule);
	if (why) {
		anon_error("column '%s': %s", col->spec, why);
		free(r);
		return EX_USAGE;
	}
	col->state = r;
	r->random = r->kind == ANON_NOISE_LAPLACE || r->kind == ANON_NOISE_GAUSSIAN ||
	    (r->kind == ANON_NOISE_DATESHIFT && !st->nents);
	if (r->random)
		r->stream = st->streams++;
	if (r->kind == ANON_NOISE_DATESHIFT && st->nents) {
		r->per_entity = true;
		st->need_shift_key = true;
	}
	json_t *p = json_object();
	json_object_set_new(p, "rule", json_string(r->name));
	col->params = p;
	return 0;
}

/* Does the rule take its grid from the first value it meets? */
static bool grid_from_data(const struct anon_noise_rule *r)
{
	return (r->kind == ANON_NOISE_LAPLACE || r->kind == ANON_NOISE_GAUSSIAN) &&
	       r->decimals < 0 && r->vtype != ANON_NOISE_DATE;
}

/* In-order chunks are needed until every rule that takes its grid from the data has one. */
static void grids_check(const struct anon_run *run)
{
	size_t n;
	struct anon_column *cols = anon_run_columns((struct anon_run *)run, &n);
	for (size_t i = 0; i < n; i++) {
		const struct anon_noise_rule *r = cols[i].state;
		if (grid_from_data(r) && !atomic_load_explicit(&r->ready, memory_order_acquire))
			return;
	}
	anon_run_in_order(run, false);
}

static int noise_check(struct anon_run *run)
{
	struct noise_state *st = anon_tool_state(run);
	if (st->nents && !st->need_shift_key) {
		anon_error("--entity is only used by dateshift, and no -c gives that rule");
		return EX_USAGE;
	}
	/* A grid from the first value of the column: with several workers, "first" would be
	 * whichever value a worker reaches first, so chunks go one at a time, in input order,
	 * until every such grid is known (noise_apply turns it off). */
	size_t n;
	struct anon_column *cols = anon_run_columns(run, &n);
	for (size_t i = 0; i < n; i++)
		if (grid_from_data(cols[i].state))
			st->grids_pending = true;
	if (st->grids_pending && anon_run_jobs(run) > 1)
		anon_run_in_order(run, true);
	return 0;
}

static int noise_start(struct anon_run *run)
{
	struct noise_state *st = anon_tool_state(run);
	if (st->seeded)
		anon_warn("WARNING: --seed makes the noise reproducible by anyone who knows the seed; "
			  "output is NOT private");
	size_t n;
	struct anon_column *cols = anon_run_columns(run, &n);
	for (size_t i = 0; i < n; i++)
		if (cols[i].ordinal >= st->nslots)
			st->nslots = cols[i].ordinal + 1;
	st->hist = xcalloc(st->nslots, sizeof(*st->hist));
	st->special = xcalloc(st->nslots, sizeof(*st->special));
	st->warned = xcalloc(st->nslots, sizeof(*st->warned));
	cleanup_state = st;
	atexit(wipe_at_exit);
	if (st->need_shift_key) {
		unsigned char subkey[32];
		anon_key_derive("dateshift", subkey, sizeof(subkey));  /* exits 78 without a key */
		anon_noise_shift_init(&st->shift, subkey);
		OPENSSL_cleanse(subkey, sizeof(subkey));
	}
	return 0;
}

/* Unseeded, each worker has a secure stream per column.  Seeded, each worker has the same
 * keyed stream per column, and every value draws from the part its row addresses. */
static void *noise_worker_init(struct anon_run *run)
{
	const struct noise_state *st = anon_tool_state(run);
	size_t n;
	struct anon_column *cols = anon_run_columns(run, &n);
	struct noise_worker *w = xcalloc(1, sizeof(*w));
	w->ncols = st->nslots;
	w->cols = xcalloc(w->ncols, sizeof(*w->cols));
	if (st->need_shift_key)
		anon_noise_shift_dup(&w->shift, &st->shift);
	for (size_t i = 0; i < n; i++) {
		const struct anon_noise_rule *r = cols[i].state;
		struct noise_column *c = &w->cols[cols[i].ordinal];
		if (r->random) {
			if (st->seeded)
				anon_noise_rng_rows(&c->rng, st->seed, r->stream);
			else
				anon_noise_rng_secure(&c->rng, RNG_BUF);
			c->slot.rng = &c->rng;
		}
		if (r->per_entity)
			c->slot.shift = &w->shift;
	}
	pthread_mutex_lock(&registry_lock);
	w->next = registry;
	registry = w;
	pthread_mutex_unlock(&registry_lock);
	return w;
}

static void noise_worker_free(struct anon_run *run, void *worker)
{
	struct noise_state *st = anon_tool_state(run);
	struct noise_worker *w = worker;
	pthread_mutex_lock(&registry_lock);
	for (struct noise_worker **p = &registry; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
	for (size_t i = 0; i < w->ncols; i++) {
		anon_noise_hist_merge(&st->hist[i], &w->cols[i].slot.hist);
		st->special[i] += w->cols[i].slot.special;
		anon_noise_slot_free(&w->cols[i].slot);
		anon_noise_rng_free(&w->cols[i].rng);
	}
	anon_noise_shift_free(&w->shift);
	free(w->cols);
	free(w);
}

/* A table whose dates move per entity needs its entity column: refused at its start, before
 * any of its rows, when no --entity names one of its columns.  With a dump, each --entity
 * names the column of its own table (users.id, orders.user_id), at most one per table.
 * What this cannot tell (a spec naming a partitioned table) noise_apply checks on the
 * table's first value. */
static int noise_table(struct anon_run *run, const struct anon_table *t)
{
	struct noise_state *st = anon_tool_state(run);
	char list[512];
	if (!st->nents)
		return 0;
	if (!t->name) {
		/* csv, tsv, copy: lib found every --entity in the one table */
		if (st->nents > 1) {
			entity_list(st, list, sizeof(list));
			anon_error("--entity is given %zu times (%s): one table has one entity "
				   "column; several are for a dump's tables (-f pgdump, "
				   "--entity TABLE.COLUMN)", st->nents, list);
			return EX_USAGE;
		}
		return 0;
	}
	/* lib's resolution of this table, partitions included */
	size_t n;
	struct anon_column *cols = anon_run_columns(run, &n);
	const char *dated = NULL;
	for (size_t i = 0; i < n && !dated; i++) {
		const struct anon_noise_rule *r = cols[i].state;
		if (r->per_entity && anon_table_column(t, &cols[i]) >= 0)
			dated = cols[i].spec;
	}
	const struct entity *yes = NULL;
	for (size_t i = 0; i < st->nents; i++) {
		if (anon_table_ref(t, st->ents[i].ref) < 0)
			continue;
		if (yes) {
			anon_error("table %s: --entity %s and --entity %s both name one of its "
				   "columns: give one per table", t->name, yes->spec,
				   st->ents[i].spec);
			return EX_USAGE;
		}
		yes = &st->ents[i];
	}
	if (dated && !yes) {
		entity_list(st, list, sizeof(list));
		anon_error("table %s: '%s' is shifted per entity, but no --entity names a column "
			   "of this table (%s): add --entity %s.COLUMN", t->name, dated, list,
			   t->name);
		return EX_USAGE;
	}
	return 0;
}

/* The --entity column of this row's table, found on the table's first value a per-entity
 * rule meets (lib answers for the row, partitions included).  None, or two, is the usage
 * error noise_table reports when it can tell at the table's start: the run stops, since
 * --on-error must never let a date out unshifted for want of an entity. */
static void entity_of(const struct anon_rowinfo *row, const struct anon_column *col,
		      struct anon_field *ent)
{
	const struct noise_state *st = anon_tool_state(row->run);
	struct noise_worker *w = row->worker;
	if (!w->ent_known || w->ent_table != row->table) {
		size_t found = st->nents, dup = st->nents;
		for (size_t i = 0; i < st->nents; i++) {
			struct anon_field f;
			if (!anon_row_get(row, st->ents[i].ref, &f))
				continue;
			if (found == st->nents)
				found = i;
			else if (dup == st->nents)
				dup = i;
		}
		char list[512];
		entity_list(st, list, sizeof(list));
		if (found == st->nents)
			anon_die(EX_USAGE, "line %llu: table %s: '%s' is shifted per entity, but no "
				 "--entity names a column of this table (%s)",
				 (unsigned long long)row->line, row->table ? row->table : "(input)",
				 col->spec, list);
		if (dup != st->nents)
			anon_die(EX_USAGE, "line %llu: table %s: --entity %s and --entity %s both name "
				 "one of its columns: give one per table",
				 (unsigned long long)row->line, row->table ? row->table : "(input)",
				 st->ents[found].spec, st->ents[dup].spec);
		w->ent_table = row->table;
		w->ent_idx = found;
		w->ent_known = true;
	}
	if (!anon_row_get(row, st->ents[w->ent_idx].ref, ent) || ent->null)
		ent->len = 0;  /* reported as an error by the rule */
}

static enum anon_status noise_apply(const struct anon_rowinfo *row, const struct anon_column *col,
				    const struct anon_field *in, struct anon_field *out,
				    struct anon_buf *scratch, const char **errmsg)
{
	const struct noise_state *st = anon_tool_state(row->run);
	struct noise_worker *w = row->worker;
	struct anon_noise_rule *r = col->state;
	struct noise_column *c = &w->cols[col->ordinal];
	struct anon_field ent = { NULL, 0, true };
	if (r->per_entity)
		entity_of(row, col, &ent);
	if (st->seeded && r->random)
		anon_noise_rng_at(&c->rng, row->line);
	anon_buf_reserve(scratch, in->len + 128);
	size_t len;
	int rc = anon_noise_rule_apply(r, &c->slot, in->p, in->len, ent.p, ent.len,
	    r->per_entity, scratch->p, &len, errmsg);
	if (rc < 0)
		return ANON_ERR;
	if (rc > 0)
		return ANON_KEEP;
	/* data_d is read once the grid is known, as it is once a value went through */
	if (r->data_d > r->d && !atomic_exchange(&st->warned[col->ordinal], true))
		anon_warn("column '%s': its first value has %d decimals, too fine a grid for the "
			  "rule's parameters: the noise is on %d decimals (decimals=N chooses)",
			  col->spec, r->data_d, r->d);
	scratch->len = len;
	out->p = scratch->p;
	out->len = len;
	out->null = false;
	if (st->grids_pending && anon_run_is_in_order(row->run))
		grids_check(row->run);
	return ANON_OK;
}

static const char *vtype_name(const struct anon_noise_rule *r)
{
	return r->vtype == ANON_NOISE_DATE ? "date" : r->vtype == ANON_NOISE_NUMBER ? "number" :
	    NULL;
}

/* Mechanism, parameters as given and as effective, and the utility figures. */
static void column_audit(const struct anon_noise_rule *r, const struct anon_noise_hist *h,
			 uint64_t special, json_t *p, bool *any, double *eps_row,
			 double *delta_row, double *rho_row)
{
	bool noise = r->kind == ANON_NOISE_LAPLACE || r->kind == ANON_NOISE_GAUSSIAN;
	/* the grid fields, vtype among them, are final once ready reads true */
	bool ready = atomic_load_explicit(&r->ready, memory_order_acquire);
	const char *vt = vtype_name(r);
	if (vt)
		json_object_set_new(p, "type", json_string(vt));
	if (noise) {
		json_object_set_new(p, "mechanism", json_string(r->kind == ANON_NOISE_LAPLACE ?
		    "discrete_laplace" : "discrete_gaussian"));
		if (r->epsilon.set)
			json_object_set_new(p, "epsilon_requested", dec_json(&r->epsilon));
		if (r->delta.set)
			json_object_set_new(p, "delta_requested", dec_json(&r->delta));
		if (r->sensitivity.set)
			json_object_set_new(p, "sensitivity", dec_json(&r->sensitivity));
		if (r->clamp) {
			json_t *c = json_array();
			json_array_append_new(c, json_string(r->clamp_text[0]));
			json_array_append_new(c, json_string(r->clamp_text[1]));
			json_object_set_new(p, "clamp", c);
		}
		json_object_set_new(p, "mode", json_string(r->bounded ? "bounded" :
		    r->sensitivity.set ? "metric" : "scale"));
	}
	if (noise && ready) {
		char buf[64];
		int64_t one = 1;
		size_t n;
		if (r->vtype == ANON_NOISE_DATE) {
			json_object_set_new(p, "grid", json_string("1 day"));
		} else {
			n = anon_noise_fixed_format(one, r->d, buf);
			json_object_set_new(p, "grid", json_stringn(buf, n));
		}
		json_object_set_new(p, "decimals", json_integer(r->d));
		json_object_set_new(p, "sensitivity_units", json_integer((json_int_t)r->delta_u));
		n = anon_noise_fixed_format((int64_t)r->scale_u, r->d, buf);
		json_object_set_new(p, r->kind == ANON_NOISE_LAPLACE ? "scale" : "sigma",
		    json_stringn(buf, n));
		json_object_set_new(p, r->kind == ANON_NOISE_LAPLACE ? "scale_units" : "sigma_units",
		    json_integer((json_int_t)r->scale_u));
		if (r->eps_eff >= 0) {
			json_object_set_new(p, "epsilon", json_real(r->eps_eff));
			*eps_row += r->eps_eff;
			*any = true;
		} else {
			json_object_set_new(p, "epsilon", json_null());
		}
		if (r->kind == ANON_NOISE_GAUSSIAN) {
			json_object_set_new(p, "delta", r->delta_eff >= 0 ? json_real(r->delta_eff) :
			    json_null());
			json_object_set_new(p, "rho", r->rho >= 0 ? json_real(r->rho) : json_null());
			if (r->delta_eff >= 0)
				*delta_row += r->delta_eff;
			if (r->rho >= 0)
				*rho_row += r->rho;
		} else if (r->eps_eff >= 0) {
			*rho_row += r->eps_eff * r->eps_eff / 2;  /* eps-DP => eps^2/2-zCDP */
		}
	}
	if (r->kind == ANON_NOISE_DATESHIFT) {
		json_object_set_new(p, "days", json_integer((json_int_t)r->days));
		json_object_set_new(p, "per_entity", json_boolean(r->per_entity));
	}
	json_object_set_new(p, "special_values", json_integer((json_int_t)special));
	json_t *u = json_object();
	json_object_set_new(u, "values", json_integer((json_int_t)h->n));
	json_object_set_new(u, "mean_abs_error", h->n ? json_real(anon_noise_hist_mean_abs_error(h)) :
	    json_null());
	if (h->started) {
		json_t *hi = json_object(), *a = json_array(), *b = json_array();
		json_object_set_new(hi, "lo", json_real(anon_noise_hist_lo(h)));
		json_object_set_new(hi, "width", json_real(anon_noise_hist_width(h)));
		json_object_set_new(hi, "bins", json_integer(ANON_NOISE_HIST_BINS));
		for (int i = 0; i < ANON_NOISE_HIST_BINS; i++) {
			json_array_append_new(a, json_integer((json_int_t)h->in[i]));
			json_array_append_new(b, json_integer((json_int_t)h->out[i]));
		}
		json_object_set_new(hi, "input", a);
		json_object_set_new(hi, "output", b);
		if (r->vtype == ANON_NOISE_DATE || r->kind == ANON_NOISE_DATESHIFT ||
		    r->kind == ANON_NOISE_TRUNCATE || r->date_mode)
			json_object_set_new(hi, "unit", json_string("days since 1970-01-01"));
		json_object_set_new(u, "histogram", hi);
	}
	json_object_set_new(p, "utility", u);
}

/* The figures are the workers' as folded by worker_free: on a run that ends early, those of
 * workers still running are missing, never half-read. */
static int noise_finish(struct anon_run *run, json_t *record)
{
	static const struct anon_noise_hist none;
	struct noise_state *st = anon_tool_state(run);
	size_t n;
	struct anon_column *cols = anon_run_columns(run, &n);
	double eps = 0, delta = 0, rho = 0;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		const struct anon_noise_rule *r = cols[i].state;
		bool have = cols[i].ordinal < st->nslots;
		const struct anon_noise_hist *h = have ? &st->hist[cols[i].ordinal] : &none;
		if (r && cols[i].params)
			column_audit(r, h, have ? st->special[cols[i].ordinal] : 0, cols[i].params,
			    &any, &eps, &delta, &rho);
	}
	json_t *o = json_object();
	json_object_set_new(o, "rng", json_string(st->seeded ? "seeded-insecure" : "secure"));
	json_object_set_new(o, "private", json_boolean(!st->seeded));
	if (st->seeded)
		json_object_set_new(o, "seed", json_integer((json_int_t)st->seed));
	json_object_set_new(o, "guarantee", json_string("local, per released value"));
	if (st->nents) {
		json_t *e = json_array();
		for (size_t i = 0; i < st->nents; i++)
			json_array_append_new(e, json_string(st->ents[i].spec));
		json_object_set_new(o, "entity", e);
	}
	json_object_set_new(o, "epsilon_per_row", any ? json_real(eps) : json_null());
	json_object_set_new(o, "delta_per_row", json_real(delta));
	json_object_set_new(o, "rho_per_row", any || rho > 0 ? json_real(rho) : json_null());
	json_object_set_new(record, "noise", o);
	return 0;
}

static void noise_rule_free(struct anon_column *col)
{
	free(col->state);
}

static const char help[] =
	"rules (-c COLUMN=RULE[:ARGS]; NULL, empty, NaN, Infinity, -Infinity, infinity and\n"
	"-infinity are kept as they are):\n"
	"  laplace:epsilon=E,sensitivity=S   discrete Laplace noise, epsilon E for values S apart\n"
	"  laplace:epsilon=E,clamp=LO..HI    the same for any value, clamped to LO..HI first\n"
	"  laplace:scale=B                   noise of scale B, no epsilon claimed\n"
	"  gaussian:epsilon=E,delta=D,sensitivity=S (or clamp=LO..HI)\n"
	"                                    discrete Gaussian noise, (E, D) for values S apart\n"
	"  gaussian:sigma=G                  noise of standard deviation G\n"
	"    laplace and gaussian also take clamp=LO..HI (numbers, or YYYY-MM-DD dates) and\n"
	"    decimals=N (0..38: the grid; default: the first value's decimals)\n"
	"  dateshift:days=N[,group=NAME]     move dates by -N..N days (N <= 365250); with\n"
	"                                    --entity, all of one entity's dates by the same\n"
	"  round:STEP                        the nearest multiple of STEP, ties to even\n"
	"  bucket:STEP[,label]               the multiple of STEP below, or the range LO-HI\n"
	"  topcode:LIMIT                     above LIMIT (a number or a date): LIMIT\n"
	"  bottomcode:LIMIT                  below LIMIT (a number or a date): LIMIT\n"
	"  truncate:year|month|day|hour      the start of the year, month, day or hour\n"
	"  numbers: at most 38 significant digits; dates: 4714-11-24 BC to 9999-12-31\n"
	"options:\n"
	"      --entity COLUMN       dateshift moves the dates of each value of COLUMN together\n"
	"                            (needs a key); with -f pgdump, repeat it as\n"
	"                            --entity TABLE.COLUMN, one per table\n"
	"      --seed N              tests only: reproducible noise from N, NOT private\n";

static const struct anon_tool tool = {
	.name = "anon-noise",
	.synopsis = "[options] [--seed N] [--entity COLUMN ...] -c COLUMN=RULE[:ARGS] ... [FILE]",
	.help = help,
	.longopts = longopts,
	.needs_key = false,
	.rule_required = true,
	.option = noise_option,
	.rule = noise_rule,
	.check = noise_check,
	.start = noise_start,
	.worker_init = noise_worker_init,
	.worker_free = noise_worker_free,
	.table = noise_table,
	.apply = noise_apply,
	.finish = noise_finish,
	.rule_free = noise_rule_free,
};

int main(int argc, char **argv)
{
	static struct noise_state state;
	anon_noise_rng_fatal = rng_fatal;
	return anon_main(&tool, &state, argc, argv);
}
