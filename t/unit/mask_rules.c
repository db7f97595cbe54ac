/* mask_rules.c: anon-mask's rules on single values, without lib's reader or writer. */
#include <stdlib.h>
#include <string.h>

#include "../../anon-mask/mask.h"
#include "tap.h"

static struct mask_opts opts;
static struct anon_buf scratch;

/* Apply `rule` to `in`; the result as a string: the output, "KEEP", "NULL", or "ERR:msg". */
static const char *run(const char *rule, const char *in)
{
	static char res[512];
	struct mask_rule r;
	char err[256];
	if (anon_mask_rule_parse(&r, rule, "users.email", err, sizeof(err)) < 0) {
		snprintf(res, sizeof(res), "PARSE:%s", err);
		return res;
	}
	struct anon_field f = { (const unsigned char *)in, strlen(in), false }, out = { 0 };
	const char *msg = NULL;
	struct mask_work w;
	anon_mask_work_init(&w, &r);
	scratch.len = 0;
	enum anon_status st = anon_mask_apply(&r, &w, &opts, &f, &out, &scratch, &msg);
	if (st == ANON_ERR)
		snprintf(res, sizeof(res), "ERR:%s", msg);
	else if (st == ANON_KEEP)
		snprintf(res, sizeof(res), "KEEP");
	else if (out.null)
		snprintf(res, sizeof(res), "NULL");
	else
		snprintf(res, sizeof(res), "%.*s", (int)out.len, (const char *)out.p);
	anon_mask_work_free(&w);
	anon_mask_rule_free(&r);
	return res;
}

#define IS(rule, in, want) do { \
		const char *got_ = run(rule, in); \
		ok(strcmp(got_, want) == 0, "%s on \"%s\" -> \"%s\" (got \"%s\")", rule, in, want, \
		   got_); \
	} while (0)

static void constants(void)
{
	IS("redact", "secret", "***");
	IS("redact:[gone]", "secret", "[gone]");
	IS("redact:", "secret", "");
	struct mask_rule r;
	char err[64];
	ok(anon_mask_rule_parse(&r, NULL, "c", err, sizeof(err)) == 0 && r.kind == MASK_REDACT &&
	   strcmp(r.text, "***") == 0, "no rule means redact");
	anon_mask_rule_free(&r);
	IS("const:n/a", "secret", "n/a");
	IS("const:", "secret", "");
	IS("null", "secret", "NULL");
	IS("label", "secret", "<EMAIL>");
	/* Constants never read the value, so its encoding does not matter. */
	IS("redact", "\xff", "***");
}

static void partial(void)
{
	IS("first:1", "Zoë", "Z**");
	IS("first:2", "Johnson", "Jo*****");
	IS("last:4", "4111111111111111", "************1111");
	IS("partial:1,1", "Zoë", "Z*ë");
	IS("partial:2,2", "Dupont", "Du**nt");
	IS("partial:0,0", "abc", "***");
	/* By code points: accents, CJK and emoji count as one each. */
	IS("first:1", "Émilie", "É*****");
	IS("last:1", "東京都", "**都");
	IS("first:2", "😀😁😂🤣", "😀😁**");
	IS("partial:1,1", "a😀b", "a*b");
	/* Nothing left to mask: the whole value is masked rather than shown. */
	IS("first:3", "Zoë", "***");
	IS("partial:2,2", "abcd", "****");
	IS("first:8", "東京", "**");
	IS("first:1", "\xc3\x28", "ERR:invalid UTF-8");
	IS("last:2", "ab\xed\xa0\x80", "ERR:invalid UTF-8");
}

static void email(void)
{
	IS("email", "john.doe@example.com", "********@example.com");
	IS("email:domain", "zoë@exämple.fr", "***@exämple.fr");
	IS("email:tld", "john@mail.example.co.uk", "****@***************.uk");
	IS("email:tld", "jo@example.com", "**@*******.com");
	/* The last @ separates the domain. */
	IS("email", "\"a@b\"@host.org", "*****@host.org");
	IS("email", "no-at-sign", "**********");
	IS("email", "@example.com", "************");
	IS("email", "john@", "*****");
	IS("email:tld", "john@localhost", "**************");
	IS("email:tld", "john@.com", "*********");
}

