/* noise_rule.c: rule parsing, the grid and the scale (effective epsilon never above the
 * requested one), clamping, noise independence from the data, date shifts per entity, and
 * every generalization rule on integers, decimals, negatives, dates and timestamps; and the
 * rules as --jobs runs them: on several threads, each with its own slot, the same output. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../anon-noise/noise.h"
#include "tap.h"

static struct anon_noise_rng rng;

/* Apply `rule` to `in`, drawing from and counting in `w`; returns the output (static),
 * "KEEP" for a value left as it was, or "ERR:<message>". */
static const char *run(struct anon_noise_rule *r, struct anon_noise_slot *w, const char *in)
{
	static unsigned char out[512];
	size_t len;
	const char *why = NULL;
	int rc = anon_noise_rule_apply(r, w, (const unsigned char *)in, strlen(in), NULL, 0, false,
	    out, &len, &why);
	if (rc > 0)
		return "KEEP";
	if (rc < 0) {
		snprintf((char *)out, sizeof(out), "ERR:%s", why);
		return (const char *)out;
	}
	out[len] = '\0';
	return (const char *)out;
}

static const char *once(const char *text, const char *in)
{
	struct anon_noise_rule rule;
	struct anon_noise_slot w = { .rng = &rng };
	const char *e = anon_noise_rule_parse(&rule, text);
	if (e)
		return "USAGE";
	return run(&rule, &w, in);
}

static void is(const char *text, const char *in, const char *want)
{
	const char *got = once(text, in);
	ok(!strcmp(got, want), "%s on '%s' -> '%s' (got '%s')", text, in, want, got);
}

static void test_generalize(void)
{
	/* round: nearest multiple, ties to even, exact decimals */
	is("round:10", "34", "30");
	is("round:10", "35", "40");
	is("round:10", "25", "20");
	is("round:10", "-35", "-40");
	is("round:10", "-34", "-30");
	is("round:0.5", "12.26", "12.50");
	is("round:0.5", "12.24", "12.00");
	is("round:100", "1234.56", "1200.00");
	is("round:5", "-2.5", "0.0");
	is("round:5", "-7.5", "-10.0");
	is("round:10", "2024-07-15", "ERR:a date where the rule expects a number");
	is("round:10", "12a", "ERR:not a number");
	/* bucket: floor, not truncation */
	is("bucket:10", "37", "30");
	is("bucket:10", "-5", "-10");
	is("bucket:10", "-10", "-10");
	is("bucket:10,label", "37", "30-39");
	is("bucket:10,label", "-5", "-10--1");
	is("bucket:10,label", "52345.67", "52340.00-52349.99");
	is("bucket:0.5", "3.14", "3.00");
	is("bucket:10", "2024-07-15 10:00:00", "ERR:a date where the rule expects a number");
	/* top and bottom coding: strictly beyond the limit; values inside stay byte for byte */
	is("topcode:90", "95", "90");
	is("topcode:90", "90", "90");
	is("topcode:90", "89", "89");
	is("topcode:90", "95.5", "90.0");
	is("topcode:90", "+12", "+12");
	is("bottomcode:-10", "-12.25", "-10.00");
	is("bottomcode:-10", "-9", "-9");
	is("bottomcode:0.5", "0.25", "0.50");
	is("topcode:2000-12-31", "2001-03-04", "2000-12-31");
	is("topcode:2000-12-31", "2001-03-04 12:34:56.789+02", "2000-12-31 00:00:00.000+02");
	is("topcode:2000-12-31", "1999-03-04 12:34:56", "1999-03-04 12:34:56");
	is("bottomcode:1934-01-01", "1920-05-06", "1934-01-01");
	is("topcode:2000-12-31", "17", "ERR:a number where the rule expects a date");
	/* truncate keeps the column's format so PostgreSQL still loads it */
	is("truncate:year", "2024-07-15", "2024-01-01");
	is("truncate:month", "2024-07-15", "2024-07-01");
	is("truncate:day", "2024-07-15", "2024-07-15");
	is("truncate:hour", "2024-07-15", "2024-07-15");
	is("truncate:year", "2024-07-15 13:45:12.123456+05:30", "2024-01-01 00:00:00.000000+05:30");
	is("truncate:month", "2024-07-15T13:45:12Z", "2024-07-01T00:00:00Z");
	is("truncate:day", "2024-07-15 13:45", "2024-07-15 00:00");
	is("truncate:hour", "2024-07-15 13:45:12.5-08", "2024-07-15 13:00:00.0-08");
	is("truncate:year", "0001-12-31", "0001-01-01");
	is("truncate:year", "2024-02-30", "ERR:not a valid date or timestamp");
	is("truncate:year", "1234", "ERR:not a valid date or timestamp");
	is("truncate:year", "2024-07-15 25:00", "ERR:not a valid date or timestamp");
	is("truncate:year", "2024-07-15 10:00 junk", "ERR:not a valid date or timestamp");
	/* BC, as PostgreSQL writes it: the era stays at the end */
	is("truncate:year", "0044-03-15 BC", "0044-01-01 BC");
	is("truncate:month", "0044-03-15 12:34:56+00:09:21 BC", "0044-03-01 00:00:00+00:09:21 BC");
	is("truncate:hour", "0044-03-15 12:34:56.789 BC", "0044-03-15 12:00:00.000 BC");
	is("truncate:day", "0001-02-29 bc", "0001-02-29 BC");
	is("truncate:year", "4714-11-24 BC", "ERR:truncated date out of range (4714-11-24 BC to 9999-12-31)");
	is("truncate:year", "0002-02-29 BC", "ERR:not a valid date or timestamp");
	is("topcode:0001-01-01", "0044-03-15 BC", "0044-03-15 BC");
	is("bottomcode:0001-01-01", "0044-03-15 12:00:00 BC", "0001-01-01 00:00:00");
	is("topcode:0100-01-01 BC", "0001-01-01", "0100-01-01 BC");
	is("topcode:0100-01-01 BC", "0200-06-30 BC", "0200-06-30 BC");
	/* PostgreSQL's special values stay as they are, under every rule */
	is("truncate:year", "infinity", "KEEP");
	is("truncate:month", "-infinity", "KEEP");
	is("topcode:2000-12-31", "infinity", "KEEP");
	is("round:10", "NaN", "KEEP");
	is("bucket:10,label", "-Infinity", "KEEP");
	is("topcode:90", "Infinity", "KEEP");
	is("bottomcode:0", "-Infinity", "KEEP");
	is("dateshift:days=10", "infinity", "KEEP");
	is("laplace:scale=1", "NaN", "KEEP");
	is("gaussian:sigma=1", "-infinity", "KEEP");
	/* numbers beyond 64 bits: numeric(30,12), bigint's edge */
	is("round:10", "123456789012345678901234567890.5", "123456789012345678901234567890.0");
	is("bucket:1000", "9223372036854775808", "9223372036854775000");
	is("bucket:1000,label", "-9223372036854775808", "-9223372036854776000--9223372036854775001");
	is("topcode:90", "123456789012345678.123456789012", "90.000000000000");
	is("topcode:90", "-123456789012345678.123456789012", "-123456789012345678.123456789012");
	is("round:0.5", "99999999999999999999999999999999999999.7", "ERR:number out of range: at most 38 significant digits");
	is("round:1000000000", "0.123456789012345678901234567890", "ERR:number out of range: at most 38 significant digits");
	is("round:10", "99999999999999999999999999999999999996", "ERR:result out of range: at most 38 significant digits");
	is("bucket:1", "0.000000000000000000000000000000000000001", "ERR:number out of range: at most 38 decimals");
}

