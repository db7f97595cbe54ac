/* validate_detect.c: anon-validate's detectors on a planted corpus: every planted value is
 * found, alone and inside text, and no decoy is (Luhn-invalid card-like numbers, ISBNs,
 * dates, order numbers, version strings, UUIDs, hashes, tokens, times, MAC addresses).
 * The planted cards, IBANs and SSNs are published test values, checked by hand (Luhn,
 * ISO 7064 mod 97-10), not by the code under test. */
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "tap.h"

static struct detectors *det;
static struct detect_scratch *ds;

static unsigned kinds(const char *s, unsigned *whole)
{
	return detect_pii(det, ds, PII_ALL, (const unsigned char *)s, strlen(s), whole);
}

/* A value for a test's name: line breaks shown as \n (TAP names are one line). */
static const char *shown(const char *v)
{
	static char buf[2][300];
	static int k;
	char *o = buf[k ^= 1];
	size_t j = 0;
	for (; *v && j < sizeof buf[0] - 3; v++) {
		if (*v == '\n') {
			o[j++] = '\\';
			o[j++] = 'n';
		} else {
			o[j++] = *v;
		}
	}
	o[j] = '\0';
	return o;
}

static const char *kind_list(unsigned m)
{
	static char buf[80];
	buf[0] = '\0';
	for (int k = 0; k < PII_NKINDS; k++)
		if (m & (1u << k)) {
			strcat(buf, buf[0] ? "," : "");
			strcat(buf, pii_kind_names[k]);
		}
	return buf[0] ? buf : "none";
}

/* The value is found as `kind`, and as nothing else; alone, it is the whole value. */
static void planted(int kind, const char *v)
{
	unsigned whole, m = kinds(v, &whole);
	ok(m == 1u << kind && whole == m, "%s: '%s' (found: %s)", pii_kind_names[kind], v,
	   kind_list(m));
	static const char *const around[][2] = {
		{ "call ", " today" }, { "(", ")" }, { "\"", "\"," }, { "x: ", "." },
		{ "line one\n", "\nline three" }, { "<", ">" },
	};
	for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s%s%s", around[i][0], v, around[i][1]);
		m = kinds(buf, &whole);
		ok((m & (1u << kind)) && !(whole & (1u << kind)), "%s inside text: '%s' (found: %s)",
		   pii_kind_names[kind], shown(buf), kind_list(m));
	}
}

static void decoy(const char *v)
{
	unsigned m = kinds(v, NULL);
	ok(m == 0, "decoy '%s' (found: %s)", v, kind_list(m));
}

/* Deterministic pseudo-random bytes for hash-like strings. */
static uint64_t rng = 42;
static uint64_t next(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 11;
}

static void random_text(char *out, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[next() % k];
	out[n] = '\0';
}

