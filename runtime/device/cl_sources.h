/* The OpenCL C sources of cl/, embedded at build time (cmake/embed_cl.cmake). */
#ifndef MOVL_CL_SOURCES_H
#define MOVL_CL_SOURCES_H

typedef struct movl_cl_source {
    const char *name; /* file name without .cl */
    const char *text;
} movl_cl_source;

extern const movl_cl_source movl_cl_sources[];

#endif