/* Usage errors name what is wrong and list the choices. */
static void has(const char *text, const char *want)
{
	struct anon_noise_rule r;
	const char *e = anon_noise_rule_parse(&r, text);
	ok(e && strstr(e, want), "%s: '%s' in \"%s\"", text, want, e ? e : "(accepted)");
}

static void test_messages(void)
{
	has("fuzz", "unknown rule 'fuzz'");
	has("fuzz:1", "laplace, gaussian, dateshift, round, bucket, topcode, bottomcode or truncate");
	has("laplace:scale=1,bogus=1", "unknown parameter 'bogus'");
	has("laplace:scale=1,bogus=1", "laplace takes epsilon, sensitivity, clamp, scale, decimals");
	has("laplace:scal=1", "unknown parameter 'scal'");
	has("laplace:sigma=1", "unknown parameter 'sigma'");
	has("gaussian:scale=1", "gaussian takes epsilon, delta, sensitivity, clamp, sigma, decimals");
	has("dateshift:days=5,epsilon=1", "dateshift takes days, group");
	has("laplace:1", "'1' is not key=value");
	has("truncate:week", "unknown unit 'week' (year, month, day or hour)");
	has("bucket:10,lbl", "unknown argument 'lbl'");
	has("round:10,label", "round takes a step");
	has("laplace:epsilon=1,epsilon=2,sensitivity=1", "epsilon is given twice");
	has("laplace:epsilon=x,sensitivity=1", "not 'x'");
	has("laplace:scale=1,decimals=39", "from 0 to 38");
	has("laplace:epsilon=1,clamp=0.2..0.8", "holds no whole number: give decimals=N");
	has("laplace:scale=100,decimals=18", "decimals=18");
	has("dateshift:days=0", "from 1 to 365250, not '0'");
	has("laplace:epsilon=", "epsilon wants a value");
	struct anon_noise_rule r;
	ok(!anon_noise_rule_parse(&r, "laplace:epsilon=1,clamp=0.2..0.8,decimals=1"),
	   "a clamp between whole numbers is fine with decimals");
}

static void test_parse_errors(void)
{
	static const char *bad[] = {
		"laplace", "laplace:epsilon=0,sensitivity=1", "laplace:epsilon=-1,sensitivity=1",
		"laplace:epsilon=1", "laplace:epsilon=abc,sensitivity=1", "laplace:epsilon=1,sensitivity=0",
		"laplace:scale=0", "laplace:epsilon=1,clamp=5..1", "laplace:epsilon=1,clamp=1",
		"laplace:scale=1,decimals=19", "laplace:scale=1,bogus=1", "laplace:epsilon=NaN,sensitivity=1",
		"gaussian:epsilon=1,sensitivity=1", "gaussian:epsilon=1,delta=1,sensitivity=1",
		"gaussian:epsilon=1,delta=0,sensitivity=1", "gaussian:sigma=100000000",
		"laplace:scale=1e9", "round", "round:0", "round:-5", "bucket:10,lbl", "truncate:week",
		"topcode:x", "dateshift", "dateshift:days=0", "dateshift:days=400000", "nosuch:1",
		"laplace:scale=100,decimals=18", "laplace:epsilon=1,clamp=2000-01-01..1999-01-01",
		"laplace:scale=1,decimals=39", "laplace:epsilon=1,clamp=0.2..0.8",
		"laplace:scale=1,scale=2", "bucket:10,label,label", "round:1,2", "dateshift:days=1,x=2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct anon_noise_rule r;
		const char *e = anon_noise_rule_parse(&r, bad[i]);
		ok(e != NULL, "refused: %s (%s)", bad[i], e ? e : "accepted");
	}
}

