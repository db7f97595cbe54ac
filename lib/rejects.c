/* rejects.c: data errors as the user sees them, in input order whatever --jobs is: the
 * first 20 messages on stderr, and every rejected row in the --rejects file (after the
 * header, for files that have one).  For a dump the rejects file is a loadable script: each
 * table's rejected rows under its COPY statement, ended by \. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "anon-int.h"

#define SHOWN_MAX 20

void anon_rejects_open(struct anon_run *run)
{
	run->rej_fd = -1;
	if (!run->cfg.rejects_path)
		return;
	int fd = open(run->cfg.rejects_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		anon_die(EX_IOERR, "%s: %s", run->cfg.rejects_path, strerror(errno));
	anon_writer_open(&run->rej, fd, run->cfg.rejects_path, 64 * 1024);
	run->rej_fd = fd;
}

void anon_rejects_retire(struct anon_run *run, struct anon_chunk *c)
{
	for (size_t i = 0; i < c->nevents; i++) {
		if (run->shown < SHOWN_MAX)
			anon_warn("%s", c->events[i].msg);
		else if (run->shown == SHOWN_MAX)
			anon_warn("further data errors are not shown");
		run->shown++;
	}
	if (run->rej_fd < 0 || !c->rej.len)
		return;
	if (run->cfg.d.fmt == ANON_FMT_PGDUMP && c->table != run->rej_table) {
		if (run->rej_table)
			anon_writer_put(&run->rej, "\\.\n", 3);
		run->rej_table = c->table;
		if (c->table && c->table->copy_stmt)
			anon_writer_put(&run->rej, c->table->copy_stmt, strlen(c->table->copy_stmt));
	}
	anon_writer_put(&run->rej, c->rej.p, c->rej.len);
}

void anon_rejects_close(struct anon_run *run)
{
	if (run->rej_fd < 0)
		return;
	if (run->rej_table && !run->rej.failed)
		anon_writer_put(&run->rej, "\\.\n", 3);
	run->rej_table = NULL;
	int fd = run->rej_fd;
	run->rej_fd = -1;
	if (!run->rej.failed)
		anon_writer_flush(&run->rej);
	anon_buf_free(&run->rej.buf);
	if (close(fd) != 0)
		anon_die(EX_IOERR, "%s: %s", run->cfg.rejects_path, strerror(errno));
}
