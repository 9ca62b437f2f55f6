// ft-train — fine-tune a Llama-family model on an FTOK token stream: full fine-tuning, LoRA,
// DoRA, QLoRA, prompt tuning, prefix tuning or bottleneck adapters, on the CPU (or --device),
// with SFT or a preference objective (dpo, simpo, orpo). Thin: parses flags (and --config FILE.json or FILE.yaml), installs SIGINT/SIGTERM
// handlers (finish the step, save, exit 0) and calls ft_train_run (lib/train/train.c).
#include "cli.h"
#include "core/err.h"
#include "train/dist.h"
#include "train/train.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *PROG = "ft-train";
static volatile sig_atomic_t stop_flag = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void usage(void) {
    printf("Usage: ft-train --model M --data TRAIN.tok [--val VAL.tok] [--method METHOD] -o OUT [OPTIONS]\n\n"
           "Fine-tunes M (HF dir or .gguf) on an FTOK token stream (ft-tokenize). OUT receives the\n"
           "method's output (a PEFT adapter dir, or an HF model dir for full), train_config.json and\n"
           "checkpoints/; train_config.json is written last, with the results (a failed run writes\n"
           "none). OUT is locked (OUT/.ft-lock) for the run: a second run on it exits 1 at once.\n\n"
           "Methods (--method):\n"
           "  full      every weight (f32)                          -> HF model dir\n"
           "  lora      LoRA adapters on --lora-targets (--dora: DoRA) -> PEFT LORA adapter\n"
           "  qlora     LoRA on the base quantized to NF4 (double-quantized constants) -> PEFT LORA adapter\n"
           "  prompt    --num-virtual-tokens trainable input embeddings -> PEFT PROMPT_TUNING\n"
           "  prefix    trainable per-layer key/value prefixes   -> PEFT PREFIX_TUNING\n"
           "  adapter   bottleneck adapters after attention/MLP  -> BOTTLENECK adapter dir (not mergeable)\n"
           "A GGUF base (e.g. Q4_1) is dequantized to f32 for full/lora/prompt/prefix/adapter, and\n"
           "dequantized then re-quantized to NF4 for qlora.\n\n"
           "Options (every one may also be a key of --config FILE.json|FILE.yaml; flags override it):\n"
           "  --model M             base model (HF dir, model.safetensors or .gguf)\n"
           "  --data FILE           training tokens (FTOK, zstd ok, - = stdin)\n"
           "  --val FILE            validation tokens: mean target-token loss every --eval-every steps\n"
           "  --method METHOD       full|lora|qlora|prompt|prefix|adapter (default lora)\n"
           "  --objective NAME      what a step minimises: sft (default; the mean cross-entropy\n"
           "                        of the step's target tokens), or on preference pairs (ft-tokenize\n"
           "                        of {prompt,chosen,rejected}; both sides of a pair in one micro-batch,\n"
           "                        --batch counts pairs, CPU only): dpo (against the reference: the\n"
           "                        method's parameters switched off, or for full a frozen copy of the\n"
           "                        base), simpo or orpo (no reference); kto on labelled completions\n"
           "                        ({prompt,completion,label}); TRL's formulas and log keys\n"
           "  --loss-type T         dpo: sigmoid (default), ipo, hinge or robust\n"
           "  --beta X              dpo/simpo/orpo: beta (default 0.1)\n"
           "  --label-smoothing X   dpo robust, simpo: the label noise epsilon in [0, 0.5) (default 0)\n"
           "  --simpo-gamma X       simpo: the target margin gamma (default 0.5)\n"
           "  --precompute-ref      dpo: the reference's log-probabilities computed once before training\n"
           "                        (no reference pass per step; for full: no second copy of the weights)\n"
           "  --desirable-weight X, --undesirable-weight X   kto: weights of the two kinds (default 1)\n"
           "  -o, --output DIR      output directory\n"
           "  --config FILE         options as JSON, or YAML (FILE.yaml/.yml): keys = flag names, values\n"
           "                        of the flag's type; examples/configs/ has one per method\n"
           "  --epochs N            passes over the data (default 1), or\n"
           "  --max-steps N         optimizer steps (overrides --epochs)\n"
           "  --lr X                peak learning rate (default 1e-4)\n"
           "  --schedule S          cosine|linear|constant (default cosine)\n"
           "  --warmup W            warmup steps (W >= 1) or fraction of all steps (W < 1)\n"
           "  --batch N             rows per micro-batch (default 4)\n"
           "  --grad-accum N        micro-batches per optimizer step (default 1)\n"
           "  --batch-tokens N      tokens per step instead (sets --grad-accum)\n"
           "  --seq-len N           tokens per row (default 512); longer records are truncated;\n"
           "                        above the model's max_position_embeddings: a warning\n"
           "  --no-pack             one record per row (padded) instead of packing\n"
           "  --no-shuffle          keep the file's order\n"
           "  --clip X              gradient-norm clipping (default 1, 0 = off)\n"
           "  --weight-decay X      AdamW decoupled weight decay (default 0)\n"
           "  --adam-beta1/--adam-beta2/--adam-eps X   AdamW constants (0.9, 0.999, 1e-8)\n"
           "  --seed N              data order and adapter init (default 42)\n"
           "  --eval-every N        evaluate on --val every N steps (and at the end)\n"
           "  --early-stop N        stop after N evaluations without improvement; keep the best\n"
           "  --save-every N        checkpoint every N steps (OUT/checkpoints)\n"
           "  --save-total-limit N  checkpoints kept (default 2; the best is always kept)\n"
           "  --resume              continue from the newest complete checkpoint in OUT\n"
           "  --log FILE            metrics JSONL (step, epoch, loss, lr, grad_norm, tokens_per_s, elapsed_s;\n"
           "                        preference objectives: rewards/chosen, rewards/rejected, rewards/margins,\n"
           "                        rewards/accuracies, logps/chosen, logps/rejected, and eval_ ones on --val)\n"
           "  --tensorboard DIR     the same scalars (same names and steps) as TensorBoard event files\n"
           "  --skip-nonfinite N    skip up to N steps with NaN/Inf loss or gradients (default: stop)\n"
           "  --lora-r N            LoRA rank (default 8)\n"
           "  --lora-alpha X        LoRA alpha (default 16; scale alpha/r)\n"
           "  --lora-dropout X      dropout on the LoRA adapters' input while training (default 0)\n"
           "  --lora-targets LIST   q,k,v,o,gate,up,down or all-linear (default q,k,v,o)\n"
           "  --rslora              scale alpha/sqrt(r)\n"
           "  --dora                DoRA: LoRA plus a trained magnitude per output row (lora only)\n"
           "  --lora-layers LIST    adapt only these layers (\"0,2-5\"; PEFT layers_to_transform)\n"
           "  --lora-rank-pattern P per-module ranks, \"down_proj=16,q_proj=4\" (PEFT rank_pattern: each\n"
           "                        KEY is a regex for the end of a module name, model.layers.N.mlp.down_proj)\n"
           "  --lora-alpha-pattern P per-module alphas, the same way (PEFT alpha_pattern)\n"
           "  --lora-bias           a trained bias on LoRA B (PEFT lora_bias; merges only into a base with biases)\n"
           "  --lora-init I         default (Kaiming-uniform A, B = 0) or gaussian (A ~ N(0, 1/r))\n"
           "  --base-name NAME      base_model_name_or_path to write in the adapter (a hub id or HF dir;\n"
           "                        default: the HF dir of --model, none for a GGUF base)\n"
           "  --num-virtual-tokens N  prompt/prefix: virtual tokens per row (default 20)\n"
           "  --prompt-init TEXT    prompt: start from the embeddings of TEXT's tokens (special tokens\n"
           "                        included, repeated or cut to N, as PEFT; default N(0,1));\n"
           "                        prefix: start from the base model's own keys/values of TEXT, so\n"
           "                        step 0 is the base prompted with TEXT (not with --prefix-projection)\n"
           "  --prefix-projection   prefix: train through PEFT's reparameterization MLP\n"
           "  --prefix-hidden N     its hidden width (default: the KV width, PEFT's token_dim)\n"
           "  --adapter-dim D       adapter: bottleneck width (default 64)\n"
           "  --adapter-where LIST  adapter: attn,mlp | attn | mlp (default attn,mlp)\n"
           "  --adapter-act F       adapter: relu|silu|gelu (default relu)\n"
           "  --device D            cpu (default), guard (the CPU kernels behind device buffers the\n"
           "                        host cannot touch: tests the device path) or cuda; on a device:\n"
           "                        every method (full, lora/rsLoRA/DoRA, dropout, qlora, prompt,\n"
           "                        prefix, adapter)\n"
           "  --zero 1              under mpirun: ZeRO-1, each rank keeps the AdamW state of its shard\n"
           "                        of the parameters only (1/N of it; reduce-scatter, all-gather; --device cpu)\n"
           "  --precision P         f32 | bf16 (linear layers and LM head from bf16-rounded operands,\n"
           "                        f32 accumulation, f32 master weights and optimizer state; the cpu\n"
           "                        device) | auto (default: bf16 where the CPU has AVX512_BF16, else\n"
           "                        f32; --resume keeps the checkpoint's; env FT_PRECISION sets the\n"
           "                        default). Said in the log and in OUT/train_config.json\n"
           "  -q, -v                quieter / more verbose\n"
           "  -h, --help            this help;  --version  version\n\n"
           "SIGINT/SIGTERM finish the current step, save a checkpoint and exit 0.\n"
           "Data parallel: `mpirun -np N ft-train ...` (a build with MPI: docs/distributed.md) trains\n"
           "the same steps with each rank on its share of every step's rows; rank 0 writes OUT.\n"
           "Exit status: 0 done or stopped, 1 bad data or training failure, 2 usage.\n");
}

