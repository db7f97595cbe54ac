/* classify.c: what a stage did to a column (a treatment class and a sentence), how steps
 * compose, and what GDPR, CCPA and PIPEDA make of the result.  The mapping is a reading of the
 * texts cited in report_regulations(), written down so that a reviewer can disagree with a
 * line of it; it is not legal advice. */
#include <stdio.h>
#include <string.h>

#include "report.h"

static const char *const class_names[RC_NCLASSES] = {
	[RC_REDACTED] = "redacted", [RC_MASKED] = "masked", [RC_GENERALISED] = "generalised",
	[RC_DP] = "dp-noise", [RC_KEYED] = "keyed-irreversible", [RC_REVERSIBLE] = "reversible",
	[RC_UNCLASSIFIED] = "unclassified", [RC_UNTOUCHED] = "untouched",
	[RC_REIDENTIFIED] = "re-identified",
};

const char *report_class_name(enum report_class c)
{
	return c < RC_NCLASSES ? class_names[c] : "unclassified";
}

static bool is(const char *s, const char *t)
{
	return s && strcmp(s, t) == 0;
}

enum report_class report_step_class(const json_t *stage, const json_t *col, char *desc,
				    size_t descsz)
{
	const char *tool = report_str(stage, "tool");
	const json_t *p = json_object_get(col, "params");
	const char *rule = report_str(p, "rule");
	char num[32];
	if (is(tool, "anon-hash")) {
		const char *algo = report_str(stage, "algorithm");
		snprintf(desc, descsz, "keyed hash (%s, %s encoding): irreversible; the key holder "
			 "can link a known value to its hash", algo ? algo : "algorithm not recorded",
			 report_str(p, "encoding") ? report_str(p, "encoding") : "default");
		return RC_KEYED;
	}
	if (is(tool, "anon-token")) {
		const char *mode = report_str(p, "mode");
		if (is(report_str(stage, "direction"), "detokenize")) {
			snprintf(desc, descsz, "detokenised: the original values are back");
			return RC_REIDENTIFIED;
		}
		if (is(mode, "siv")) {
			snprintf(desc, descsz, "reversible token (AES-SIV): the key holder can turn it "
				 "back into the value");
			return RC_REVERSIBLE;
		}
		if (is(mode, "vault")) {
			snprintf(desc, descsz, "vault token (random, kept in a vault): whoever can read "
				 "the vault can turn it back");
			return RC_REVERSIBLE;
		}
		if (is(mode, "keyed")) {
			snprintf(desc, descsz, "keyed token (HMAC): irreversible; the key holder can "
				 "link a known value to its token");
			return RC_KEYED;
		}
		snprintf(desc, descsz, "token of a mode this report does not know");
		return RC_UNCLASSIFIED;
	}
	if (is(tool, "anon-fpe")) {
		if (is(report_str(p, "direction"), "decrypt")) {
			snprintf(desc, descsz, "format-preserving decryption: the original values "
				 "are back");
			return RC_REIDENTIFIED;
		}
		snprintf(desc, descsz, "format-preserving encryption (%s, AES-%s): reversible by "
			 "the key holder",
			 report_str(p, "algorithm") ? report_str(p, "algorithm") : "FPE",
			 report_has_num(p, "key_bits") ?
				 (report_fmt_num(num, sizeof num, report_num(p, "key_bits")), num) : "?");
		return RC_REVERSIBLE;
	}
	if (is(tool, "anon-mask")) {
		if (is(rule, "redact") || is(rule, "null") || is(rule, "const") || is(rule, "label")) {
			snprintf(desc, descsz, "redacted (%s): nothing of the value is left", rule);
			return RC_REDACTED;
		}
		if (is(rule, "fake")) {
			snprintf(desc, descsz, "deterministic fake (%s) chosen by a keyed HMAC: "
				 "irreversible; the same value always gets the same fake",
				 report_str(p, "kind") ? report_str(p, "kind") : "?");
			return RC_KEYED;
		}
		snprintf(desc, descsz, "masked (%s): part of the value is left as it was",
			 rule ? rule : "rule not recorded");
		return RC_MASKED;
	}
	if (is(tool, "anon-noise")) {
		const json_t *noise = json_object_get(stage, "noise");
		bool seeded = is(report_str(noise, "rng"), "seeded-insecure") ||
			      json_is_false(json_object_get(noise, "private"));
		if (is(rule, "laplace") || is(rule, "gaussian")) {
			char eps[32], delta[32];
			report_fmt_num(eps, sizeof eps, report_num(p, "epsilon"));
			report_fmt_num(delta, sizeof delta, report_num(p, "delta"));
			if (seeded) {
				snprintf(desc, descsz, "%s noise from a SEEDED generator (--seed): "
					 "anyone who knows the seed can remove it; not private", rule);
				return RC_REVERSIBLE;
			}
			snprintf(desc, descsz, "differentially private %s noise, epsilon %s%s%s "
				 "(local, per released value)", rule, eps,
				 report_has_num(p, "delta") ? ", delta " : "",
				 report_has_num(p, "delta") ? delta : "");
			return RC_DP;
		}
		if (is(rule, "dateshift")) {
			snprintf(desc, descsz, "keyed per-person date shift (up to %s days): the "
				 "key holder can undo it, and one person's intervals are kept",
				 report_has_num(p, "days") ?
					 (report_fmt_num(num, sizeof num, report_num(p, "days")), num) : "?");
			return RC_REVERSIBLE;
		}
		if (rule) {
			snprintf(desc, descsz, "generalised (%s): values coarsened, not perturbed",
				 rule);
			return RC_GENERALISED;
		}
	}
	snprintf(desc, descsz, "changed by %s, a tool or rule this report does not classify",
		 tool ? tool : "an unnamed tool");
	return RC_UNCLASSIFIED;
}

