/*
 * gen: seeded generator of the anon benchmark workload, a PII-like table
 * (id,email,phone,name,age,card,dob,salary,notes) written as PostgreSQL writes CSV,
 * or as COPY text with -F copy.  One seed gives the same rows in both formats, on any host.
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NCOL	9
#define ROWMAX	4096	/* a row's decoded text; the longest one we make is well below */

enum format { FMT_CSV, FMT_COPY };

struct rng {
	uint64_t s[4];
};

struct row {
	char	 text[ROWMAX];
	size_t	 len;
	struct {
		size_t	off, len;
		int	null;
	} f[NCOL];
	int	 nf;
};

struct name {
	const char *show;	/* as written in the name column, UTF-8 */
	const char *ascii;	/* as used in an email address */
};

static const struct name firsts[] = {
	{ "James", "james" }, { "Mary", "mary" }, { "John", "john" },
	{ "Patricia", "patricia" }, { "Robert", "robert" }, { "Jennifer", "jennifer" },
	{ "Michael", "michael" }, { "Linda", "linda" }, { "William", "william" },
	{ "Elizabeth", "elizabeth" }, { "David", "david" }, { "Barbara", "barbara" },
	{ "Richard", "richard" }, { "Susan", "susan" }, { "Joseph", "joseph" },
	{ "Jessica", "jessica" }, { "Thomas", "thomas" }, { "Sarah", "sarah" },
	{ "Daniel", "daniel" }, { "Karen", "karen" }, { "Matthew", "matthew" },
	{ "Nancy", "nancy" }, { "Anthony", "anthony" }, { "Lisa", "lisa" },
	{ "Mark", "mark" }, { "Emily", "emily" }, { "Paul", "paul" }, { "Ashley", "ashley" },
	{ "Omar", "omar" }, { "Priya", "priya" }, { "Aisha", "aisha" }, { "Mateo", "mateo" },
	{ "José", "jose" }, { "Zoë", "zoe" }, { "François", "francois" },
	{ "Chloé", "chloe" }, { "Renée", "renee" }, { "Björn", "bjorn" },
	{ "Søren", "soren" }, { "Łukasz", "lukasz" }, { "Małgorzata", "malgorzata" },
	{ "Jürgen", "jurgen" }, { "Inés", "ines" }, { "Raúl", "raul" },
	{ "Åsa", "asa" }, { "Anaïs", "anais" }, { "Çağla", "cagla" }, { "İlker", "ilker" },
	{ "Ørjan", "orjan" }, { "Zdeněk", "zdenek" }, { "Nuño", "nuno" }, { "Joël", "joel" },
};

static const struct name lasts[] = {
	{ "Smith", "smith" }, { "Johnson", "johnson" }, { "Williams", "williams" },
	{ "Brown", "brown" }, { "Jones", "jones" }, { "Garcia", "garcia" },
	{ "Miller", "miller" }, { "Davis", "davis" }, { "Rodriguez", "rodriguez" },
	{ "Martinez", "martinez" }, { "Hernandez", "hernandez" }, { "Lopez", "lopez" },
	{ "Wilson", "wilson" }, { "Anderson", "anderson" }, { "Taylor", "taylor" },
	{ "Moore", "moore" }, { "Jackson", "jackson" }, { "Martin", "martin" },
	{ "Lee", "lee" }, { "Thompson", "thompson" }, { "White", "white" },
	{ "Harris", "harris" }, { "Clark", "clark" }, { "Lewis", "lewis" },
	{ "Walker", "walker" }, { "Young", "young" }, { "King", "king" },
	{ "Wright", "wright" }, { "Scott", "scott" }, { "Green", "green" },
	{ "Patel", "patel" }, { "Nguyen", "nguyen" }, { "O'Brien", "obrien" },
	{ "Müller", "muller" }, { "Schröder", "schroder" }, { "Dvořák", "dvorak" },
	{ "Núñez", "nunez" }, { "Peña", "pena" }, { "Lefèvre", "lefevre" },
	{ "Wiśniewski", "wisniewski" }, { "Øberg", "oberg" }, { "Jönsson", "jonsson" },
	{ "Ibáñez", "ibanez" }, { "Gonçalves", "goncalves" }, { "Yılmaz", "yilmaz" },
	{ "Đorđević", "dordevic" }, { "van der Berg", "vanderberg" },
};

/* East Asian names are written family name first, as their owners write them. */
static const struct {
	const char *show, *first, *last;
} cjk[] = {
	{ "王伟", "wei", "wang" }, { "李娜", "na", "li" }, { "张敏", "min", "zhang" },
	{ "刘洋", "yang", "liu" }, { "陈静", "jing", "chen" }, { "杨磊", "lei", "yang" },
	{ "佐藤 花子", "hanako", "sato" }, { "鈴木 一郎", "ichiro", "suzuki" },
	{ "高橋 健", "ken", "takahashi" }, { "김민준", "minjun", "kim" },
	{ "이서연", "seoyeon", "lee" }, { "박지훈", "jihoon", "park" },
};

