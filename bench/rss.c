/*
 * rss: run a command and report its wall time and peak resident set size, measured by the
 * kernel for that child alone (wait4 ru_maxrss), so no /usr/bin/time is needed.
 *
 *	rss -o FILE cmd [arg ...]
 *
 * writes "seconds maxrss_kib status" to FILE (stdout of rss belongs to the command).  status
 * is the exit code, or 128+N when the command died of signal N; rss exits with it as well.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		err(70, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct rusage ru;
	const char *report = NULL;
	FILE *f;
	double t0, t1;
	pid_t pid;
	int c, status, code;

	while ((c = getopt(argc, argv, "+o:")) != -1) {
		switch (c) {
		case 'o':
			report = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (report == NULL || optind >= argc)
		goto usage;
	t0 = now();
	if ((pid = fork()) < 0)
		err(71, "fork");
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		warn("%s", argv[optind]);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			err(71, "wait4");
	t1 = now();
	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else
		code = 128 + WTERMSIG(status);
	if ((f = fopen(report, "w")) == NULL)
		err(74, "%s", report);
	fprintf(f, "%.6f %ld %d\n", t1 - t0, ru.ru_maxrss, code);
	if (ferror(f) | (fclose(f) != 0))
		err(74, "%s", report);
	return code;
usage:
	fprintf(stderr, "usage: rss -o file cmd [arg ...]\n");
	return 64;
}
