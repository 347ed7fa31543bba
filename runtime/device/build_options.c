#include "device/build_options.h"

#include <stdio.h>
#include <string.h>

#include "core/common.h"

void movl_options_init(movl_build_options *o)
{
    o->text[0] = '\0';
    o->len = 0;
    o->error[0] = '\0';
}

static int is_identifier(const char *s)
{
    if (!s || !(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
        return 0;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

/* Only the first refusal is kept: later options may depend on the refused one. */
static void refuse(movl_build_options *o, const char *what, const char *why)
{
    if (!o->error[0])
        snprintf(o->error, sizeof o->error, "%.120s: %.100s", what, why);
}

/* Appends opt (formatted by the caller into a buffer that held it whole). */
static void append(movl_build_options *o, const char *opt)
{
    if (o->error[0])
        return;
    size_t n = strlen(opt), sep = o->len ? 1 : 0;
    if (o->len + sep + n >= sizeof o->text) {
        char why[96];
        snprintf(why, sizeof why, "the options would exceed %d characters", MOVL_BUILD_OPTIONS_MAX - 1);
        refuse(o, opt, why);
        return;
    }
    if (sep)
        o->text[o->len++] = ' ';
    memcpy(o->text + o->len, opt, n + 1);
    o->len += n;
}

/* -DNAME, or -DNAME=VALUE when value is not NULL. */
static void add_define(movl_build_options *o, const char *name, const char *value)
{
    char opt[MOVL_BUILD_OPTIONS_MAX + 32];
    int n = snprintf(opt, sizeof opt, "-D%s%s%s", name ? name : "(null)", value ? "=" : "", value ? value : "");
    if (!is_identifier(name))
        refuse(o, opt, "the name is not a C identifier");
    else if (n < 0 || (size_t)n >= sizeof opt)
        refuse(o, opt, "the option is too long");
    else
        append(o, opt);
}

void movl_options_int(movl_build_options *o, const char *name, long value)
{
    char text[24];
    snprintf(text, sizeof text, "%ld", value);
    add_define(o, name, text);
}

void movl_options_define(movl_build_options *o, const char *name) { add_define(o, name, NULL); }

void movl_options_flag(movl_build_options *o, const char *flag)
{
    if (!flag || flag[0] != '-' || flag[1] == '\0' || strpbrk(flag, " \t\n\r\"'"))
        refuse(o, flag ? flag : "(null)", "a flag starts with '-' and holds no space or quote");
    else if (strlen(flag) >= MOVL_BUILD_OPTIONS_MAX)
        refuse(o, flag, "the option is too long");
    else
        append(o, flag);
}

const char *movl_options_text(const movl_build_options *o, const char *program, char *err)
{
    if (o->error[0]) {
        movl_set_error(err, "build options of cl/%s.cl: %s", program, o->error);
        return NULL;
    }
    return o->text;
}

cl_kernel movl_kernel_with_options(movl_device *dev, const char *program, const movl_build_options *o,
                                   const char *kernel, char *err)
{
    const char *options = movl_options_text(o, program, err);
    return options ? movl_kernel(dev, program, options, kernel, err) : NULL;
}