/* T = ceil(du / eps) and eps' = du / T <= eps, checked exactly in integers. */
static void test_scale(void)
{
	static const struct {
		const char *rule;
		const char *value;
		uint64_t du, T;
	} cases[] = {
		{ "laplace:epsilon=1,sensitivity=1", "5", 2, 2 },
		{ "laplace:epsilon=0.3,sensitivity=1", "5", 2, 7 },
		{ "laplace:epsilon=0.7,sensitivity=1000", "52345.67", 100001, 142859 },
		{ "laplace:epsilon=1,clamp=0..100", "42", 100, 100 },
		{ "laplace:epsilon=0.1,clamp=0..100,decimals=1", "42", 1000, 10000 },
		{ "laplace:epsilon=3,clamp=0..100", "42", 100, 34 },
		{ "laplace:epsilon=1,sensitivity=1000,clamp=0..100", "42", 100, 100 },
		{ "laplace:epsilon=1,sensitivity=10,clamp=0..100", "42", 11, 11 },
		{ "laplace:epsilon=0.001,sensitivity=30", "2024-01-01", 30, 30000 },
		{ "laplace:scale=2.5", "1.00", 0, 250 },
		{ "laplace:scale=2.5", "1", 0, 3 },
		{ "laplace:scale=2.5,epsilon=1,sensitivity=1", "1", 2, 3 },
		{ "laplace:epsilon=0.123456789,sensitivity=7.77", "0.001", 7771, 62946 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anon_noise_rule r;
		const char *e = anon_noise_rule_parse(&r, cases[i].rule);
		struct anon_noise_slot w = { .rng = &rng };
		unsigned char out[256];
		size_t len;
		const char *why;
		int rc = e ? -1 : anon_noise_rule_apply(&r, &w, (const unsigned char *)cases[i].value,
		    strlen(cases[i].value), NULL, 0, false, out, &len, &why);
		bool eps_ok = true;
		if (!rc && r.epsilon.set) {
			/* du / T <= mant / 10^ndec  <=>  du * 10^ndec <= mant * T */
			u128 lhs = (u128)r.delta_u * (uint64_t)anon_noise_pow10(r.epsilon.ndec);
			u128 rhs = (u128)(uint64_t)r.epsilon.mant * r.scale_u;
			eps_ok = lhs <= rhs && r.eps_eff <= (double)r.epsilon.mant /
			    (double)anon_noise_pow10(r.epsilon.ndec);
		}
		ok(!rc && r.delta_u == cases[i].du && r.scale_u == cases[i].T && eps_ok,
		   "%s on %s: du %llu T %llu eps' %g", cases[i].rule, cases[i].value,
		   (unsigned long long)r.delta_u, (unsigned long long)r.scale_u, r.eps_eff);
	}
	/* a sweep: eps' <= eps for many decimal epsilons and sensitivities */
	int bad = 0;
	char text[128];
	for (int ei = 1; ei <= 300; ei += 7)
		for (int si = 1; si <= 5000; si += 373) {
			snprintf(text, sizeof(text), "laplace:epsilon=%d.%03d,sensitivity=%d.%d,decimals=2",
			    ei / 100, ei % 100 * 7 % 1000, si, si % 10);
			struct anon_noise_rule r;
			if (anon_noise_rule_parse(&r, text) ||
			    anon_noise_rule_grid(&r, ANON_NOISE_NUMBER, 2)) {
				bad++;
				continue;
			}
			u128 lhs = (u128)r.delta_u * (uint64_t)anon_noise_pow10(r.epsilon.ndec);
			u128 rhs = (u128)(uint64_t)r.epsilon.mant * r.scale_u;
			/* and T is the smallest such scale */
			u128 rhs1 = (u128)(uint64_t)r.epsilon.mant * (r.scale_u - 1);
			bad += !(lhs <= rhs && lhs > rhs1);
		}
	ok(bad == 0, "eps' <= eps with the smallest T over a sweep (%d bad)", bad);

	/* Gaussian: sigma_u is the smallest integer meeting delta */
	struct anon_noise_rule g;
	ok(!anon_noise_rule_parse(&g, "gaussian:epsilon=1,delta=0.000001,sensitivity=1,decimals=0") &&
	   !anon_noise_rule_grid(&g, ANON_NOISE_NUMBER, 0), "gaussian rule parses");
	double rho = (double)g.delta_u * g.delta_u / (2.0 * g.scale_u * g.scale_u);
	double rho1 = (double)g.delta_u * g.delta_u / (2.0 * (g.scale_u - 1) * (g.scale_u - 1));
	ok(anon_noise_cdp_delta(rho, 1) <= 1e-6 && anon_noise_cdp_delta(rho1, 1) > 1e-6,
	   "gaussian sigma_u %llu is the smallest with delta <= 1e-6 (du %llu)",
	   (unsigned long long)g.scale_u, (unsigned long long)g.delta_u);
	/* dp-noise.md 4.3: sigma/Delta = 4.531 at eps 1, delta 1e-6 by the zCDP route */
	anon_noise_rule_parse(&g, "gaussian:epsilon=1,delta=0.000001,clamp=0..1000");
	anon_noise_rule_grid(&g, ANON_NOISE_NUMBER, 0);
	ok(g.scale_u >= 4531 && g.scale_u <= 4532, "gaussian sigma for Delta 1000: %llu",
	   (unsigned long long)g.scale_u);
	ok(anon_noise_cdp_delta(0.5 / 9, 1) > 6.9e-4 && anon_noise_cdp_delta(0.5 / 9, 1) < 7.1e-4,
	   "cdp_delta(rho 0.056, eps 1) = 7.0e-4 as in the reference table");
}

static void test_noise_values(void)
{
	anon_noise_rng_free(&rng);
	anon_noise_rng_seeded(&rng, 65536, 7, 0);
	/* the grid: exactly d decimals, integers stay integers, dates stay dates */
	struct anon_noise_rule r;
	struct anon_noise_slot w = { .rng = &rng };
	anon_noise_rule_parse(&r, "laplace:epsilon=1,sensitivity=100");
	const char *o0;
	int offgrid = 0;
	for (int i = 0; i < 1000; i++) {
		const char *o = run(&r, &w, i & 1 ? "52345.67" : "-10.50");
		const char *dot = strchr(o, '.');
		offgrid += !dot || strlen(dot) != 3;
	}
	ok(offgrid == 0 && r.d == 2, "first value fixes 2 decimals; every output has exactly 2");
	ok(!strncmp(run(&r, &w, "2024-01-01"), "ERR:", 4), "a date in a number column is an error");
	ok(!strcmp(run(&r, &w, "abc"), "ERR:not a number"), "not a number is an error");
	o0 = run(&r, &w, "99999999999999999999");
	ok(strncmp(o0, "ERR", 3) && strlen(strchr(o0, '.')) == 3, "20 digits are a number: %s", o0);
	o0 = run(&r, &w, "99999999999999999999999999999999999");
	ok(strncmp(o0, "ERR", 3) != 0, "35 digits and 2 decimals fit 38: %s", o0);
	ok(!strcmp(run(&r, &w, "9999999999999999999999999999999999999"),
	   "ERR:number out of range: at most 38 significant digits"),
	   "37 digits and 2 decimals are beyond 38: out of range, saying the limit");

	anon_noise_rule_parse(&r, "laplace:scale=3");
	int bad = 0;
	for (int i = 0; i < 1000; i++)
		bad += strchr(run(&r, &w, "-7"), '.') != NULL;
	ok(bad == 0, "integer column stays integer");

	anon_noise_rule_parse(&r, "laplace:epsilon=0.5,sensitivity=1,decimals=3");
	const char *o = run(&r, &w, "7");
	ok(strlen(strchr(o, '.') ? strchr(o, '.') : "") == 4, "decimals=3 pads integers: %s", o);

	/* clamping: with a tiny scale the output sits at the clamp bound */
	anon_noise_rule_parse(&r, "laplace:scale=0.001,clamp=0..100,decimals=3");
	int clamped = 0;
	for (int i = 0; i < 200; i++) {
		o = run(&r, &w, i & 1 ? "250" : "-40");
		double v = strtod(o, NULL);
		clamped += (i & 1 ? v > 99.9 && v < 100.1 : v > -0.1 && v < 0.1);
	}
	ok(clamped == 200, "values are clamped before the noise (%d/200)", clamped);

	/* dates: whole days, time and zone kept */
	anon_noise_rule_parse(&r, "laplace:epsilon=0.1,sensitivity=3");
	bad = 0;
	for (int i = 0; i < 500; i++) {
		o = run(&r, &w, "2024-07-15 13:45:12.25+02");
		struct anon_noise_date dt;
		bad += !anon_noise_date_parse((const unsigned char *)o, strlen(o), &dt) ||
		    strcmp(o + 10, " 13:45:12.25+02");
	}
	ok(bad == 0 && r.vtype == ANON_NOISE_DATE, "timestamps get whole-day noise, time kept");
	ok(!strcmp(run(&r, &w, "12"), "ERR:a number where the rule expects a date"),
	   "a number in a date column is an error");
	anon_noise_rule_parse(&r, "laplace:epsilon=1,clamp=2000-01-01..2000-12-31");
	ok(r.vtype == ANON_NOISE_DATE, "date clamp makes a date column");

	/* gaussian on a decimal column */
	anon_noise_rule_parse(&r, "gaussian:sigma=2.5");
	o = run(&r, &w, "10.0");
	ok(strlen(strchr(o, '.')) == 2 && r.scale_u == 25, "gaussian sigma 2.5 on 1 decimal: %s", o);
}

/* dp-noise.md 3.3: the noise sequence does not depend on the data. */
static void test_independence(void)
{
	struct anon_noise_rng r1, r2;
	anon_noise_rng_seeded(&r1, 65536, 42, 3);
	anon_noise_rng_seeded(&r2, 65536, 42, 3);
	struct anon_noise_rule a, b;
	anon_noise_rule_parse(&a, "laplace:epsilon=0.5,sensitivity=10,decimals=2");
	anon_noise_rule_parse(&b, "laplace:epsilon=0.5,sensitivity=10,decimals=2");
	struct anon_noise_slot wa = { .rng = &r1 }, wb = { .rng = &r2 };
	static const char *vals[] = { "123.45", "-0.01", "99999.99", "7", "0.5" };
	int diff = 0;
	for (int i = 0; i < 10000; i++) {
		char za[64], zb[64];
		snprintf(za, sizeof(za), "%s", run(&a, &wa, "0"));
		snprintf(zb, sizeof(zb), "%s", run(&b, &wb, vals[i % 5]));
		i128 x, y, v;
		anon_noise_fixed_parse((const unsigned char *)za, strlen(za), 2, &x);
		anon_noise_fixed_parse((const unsigned char *)zb, strlen(zb), 2, &y);
		anon_noise_fixed_parse((const unsigned char *)vals[i % 5], strlen(vals[i % 5]), 2, &v);
		diff += x != y - v;
	}
	ok(diff == 0, "same seed: a zero column and a varied column get the same residuals");
	anon_noise_rng_free(&r1);
	anon_noise_rng_free(&r2);
}

static void test_dateshift(void)
{
	unsigned char subkey[32];
	for (int i = 0; i < 32; i++)
		subkey[i] = (unsigned char)(i * 7);
	struct anon_noise_shift sh = { 0 };
	anon_noise_shift_init(&sh, subkey);
	int64_t a1 = anon_noise_shift_days(&sh, "", 30, (const unsigned char *)"alice", 5);
	int64_t b1 = anon_noise_shift_days(&sh, "", 30, (const unsigned char *)"bob", 3);
	int64_t a2 = anon_noise_shift_days(&sh, "", 30, (const unsigned char *)"alice", 5);
	ok(a1 == a2, "one entity, one shift (%lld)", (long long)a1);
	int distinct = 0, out = 0;
	int64_t seen[61] = { 0 };
	for (int i = 0; i < 6100; i++) {
		char id[16];
		int n = snprintf(id, sizeof(id), "p%d", i);
		int64_t s = anon_noise_shift_days(&sh, "", 30, (const unsigned char *)id, (size_t)n);
		if (s < -30 || s > 30)
			out++;
		else
			seen[s + 30]++;
	}
	for (int i = 0; i < 61; i++)
		distinct += seen[i] > 0;
	ok(out == 0 && distinct == 61, "shifts spread over [-30, 30] across entities (%d values)",
	   distinct);
	/* chi-square on 6100 entities over 61 values: df 60 */
	double chi = 0;
	for (int i = 0; i < 61; i++)
		chi += (seen[i] - 100.0) * (seen[i] - 100.0) / 100.0;
	ok(chi < 127.5, "entity shifts uniform: chi2 %.1f", chi);
	int64_t g = anon_noise_shift_days(&sh, "other", 30, (const unsigned char *)"alice", 5);
	(void)b1;
	(void)g;

	/* a worker's copy of the shift moves everyone as the original does */
	struct anon_noise_shift copy;
	anon_noise_shift_dup(&copy, &sh);
	int same = 0;
	for (int i = 0; i < 50; i++) {
		char id[16];
		int n = snprintf(id, sizeof(id), "c%d", i);
		same += anon_noise_shift_days(&copy, "", 365, (const unsigned char *)id, (size_t)n) ==
		    anon_noise_shift_days(&sh, "", 365, (const unsigned char *)id, (size_t)n);
	}
	ok(same == 50, "a worker's copy of the shift gives the same shifts (%d/50)", same);

	/* through the rule: intervals within an entity are kept */
	struct anon_noise_rule r;
	anon_noise_rule_parse(&r, "dateshift:days=365");
	r.per_entity = true;
	struct anon_noise_slot w = { .shift = &copy };
	unsigned char o1[128], o2[128];
	size_t l1, l2;
	const char *why;
	const char *d1 = "2020-02-28", *d2 = "2020-03-01 08:00:00+01";
	int rc = anon_noise_rule_apply(&r, &w, (const unsigned char *)d1, 10,
	    (const unsigned char *)"carol", 5, true, o1, &l1, &why);
	rc |= anon_noise_rule_apply(&r, &w, (const unsigned char *)d2, strlen(d2),
	    (const unsigned char *)"carol", 5, true, o2, &l2, &why);
	struct anon_noise_date x1, x2;
	anon_noise_date_parse(o1, l1, &x1);
	anon_noise_date_parse(o2, l2, &x2);
	ok(!rc && x2.days - x1.days == 2 && !memcmp(o2 + 10, d2 + 10, strlen(d2) - 10),
	   "shifted dates keep their interval and time of day (%.*s, %.*s)", (int)l1, o1, (int)l2, o2);
	ok(anon_noise_rule_apply(&r, &w, (const unsigned char *)d1, 10, (const unsigned char *)"", 0,
	   true, o1, &l1, &why) == -1, "an empty entity is an error");
	/* across the year 1: an entity whose shift moves 0001-01-01 into BC (or back) */
	int crossed = 0;
	for (int i = 0; i < 40; i++) {
		char id[16];
		int n = snprintf(id, sizeof(id), "x%d", i);
		int64_t sft = anon_noise_shift_days(&copy, "", 365, (const unsigned char *)id, (size_t)n);
		if (!sft)
			continue;
		const char *in = sft < 0 ? "0001-01-01 10:00:00+01" : "0001-12-31 10:00:00+01 BC";
		int64_t day0 = sft < 0 ? -719162 : -719163;
		struct anon_noise_date x;
		rc = anon_noise_rule_apply(&r, &w, (const unsigned char *)in, strlen(in),
		    (const unsigned char *)id, (size_t)n, true, o1, &l1, &why);
		crossed += !rc && anon_noise_date_parse(o1, l1, &x) && x.days == day0 + sft &&
		    x.bc == (sft < 0) && !memcmp(o1 + 10, " 10:00:00+01", 12) &&
		    l1 == (sft < 0 ? 25u : 22u);
	}
	ok(crossed >= 38, "shifts across 1 BC / 1 AD print the era right (%d)", crossed);
	ok(anon_noise_rule_apply(&r, &w, (const unsigned char *)"0001-01-01", 10,
	   (const unsigned char *)"p1", 2, true, o1, &l1, &why) == -1 ||
	   anon_noise_rule_apply(&r, &w, (const unsigned char *)"9999-12-31", 10,
	   (const unsigned char *)"p1", 2, true, o1, &l1, &why) == -1,
	   "a shift out of the calendar is an error");
	/* a different key gives a different shift for someone */
	struct anon_noise_shift sh2 = { 0 };
	subkey[0] ^= 1;
	anon_noise_shift_init(&sh2, subkey);
	int differ = 0;
	for (int i = 0; i < 20; i++) {
		char id[16];
		int n = snprintf(id, sizeof(id), "q%d", i);
		differ += anon_noise_shift_days(&sh, "", 365, (const unsigned char *)id, (size_t)n) !=
		    anon_noise_shift_days(&sh2, "", 365, (const unsigned char *)id, (size_t)n);
	}
	ok(differ > 10, "shifts depend on the key (%d/20 differ)", differ);
	anon_noise_slot_free(&w);
	anon_noise_shift_free(&copy);
	anon_noise_shift_free(&sh);
	anon_noise_shift_free(&sh2);
}

/* A grid on which the parameters fail leaves the rule as it was: the next value fixes the
 * grid, and its noise has a scale (it once went out with none). */
static void test_grid_failure(void)
{
	struct anon_noise_rule r;
	struct anon_noise_slot w = { .rng = &rng };
	anon_noise_rule_parse(&r, "laplace:epsilon=1,sensitivity=1000");
	const char *o = run(&r, &w, "0.000000000000000001");
	ok(r.ready && r.d == 15 && r.data_d == 18 && strlen(strchr(o, '.') + 1) == 15,
	   "a first value too fine for the parameters: the finest grid they fit (%d): %s", r.d, o);
	ok(r.scale_u == 1000 * (uint64_t)anon_noise_pow10(15) + 1, "with its scale (%llu)",
	   (unsigned long long)r.scale_u);
	/* numeric(30,12) under a gaussian of sigma 1000: sigma_u <= 2^24 wants 4 decimals */
	anon_noise_rule_parse(&r, "gaussian:sigma=1000");
	o = run(&r, &w, "123456789012345678.123456789012");
	ok(r.ready && r.d == 4 && r.data_d == 12 && r.scale_u == 10000000 &&
	   strlen(strchr(o, '.') + 1) == 4, "numeric(30,12) with sigma 1000: 4 decimals: %s", o);
	/* a grid the data does not choose is never changed */
	anon_noise_rule_parse(&r, "laplace:scale=1,decimals=3");
	o = run(&r, &w, "0.000000000000000001");
	ok(r.ready && r.d == 3 && r.data_d == -1 && !strcmp(o + strlen(o) - 4, strchr(o, '.')),
	   "decimals=3 stays 3: %s", o);
	/* special values set no grid: the next value does */
	anon_noise_rule_parse(&r, "laplace:scale=1");
	ok(!strcmp(run(&r, &w, "NaN"), "KEEP") && !r.ready && w.special == 1,
	   "NaN first: kept, counted, no grid");
	o = run(&r, &w, "1.5");
	ok(r.ready && r.d == 1, "then 1.5 sets one decimal: %s", o);
}

/* Workers' histograms fold into exactly the histogram one pass over every value makes, in
 * whatever order the parts come. */
static void test_hist_merge(void)
{
	struct anon_noise_hist one = { 0 }, part[3] = { { 0 } }, all = { 0 }, rev = { 0 };
	struct anon_noise_hist copy = { 0 };
	for (int i = 0; i < 10000; i++) {
		/* each part starts elsewhere and sees a different spread */
		double v = (double)((i * 7919) % (i < 5000 ? 500 : 50000)) / 4 - 300;
		anon_noise_hist_add(&one, v, v + i % 7, 0.25);
		anon_noise_hist_add(&part[i / 100 % 3], v, v + i % 7, 0.25);
	}
	for (int k = 0; k < 3; k++)
		anon_noise_hist_merge(&all, &part[k]);
	for (int k = 2; k >= 0; k--)
		anon_noise_hist_merge(&rev, &part[k]);
	ok(!memcmp(&all, &one, sizeof one), "three workers' histograms fold into the one-pass "
	   "histogram (n %llu, width %g against %g)", (unsigned long long)all.n,
	   anon_noise_hist_width(&all), anon_noise_hist_width(&one));
	ok(!memcmp(&rev, &one, sizeof one), "in any order");
	ok(anon_noise_hist_lo(&one) <= -300 &&
	   -300 < anon_noise_hist_lo(&one) + anon_noise_hist_width(&one),
	   "the first bin holds the smallest value (from %g)", anon_noise_hist_lo(&one));
	anon_noise_hist_merge(&copy, &one);
	ok(!memcmp(&copy, &one, sizeof(one)), "one worker's histogram folds unchanged");
	/* a value far out widens the bins; the counts stay exact */
	struct anon_noise_hist h = { 0 };
	anon_noise_hist_add(&h, 0, 0, 1);
	anon_noise_hist_add(&h, 1000, 1003, 1);
	ok(h.n == 2 && h.in[0] == 1 && h.in[15] == 1 && h.out[15] == 1 &&
	   anon_noise_hist_width(&h) == 64 && anon_noise_hist_mean_abs_error(&h) == 1.5,
	   "a far value: width %g, mean error %g", anon_noise_hist_width(&h),
	   anon_noise_hist_mean_abs_error(&h));
}

/* --jobs: threads take chunks of lines in turn, each with its own slots, on rules that
 * start without a grid; seeded by row, every line comes out as one thread alone makes it. */
enum { W_LINES = 6000, W_CHUNK = 37, W_THREADS = 4, W_RULES = 4 };
static const char *const w_rules[W_RULES] = {
	"laplace:epsilon=0.5,sensitivity=10", "gaussian:sigma=100000,decimals=0",
	"dateshift:days=30", "laplace:epsilon=1,clamp=2000-01-01..2030-12-31",
};
static struct anon_noise_rule w_rule[W_RULES];
static char w_out[W_RULES][W_LINES + 1][40];

static const char *w_value(int k, uint64_t line, char *buf, size_t n)
{
	if (k == 2 || k == 3)
		snprintf(buf, n, "20%02d-%02d-%02d", (int)(line % 30), (int)(line % 12) + 1,
		    (int)(line % 28) + 1);
	else
		snprintf(buf, n, "%s%d.%02d", line % 3 ? "" : "-", (int)(line * 7919 % 100000),
		    (int)(line % 100));
	return buf;
}

struct w_job {
	int id, nthreads;
	struct anon_noise_rng rng[W_RULES];
	struct anon_noise_slot slot[W_RULES];
	bool bad;
};

static void *w_thread(void *arg)
{
	struct w_job *j = arg;
	for (uint64_t first = 1; first <= W_LINES; first += W_CHUNK) {
		if ((first / W_CHUNK) % (uint64_t)j->nthreads != (uint64_t)j->id)
			continue;
		for (uint64_t line = first; line < first + W_CHUNK && line <= W_LINES; line++)
			for (int k = 0; k < W_RULES; k++) {
				char v[40];
				unsigned char o[200];
				size_t len;
				const char *why;
				w_value(k, line, v, sizeof(v));
				anon_noise_rng_at(&j->rng[k], line);
				if (anon_noise_rule_apply(&w_rule[k], &j->slot[k],
				    (const unsigned char *)v, strlen(v), NULL, 0, false, o, &len,
				    &why) || len >= sizeof(w_out[k][line])) {
					j->bad = true;
					continue;
				}
				memcpy(w_out[k][line], o, len);
				w_out[k][line][len] = '\0';
			}
	}
	return NULL;
}

static void w_run(int nthreads, uint64_t seed)
{
	struct w_job *jobs = calloc((size_t)nthreads, sizeof(*jobs));
	pthread_t t[W_THREADS];
	for (int k = 0; k < W_RULES; k++) {
		anon_noise_rule_parse(&w_rule[k], w_rules[k]);
		w_rule[k].random = true;
		w_rule[k].stream = (uint32_t)k;
	}
	for (int i = 0; i < nthreads; i++) {
		jobs[i].id = i;
		jobs[i].nthreads = nthreads;
		for (int k = 0; k < W_RULES; k++) {
			anon_noise_rng_rows(&jobs[i].rng[k], seed, (uint32_t)k);
			jobs[i].slot[k].rng = &jobs[i].rng[k];
		}
	}
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, w_thread, &jobs[i]);
	bool bad = false;
	uint64_t n[W_RULES] = { 0 };
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		bad |= jobs[i].bad;
		for (int k = 0; k < W_RULES; k++) {
			n[k] += jobs[i].slot[k].hist.n;
			anon_noise_rng_free(&jobs[i].rng[k]);
		}
	}
	ok(!bad && n[0] == W_LINES && n[1] == W_LINES && n[2] == W_LINES && n[3] == W_LINES,
	   "%d thread(s): every value transformed and counted once", nthreads);
	free(jobs);
}

