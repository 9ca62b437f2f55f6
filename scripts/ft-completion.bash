# ft-completion.bash — bash completion for the ft tools (installed by `make install` as
# share/bash-completion/completions/ft-*, one copy per tool, which bash-completion loads on first
# use; or `source scripts/ft-completion.bash`). The flags come from each tool's own --help
# (ft-eval: its subcommands from "Subcommands:", then `ft-eval SUB --help`), read once per
# shell, so completion always matches the installed tools. Words not starting with '-'
# complete as file names (the ft-eval subcommand position excepted).

declare -gA _ft_help_cache

# _ft_flags CMD [SUB]: the long and short flags CMD [SUB] --help lists, one per line.
_ft_flags() {
  local key="$1 ${2:-}"
  if [[ -z ${_ft_help_cache[$key]+x} ]]; then
    _ft_help_cache[$key]=$("$1" ${2:+"$2"} --help 2>/dev/null |
      grep -oE -- '(^|[][ ,|/])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed -E 's/^[][ ,|/]//' | sort -u)
  fi
  printf '%s\n' "${_ft_help_cache[$key]}"
}

# _ft_subcommands CMD: the names listed under "Subcommands:" in CMD --help.
_ft_subcommands() {
  "$1" --help 2>/dev/null | awk '/^Subcommands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }'
}

_ft_complete() {
  local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} sub= i w
  cmd=${cmd##*/}
  local subs
  subs=$(_ft_subcommands "${COMP_WORDS[0]}")
  if [[ -n $subs ]]; then   # a tool with subcommands: the first word that names one
    for ((i = 1; i < COMP_CWORD; i++)); do
      w=${COMP_WORDS[i]}
      if grep -qx -- "$w" <<<"$subs"; then sub=$w; break; fi
    done
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_ft_flags "${COMP_WORDS[0]}" "$sub")" -- "$cur"))
  elif [[ -n $subs && -z $sub && ${COMP_WORDS[COMP_CWORD-1]} != -* ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    [[ ${#COMPREPLY[@]} -gt 0 ]] || COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}

complete -o default -o bashdefault -F _ft_complete ft-template ft-tokenize ft-filter ft-train ft-merge ft-eval \
  ft-info ft-report
