# Bash completion (scripts/ft-completion.bash, installed by `make install` as one file per tool):
# flags come from each tool's --help (ft-train's --tensorboard, ft-report's --min-gain), ft-eval's
# subcommands from its "Subcommands:" list and then that subcommand's own flags; every tool in
# bin/ is registered, and `make install` puts a completion file for each where bash-completion
# looks.
. "$FT_ROOT/tests/lib.sh"
# complete WORDS...: COMPREPLY for the last word, one per line
complete_words() {
  bash -c '. "$1/scripts/ft-completion.bash"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
           _ft_complete; printf "%s\n" "${COMPREPLY[@]}"' _ "$FT_ROOT" "$@"
}
has() {   # has WORD LINES...
  local w=$1; shift
  grep -qx -- "$w" <<<"$*" || fail "completion lacks '$w': got: $*"
}
has --tensorboard "$(complete_words ft-train --tens)"
has --config "$(complete_words ft-train --con)"
has --lora-targets "$(complete_words ft-train --lora-t)"
[ "$(complete_words ft-train --lora-t)" = --lora-targets ] || fail "--lora-t is not only --lora-targets"
has --min-gain "$(complete_words ft-report --min)"
has -o "$(complete_words ft-report -)"
# ft-eval: subcommands, then the subcommand's flags (not the others')
subs=$(complete_words ft-eval --model m.gguf "")
for s in ppl generate score choice compare judge; do has "$s" "$subs"; done
[ "$(complete_words ft-eval --model m.gguf gen)" = generate ] || fail "ft-eval gen does not complete to generate"
has --max-new-tokens "$(complete_words ft-eval --model m.gguf generate --max-n)"
[ -z "$(complete_words ft-eval score --max-n)" ] || fail "score completed generate's --max-new-tokens"
has --min-gain "$(complete_words ft-eval compare --min)"
# file names after an option's value and for inputs
touch data.jsonl
has data.jsonl "$(complete_words ft-tokenize data.)"
# every tool is registered
reg=$(bash -c '. "$1/scripts/ft-completion.bash"; complete -p' _ "$FT_ROOT")
for t in "$FT_BIN"/ft-*; do
  grep -q " $(basename "$t")\( \|$\)" <<<"$reg" || fail "$(basename "$t") has no completion"
done
# make install puts one per tool where bash-completion loads it from
make -s -C "$FT_ROOT" install PREFIX="$PWD/p" >log 2>&1 || { cat log; fail "make install failed"; }
for t in "$FT_BIN"/ft-*; do
  [ -f "p/share/bash-completion/completions/$(basename "$t")" ] || fail "no completion installed for $(basename "$t")"
done
