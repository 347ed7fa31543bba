#include "core/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int movl_verbose = 0;
int movl_self_test_enabled = 1;

void movl_set_error(char *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, MOVL_ERRLEN, fmt, ap);
    va_end(ap);
}

double movl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
