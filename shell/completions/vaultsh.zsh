# shellcheck shell=bash disable=SC2034,SC2154,SC2206,SC2296
# (shellcheck has no zsh mode: these codes flag zsh's completion variables and expansions)
# vaultsh completion for zsh, appended to `vaultsh init zsh`.
#
# Commands, flags and value lists come from vaultsh's command table (the generated functions
# below); profile names from `vaultsh list --names` (sso-session names from `--sso-sessions`),
# added with compadd, which quotes them: a profile named `$(cmd)` completes to `\$\(cmd\)` and
# never runs.
# It needs zsh's completion system: when the rc file has not started it (compinit) by the first
# prompt, vaultsh starts it then.
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

# @VAULTSH_WORDS@

# Sets kind to what argument $1 (from 1) of the command is; the last repeats when variadic.
__vaultsh_kind_at() {
    kind=
    if (($1 <= $#__vaultsh_args)); then
        kind=${__vaultsh_args[$1]}
    elif [[ $__vaultsh_variadic == 1 ]]; then
        kind=${__vaultsh_args[-1]}
    fi
}

# Offers what kind $1 names: profile or sso-session names, files, commands, or a fixed list.
__vaultsh_offer() {
    local -a __vaultsh_list
    case $1 in
    ('') return 1 ;;
    (profile)
        __vaultsh_list=("${(@f)$(\command @VAULTSH@ list --names 2>/dev/null)}")
        compadd -a __vaultsh_list
        ;;
    (sso-session)
        __vaultsh_list=("${(@f)$(\command @VAULTSH@ list --sso-sessions 2>/dev/null)}")
        compadd -a __vaultsh_list
        ;;
    (path) _files ;;
    (command) _command_names -e ;;
    (*)
        __vaultsh_words "$1"
        compadd -a __vaultsh_list
        ;;
    esac
}

__vaultsh_complete() {
    local -a __vaultsh_flags __vaultsh_args __vaultsh_list __vaultsh_subs
    local -A __vaultsh_valued
    local __vaultsh_variadic='' command='' word value='' kind
    local -i i start=0 position=1

    # The words before the cursor: the command, the flags that take the next word, and the
    # arguments; `start` is where exec's command begins (after --, or its first word).
    for ((i = 2; i < CURRENT; i++)); do
        word=${words[i]}
        if [[ -n $value ]]; then
            value=
        elif [[ -z $command ]]; then
            [[ $word == -* ]] && continue
            command=$word
            __vaultsh_spec "$command" || return 1
        elif (($#__vaultsh_subs)); then
            # a group (vaultsh sso): this word names its command
            [[ $word == -* ]] && continue
            command=$command.$word
            __vaultsh_spec "$command" || return 1
        elif [[ $word == -- && $__vaultsh_variadic == 1 ]]; then
            start=$((i + 1))
            break
        elif [[ $word == -?* ]]; then
            ((${+__vaultsh_valued[$word]})) && value=$word
        else
            __vaultsh_kind_at "$position"
            [[ $kind == command ]] && start=$i && break
            position+=1
        fi
    done

    if [[ -z $command ]]; then
        if [[ $PREFIX == -* ]]; then
            __vaultsh_words program-flags
            _describe -t options option __vaultsh_list
        else
            __vaultsh_words commands
            _describe -t commands command __vaultsh_list
        fi
    elif (($#__vaultsh_subs)) && [[ $PREFIX != -* ]]; then
        _describe -t commands command __vaultsh_subs
    elif ((start > 0)); then
        # inside exec's command: complete it as if it were typed on its own
        shift $((start - 1)) words
        ((CURRENT -= start - 1))
        _normal
    elif [[ -n $value ]]; then
        __vaultsh_offer "${__vaultsh_valued[$value]}"
    elif [[ $PREFIX == -* ]]; then
        _describe -t options option __vaultsh_flags
    else
        __vaultsh_kind_at "$position"
        __vaultsh_offer "$kind"
    fi
}

# Registers the completion once the completion system runs: at once when the rc file started
# it before loading vaultsh, else at the first prompt of an interactive shell (starting it if
# the rc file did not).
__vaultsh_complete_setup() {
    precmd_functions=(${precmd_functions:#__vaultsh_complete_setup})
    if ((!$+functions[compdef])); then
        autoload -Uz compinit && compinit -i
    fi
    compdef __vaultsh_complete vaultsh
}
if (($+functions[compdef])); then
    compdef __vaultsh_complete vaultsh
elif [[ -o interactive ]]; then
    typeset -ag precmd_functions
    precmd_functions=(${precmd_functions:#__vaultsh_complete_setup} __vaultsh_complete_setup)
fi