static void test_workers(void)
{
	static char first[W_RULES][W_LINES + 1][40];
	w_run(1, 5);
	memcpy(first, w_out, sizeof(first));
	int d0 = w_rule[0].d;
	w_run(W_THREADS, 5);
	int diff = 0;
	for (int k = 0; k < W_RULES; k++)
		for (int l = 1; l <= W_LINES; l++)
			diff += strcmp(first[k][l], w_out[k][l]) != 0;
	ok(diff == 0 && d0 == 2 && w_rule[0].d == 2,
	   "seeded by row, %d threads give what one gives (%d values differ)", W_THREADS, diff);
	/* and the seed matters: another one moves most values */
	w_run(W_THREADS, 6);
	diff = 0;
	for (int l = 1; l <= W_LINES; l++)
		diff += strcmp(first[0][l], w_out[0][l]) != 0;
	ok(diff > W_LINES * 9 / 10, "another seed, other noise (%d/%d differ)", diff, W_LINES);
}

static void test_fixed(void)
{
	static const struct {
		const char *in;
		int d;
		const char *want;  /* the units, as fixed_format writes them at 0 decimals */
		int rc;
	} c[] = {
		{ "1.25", 1, "12", 0 }, { "1.35", 1, "14", 0 }, { "-1.25", 1, "-12", 0 },
		{ "1.251", 1, "13", 0 }, { "0.5", 0, "0", 0 }, { "1.5", 0, "2", 0 }, { "2.5", 0, "2", 0 },
		{ "-2.5", 0, "-2", 0 }, { ".5", 2, "50", 0 }, { "5.", 2, "500", 0 }, { "+3", 0, "3", 0 },
		{ "", 0, "", 1 }, { "-", 0, "", 1 }, { "1e5", 0, "", 1 }, { " 1", 0, "", 1 },
		{ "1,5", 0, "", 1 }, { "NaN", 0, "", 1 },
		{ "9223372036854775807", 0, "9223372036854775807", 0 },
		{ "9223372036854775808", 0, "9223372036854775808", 0 },
		{ "-9223372036854775809", 0, "-9223372036854775809", 0 },
		{ "92233720368547758.07", 2, "9223372036854775807", 0 },
		{ "1", 18, "1000000000000000000", 0 }, { "10", 18, "10000000000000000000", 0 },
		/* numeric(30,12), and the 38 digits 128 bits hold */
		{ "123456789012345678.123456789012", 12, "123456789012345678123456789012", 0 },
		{ "-123456789012345678.1234567890125", 12, "-123456789012345678123456789012", 0 },
		{ "99999999999999999999999999999999999999", 0, "99999999999999999999999999999999999999", 0 },
		{ "999999999999999999999999999999999999999", 0, "", 2 },
		{ "9999999999999999999999999999999999999.95", 1, "", 2 },  /* rounds up to 10^38 */
		{ "9999999999999999999999999999999999999.94", 1, "99999999999999999999999999999999999999", 0 },
		{ "1", 38, "", 2 }, { "0.1", 38, "10000000000000000000000000000000000000", 0 },
		{ "0.00000000000000000000000000000000000001", 38, "1", 0 },
		{ "0.000000000000000000000000000000000000015", 38, "2", 0 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		i128 v = 0;
		char got[64] = "";
		int rc = anon_noise_fixed_parse((const unsigned char *)c[i].in, strlen(c[i].in), c[i].d, &v);
		if (!rc)
			got[anon_noise_fixed_format(v, 0, got)] = '\0';
		ok(rc == c[i].rc && (rc || !strcmp(got, c[i].want)), "parse '%s' at %d decimals: %s rc %d",
		   c[i].in, c[i].d, got, rc);
	}
	/* values as they are: mantissa and decimals, and what is out of range, and why */
	static const struct {
		const char *in;
		const char *mant;
		int nd, rc;
	} np[] = {
		{ "12.340", "12340", 3, 0 }, { "-0.5", "-5", 1, 0 }, { "007", "7", 0, 0 },
		{ "12345678901234567890.1234567890", "123456789012345678901234567890", 10, 0 },
		{ "1234567890123456789012345678901234567890", "", 0, 2 },
		{ "0.000000000000000000000000000000000000001", "", 0, 3 },
		{ "1.2.3", "", 0, 1 }, { "Infinity", "", 0, 1 },
	};
	for (size_t i = 0; i < sizeof(np) / sizeof(np[0]); i++) {
		i128 m = 0;
		int nd = -1;
		char got[64] = "";
		int rc = anon_noise_num_parse((const unsigned char *)np[i].in, strlen(np[i].in), &m, &nd);
		if (!rc)
			got[anon_noise_fixed_format(m, 0, got)] = '\0';
		ok(rc == np[i].rc && (rc || (!strcmp(got, np[i].mant) && nd == np[i].nd)),
		   "value '%s': %s / 10^%d rc %d", np[i].in, got, nd, rc);
	}
	char buf[64];
	static const struct { int64_t v; int d; const char *s; } f[] = {
		{ 0, 0, "0" }, { 0, 2, "0.00" }, { -5, 2, "-0.05" }, { 12345, 2, "123.45" },
		{ INT64_MAX, 0, "9223372036854775807" }, { -INT64_MAX, 3, "-9223372036854775.807" },
		{ 7, 18, "0.000000000000000007" }, { 7, 38, "0.00000000000000000000000000000000000007" },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t n = anon_noise_fixed_format(f[i].v, f[i].d, buf);
		buf[n] = '\0';
		ok(!strcmp(buf, f[i].s), "format %lld at %d decimals: %s", (long long)f[i].v, f[i].d, buf);
	}
	i128 big = -ANON_NOISE_NUM_MAX;
	size_t bn = anon_noise_fixed_format(big, 12, buf);
	buf[bn] = '\0';
	ok(!strcmp(buf, "-99999999999999999999999999.999999999999"), "format -(10^38-1) at 12: %s",
	   buf);
	bn = anon_noise_fixed_format((i128)UINT64_MAX + 1, 0, buf);
	buf[bn] = '\0';
	ok(!strcmp(buf, "18446744073709551616"), "format 2^64: %s", buf);
	/* special values */
	static const char *const sp[] = { "NaN", "nan", "Infinity", "-Infinity", "+Infinity",
		"infinity", "-infinity", "inf", "-inf", "+inf", "INF" };
	static const char *const nsp[] = { "", "N", "+NaN", "Infinit", "infinityy", "- inf", "na" };
	int spok = 0;
	for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++)
		spok += anon_noise_special((const unsigned char *)sp[i], strlen(sp[i]));
	for (size_t i = 0; i < sizeof(nsp) / sizeof(nsp[0]); i++)
		spok += !anon_noise_special((const unsigned char *)nsp[i], strlen(nsp[i]));
	ok(spok == (int)(sizeof(sp) / sizeof(sp[0]) + sizeof(nsp) / sizeof(nsp[0])),
	   "special values are PostgreSQL's spellings, and only those");
	/* dates round trip over the whole calendar, BC included */
	int bad = 0, nbc = 0;
	for (int64_t z = ANON_NOISE_DAY_MIN; z <= ANON_NOISE_DAY_MAX; z += 97) {
		char d[16];
		bool bc;
		struct anon_noise_date dt;
		bad += !anon_noise_date_format(z, d, &bc);
		if (bc)
			memcpy(d + 10, " BC", 3);
		nbc += bc;
		bad += !anon_noise_date_parse((const unsigned char *)d, bc ? 13 : 10, &dt) ||
		    dt.days != z || dt.bc != bc;
	}
	ok(bad == 0 && nbc > 17000, "date format/parse round trip from 4714-11-24 BC to 9999");
	ok(anon_noise_days_from_civil(1970, 1, 1) == 0 && anon_noise_days_from_civil(2000, 3, 1) == 11017,
	   "day numbers");
	/* PostgreSQL's day numbers (date - '1970-01-01'): 1 BC is year 0, a leap year */
	static const struct { const char *s; int64_t days; } pg[] = {
		{ "0044-03-15 BC", -735160 }, { "4714-11-24 BC", -2440588 }, { "0001-01-01", -719162 },
		{ "0001-12-31 BC", -719163 }, { "0001-02-29 BC", -719469 },
		{ "0001-01-01 BC", -719528 }, { "0044-03-15 12:00:00+00:09:21 BC", -735160 },
	};
	for (size_t i = 0; i < sizeof(pg) / sizeof(pg[0]); i++) {
		struct anon_noise_date dt;
		ok(anon_noise_date_parse((const unsigned char *)pg[i].s, strlen(pg[i].s), &dt) &&
		   dt.days == pg[i].days && dt.bc == (strstr(pg[i].s, "BC") != NULL), "%s is day %lld", pg[i].s, (long long)pg[i].days);
	}
	struct anon_noise_date dt0;
	ok(!anon_noise_date_parse((const unsigned char *)"0002-02-29 BC", 13, &dt0) &&
	   !anon_noise_date_parse((const unsigned char *)"0000-01-01", 10, &dt0) &&
	   !anon_noise_date_parse((const unsigned char *)"0000-01-01 BC", 13, &dt0),
	   "2 BC has no 29 February, and there is no year 0000");
	char d[10];
	bool bc0;
	ok(!anon_noise_date_format(ANON_NOISE_DAY_MIN - 1, d, &bc0) &&
	   !anon_noise_date_format(2932897, d, &bc0), "dates outside PostgreSQL's range refused");
}

