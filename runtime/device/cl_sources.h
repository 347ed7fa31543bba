/* The OpenCL C files of cl/, embedded at build time (cmake/embed_cl.cmake). */
#ifndef MOVL_CL_SOURCES_H
#define MOVL_CL_SOURCES_H

typedef struct movl_cl_source {
    const char *name; /* programs: file name without .cl; headers: file name */
    const char *text;
} movl_cl_source;

/* The programs (cl/NAME.cl), each built on its own. */
extern const movl_cl_source movl_cl_sources[];
/* The headers (cl/NAME.h); program_cache.c prepends common.h to every program. */
extern const movl_cl_source movl_cl_headers[];

#endif
