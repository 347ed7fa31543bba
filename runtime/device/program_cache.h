/* Kernel programs built per device from the embedded cl/ sources, cached in
 * memory per (program, options), and on disk as program binaries for drivers
 * that keep no cache of their own (AMD, Intel; PoCL and NVIDIA do). */
#ifndef MOVL_PROGRAM_CACHE_H
#define MOVL_PROGRAM_CACHE_H

#include "device/device.h"

/* Releases every program and kernel built on dev. */
void movl_programs_release(movl_device *dev);

/* Where the on-disk cache lives ($MOVL_CACHE_DIR, else $XDG_CACHE_HOME/movl,
 * else $HOME/.cache/movl) and whether it is used for dev: MOVL_CACHE=off
 * disables it, MOVL_CACHE=force enables it on every driver (tests). */
int movl_binary_cache_enabled(const movl_device *dev);
const char *movl_binary_cache_dir(void);

/* Counters since start-up, for tests and -v. */
typedef struct movl_program_stats {
    int builds_from_source, cache_hits, cache_writes, cache_rejects;
} movl_program_stats;
movl_program_stats movl_program_get_stats(void);

#endif
