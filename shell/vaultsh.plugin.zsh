# shellcheck shell=bash disable=SC2154 # zsh's $commands table
# Entry point for zsh plugin managers (oh-my-zsh, zinit, antidote): runs `vaultsh init zsh`.
# It needs vaultsh on PATH; otherwise add `eval "$(/path/to/vaultsh init zsh)"` to ~/.zshrc.
if (($+commands[vaultsh])); then
    eval "$(command vaultsh init zsh)"
else
    print -u2 'vaultsh: the zsh plugin needs vaultsh on PATH (see install.sh)'
fi