int main(void)
{
	char err[200];
	det = detectors_new(true, err, sizeof err);
	ok(det != NULL, "the patterns compile (%s)", det ? "ok" : err);
	if (!det)
		return tap_done();
	ds = detect_scratch_new(det);

	static const char *const emails[] = {
		"alice.martin@example.com", "bob+news@mail.co.uk", "o'neil@x-y.org" + 2,
		"Zoe.Mueller@Example.DE", "first_last99@sub.domain.example.net", "a@b.io",
		"robert.martin+promo@orange.fr", "x%y@uni-heidelberg.de",
	};
	for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++)
		planted(PII_EMAIL, emails[i]);
	static const char *const phones[] = {
		"+1 201-555-0123", "+44 20 7946 0958", "+33 1 70 36 80 00", "+49 30 901820",
		"+81 3-1234-5678", "+12015550123", "+49 (0)30 901820", "(201) 555-0123",
		"201-555-0123", "201.555.0123", "201 555 0123", "1-800-555-0199", "(212)555-0178",
		"020 7946 0958", "07700 900123", "01 70 36 80 00", "0044 20 7946 0958",
		"06-12345678", "+353 1 234 5678",
	};
	for (size_t i = 0; i < sizeof phones / sizeof phones[0]; i++)
		planted(PII_PHONE, phones[i]);
	static const char *const cards[] = {
		"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
		"5500 0000 0000 0004", "340000000000009", "3782 822463 10005", "6011000000000004",
		"3566002020360505", "2223000048400011", "30569309025904", "6250941006528599",
		"4222222222222", "4012 8888 8888 1881", "5105-1051-0510-5100",
	};
	for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++)
		planted(PII_CARD, cards[i]);
	static const char *const ssns[] = { "123-45-6789", "078-05-1120", "219 09 9999",
					    "536-42-1234", "899-99-0001" };
	for (size_t i = 0; i < sizeof ssns / sizeof ssns[0]; i++)
		planted(PII_SSN, ssns[i]);
	static const char *const iban_list[] = {
		"DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
		"GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606", "NL91ABNA0417164300",
		"ES9121000418450200051332", "IT60X0542811101000000123456", "BE68539007547034",
		"CH9300762011623852957", "AT611904300234573201", "PL61109010140000071219812874",
		"NO9386011117947", "SE4550000000058398257466", "DK5000400440116243",
		"PT50000201231234567890154", "IE29AIBK93115212345678",
	};
	for (size_t i = 0; i < sizeof iban_list / sizeof iban_list[0]; i++)
		planted(PII_IBAN, iban_list[i]);
	static const char *const ips[] = {
		"192.168.1.10", "8.8.8.8", "10.0.0.1", "255.255.255.255", "2001:db8::1",
		"fe80::1ff:fe23:4567:890a", "::ffff:192.0.2.128", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
		"2001:db8:0:0:1:0:0:1",
	};
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++)
		planted(PII_IP, ips[i]);
	unsigned w;
	ok(kinds("10.0.0.1:8080", &w) == 1u << PII_IP, "an address with a port");
	ok(kinds("card 4111 1111 1111 1111 exp 12/25", &w) == 1u << PII_CARD, "a card before its expiry");
	ok(kinds("IBAN DE89 3704 0044 0532 0130 00 EUR", &w) == 1u << PII_IBAN, "an IBAN before a currency");
	ok(kinds("mail bob@x.com or +44 20 7946 0958, card 4111111111111111", &w) ==
		   ((1u << PII_EMAIL) | (1u << PII_PHONE) | (1u << PII_CARD)), "three kinds in one note");

	static const char *const decoys[] = {
		/* Luhn-invalid card-like numbers, and Luhn-valid ones no card network issues */
		"4111111111111112", "4111 1111 1111 1112", "5500-0000-0000-0005", "340000000000008",
		"9780306406157", "1234567812345670", "8888888888888888", "0000000000000000",
		"4111 11111 1111 1111", "41 11 11 11 11 11 11 11",
		/* ISBNs */
		"978-3-16-148410-0", "978-0-306-40615-7", "0-306-40615-2", "ISBN 0306406152",
		"9783161484100",
		/* dates and times */
		"2023-01-15", "15.01.2023", "01/15/2023", "2023-01-15 10:30:00", "2023-01-15T10:30:00Z",
		"1990-03-14", "12:30:45", "2024-07-15 13:45:12.5+02", "20230115",
		/* order numbers, ids, amounts, ZIP codes */
		"ORD-2024-000123", "#100234", "INV-0042-7781", "A-10023-77", "1000000", "84250.00",
		"126749.56", "1,234,567.89", "02134-5678", "12345-6789", "SKU 4006381333931",
		"ref\t12345", "saved to C:\\tmp\\123.txt",
		/* version strings */
		"1.2.3", "v2.10.4", "10.0.19041.1264", "3.11.0-rc1", "v1.2.3.4", "4.19.0-21-amd64",
		"256.1.1.1", "01.02.03.04",
		/* IBAN look-alikes: a wrong check, an unknown country, a wrong length */
		"DE89370400440532013001", "XX89370400440532013000", "DE8937040044053201300",
		/* SSN look-alikes */
		"000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000",
		"123-45 6789",
		/* IPv6 look-alikes */
		"00:1A:2B:3C:4D:5E", "::", "std::vector", "a::", "12:00",
		/* addresses that are not, or no longer, an address */
		"@handle", "user@localhost", "a@b.c",
		"50dbbc3613ec4bdc7fa100506d300933fcd1d6993ac6a844569cc6cbf7d10333@gmail.com",
		"8f3a9c01de4b@example.com", "**********@gmail.com", "xxxxx@example.com",
		"tok_Q2hhbmdlTWU1234@example.com", "*@b.co", "**********@*****.com",
		/* masks */
		"+1 ***-***-0123", "(***) ***-0123", "**** **** **** 1111", "4111 11** **** 1111",
		"***-**-6789", "XXXX-XXXX-XXXX-1111",
		/* UUIDs (random, and anon-hash's version 8) */
		"550e8400-e29b-41d4-a716-446655440000", "12345678-1234-1234-1234-123456789012",
		"a1b2c3d4-0000-8000-8000-201555012345", "{550E8400-E29B-41D4-A716-446655440000}",
		/* free text */
		"called back, left message", "VIP account closed", "5pm on weekdays", "€20 credit",
		"the \"premium\" plan", "5\" screen",
	};
	for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++)
		decoy(decoys[i]);

	/* hash-like outputs: anon-hash hex, base32, base64url (whole and --length), tokens */
	static const char *const alphabets[] = {
		"0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		"0123456789",
	};
	static const size_t lengths[][4] = { { 64, 128, 16, 40 }, { 52, 103, 16, 26 },
					     { 43, 86, 16, 22 }, { 0, 0, 0, 0 } };
	for (int a = 0; a < 3; a++) {
		size_t hits = 0, tried = 0;
		for (int l = 0; l < 4; l++)
			for (int i = 0; i < 5000; i++) {
				char h[200];
				random_text(h, lengths[a][l], alphabets[a]);
				hits += kinds(h, NULL) != 0;
				char t[220];
				snprintf(t, sizeof t, "tok_%s", h);
				hits += kinds(t, NULL) != 0;
				char e[260];
				if (a == 0) { /* anon-hash email: the hash, then the domain kept */
					snprintf(e, sizeof e, "%s@example.com", h);
					hits += kinds(e, NULL) != 0;
				}
				tried += 2 + (a == 0);
			}
		ok(hits == 0, "%zu hash-like values in alphabet %d: %zu hits", tried, a, hits);
	}
	size_t hits = 0;
	for (int i = 0; i < 20000; i++) { /* random UUIDs */
		char u[40], hx[33];
		random_text(hx, 32, alphabets[0]);
		snprintf(u, sizeof u, "%.8s-%.4s-%.4s-%.4s-%.12s", hx, hx + 8, hx + 12, hx + 16, hx + 20);
		hits += kinds(u, NULL) != 0;
	}
	ok(hits == 0, "20000 UUIDs: %zu hits", hits);
	hits = 0;
	for (int i = 0; i < 20000; i++) { /* Luhn-invalid 16-digit numbers, as anon-fpe luhn-fail */
		char c[20];
		do
			random_text(c, 16, alphabets[3]);
		while (anon_luhn_valid((const unsigned char *)c, 16));
		char sp[24];
		snprintf(sp, sizeof sp, "%.4s %.4s %.4s %.4s", c, c + 4, c + 8, c + 12);
		hits += kinds(c, NULL) != 0;
		hits += kinds(sp, NULL) != 0;
	}
	ok(hits == 0, "40000 Luhn-invalid card numbers, with and without spaces: %zu hits", hits);

	/* the checks behind the patterns */
	ok(iban_valid("GB82WEST12345698765432", 22), "IBAN GB82WEST...");
	ok(!iban_valid("GB82WEST12345698765433", 22), "IBAN with a bad check");
	ok(!iban_valid("GB82WEST1234569876543", 21), "IBAN of the wrong length");
	ok(!iban_valid("DE89370400440532O13000", 22), "DE IBAN with a letter in its digits");
	ok(ssn_valid((const unsigned char *)"001", (const unsigned char *)"01",
		     (const unsigned char *)"0001"), "SSN 001-01-0001");
	ok(!ssn_valid((const unsigned char *)"666", (const unsigned char *)"01",
		      (const unsigned char *)"0001"), "SSN area 666");
	ok(email_local_anonymized((const unsigned char *)"0123456789abcdef", 16), "hex local part");
	ok(!email_local_anonymized((const unsigned char *)"deadbeefcafe", 12), "12 hex letters: a word");
	ok(!email_local_anonymized((const unsigned char *)"alice", 5), "a real local part");

	/* names, for --suggest */
	static const char *const names[] = { "Alice Martin", "Martin, Alice", "John Q. Smith",
					     "Zoë Müller", "Ødegaard, Sigrid", "Mary van der Berg",
					     "O'Brien Patel", "李小龙", "佐藤 花子", "김민준" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		ok(detect_name(det, ds, (const unsigned char *)names[i], strlen(names[i])),
		   "name '%s'", names[i]);
	static const char *const not_names[] = { "called back", "VIP account", "Alice", "ACME Inc 2",
						 "alice martin", "1990-03-14", "Over 89: top-code ages" };
	for (size_t i = 0; i < sizeof not_names / sizeof not_names[0]; i++)
		ok(!detect_name(det, ds, (const unsigned char *)not_names[i], strlen(not_names[i])),
		   "not a name: '%s'", not_names[i]);

	unsigned m;
	ok(pii_parse_kinds("all", &m) && m == PII_ALL, "--pii all");
	ok(pii_parse_kinds("email,card", &m) && m == ((1u << PII_EMAIL) | (1u << PII_CARD)), "--pii email,card");
	ok(!pii_parse_kinds("email,", &m) && !pii_parse_kinds("mail", &m), "--pii with a bad kind");
	detect_scratch_free(ds);
	detectors_free(det);
	return tap_done();
}
