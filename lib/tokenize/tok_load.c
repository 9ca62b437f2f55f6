// tok_load.c — ft_tokenizer_load: a tokenizer from an HF dir (tokenizer.json with its
// tokenizer_config.json), a tokenizer.json file or a GGUF (file or a dir holding one), dispatched
// to tok_hf.c or tok_gguf.c and finished by tok_vocab.c; ft_tokenizer_free.
#include "tokenize/tok_internal.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }
static int is_file(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }

// The one *.gguf file of a directory (malloc'd path), or NULL when there are none or several.
static char *dir_single_gguf(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *found = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".gguf")) continue;
        if (++n > 1) break;
        found = ft_malloc(strlen(dir) + l + 2);
        if (found) sprintf(found, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n != 1) { free(found); return NULL; }
    return found;
}

ft_tokenizer *ft_tokenizer_load(const char *path) {
    if (!path) { ft_err("no tokenizer given"); return NULL; }
    ft_tokenizer *t = ft_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->unk = t->bos = t->eos = t->pad = t->eot = t->eom = -1;
    t->path = ft_strdup(path);
    int rc;
    size_t n = strlen(path);
    if (is_dir(path)) {
        char *js = ft_malloc(n + 32), *cfg = ft_malloc(n + 32), *gg = NULL;
        if (!js || !cfg) { free(js); free(cfg); ft_tokenizer_free(t); return NULL; }
        sprintf(js, "%s/tokenizer.json", path);
        sprintf(cfg, "%s/tokenizer_config.json", path);
        if (is_file(js)) rc = tok_load_hf(t, js, is_file(cfg) ? cfg : NULL);
        else if ((gg = dir_single_gguf(path)) != NULL) rc = tok_load_gguf(t, gg);
        else rc = ft_err("%s: no tokenizer.json (nor a single .gguf) in this directory", path);
        free(js); free(cfg); free(gg);
    } else if (n >= 5 && strcmp(path + n - 5, ".gguf") == 0) {
        rc = tok_load_gguf(t, path);
    } else {
        if (!is_file(path)) { ft_err("%s: no such file or directory", path); ft_tokenizer_free(t); return NULL; }
        FILE *f = fopen(path, "rb");
        char magic[4] = {0};
        if (f) { if (fread(magic, 1, 4, f) != 4) magic[0] = 0; fclose(f); }
        if (memcmp(magic, "GGUF", 4) == 0) rc = tok_load_gguf(t, path);
        else rc = tok_load_hf(t, path, NULL);
    }
    if (rc == 0) rc = tok_finish(t);
    if (rc) {
        const char *m = ft_errmsg();
        if (strncmp(m, path, n) != 0) ft_err_ctx("%s", path);
        ft_tokenizer_free(t);
        return NULL;
    }
    // e.g. a GGUF pre-tokenizer name ft does not know (the default regexes are used): every
    // tool that loads this tokenizer says so, through the log hooks it installed
    if (t->warning) ft_log_info(0, "warning: %s: %s", path, t->warning);
    return t;
}

void ft_tokenizer_free(ft_tokenizer *t) {
    if (!t) return;
    for (uint32_t i = 0; i < t->n_vocab; i++) { free(t->piece[i]); free(t->raw[i]); free(t->dec[i]); }
    free(t->piece); free(t->piece_len); free(t->raw); free(t->raw_len); free(t->dec); free(t->dec_len);
    free(t->is_special); free(t->is_added); free(t->is_model);
    tok_strmap_free(&t->vocab);
    tok_pairmap_free(&t->merges);
    for (int i = 0; i < t->n_norm; i++) tok_norm_free(&t->norm[i]);
    for (int i = 0; i < t->n_pre; i++) tok_pre_free(&t->pre[i]);
    free(t->norm); free(t->pre); free(t->added); free(t->stop); free(t->path); free(t->warning);
    free(t);
}

