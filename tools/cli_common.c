#include <string.h>

#include "commands.h"
#include "common.h"

int cli_common_flag(const char *arg)
{
    if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
        movl_verbose++;
        return 1;
    }
    if (!strcmp(arg, "--no-self-test")) {
        movl_self_test_enabled = 0;
        return 1;
    }
    return 0;
}
