/* Advisory locks that say who holds them: one process at a time may train a
 * run folder or run a sweep point. flock(2) on a lock file that names the
 * holder's PID; the kernel drops the lock when the holder exits, however it
 * exits (SIGKILL included), so a stale lock file never blocks anyone. */
#ifndef MOVL_FILE_LOCK_H
#define MOVL_FILE_LOCK_H

/* Takes the lock PATH (created if missing) without waiting and writes this
 * process's PID into it. Returns the lock's file descriptor (keep it open as
 * long as the lock is needed; close releases it), or -1 with err set: when
 * another process holds it, *busy = 1 and err = "PATH: held by another movl
 * process (pid N)"; otherwise *busy = 0 and err = "PATH: cannot lock (reason)"
 * (a read-only or full file system, permissions). busy may be NULL. */
int movl_lock_take(const char *path, int *busy, char *err);

#endif
