/* progress.c: rows, bytes, rate and ETA on stderr, at most four times a second. */
#include <stdio.h>
#include <time.h>

#include "anon-int.h"

double anon_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void anon_progress(struct anon_run *run, uint64_t bytes_in, off_t size, bool last)
{
	static double shown_at;
	double t = anon_now();
	if (!last && t - shown_at < 0.25)
		return;
	shown_at = t;
	double secs = t - run->t0, mb = (double)bytes_in / 1e6;
	double rate = secs > 0 ? mb / secs : 0;
	fprintf(stderr, "\r%s: %llu rows, %.1f MB, %.1f MB/s", anon_progname,
		(unsigned long long)run->n.rows_in, mb, rate);
	if (size > 0 && rate > 0 && !last) {
		double left = ((double)size / 1e6 - mb) / rate;
		fprintf(stderr, ", ETA %d:%02d ", (int)left / 60, (int)left % 60);
	}
	fputs(last ? "\n" : "   ", stderr);
}