static const char *const domains[] = {
	"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me", "icloud.com",
	"example.com", "example.org", "acme-corp.com", "mail.co.uk", "web.de", "orange.fr",
	"uni-heidelberg.de", "fastmail.fm",
};

static const char *const words[] = {
	"called", "back", "left", "message", "customer", "prefers", "email", "no", "answer",
	"asked", "about", "refund", "order", "delivered", "late", "address", "changed",
	"VIP", "account", "closed", "reopened", "promo", "code", "applied", "invoice",
	"sent", "twice", "wants", "a", "call", "after", "5pm", "on", "weekdays", "the",
	"package", "was", "damaged", "replacement", "shipped", "follow", "up", "next",
	"week", "duplicate", "record", "verified", "identity", "by", "phone", "café",
	"naïve", "résumé", "déjà", "vu", "€20", "credit", "返品", "希望", "확인", "완료",
};

static const char *const tags[] = {
	"news", "shop", "work", "spam", "billing", "promo", "x",
};

static const char *const quips[] = {
	"not interested", "call me maybe", "do not call", "wrong number", "fine, thanks",
	"5\" screen", "the \"premium\" plan", "n/a",
};

static struct rng rng;
static enum format format = FMT_CSV;
static unsigned char outbuf[1 << 20];
static size_t outlen;

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fast, and defined the same on every host, so a seed names one data set. */
static uint64_t
rng_next(void)
{
	uint64_t *s = rng.s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * n) >> 32);
}

static uint32_t
between(uint32_t lo, uint32_t hi)
{
	return lo + below(hi - lo + 1);
}

/* True with probability per_mille / 1000. */
static int
chance(unsigned per_mille)
{
	return below(1000) < per_mille;
}

static void
out_flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < outlen) {
		n = write(STDOUT_FILENO, outbuf + off, outlen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
			}
			err(74, "write");
		}
		off += (size_t)n;
	}
	outlen = 0;
}

static void
out(const char *p, size_t n)
{
	if (outlen + n > sizeof(outbuf))
		out_flush();
	memcpy(outbuf + outlen, p, n);
	outlen += n;
}

static void
field_begin(struct row *r)
{
	r->f[r->nf].off = r->len;
	r->f[r->nf].null = 0;
}

static void
field_end(struct row *r)
{
	r->f[r->nf].len = r->len - r->f[r->nf].off;
	r->nf++;
}

static void
field_null(struct row *r)
{
	field_begin(r);
	r->f[r->nf].null = 1;
	field_end(r);
}

static void
field_empty(struct row *r)
{
	field_begin(r);
	field_end(r);
}

static void
put(struct row *r, const char *s, size_t n)
{
	if (r->len + n > sizeof(r->text))
		errx(70, "row longer than %zu bytes", sizeof(r->text));
	memcpy(r->text + r->len, s, n);
	r->len += n;
}

static void
puts_(struct row *r, const char *s)
{
	put(r, s, strlen(s));
}

static void
putch(struct row *r, char c)
{
	put(r, &c, 1);
}

/* v in decimal, zero-padded to at least width digits. */
static void
putnum(struct row *r, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < width);
	put(r, tmp + sizeof(tmp) - n, (size_t)n);
}

/* Decides NULL and empty for a column; returns 1 when the caller should fill it in. */
static int
nullable(struct row *r, unsigned null_pm, unsigned empty_pm)
{
	uint32_t x = below(1000);

	if (x < null_pm) {
		field_null(r);
		return 0;
	}
	if (x < null_pm + empty_pm) {
		field_empty(r);
		return 0;
	}
	field_begin(r);
	return 1;
}

#define PICK(a) (a[below(sizeof(a) / sizeof(a[0]))])

static void
gen_email(struct row *r, const char *first, const char *last)
{
	if (!nullable(r, 20, 10))
		return;
	switch (below(6)) {
	case 0:
		puts_(r, first), putch(r, '.'), puts_(r, last);
		break;
	case 1:
		puts_(r, first), puts_(r, last);
		break;
	case 2:
		putch(r, first[0]), putch(r, '.'), puts_(r, last);
		break;
	case 3:
		puts_(r, first), putch(r, '_'), puts_(r, last);
		break;
	case 4:
		puts_(r, last), putnum(r, below(100), 2);
		break;
	default:
		puts_(r, first), putch(r, '.'), puts_(r, last), putch(r, '+'),
		    puts_(r, PICK(tags));
		break;
	}
	if (chance(300))
		putnum(r, below(1000), 0);
	putch(r, '@');
	puts_(r, PICK(domains));
	field_end(r);
}