static void phone(void)
{
	IS("phone", "+1 555-123-4567", "+1 ***-***-4567");
	IS("phone", "+44 20 7946 0958", "+44 ** **** 0958");
	IS("phone", "+33 1 23 45 67 89", "+33 * ** ** 67 89");
	IS("phone", "+353 1 234 5678", "+353 * *** 5678");
	/* Without a separator the country code's length comes from E.164. */
	IS("phone", "+442079460958", "+44******0958");
	IS("phone", "+14155550123", "+1******0123");
	IS("phone", "+85212345678", "+852****5678");
	IS("phone", "(555) 123-4567", "(***) ***-4567");
	IS("phone", "555.123.4567", "***.***.4567");
	IS("phone", "0612345678", "******5678");
	IS("phone", "call me", "*******");
	IS("phone", "1234", "****");
	IS("phone", "+0 123 456 789", "**************");
	IS("phone", "+44 20 7946 0958 ext 2", "**********************");
}

static void card(void)
{
	IS("card", "4111111111111111", "************1111");
	IS("card", "4111 1111 1111 1111", "**** **** **** 1111");
	IS("card", "4111-1111-1111-1111", "****-****-****-1111");
	IS("card:bin", "4111111111111111", "411111******1111");
	IS("card:bin", "4111 1111 1111 1111", "4111 11** **** 1111");
	IS("card", "378282246310005", "***********0005");
	IS("card", "12345", "*****");
	IS("card", "4111x1111111111111", "******************");
	IS("card", " 4111111111111111", "*****************");
}

static void patterns(void)
{
	IS("regex:[0-9]", "ab12cd3", "ab**cd*");
	IS("regex:\\d+", "id 42, ref 7", "id **, ref *");
	IS("regex:\\d{4}", "no digits", "no digits");
	/* With groups only the groups are masked. */
	IS("regex:(\\w+)@(\\w+)\\.com", "x john@acme.com y", "x ****@****.com y");
	IS("regex:^(.).*(.)$", "secret", "*ecre*");
	IS("regex:a(x)?b", "ab axb", "ab a*b");
	/* Nested groups mask their union once. */
	IS("regex:((a)b)", "abab", "****");
	IS("regex:[é東]", "é東x", "**x");
	IS("regex:x*", "axxb", "a**b");
	IS("regex:(?<=a)b", "abab", "a*a*");
	IS("keep:\\d{3}$", "ref-123", "****123");
	IS("keep:^(\\w)\\w*(@.*)$", "john@acme.com", "j***@acme.com");
	IS("keep:^(\\w)\\w*@(.*)$", "john@acme.com", "j****acme.com");
	IS("keep:zzz", "abc", "***");
	IS("keep:^.", "Ünïcödé", "Ü******");
	IS("regex:\\d", "\xff" "1", "ERR:invalid UTF-8");
	char err[256];
	struct mask_rule r;
	ok(anon_mask_rule_parse(&r, "regex:(abc", "c", err, sizeof(err)) < 0 &&
	   strstr(err, "offset 4") && strstr(err, "missing closing parenthesis") &&
	   !strstr(err, "abc"), "bad pattern: PCRE2 message and offset, not the pattern (%s)", err);
	ok(anon_mask_rule_parse(&r, "regex:", "c", err, sizeof(err)) < 0, "empty pattern refused");
	ok(anon_mask_rule_parse(&r, "keep", "c", err, sizeof(err)) < 0, "keep without a pattern");
}

static void parse_errors(void)
{
	const char *bad[] = {
		"first", "first:", "first:x", "first:-1", "last:1.5", "partial:1", "partial:1,",
		"partial:,1", "partial:a,b", "email:foo", "card:x", "phone:1", "null:x", "label:x",
		"fake", "fake:dog", "const", "bogus", "", "regex",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mask_rule r;
		char err[256] = "";
		ok(anon_mask_rule_parse(&r, bad[i], "c", err, sizeof(err)) < 0 && *err,
		   "rule \"%s\" refused: %s", bad[i], err);
	}
}