/* How much of the original a class leaves, least first: a column's treatment is the least
 * any step left, except that a decryption undoes the reversible step before it. */
static int residue(enum report_class c)
{
	switch (c) {
	case RC_REDACTED: return 0;
	case RC_MASKED: case RC_GENERALISED: return 1;
	case RC_DP: return 2;
	case RC_KEYED: return 3;
	case RC_REVERSIBLE: return 4;
	case RC_UNCLASSIFIED: return 5;
	default: return 6;
	}
}

enum report_class report_compose(enum report_class cur, enum report_class step)
{
	if (step == RC_REIDENTIFIED) {
		if (cur == RC_REVERSIBLE || cur == RC_REIDENTIFIED)
			return RC_REIDENTIFIED;
		/* decrypting what was never encrypted is one more keyed permutation */
		return cur == RC_UNTOUCHED ? RC_REVERSIBLE : cur;
	}
	if (cur == RC_REIDENTIFIED)
		return step;
	return residue(step) <= residue(cur) ? step : cur;
}

json_t *report_regulations(void)
{
	json_t *a = json_array();
	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "id", "gdpr", "name",
		"General Data Protection Regulation", "text",
		"Regulation (EU) 2016/679 of the European Parliament and of the Council of "
		"27 April 2016, OJ L 119, 4.5.2016, p. 1 (as corrected, OJ L 127, 23.5.2018, p. 2)",
		"provisions", "Art. 4(1) personal data; Art. 4(5) pseudonymisation; Recital 26 "
		"anonymous information; Art. 30 records of processing"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "id", "ccpa", "name",
		"California Consumer Privacy Act", "text",
		"Cal. Civ. Code §§ 1798.100-1798.199.100, as amended by the California Privacy "
		"Rights Act of 2020 (Proposition 24), operative 2023-01-01",
		"provisions", "§ 1798.140(m) deidentified; § 1798.140(v) personal information; "
		"§ 1798.140(aa) pseudonymize"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "id", "pipeda", "name",
		"Personal Information Protection and Electronic Documents Act", "text",
		"S.C. 2000, c. 5, Part 1, consolidated text as in force on 2024-01-01",
		"provisions", "s. 2(1) personal information (information about an identifiable "
		"individual: a serious possibility of identification, Gordon v. Canada (Health), "
		"2008 FC 258); Schedule 1, Principle 4.5.3 (destroy, erase or make anonymous)"));
	return a;
}