static void
gen_phone(struct row *r)
{
	uint32_t area = between(201, 989), ex = between(200, 999), line = below(10000);

	if (!nullable(r, 20, 10))
		return;
	switch (below(20)) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		puts_(r, "+1 ");
		putnum(r, area, 3), putch(r, '-'), putnum(r, ex, 3), putch(r, '-');
		break;
	case 8: case 9: case 10: case 11: case 12: case 13: case 14:
		putch(r, '('), putnum(r, area, 3), puts_(r, ") "), putnum(r, ex, 3), putch(r, '-');
		break;
	case 15: case 16: case 17:
		putnum(r, area, 3), putch(r, '-'), putnum(r, ex, 3), putch(r, '-');
		break;
	default:
		putnum(r, area, 3), putch(r, '.'), putnum(r, ex, 3), putch(r, '.');
		break;
	}
	putnum(r, line, 4);
	field_end(r);
}

static void
gen_name(struct row *r, int ci, const struct name *first, const struct name *last)
{
	if (!nullable(r, 10, 10))
		return;
	if (ci >= 0)
		puts_(r, cjk[ci].show);
	else if (chance(40))	/* "Last, First": quoted in CSV */
		puts_(r, last->show), puts_(r, ", "), puts_(r, first->show);
	else if (chance(50))
		puts_(r, first->show), putch(r, ' '), putch(r, (char)between('A', 'Z')),
		    puts_(r, ". "), puts_(r, last->show);
	else
		puts_(r, first->show), putch(r, ' '), puts_(r, last->show);
	field_end(r);
}

static void
gen_card(struct row *r)
{
	static const char *const prefix[] = { "4", "4", "4", "51", "52", "53", "54", "55", "6011" };
	const char *p;
	uint8_t d[16];
	unsigned sum = 0;
	int i, n = 0, style;

	if (!nullable(r, 60, 10))
		return;
	for (p = PICK(prefix); *p != '\0'; p++)
		d[n++] = (uint8_t)(*p - '0');
	while (n < 15)
		d[n++] = (uint8_t)below(10);
	/* Luhn: double every second digit counting leftwards from the check digit. */
	for (i = 14; i >= 0; i--) {
		unsigned v = d[i];

		if ((14 - i) % 2 == 0 && (v *= 2) > 9)
			v -= 9;
		sum += v;
	}
	d[15] = (uint8_t)((10 - sum % 10) % 10);
	style = (int)below(20);
	for (i = 0; i < 16; i++) {
		if (i > 0 && i % 4 == 0 && style >= 14)
			putch(r, style >= 17 ? ' ' : '-');
		putch(r, (char)('0' + d[i]));
	}
	field_end(r);
}

static void
gen_dob(struct row *r)
{
	static const uint8_t mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint32_t y = between(1925, 2006), m = between(1, 12), dim = mdays[m - 1];

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	if (!nullable(r, 20, 0))
		return;
	putnum(r, y, 4), putch(r, '-'), putnum(r, m, 2), putch(r, '-'),
	    putnum(r, between(1, dim), 2);
	field_end(r);
}

static void
gen_salary(struct row *r)
{
	uint32_t cents = between(1800000, 25000000);

	if (!nullable(r, 30, 0))
		return;
	putnum(r, cents / 100, 0), putch(r, '.'), putnum(r, cents % 100, 2);
	field_end(r);
}

static void
put_words(struct row *r, int n)
{
	while (n-- > 0) {
		puts_(r, PICK(words));
		if (n > 0)
			putch(r, ' ');
	}
}

/* Free text: about half of it needs CSV quoting (commas, quotes, newlines); a little needs
 * COPY escapes (tabs, backslashes) or keeps significant spaces. */
static void
gen_notes(struct row *r)
{
	uint32_t kind = below(100);
	int i, n;

	if (kind < 15) {
		field_null(r);
		return;
	}
	if (kind < 20) {
		field_empty(r);
		return;
	}
	field_begin(r);
	if (kind < 50) {		/* plain words */
		put_words(r, (int)between(1, 5));
		if (chance(300))
			putch(r, '.');
	} else if (kind < 70) {		/* commas */
		n = (int)between(2, 3);
		for (i = 0; i < n; i++) {
			if (i > 0)
				puts_(r, ", ");
			put_words(r, (int)between(1, 3));
		}
	} else if (kind < 82) {		/* doubled quotes */
		put_words(r, (int)between(1, 2));
		puts_(r, " \"");
		puts_(r, PICK(quips));
		putch(r, '"');
	} else if (kind < 96) {		/* embedded newlines */
		n = (int)between(2, 3);
		for (i = 0; i < n; i++) {
			if (i > 0)
				putch(r, '\n');
			put_words(r, (int)between(1, 3));
		}
		if (chance(300))
			puts_(r, ", ok");
	} else if (kind < 97) {
		puts_(r, "ref\t");
		putnum(r, below(100000), 5);
	} else if (kind < 98) {
		puts_(r, "saved to C:\\tmp\\");
		putnum(r, below(1000), 0);
		puts_(r, ".txt");
	} else {			/* spaces that a trimming parser would lose */
		putch(r, ' ');
		put_words(r, (int)between(1, 3));
		putch(r, ' ');
	}
	field_end(r);
}