/* Parse errors name the rule, parameter or kind that is wrong, and the choices. */
static void parse_messages(void)
{
	static const struct {
		const char *rule, *want[3];
	} cases[] = {
		{ "bogus", { "unknown rule \"bogus\"", "redact[:TEXT]", "fake:KIND" } },
		{ "bogus:x", { "unknown rule \"bogus\"", "email[:domain|tld]", NULL } },
		{ "fake:name", { "fake: unknown kind \"name\"", "first_name", "street" } },
		{ "fake", { "fake needs a kind", "full_name", NULL } },
		{ "email:foo", { "email: unknown parameter \"foo\"", "(domain, tld)", NULL } },
		{ "card:x", { "card: unknown parameter \"x\"", "(bin)", NULL } },
		{ "null:x", { "null: unknown parameter \"x\"", "takes none", NULL } },
		{ "label:x", { "label: unknown parameter \"x\"", NULL, NULL } },
		{ "phone:1", { "phone: unknown parameter \"1\"", NULL, NULL } },
		{ "first:x", { "first: \"x\" is not a count", "first:N", NULL } },
		{ "last", { "last needs a count", NULL, NULL } },
		{ "partial:1", { "partial: \"1\" is not two counts", "partial:FIRST,LAST", NULL } },
		{ "const", { "const needs a text", NULL, NULL } },
		{ "regex", { "regex needs a pattern", NULL, NULL } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mask_rule r;
		char err[512] = "";
		bool good = anon_mask_rule_parse(&r, cases[i].rule, "c", err, sizeof(err)) < 0;
		for (int k = 0; k < 3 && good && cases[i].want[k]; k++)
			good = strstr(err, cases[i].want[k]) != NULL;
		ok(good, "rule \"%s\": %s", cases[i].rule, err);
	}
	/* A long parameter is cut short in the message. */
	char longrule[200] = "email:";
	memset(longrule + 6, 'x', 150);
	struct mask_rule r;
	char err[512];
	ok(anon_mask_rule_parse(&r, longrule, "c", err, sizeof(err)) < 0 && strstr(err, "x...\"") &&
	   strlen(err) < 120, "a long parameter is cut: %s", err);
	/* Every kind the list names parses. */
	char kinds[256];
	snprintf(kinds, sizeof(kinds), "%s", anon_fake_kind_names);
	int n = 0, good = 0;
	for (char *save, *k = strtok_r(kinds, ", ", &save); k; k = strtok_r(NULL, ", ", &save)) {
		enum fake_kind kind;
		n++;
		good += anon_fake_kind_parse(k, &kind);
	}
	ok(n == 7 && good == 7, "the %d fake kinds listed all parse", n);
}

/* label: the column's name decoded from its SQL spelling, in upper case. */
static void labels(void)
{
	static const char *const cases[][2] = {
		{ "email", "<EMAIL>" }, { "users.email", "<EMAIL>" },
		{ "public.users.email", "<EMAIL>" }, { "t.\"E-MAIL\"", "<E-MAIL>" },
		{ "public.t.\"A\"\"B\"", "<A\"B>" }, { "\"x.y\"", "<X.Y>" },
		{ "\"s\".\"t\".\"Zoë\"", "<ZOë>" }, { "t.\"\"", "<>" },
		/* not SQL: the spec as given */
		{ "a.b.c.d", "<A.B.C.D>" }, { "t.\"open", "<T.\"OPEN>" }, { "a..b", "<A..B>" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mask_rule r;
		char err[256];
		bool good = anon_mask_rule_parse(&r, "label", cases[i][0], err, sizeof(err)) == 0 &&
			    strcmp(r.text, cases[i][1]) == 0 && r.text_len == strlen(cases[i][1]);
		ok(good, "label of %s is %s (%s)", cases[i][0], cases[i][1], good ? "" : r.text);
		anon_mask_rule_free(&r);
	}
	char *c = anon_mask_spec_column("public.t.\"A\"\"B\"");
	ok(c && strcmp(c, "A\"B") == 0, "the decoded column of a spec");
	free(c);
	ok(!anon_mask_spec_column("") && !anon_mask_spec_column("a.") &&
	   !anon_mask_spec_column("\"x\"y"), "no column in a spec that is not SQL");
	struct mask_rule r;
	char err[64];
	anon_mask_rule_parse(&r, "label", "t.v", err, sizeof(err));
	anon_mask_label_set(&r, "E-mail");
	ok(strcmp(r.text, "<E-MAIL>") == 0, "a label set from a header's name");
	anon_mask_rule_free(&r);
}

static void options(void)
{
	opts.mask_char[0] = 'x';
	IS("first:1", "Zoë", "Zxx");
	memcpy(opts.mask_char, "•", 3);
	opts.mask_len = 3;
	IS("first:1", "Zoë", "Z••");
	IS("email", "ab@c.d", "••@c.d");
	anon_mask_opts_init(&opts);

	opts.fixed_length = 8;
	IS("first:1", "Zoë", "Z********");
	IS("first:1", "Alexandrina", "A********");
	IS("email", "a@b.org", "********@b.org");
	IS("phone", "+1 555-123-4567", "+1 ********-********-4567");
	IS("email", "not an email", "********");
	opts.fixed_length = 0;
	IS("last:2", "secret", "et");
	anon_mask_opts_init(&opts);

	opts.on_mismatch = MISMATCH_KEEP;
	IS("email", "nobody", "KEEP");
	IS("email", "a@b.c", "*@b.c");
	IS("first:1", "\xff", "ERR:invalid UTF-8");
	opts.on_mismatch = MISMATCH_NULL;
	IS("card", "n/a", "NULL");
	anon_mask_opts_init(&opts);
}

static void counts_mismatches(void)
{
	struct mask_rule r;
	struct mask_work w;
	char err[64];
	anon_mask_rule_parse(&r, "email", "c", err, sizeof(err));
	anon_mask_work_init(&w, &r);
	const char *vals[] = { "a@b", "x", "y", "c@d" };
	for (int i = 0; i < 4; i++) {
		struct anon_field f = { (const unsigned char *)vals[i], strlen(vals[i]), false }, o;
		const char *msg;
		scratch.len = 0;
		anon_mask_apply(&r, &w, &opts, &f, &o, &scratch, &msg);
	}
	ok(w.mismatched == 2, "two mismatches counted (%llu)", (unsigned long long)w.mismatched);
	anon_mask_work_free(&w);
	anon_mask_rule_free(&r);
}

/* One rule, two threads' works used in turn (as workers do): each matches into its own
 * data and counts its own mismatches. */
static void works_apart(void)
{
	struct mask_rule r;
	struct mask_work w[2];
	char err[64];
	ok(anon_mask_rule_parse(&r, "regex:(\\w+)@(\\w+)\\.com", "c", err, sizeof(err)) == 0,
	   "regex rule parsed");
	anon_mask_work_init(&w[0], &r);
	anon_mask_work_init(&w[1], &r);
	const char *vals[] = { "x john@acme.com y", "ann@b.com", "no match", "x john@acme.com y" };
	const char *want[] = { "x ****@****.com y", "***@*.com", "no match", "x ****@****.com y" };
	bool same = true;
	for (int i = 0; i < 4; i++) {
		struct anon_field f = { (const unsigned char *)vals[i], strlen(vals[i]), false }, o;
		const char *msg;
		scratch.len = 0;
		same &= anon_mask_apply(&r, &w[i & 1], &opts, &f, &o, &scratch, &msg) == ANON_OK &&
			o.len == strlen(want[i]) && memcmp(o.p, want[i], o.len) == 0;
	}
	ok(same, "two works on one rule give the same masks");
	anon_mask_work_free(&w[0]);
	anon_mask_work_free(&w[1]);
	anon_mask_rule_free(&r);

	anon_mask_rule_parse(&r, "card", "c", err, sizeof(err));
	anon_mask_work_init(&w[0], &r);
	anon_mask_work_init(&w[1], &r);
	const char *cards[] = { "n/a", "4111111111111111", "x", "y" };
	for (int i = 0; i < 4; i++) {
		struct anon_field f = { (const unsigned char *)cards[i], strlen(cards[i]), false }, o;
		const char *msg;
		scratch.len = 0;
		anon_mask_apply(&r, &w[i < 2 ? 0 : 1], &opts, &f, &o, &scratch, &msg);
	}
	ok(w[0].mismatched == 1 && w[1].mismatched == 2, "each work counts its own mismatches "
	   "(%llu, %llu)", (unsigned long long)w[0].mismatched, (unsigned long long)w[1].mismatched);
	anon_mask_work_free(&w[0]);
	anon_mask_work_free(&w[1]);
	anon_mask_rule_free(&r);
}

int main(void)
{
	anon_mask_opts_init(&opts);
	constants();
	partial();
	email();
	phone();
	card();
	patterns();
	parse_errors();
	parse_messages();
	labels();
	options();
	counts_mismatches();
	works_apart();
	anon_buf_free(&scratch);
	return tap_done();
}