/* dp-noise.md 9.4 row 8: an empirical DP check through the rule.  With clamp=0..10, the
 * output counts for inputs 0 and 10 must satisfy cA(o) <= e^eps cB(o) (and back) in every bin,
 * up to sampling noise: a bin fails when the excess is beyond 6 standard deviations
 * (Bonferroni over 8001 bins: < 2e-5).  Laplace is tight (the ratio is exactly e^eps on each
 * side), so the same counts must fail when eps is understated by 10 %: the check has power. */
static void test_dp_smoke(const char *text, double eps)
{
	enum { NS = 1000000, SPAN = 4000 };
	static uint32_t ca[2 * SPAN + 1], cb[2 * SPAN + 1];
	memset(ca, 0, sizeof(ca));
	memset(cb, 0, sizeof(cb));
	struct anon_noise_rng r1, r2;
	anon_noise_rng_seeded(&r1, 65536, 77, 0);
	anon_noise_rng_seeded(&r2, 65536, 78, 0);
	struct anon_noise_rule a, b;
	anon_noise_rule_parse(&a, text);
	anon_noise_rule_parse(&b, text);
	struct anon_noise_slot wa = { .rng = &r1 }, wb = { .rng = &r2 };
	for (int i = 0; i < NS; i++) {
		long x = strtol(run(&a, &wa, "0"), NULL, 10), y = strtol(run(&b, &wb, "10"), NULL, 10);
		ca[x < -SPAN ? 0 : x > SPAN ? 2 * SPAN : x + SPAN]++;
		cb[y < -SPAN ? 0 : y > SPAN ? 2 * SPAN : y + SPAN]++;
	}
	int bad[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		double f = exp(k ? 0.9 * eps : eps);
		for (int o = 0; o <= 2 * SPAN; o++) {
			double sa = 6 * sqrt(ca[o] + f * f * cb[o] + 1);
			double sb = 6 * sqrt(cb[o] + f * f * ca[o] + 1);
			bad[k] += ca[o] - f * cb[o] > sa || cb[o] - f * ca[o] > sb;
		}
	}
	ok(bad[0] == 0 && bad[1] > 0, "empirical DP for %s: %d bins beyond e^eps, %d beyond "
	   "e^(0.9 eps)", text, bad[0], bad[1]);
	anon_noise_rng_free(&r1);
	anon_noise_rng_free(&r2);
}

int main(void)
{
	anon_noise_rng_seeded(&rng, 65536, 1, 0);
	test_fixed();
	test_generalize();
	test_parse_errors();
	test_messages();
	test_scale();
	test_noise_values();
	test_independence();
	test_dateshift();
	test_grid_failure();
	test_hist_merge();
	test_workers();
	test_dp_smoke("laplace:epsilon=1,clamp=0..10", 1);
	test_dp_smoke("laplace:epsilon=0.5,clamp=0..10", 0.5);
	anon_noise_rng_free(&rng);
	return tap_done();
}
