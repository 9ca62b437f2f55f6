// peft_kinds.c — the registry of PEFT kinds (see peft_kind.h) and the lookups by --method
// name and by adapter_config.json peft_type. The only place that compares those names.
//
// Adding a kind, file by file:
//   lib/NAME.c, NAME.h       its arithmetic and the model hooks it attaches to (ft_linear's
//                            lora/post, m->virt; a new hook point also touches model.h and the
//                            forward/backward)
//   lib/NAME_io.c            its adapter files (write ft_peft_NAME.peft_type into
//                            adapter_config.json; check a dir's type with ft_peft_kind_find_type)
//   lib/peft_NAME.c          its row: const ft_peft_kind ft_peft_NAME = {...}
//   lib/peft/peft_kind.h          the row's extern declaration
//   lib/peft/peft_kinds.c         one line in KINDS below (+ a FT_PEFT_OPT_* bit and a FOREIGN line
//                            when other kinds must refuse its options)
//   lib/train/train.h, train_opts.c  its ft-train options (field, OPTS row, default)
//   tools/ft-train.c         --help;  docs/ft-train.md, docs/methods.md, docs/formats.md
//   tests/unit/test_peft_kinds.c (the count and the names), tests/unit/test_NAME.c,
//   tests/cli/train-method-NAME.sh
#include "peft/peft_kind.h"
#include "core/err.h"
#include "optim/train_opts.h"

#include <stdio.h>
#include <string.h>

static const ft_peft_kind *const KINDS[] = {
    &ft_peft_full, &ft_peft_lora, &ft_peft_qlora, &ft_peft_prompt, &ft_peft_prefix, &ft_peft_bottleneck,
};
#define N_KINDS ((int)(sizeof KINDS / sizeof *KINDS))

int ft_peft_kind_count(void) { return N_KINDS; }

const ft_peft_kind *ft_peft_kind_at(int i) { return i >= 0 && i < N_KINDS ? KINDS[i] : NULL; }

const ft_peft_kind *ft_peft_kind_by_method(const char *name) {
    for (int i = 0; name && i < N_KINDS; i++)
        if (!strcmp(name, KINDS[i]->method)) return KINDS[i];
    char list[256] = "";
    for (int i = 0; i < N_KINDS; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i == 0 ? "" : i == N_KINDS - 1 ? " or " : ", ", KINDS[i]->method);
    }
    ft_err("--method %s: expected %s", name ? name : "(none)", list);
    return NULL;
}

const ft_peft_kind *ft_peft_kind_find_type(const char *peft_type) {
    for (int i = 0; peft_type && i < N_KINDS; i++)
        if (KINDS[i]->peft_type && KINDS[i]->apply && !strcmp(peft_type, KINDS[i]->peft_type)) return KINDS[i];
    return NULL;
}

const ft_peft_kind *ft_peft_kind_by_type(const char *peft_type, const char *file) {
    const ft_peft_kind *k = ft_peft_kind_find_type(peft_type);
    if (k) return k;
    char list[256] = "";
    for (int i = 0; i < N_KINDS; i++) {
        if (!KINDS[i]->peft_type || !KINDS[i]->apply) continue;
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", KINDS[i]->peft_type);
    }
    ft_err("%s: peft_type %s is not supported (%s)", file, peft_type ? peft_type : "(none)", list);
    return NULL;
}

const ft_peft_kind *ft_peft_kind_for_merge(const char *peft_type, const char *file) {
    const ft_peft_kind *k = ft_peft_kind_find_type(peft_type);
    if (k) return k;
    char list[256] = "";
    for (int i = 0; i < N_KINDS; i++) {
        if (!KINDS[i]->peft_type || !KINDS[i]->merge) continue;
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s\"%s\"", n ? " or " : "", KINDS[i]->peft_type);
    }
    ft_err("%s: peft_type is %s, expected %s", file, peft_type ? peft_type : "missing", list);
    return NULL;
}

// The ft-train options only some kinds take: whether o sets it, and what to add to the refusal.
static const struct {
    unsigned bit;
    const char *flag;
    size_t off;             // the int/pointer field of ft_train_opts that is set when given
    int is_ptr;
    const char *note;
} FOREIGN[] = {
    {FT_PEFT_OPT_DORA, "--dora", offsetof(ft_train_opts, dora), 0, " (DoRA on a quantized base is not supported)"},
    {FT_PEFT_OPT_PROMPT_INIT, "--prompt-init", offsetof(ft_train_opts, prompt_init), 1, ""},
    {FT_PEFT_OPT_PREFIX_PROJECTION, "--prefix-projection", offsetof(ft_train_opts, prefix_projection), 0, ""},
};

int ft_peft_kind_check_opts(const ft_peft_kind *k, const ft_train_opts *o) {
    for (size_t f = 0; f < sizeof FOREIGN / sizeof *FOREIGN; f++) {
        const char *p = (const char *)o + FOREIGN[f].off;
        int set = FOREIGN[f].is_ptr ? *(const char *const *)p != NULL : *(const int *)p != 0;
        if (!set || (k->opts & FOREIGN[f].bit)) continue;
        const ft_peft_kind *take[16];
        int nt = 0;
        for (int i = 0; i < N_KINDS && nt < 16; i++)
            if (KINDS[i]->opts & FOREIGN[f].bit) take[nt++] = KINDS[i];
        char list[256] = "";
        for (int i = 0; i < nt; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", i == 0 ? "" : i == nt - 1 ? " or " : ", ", take[i]->method);
        }
        return ft_err("%s goes with --method %s%s", FOREIGN[f].flag, list, FOREIGN[f].note);
    }
    return 0;
}
