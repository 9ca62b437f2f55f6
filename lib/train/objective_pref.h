// objective_pref.h — the preference objectives of the table (lib/train/objective.h), after
// TRL: DPO (DPOTrainer loss_type sigmoid, ipo, hinge, robust), SimPO (CPOTrainer loss_type
// simpo) and ORPO (ORPOTrainer). An example is two sequences, chosen then rejected; logp is
// the summed log-probability of a side's target (completion) tokens. With
// Δ = (logp_c - ref_c) - (logp_r - ref_r) and β = --beta:
//   dpo sigmoid  -log σ(βΔ)
//   dpo hinge    max(0, 1 - βΔ)
//   dpo ipo      (Δc/nc - Δr/nr - 1/(2β))²        (n: a side's completion tokens)
//   dpo robust   (-(1-ε) log σ(βΔ) + ε log σ(-βΔ)) / (1 - 2ε)     (ε = --label-smoothing)
//   simpo        -(1-ε) log σ(βz) - ε log σ(-βz),  z = lc/nc - lr/nr - γ/β   (γ = --simpo-gamma)
//   orpo         NLL(chosen) - β log σ(log odds),  log odds = (ac - ar) - (log(1-e^ac) - log(1-e^ar)),
//                a = logp/n; NLL = the chosen sides' mean target-token cross-entropy over the step
// each averaged over the step's examples. Logged as TRL does: rewards/chosen = β(logp_c - ref_c)
// (simpo and orpo: β·logp_c/nc), rewards/rejected, rewards/margins (chosen - rejected),
// rewards/accuracies (the fraction with chosen > rejected), logps/chosen, logps/rejected (the
// policy's; simpo and orpo: per token), plus ORPO's nll_loss, log_odds_ratio, log_odds_chosen.
//
// KTO (TRL KTOTrainer, loss_type kto) is unpaired: one sequence per example with a label; with
// r = logp - ref and the micro-batch's KL estimate z = max(0, mean over its sequences of
// logp' - ref' of mismatched sequences: each prompt with the previous sequence's completion,
// no gradient), a desirable example's loss is w_d (1 - σ(β(r - z))), an undesirable one's
// w_u (1 - σ(β(z - r))) (w = --desirable-weight, --undesirable-weight), averaged over the step.
// Logged: rewards/chosen and rewards/rejected (the mean βr of each group), rewards/margins
// (their difference), logps/chosen, logps/rejected, kl.
#ifndef FT_OBJECTIVE_PREF_H
#define FT_OBJECTIVE_PREF_H

#include "train/objective.h"

int ft_pref_check(const ft_train_opts *o);
void ft_pref_begin(ft_obj_step *st);
int ft_dpo_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp);
void ft_dpo_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r);
int ft_simpo_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp);
void ft_simpo_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r);
int ft_orpo_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp);
void ft_orpo_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r);
double ft_pref_end(const ft_obj_step *st, double *metrics);
double ft_orpo_end(const ft_obj_step *st, double *metrics);
int ft_kto_row_grad(ft_obj_step *st, const ft_obj_rows *r, double *dlogp);
void ft_kto_add(ft_obj_step *st, double xent_sum, const ft_obj_rows *r);
double ft_kto_end(const ft_obj_step *st, double *metrics);

#define FT_PREF_METRICS "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", \
                        "logps/rejected"
#define FT_OBJECTIVE_DPO                                                                                             \
    {.name = "dpo", .summary = "direct preference optimisation against the reference (--loss-type, --beta)",       \
     .rows_per_example = 2, .needs_reference = 1, .n_metric = 6, .metric = {FT_PREF_METRICS},                     \
     .check = ft_pref_check, .begin = ft_pref_begin, .row_grad = ft_dpo_row_grad, .add = ft_dpo_add,              \
     .end = ft_pref_end}
#define FT_OBJECTIVE_SIMPO                                                                                           \
    {.name = "simpo", .summary = "SimPO: length-normalised margin with --simpo-gamma, no reference",               \
     .rows_per_example = 2, .n_metric = 6, .metric = {FT_PREF_METRICS}, .check = ft_pref_check,                   \
     .begin = ft_pref_begin, .row_grad = ft_simpo_row_grad, .add = ft_simpo_add, .end = ft_pref_end}
#define FT_OBJECTIVE_ORPO                                                                                            \
    {.name = "orpo", .summary = "ORPO: NLL of the chosen side plus the odds-ratio term, no reference",             \
     .rows_per_example = 2, .n_metric = 9,                                                                         \
     .metric = {FT_PREF_METRICS, "nll_loss", "log_odds_ratio", "log_odds_chosen"}, .check = ft_pref_check,        \
     .begin = ft_pref_begin, .row_grad = ft_orpo_row_grad, .add = ft_orpo_add, .end = ft_orpo_end}

#define FT_OBJECTIVE_KTO                                                                                             \
    {.name = "kto", .summary = "KTO: unpaired desirable/undesirable completions against the reference",          \
     .rows_per_example = 1, .needs_reference = 1, .labeled = 1, .n_metric = 6,                                   \
     .metric = {"rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected", "kl"},  \
     .check = ft_pref_check, .begin = ft_pref_begin, .row_grad = ft_kto_row_grad, .add = ft_kto_add,             \
     .end = ft_kto_end}

#endif
