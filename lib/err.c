/* err.c: the one diagnostic path, "prog: message" on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "anon-int.h"

const char *anon_progname = "anon";

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", anon_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void anon_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void anon_die(int code, const char *fmt, ...)
{
	static int dying;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	if (!dying++)
		anon_ctx_abort(code);
	exit(code);
}