struct verdict {
	const char *status;
	bool in_scope;      /* the regulation still applies to the column */
	const char *basis;
	const char *reasoning;
};

static json_t *verdict_json(const struct verdict *v)
{
	return json_pack("{s:s, s:b, s:s, s:s}", "status", v->status, "in_scope", v->in_scope,
			 "basis", v->basis, "reasoning", v->reasoning);
}

static const struct verdict personal[3] = {
	{ "personal data", true, "Art. 4(1)",
	  "the values are as they were collected, so they relate to an identifiable person" },
	{ "personal information", true, "§ 1798.140(v)",
	  "the values identify or can reasonably be linked to a consumer" },
	{ "personal information", true, "s. 2(1)",
	  "information about an identifiable individual" },
};

json_t *report_classify(enum report_class c, const char *treatment, double epsilon,
			uint64_t raw, bool recipient_has_key)
{
	struct verdict v[3];
	const char *all;
	char buf[512];
	switch (c) {
	case RC_REDACTED:
		v[0] = (struct verdict){ "possibly anonymised", false, "Recital 26",
			"no value is left in this column: it adds nothing that identifies a person; "
			"the row as a whole is anonymous only if the other columns do not single "
			"anyone out" };
		v[1] = (struct verdict){ "deidentified (column)", false, "§ 1798.140(m)",
			"nothing in the column can be linked to a consumer; deidentified data also "
			"needs the safeguards of (m)(1)-(3): reasonable measures, a public commitment "
			"not to re-identify, and contracts binding recipients" };
		v[2] = (struct verdict){ "not personal information (column)", false, "s. 2(1)",
			"the column holds no information about an individual" };
		all = "nothing more for this column; check the rest of the row (anon-validate "
		      "--k-anon on the quasi-identifiers)";
		break;
	case RC_MASKED:
	case RC_GENERALISED:
		v[0] = (struct verdict){ "possibly anonymised", false, "Recital 26",
			"what is left (part of the value, or a coarser value) may still single out "
			"a person together with other columns: anonymous only if identification is "
			"not reasonably likely, which k-anonymity of the quasi-identifiers can show" };
		v[1] = (struct verdict){ "deidentified if safeguarded", false, "§ 1798.140(m)",
			"deidentified when the rest cannot reasonably be linked to a consumer and "
			"the business meets (m)(1)-(3)" };
		v[2] = (struct verdict){ "possibly not personal information", false, "s. 2(1)",
			"outside the Act if there is no serious possibility of identifying someone "
			"from what is left, alone or with other available information" };
		all = "show that what is left does not single anyone out (anon-validate --k-anon "
		      "with a k the recipients accept), and meet CCPA § 1798.140(m)(1)-(3)";
		break;
	case RC_DP:
		snprintf(buf, sizeof buf, "local differential privacy with epsilon %.6g per "
			 "released value bounds what the value reveals: the smaller epsilon, the "
			 "stronger the case that identification is not reasonably likely; losses add "
			 "up across columns, re-runs and rows of one person", epsilon);
		v[0] = (struct verdict){ "possibly anonymised (epsilon stated)", false,
					 "Recital 26", buf };
		v[1] = (struct verdict){ "deidentified if safeguarded", false, "§ 1798.140(m)",
			"noised values cannot reasonably be linked to a consumer when epsilon is "
			"small; the business must also meet (m)(1)-(3)" };
		v[2] = (struct verdict){ "possibly not personal information", false, "s. 2(1)",
			"no serious possibility of identification if epsilon is small enough for "
			"the release" };
		all = "state epsilon to the recipients and keep the total budget (the ledger "
		      "below) within what your policy accepts; meet CCPA § 1798.140(m)(1)-(3)";
		break;
	case RC_KEYED:
		if (recipient_has_key) {
			v[0] = (struct verdict){ "pseudonymised, personal data", true, "Art. 4(5)",
				"the recipient holds the key, so it can link any known value to its "
				"hash or token: personal data in its hands" };
			v[1] = (struct verdict){ "personal information", true, "§ 1798.140(v), (aa)",
				"a recipient with the key can link the value to a consumer" };
			v[2] = (struct verdict){ "personal information", true, "s. 2(1)",
				"a recipient with the key can identify the individual" };
			all = "do not give the key to the recipient, or use an unkeyed rule "
			      "(redact, generalise)";
			break;
		}
		v[0] = (struct verdict){ "pseudonymised", true, "Art. 4(5)",
			"an irreversible keyed hash or token: without the key the values cannot be "
			"attributed to a person, but the key exists and is kept separately, so the "
			"values are pseudonymised personal data (Recital 26: pseudonymised data are "
			"still personal data)" };
		v[1] = (struct verdict){ "deidentified if safeguarded", false,
			"§ 1798.140(m), (aa)",
			"a keyed, irreversible pseudonym cannot reasonably be linked to a consumer "
			"by a recipient that lacks the key; deidentified only with (m)(1)-(3), "
			"otherwise pseudonymized personal information" };
		v[2] = (struct verdict){ "possibly not personal information for the recipient",
			false, "s. 2(1)",
			"for a recipient that lacks the key there is no serious possibility of "
			"identification; for the key holder it stays personal information" };
		all = "treat it as personal data (GDPR applies to pseudonymised data): keep the key "
		      "out of the recipient's control, and redact or generalise the column if it "
		      "must leave GDPR's scope";
		break;
	case RC_REVERSIBLE:
		v[0] = (struct verdict){ "pseudonymised", true, "Art. 4(5)",
			"the key holder (or the vault, or whoever has the seed) can turn the values "
			"back: pseudonymised personal data" };
		v[1] = (struct verdict){ "pseudonymized personal information", true,
			"§ 1798.140(aa), (v)",
			"reversible by the business, so it can be linked to a consumer: not "
			"deidentified" };
		v[2] = (struct verdict){ "personal information", true, "s. 2(1)",
			"the individual can be identified by reversing it" };
		all = "a recipient outside the key holder's control needs an irreversible rule "
		      "(anon-hash, anon-token keyed) or an unkeyed one (redact, generalise)";
		break;
	case RC_REIDENTIFIED:
	case RC_UNTOUCHED:
	case RC_UNCLASSIFIED:
	default:
		memcpy(v, personal, sizeof v);
		if (c == RC_UNCLASSIFIED) {
			v[0].reasoning = v[1].reasoning = v[2].reasoning =
				"a treatment this report cannot classify: assume the values are as "
				"they were collected";
		}
		if (c == RC_REIDENTIFIED)
			v[0].reasoning = v[1].reasoning = v[2].reasoning =
				"a stage decrypted or detokenised the values back";
		all = c == RC_UNTOUCHED ? "if the column is personal, add a stage for it "
					  "(anon-mask, anon-hash, anon-noise)"
					: "treat the column as personal data";
		break;
	}
	char rawbuf[256];
	if (raw > 0) {
		snprintf(rawbuf, sizeof rawbuf, "%llu values were left as they were read "
			 "(--on-error keep, --where or --on-mismatch keep): those are personal data",
			 (unsigned long long)raw);
		for (int i = 0; i < 3; i++) {
			v[i] = personal[i];
			v[i].reasoning = rawbuf;
		}
		all = "rerun with --on-error fail (or skip) so that no value passes unchanged";
	}
	json_t *o = json_object();
	json_object_set_new(o, "treatment", json_string(treatment));
	static const char *const ids[3] = { "gdpr", "ccpa", "pipeda" };
	bool agree = true;
	for (int i = 0; i < 3; i++) {
		json_object_set_new(o, ids[i], verdict_json(&v[i]));
		if (v[i].in_scope != v[0].in_scope)
			agree = false;
	}
	json_object_set_new(o, "agree", json_boolean(agree));
	json_object_set_new(o, "satisfy_all", json_string(all));
	return o;
}
