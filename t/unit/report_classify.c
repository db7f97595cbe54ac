/* report_classify: how anon-report classifies one stage's treatment of a column, composes the
 * steps, and maps the result to the regulations. */
#include <string.h>

#include "report.h"
#include "tap.h"

static enum report_class step(const char *stage, const char *col)
{
	char desc[512];
	json_t *s = json_loads(stage, 0, NULL), *c = json_loads(col, 0, NULL);
	enum report_class k = report_step_class(s, c, desc, sizeof desc);
	json_decref(s);
	json_decref(c);
	return k;
}

int main(void)
{
	ok(step("{\"tool\":\"anon-hash\",\"algorithm\":\"hmac-sha256\"}",
		"{\"params\":{\"encoding\":\"hex\"}}") == RC_KEYED, "a keyed hash is keyed-irreversible");
	ok(step("{\"tool\":\"anon-token\"}", "{\"params\":{\"mode\":\"siv\"}}") == RC_REVERSIBLE,
	   "an AES-SIV token is reversible");
	ok(step("{\"tool\":\"anon-token\"}", "{\"params\":{\"mode\":\"keyed\"}}") == RC_KEYED,
	   "a keyed token is irreversible");
	ok(step("{\"tool\":\"anon-token\",\"direction\":\"detokenize\"}",
		"{\"params\":{\"mode\":\"vault\"}}") == RC_REIDENTIFIED, "detokenising re-identifies");
	ok(step("{\"tool\":\"anon-fpe\"}", "{\"params\":{\"direction\":\"decrypt\"}}") ==
		   RC_REIDENTIFIED, "FPE decryption re-identifies");
	ok(step("{\"tool\":\"anon-mask\"}", "{\"params\":{\"rule\":\"redact\"}}") == RC_REDACTED,
	   "redact is redacted");
	ok(step("{\"tool\":\"anon-mask\"}", "{\"params\":{\"rule\":\"email\"}}") == RC_MASKED,
	   "email masking is masked");
	ok(step("{\"tool\":\"anon-noise\",\"noise\":{\"rng\":\"secure\",\"private\":true}}",
		"{\"params\":{\"rule\":\"laplace\",\"epsilon\":1}}") == RC_DP, "laplace noise is DP");
	ok(step("{\"tool\":\"anon-noise\",\"noise\":{\"rng\":\"seeded-insecure\",\"private\":false}}",
		"{\"params\":{\"rule\":\"laplace\",\"epsilon\":1}}") == RC_REVERSIBLE,
	   "seeded noise can be removed: reversible");
	ok(step("{\"tool\":\"anon-noise\"}", "{\"params\":{\"rule\":\"bucket\"}}") == RC_GENERALISED,
	   "bucketing is generalised");
	ok(step("{\"tool\":\"anon-other\"}", "{\"params\":{}}") == RC_UNCLASSIFIED,
	   "an unknown tool is unclassified");
	ok(report_compose(RC_REVERSIBLE, RC_REIDENTIFIED) == RC_REIDENTIFIED,
	   "decrypting an encryption re-identifies");
	ok(report_compose(RC_KEYED, RC_REIDENTIFIED) == RC_KEYED,
	   "decrypting a hash gives back no value");
	ok(report_compose(RC_REVERSIBLE, RC_KEYED) == RC_KEYED, "hashing ciphertext is irreversible");
	ok(report_compose(RC_KEYED, RC_MASKED) == RC_MASKED, "masking a hash leaves less");
	json_t *k = report_classify(RC_KEYED, "keyed-irreversible", 0, 0, false);
	ok(strcmp(report_str(json_object_get(k, "gdpr"), "status"), "pseudonymised") == 0,
	   "GDPR: a keyed hash is pseudonymised");
	ok(json_is_false(json_object_get(k, "agree")), "GDPR and CCPA disagree on a keyed hash");
	json_decref(k);
	k = report_classify(RC_REVERSIBLE, "reversible", 0, 0, false);
	ok(json_is_true(json_object_get(k, "agree")), "every regulation: reversible is in scope");
	json_decref(k);
	k = report_classify(RC_MASKED, "masked", 0, 3, false);
	ok(json_is_true(json_object_get(json_object_get(k, "gdpr"), "in_scope")),
	   "values kept as read make the column personal data");
	json_decref(k);
	return tap_done();
}
