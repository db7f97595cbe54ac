/* err.c: the one diagnostic path, "prog: message" on stderr.  Bytes that are not printable
 * are escaped, so nothing read from the input can drive the terminal.  anon_die reaches the
 * run through the hook the run registers (run.c), never the other way round. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon-int.h"

const char *anon_progname = "anon";
bool anon_quiet;
void (*anon_abort_hook)(void *arg, int code);
void *anon_abort_arg;

static void vmsg(const char *fmt, va_list ap)
{
	char text[1024], out[4200];
	int n = vsnprintf(text, sizeof text, fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(out + k, sizeof out - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	out[k] = '\0';
	fprintf(stderr, "%s: %s\n", anon_progname, out);
}

void anon_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void anon_warn(const char *fmt, ...)
{
	if (anon_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void anon_exit(int code)
{
	if (anon_abort_hook)
		anon_abort_hook(anon_abort_arg, code);
	exit(code);
}

void anon_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	if (anon_abort_hook)
		anon_abort_hook(anon_abort_arg, code);
	exit(code);
}