int main(int argc, char **argv) {
    ft_cli_log_install(PROG);   // the library's messages and progress bar, on stderr
    ft_train_opts o;
    ft_train_defaults(&o);
    o.prog = PROG;
    const char *env_prec = getenv("FT_PRECISION");   // the default --precision (the test suite pins f32)
    if (env_prec && *env_prec) o.precision = env_prec;
    // --config first (flags override its values), and -h/--version anywhere.
    void *cfg_json = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(); return FT_EXIT_OK; }
        if (!strcmp(argv[i], "--version")) { ft_cli_version(PROG); return FT_EXIT_OK; }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc) return ft_cli_usage(PROG, "--config needs a value");
            v = argv[i + 1];
        } else if (!strncmp(a, "--config=", 9)) {
            v = a + 9;
        }
        if (v) {
            ft_train_config_free(cfg_json);
            if (ft_train_load_config(&o, v, &cfg_json)) {   // a bad file is bad data (exit 1), as --data
                int rc = ft_cli_fail(PROG, FT_EXIT_DATA);
                ft_train_config_free(cfg_json);
                return rc;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-q")) { ft_verbosity = 0; continue; }
        if (!strcmp(a, "-v")) { ft_verbosity = 2; continue; }
        if (!strcmp(a, "--config")) { i++; continue; }
        if (!strncmp(a, "--config=", 9)) continue;
        char name[64];
        const char *val = NULL;
        if (!strcmp(a, "-o")) {
            strcpy(name, "output");
        } else if (!strncmp(a, "--", 2) && a[2]) {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (n >= sizeof name) return ft_cli_usage(PROG, "unknown option '%s'", a);
            memcpy(name, a + 2, n);
            name[n] = 0;
            if (eq) val = eq + 1;
        } else {
            ft_train_config_free(cfg_json);
            return ft_cli_usage(PROG, a[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", a);
        }
        if (!ft_train_opt_known(name)) {
            ft_train_config_free(cfg_json);
            return ft_cli_usage(PROG, "unknown option '%s'", a);
        }
        if (!val && !ft_train_opt_is_bool(name)) {
            if (i + 1 >= argc) {
                ft_train_config_free(cfg_json);
                return ft_cli_usage(PROG, "%s needs a value", a);
            }
            val = argv[++i];
        }
        if (ft_train_set(&o, name, val)) {
            int rc = ft_cli_usage(PROG, "%s", ft_errmsg());
            ft_train_config_free(cfg_json);
            return rc;
        }
    }
    const char *missing = !o.model ? "--model" : !o.data ? "--data" : !o.out ? "-o OUT" : NULL;
    if (missing) {
        ft_train_config_free(cfg_json);
        return ft_cli_usage(PROG, "%s is required", missing);
    }
    if (o.max_steps <= 0 && o.epochs <= 0) {
        ft_train_config_free(cfg_json);
        return ft_cli_usage(PROG, "nothing to do: --epochs and --max-steps are both 0");
    }
    if (o.early_stop > 0 && (!o.val || o.eval_every <= 0)) {
        ft_train_config_free(cfg_json);
        return ft_cli_usage(PROG, "--early-stop needs --val and --eval-every");
    }
    // dist: join the MPI job when a launcher (mpirun) started this process; rank 0 speaks for it
    static char prog_rank[64];
    if (ft_dist_init()) {
        ft_train_config_free(cfg_json);
        return ft_cli_fail(PROG, FT_EXIT_DATA);
    }
    if (ft_dist_size() > 1) {
        snprintf(prog_rank, sizeof prog_rank, "%s[%d/%d]", PROG, ft_dist_rank(), ft_dist_size());
        PROG = prog_rank;
        ft_cli_log_install(PROG);
        if (ft_dist_rank() > 0) ft_verbosity = 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.stop = &stop_flag;
    int rc = ft_train_run(&o);
    ft_train_config_free(cfg_json);
    if (rc < 0) {   // dist: a failing rank stops every rank (none is left waiting in a collective)
        ft_cli_fail(PROG, FT_EXIT_DATA);
        ft_dist_abort(FT_EXIT_DATA);
        ft_dist_finalize();
        return FT_EXIT_DATA;
    }
    ft_dist_finalize();
    return FT_EXIT_OK;
}
