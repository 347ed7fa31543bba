/* The table of layer kinds, indexed by enc_kind_id: builders name a kind by
 * its id, and the table gives its entries (encoder_internal.h). A new kind
 * adds its id before ENC_KIND_COUNT, its file layer_NAME.c and a row here;
 * the assert below fails the build when the table and the ids disagree. */
#include "encoder/encoder_internal.h"

const enc_layer_kind *const enc_layer_kinds[] = {
    [ENC_CONV] = &enc_kind_conv,       [ENC_ADD] = &enc_kind_add,       [ENC_MAXPOOL] = &enc_kind_maxpool,
    [ENC_GAP] = &enc_kind_gap,         [ENC_LINEAR] = &enc_kind_linear, [ENC_PATCHIFY] = &enc_kind_patchify,
    [ENC_TOKENS] = &enc_kind_tokens,
    [ENC_LAYERNORM] = &enc_kind_layernorm, [ENC_ATTENTION] = &enc_kind_attention, [ENC_GELU] = &enc_kind_gelu,
    [ENC_CLS] = &enc_kind_cls,             [ENC_COPY] = &enc_kind_copy,
};
_Static_assert(sizeof enc_layer_kinds / sizeof enc_layer_kinds[0] == ENC_KIND_COUNT,
               "enc_layer_kinds[] needs one entry per enc_kind_id");