static void
gen_row(struct row *r, uint64_t id)
{
	const struct name *first = &PICK(firsts), *last = &PICK(lasts);
	const char *fa = first->ascii, *la = last->ascii;
	int ci = -1;

	r->len = 0;
	r->nf = 0;
	if (chance(60)) {
		ci = (int)below(sizeof(cjk) / sizeof(cjk[0]));
		fa = cjk[ci].first;
		la = cjk[ci].last;
	}
	field_begin(r);
	putnum(r, id, 0);
	field_end(r);
	gen_email(r, fa, la);
	gen_phone(r);
	gen_name(r, ci, first, last);
	if (nullable(r, 20, 0)) {
		putnum(r, below(100), 0);
		field_end(r);
	}
	gen_card(r);
	gen_dob(r);
	gen_salary(r);
	gen_notes(r);
}

static int
needs_quotes(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == ',' || *p == '"' || *p == '\n' || *p == '\r')
			return 1;
	return 0;
}

/* As PostgreSQL's COPY TO writes CSV: quote only a value holding the delimiter, the quote,
 * CR or LF, or an empty non-NULL value; NULL is nothing at all. */
static void
write_csv(const struct row *r)
{
	const char *p, *q, *end;
	int i;

	for (i = 0; i < r->nf; i++) {
		if (i > 0)
			out(",", 1);
		if (r->f[i].null)
			continue;
		p = r->text + r->f[i].off;
		end = p + r->f[i].len;
		if (p == end || needs_quotes(p, end)) {
			out("\"", 1);
			while ((q = memchr(p, '"', (size_t)(end - p))) != NULL) {
				out(p, (size_t)(q - p + 1));
				out("\"", 1);
				p = q + 1;
			}
			out(p, (size_t)(end - p));
			out("\"", 1);
		} else
			out(p, (size_t)(end - p));
	}
	out("\n", 1);
}

/* As COPY TO writes text format: escape exactly backslash, TAB, LF, CR, BS, FF and VT. */
static void
write_copy(const struct row *r)
{
	const char *p, *end, *run;
	char esc[2] = { '\\', 0 };
	int i;

	for (i = 0; i < r->nf; i++) {
		if (i > 0)
			out("\t", 1);
		if (r->f[i].null) {
			out("\\N", 2);
			continue;
		}
		p = run = r->text + r->f[i].off;
		end = p + r->f[i].len;
		for (; p < end; p++) {
			switch (*p) {
			case '\\': esc[1] = '\\'; break;
			case '\t': esc[1] = 't'; break;
			case '\n': esc[1] = 'n'; break;
			case '\r': esc[1] = 'r'; break;
			case '\b': esc[1] = 'b'; break;
			case '\f': esc[1] = 'f'; break;
			case '\v': esc[1] = 'v'; break;
			default: continue;
			}
			out(run, (size_t)(p - run));
			out(esc, 2);
			run = p + 1;
		}
		out(run, (size_t)(end - run));
	}
	out("\n", 1);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: gen [-H] [-F csv | copy] [-n rows] [-s seed]\n");
	exit(64);
}

static uint64_t
number(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-')
		errx(64, "%s: not a number: %s", what, s);
	return v;
}

int
main(int argc, char *argv[])
{
	static struct row r;
	uint64_t rows = 1000000, seed = 42, id, x;
	int c, header = 1, i;

	while ((c = getopt(argc, argv, "F:Hn:s:")) != -1) {
		switch (c) {
		case 'F':
			if (strcmp(optarg, "csv") == 0)
				format = FMT_CSV;
			else if (strcmp(optarg, "copy") == 0)
				format = FMT_COPY;
			else
				usage();
			break;
		case 'H':
			header = 0;
			break;
		case 'n':
			rows = number(optarg, "-n");
			break;
		case 's':
			seed = number(optarg, "-s");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	x = seed;
	for (i = 0; i < 4; i++)
		rng.s[i] = splitmix64(&x);
	if (format == FMT_CSV && header)
		{
		const char *h = "id,email,phone,name,age,card,dob,salary,notes\n";

		out(h, strlen(h));
	}
	for (id = 1; id <= rows; id++) {
		gen_row(&r, id);
		if (format == FMT_CSV)
			write_csv(&r);
		else
			write_copy(&r);
	}
	out_flush();
	return 0;
}
