/* The adaptation vocabulary of an experiment file, without OpenCL types:
 * optimiser, prompt and discrepancy kinds. The experiment schema stores
 * these; adapt/ implements them. The numeric values are the schema's table
 * indices (checked there with static asserts). */
#ifndef MOVL_ADAPT_KINDS_H
#define MOVL_ADAPT_KINDS_H

typedef enum { MOVL_OPT_SGD = 0, MOVL_OPT_ADAM = 1 } movl_opt_kind;

typedef enum {
    MOVL_PROMPT_PADDING = 0,
    MOVL_PROMPT_SHRINK_PAD = 1,
    MOVL_PROMPT_PATCH = 2,
    MOVL_PROMPT_RANDOM_PATCH = 3,
    MOVL_PROMPT_FULL = 4
} movl_prompt_type;

typedef enum { MOVL_PROMPT_INIT_ZERO = 0, MOVL_PROMPT_INIT_NORMAL = 1 } movl_prompt_init;

typedef enum {
    MOVL_DISC_NONE = 0,
    MOVL_DISC_FEATURE_MSE = 1,
    MOVL_DISC_COSINE = 2,
    MOVL_DISC_KL = 3,
    MOVL_DISC_PLAIN_CE = 4,
    MOVL_DISC_PIXEL = 5
} movl_disc_kind;

#endif
