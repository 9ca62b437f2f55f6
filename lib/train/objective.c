// objective.c — the table of training objectives (see objective.h); the preference rows live in
// objective_pref.c. SFT, the first row: the
// mean cross-entropy over the step's target tokens, every target token weighted
// 1 / (target tokens of the step), so that gradient accumulation over micro-batches gives the
// gradient of the step's mean loss.
#include "train/objective.h"
#include "train/objective_pref.h"
#include "core/err.h"

#include <stddef.h>
#include <string.h>

static void sft_begin(ft_obj_step *st) {
    st->grad_scale = st->targets ? (float)(1.0 / (double)st->targets) : 0.0f;
    st->loss_sum = 0;
}

static void sft_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *rows) {
    (void)rows;
    st->loss_sum += xent_sum;
}

static double sft_end(const ft_obj_step *st, double *metrics) {
    (void)metrics;
    return st->targets ? st->loss_sum / (double)st->targets : 0.0;
}

static const ft_objective OBJECTIVES[] = {
    {.name = "sft",
     .summary = "supervised fine-tuning: mean cross-entropy of the target tokens",
     .rows_per_example = 1,
     .begin = sft_begin,
     .add = sft_add,
     .end = sft_end},
    FT_OBJECTIVE_DPO,
    FT_OBJECTIVE_SIMPO,
    FT_OBJECTIVE_ORPO,
    FT_OBJECTIVE_KTO,
};
#define N_OBJECTIVES (sizeof OBJECTIVES / sizeof *OBJECTIVES)

const char *ft_objective_names(void) {
    static char names[256];
    if (!names[0])
        for (size_t i = 0; i < N_OBJECTIVES; i++) {
            if (i) strcat(names, ", ");
            strcat(names, OBJECTIVES[i].name);
        }
    return names;
}

const ft_objective *ft_objective_find(const char *name) {
    for (size_t i = 0; name && i < N_OBJECTIVES; i++)
        if (!strcmp(OBJECTIVES[i].name, name)) return &OBJECTIVES[i];
    ft_err("--objective %s: expected %s", name ? name : "(none)", ft_objective_names());
    return NULL;
}
