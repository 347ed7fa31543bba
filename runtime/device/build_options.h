/* The build options of a kernel program (the -D defines a launcher
 * specialises a cl/ file with), added one by one and checked: a name must be
 * a C identifier and the whole must fit in MOVL_BUILD_OPTIONS_MAX characters.
 * Adding never truncates: the first option that cannot be added is kept as an
 * error, which movl_kernel_with_options reports naming that option and the
 * program, so a launcher checks once, where it asks for the kernel:
 *
 *   movl_build_options o;
 *   movl_options_init(&o);
 *   movl_options_int(&o, "VW", vw);           // -DVW=8
 *   if (trans_a)
 *       movl_options_int(&o, "TRANS_A", 1);   // -DTRANS_A=1
 *   cl_kernel k = movl_kernel_with_options(dev, "linear", &o, "gemm_rows", err);
 *   if (!k)
 *       return MOVL_ERR_RUN;
 *
 * Options are separated by one space in the order added ("-DVW=8
 * -DTRANS_A=1"); the string is part of the program's cache key, so the same
 * defines in the same order find the same program. */
#ifndef MOVL_BUILD_OPTIONS_H
#define MOVL_BUILD_OPTIONS_H

#include <stddef.h>

#include "device/device.h"

#define MOVL_BUILD_OPTIONS_MAX 512

typedef struct movl_build_options {
    char text[MOVL_BUILD_OPTIONS_MAX]; /* the options so far, "" when none */
    size_t len;                        /* strlen(text) */
    char error[240];                   /* why the first refused option was refused, "" if none */
} movl_build_options;

/* Starts an empty set of options (a valid set: "" builds the defaults). */
void movl_options_init(movl_build_options *o);

/* Adds -DNAME=VALUE. */
void movl_options_int(movl_build_options *o, const char *name, long value);

/* Adds -DNAME (defined as 1, for #ifdef). */
void movl_options_define(movl_build_options *o, const char *name);

/* Adds a compiler flag as it is, e.g. "-cl-mad-enable": it must start with
 * '-' and hold no space. */
void movl_options_flag(movl_build_options *o, const char *flag);

/* The options string, or NULL with err = "build options of cl/PROGRAM.cl:
 * <the refused option and why>" when an option was refused. */
const char *movl_options_text(const movl_build_options *o, const char *program, char *err);

/* movl_kernel(dev, program, movl_options_text(o), kernel, err), or NULL with
 * err set when an option was refused. */
cl_kernel movl_kernel_with_options(movl_device *dev, const char *program, const movl_build_options *o,
                                   const char *kernel, char *err);

#endif
