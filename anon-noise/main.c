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

struct noise_state {
	bool seeded;
	uint64_t seed;
	const char *entity_spec;
	struct anon_ref *entity;
	struct anon_noise_shift shift; /* from the subkey; workers draw with copies of it */
	uint32_t streams;      /* one random stream per noised column, in -c order */
	bool need_shift_key;
	bool grids_pending;    /* some rule takes its grid from the first value (check()) */
	/* from start(): each column's figures, folded from the workers as they end */
	size_t nslots;         /* columns, by ordinal */
	struct anon_noise_hist *hist;
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

static int noise_option(struct anon_run *run, int opt, const char *arg)
{
	struct noise_state *st = anon_tool_state(run);
	switch (opt) {
	case OPT_SEED:
		if (!anon_parse_uint64(arg, &st->seed)) {
			anon_error("--seed takes a non-negative integer");
			return EX_USAGE;
		}
		st->seeded = true;
		return 0;
	case OPT_ENTITY:
		if (st->entity) {
			anon_error("--entity is given once");
			return EX_USAGE;
		}
		st->entity_spec = arg;
		st->entity = anon_ref_add(run, arg);
		return 0;
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
	    (r->kind == ANON_NOISE_DATESHIFT && !st->entity);
	if (r->random)
		r->stream = st->streams++;
	if (r->kind == ANON_NOISE_DATESHIFT && st->entity) {
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
	if (st->entity && !st->need_shift_key) {
		anon_error("--entity is only used by dateshift");
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
		anon_noise_slot_free(&w->cols[i].slot);
		anon_noise_rng_free(&w->cols[i].rng);
	}
	anon_noise_shift_free(&w->shift);
	free(w->cols);
	free(w);
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
	if (r->per_entity && (!anon_row_get(row, st->entity, &ent) || ent.null))
		ent.len = 0;  /* reported as an error by the rule */
	if (st->seeded && r->random)
		anon_noise_rng_at(&c->rng, row->line);
	anon_buf_reserve(scratch, in->len + 128);
	size_t len;
	if (anon_noise_rule_apply(r, &c->slot, in->p, in->len, ent.p, ent.len, r->per_entity,
	    scratch->p, &len, errmsg))
		return ANON_ERR;
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
			 json_t *p, bool *any, double *eps_row, double *delta_row, double *rho_row)
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
	json_t *u = json_object();
	json_object_set_new(u, "values", json_integer((json_int_t)h->n));
	json_object_set_new(u, "mean_abs_error", h->n ? json_real(h->abs_err / (double)h->n) :
	    json_null());
	if (h->started) {
		json_t *hi = json_object(), *a = json_array(), *b = json_array();
		json_object_set_new(hi, "lo", json_real(h->lo));
		json_object_set_new(hi, "width", json_real(h->width));
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
		const struct anon_noise_hist *h = cols[i].ordinal < st->nslots ?
		    &st->hist[cols[i].ordinal] : &none;
		if (r && cols[i].params)
			column_audit(r, h, cols[i].params, &any, &eps, &delta, &rho);
	}
	json_t *o = json_object();
	json_object_set_new(o, "rng", json_string(st->seeded ? "seeded-insecure" : "secure"));
	json_object_set_new(o, "private", json_boolean(!st->seeded));
	if (st->seeded)
		json_object_set_new(o, "seed", json_integer((json_int_t)st->seed));
	json_object_set_new(o, "guarantee", json_string("local, per released value"));
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

static const struct anon_tool tool = {
	.name = "anon-noise",
	.synopsis = "[options] [--seed N] [--entity COLUMN] -c COLUMN=RULE[:ARGS] ... [FILE]",
	.longopts = longopts,
	.needs_key = false,
	.rule_required = true,
	.option = noise_option,
	.rule = noise_rule,
	.check = noise_check,
	.start = noise_start,
	.worker_init = noise_worker_init,
	.worker_free = noise_worker_free,
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
