/* audit.c: append one JSON line per run.  One write(2) on an O_APPEND descriptor, so every
 * stage of a pipeline can share the file without interleaving. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "anon-int.h"

void anon_audit_append(const char *path, json_t *record)
{
	char *line = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
	if (!line)
		anon_die(EX_SOFTWARE, "cannot encode the audit record");
	size_t n = strlen(line);
	line[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite, then write n + 1 */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(line);
		anon_die(EX_IOERR, "%s: %s", path, strerror(errno));
	}
	ssize_t k;
	do
		k = write(fd, line, n + 1);
	while (k < 0 && errno == EINTR);
	int e = errno;
	free(line);
	if (k != (ssize_t)(n + 1) || close(fd) != 0)
		anon_die(EX_IOERR, "%s: write: %s", path, k < 0 ? strerror(e) : "short write");
}

void anon_audit_time(char out[64], double epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	int ms = (int)((epoch - (double)t) * 1000);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void anon_run_id(char out[40])
{
	const char *env = getenv("ANON_RUN_ID");
	if (env && *env) {
		snprintf(out, 40, "%s", env);
		return;
	}
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		anon_die(EX_SOFTWARE, "no randomness for a run id");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}
