# shellcheck shell=bash
# vaultsh completion for bash, appended to `vaultsh init bash`.
#
# Commands, flags and value lists come from vaultsh's command table (the generated functions
# below); profile names from `vaultsh list --names`, sso-session names from
# `vaultsh list --sso-sessions`. Candidates are matched and inserted as
# data, quoted for the command line: a profile named `$(cmd)` completes to `\$\(cmd\)` and never
# runs (which is why nothing here uses `compgen -W`, which expands what it is given).
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

# @VAULTSH_WORDS@

# Sets __vaultsh_text to $1 without its backslash escapes.
__vaultsh_unescape() {
    \builtin local rest="$1"
    __vaultsh_text=
    while [[ $rest == *\\* ]]; do
        __vaultsh_text+=${rest%%\\*}
        rest=${rest#*\\}
        __vaultsh_text+=${rest:0:1}
        rest=${rest:1}
    done
    __vaultsh_text+=$rest
}

# Adds each argument that starts with $__vaultsh_cur to COMPREPLY, quoted the way the word
# being completed was begun ($__vaultsh_quote: ', " or nothing).
__vaultsh_add() {
    \builtin local candidate quoted
    for candidate in "$@"; do
        [[ $candidate == "$__vaultsh_cur"* ]] || continue
        case $__vaultsh_quote in
        \') quoted=${candidate//\'/\'\\\'\'} ;;
        \")
            quoted=${candidate//\\/\\\\}
            quoted=${quoted//\"/\\\"}
            quoted=${quoted//\$/\\\$}
            quoted=${quoted//\`/\\\`}
            ;;
        *) \builtin printf -v quoted '%q' "$candidate" ;;
        esac
        COMPREPLY+=("$quoted")
    done
}

# Offers what kind $1 names: profile or sso-session names, files, commands, or a fixed list.
__vaultsh_offer() {
    \builtin local __vaultsh_list
    case $1 in
    '') ;;
    profile)
        \builtin mapfile -t __vaultsh_list < <(\command @VAULTSH@ list --names 2>/dev/null)
        __vaultsh_add "${__vaultsh_list[@]}"
        ;;
    sso-session)
        \builtin mapfile -t __vaultsh_list < <(\command @VAULTSH@ list --sso-sessions 2>/dev/null)
        __vaultsh_add "${__vaultsh_list[@]}"
        ;;
    path) \builtin compopt -o default 2>/dev/null || : ;;
    command)
        \builtin mapfile -t __vaultsh_list < <(\builtin compgen -c -- "$__vaultsh_cur")
        __vaultsh_add "${__vaultsh_list[@]}"
        ;;
    *)
        __vaultsh_words "$1"
        __vaultsh_add "${__vaultsh_list[@]}"
        ;;
    esac
}

__vaultsh_complete() {
    # values given to `\builtin local` are quoted: through `builtin` they would be split and globbed
    \builtin local __vaultsh_cur="${COMP_WORDS[COMP_CWORD]}" __vaultsh_quote='' __vaultsh_text
    \builtin local __vaultsh_flags='' __vaultsh_valued='' __vaultsh_args='' __vaultsh_variadic='' __vaultsh_subs=''
    \builtin local command='' word value='' start=0 position=0 i kind
    \builtin local -a kinds
    kinds=()
    COMPREPLY=()
    case $__vaultsh_cur in
    \'*) __vaultsh_quote=\' __vaultsh_cur=${__vaultsh_cur#?} ;;
    \"*) __vaultsh_quote=\" __vaultsh_cur=${__vaultsh_cur#?} ;;
    esac
    if [[ $__vaultsh_quote != \' ]]; then
        __vaultsh_unescape "$__vaultsh_cur"
        __vaultsh_cur=$__vaultsh_text
    fi

    # The words before the cursor: the command, the flags that take the next word, and the
    # arguments; `start` is where exec's command begins (after --, or its first word).
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $value ]]; then
            value=
        elif [[ -z $command ]]; then
            [[ $word == -* ]] && continue
            command=$word
            __vaultsh_spec "$command" || return 0
            # shellcheck disable=SC2206 # the kinds are words
            kinds=($__vaultsh_args)
        elif [[ -n $__vaultsh_subs ]]; then
            # a group (vaultsh sso): this word names its command
            [[ $word == -* ]] && continue
            command=$command.$word
            __vaultsh_spec "$command" || return 0
            # shellcheck disable=SC2206 # the kinds are words
            kinds=($__vaultsh_args)
        elif [[ $word == -- && $__vaultsh_variadic == 1 ]]; then
            start=$((i + 1))
            break
        elif [[ $word == -?* ]]; then
            [[ $__vaultsh_valued == *" $word:"* ]] && value=$word
        else
            __vaultsh_kind_at "$position"
            [[ $kind == command ]] && start=$i && break
            ((position += 1))
        fi
    done

    if [[ -z $command ]]; then
        if [[ $__vaultsh_cur == -* ]]; then __vaultsh_offer program-flags; else __vaultsh_offer commands; fi
    elif [[ -n $__vaultsh_subs && $__vaultsh_cur != -* ]]; then
        # shellcheck disable=SC2086 # the commands are words
        __vaultsh_add $__vaultsh_subs
    elif ((start > 0)); then
        # inside exec's command: that command's own completion where bash-completion has one
        if \builtin declare -F _command_offset >/dev/null; then
            _command_offset "$start"
        elif ((COMP_CWORD == start)); then
            __vaultsh_offer command
        else
            \builtin compopt -o default 2>/dev/null || :
        fi
    elif [[ -n $value ]]; then
        kind=${__vaultsh_valued#*" $value:"}
        __vaultsh_offer "${kind%% *}"
    elif [[ $__vaultsh_cur == -* ]]; then
        # shellcheck disable=SC2086 # the flags are words
        __vaultsh_add $__vaultsh_flags
    else
        __vaultsh_kind_at "$position"
        __vaultsh_offer "$kind"
    fi
    return 0
}

# Sets kind to what argument $1 (from 0) of the command is; the last repeats when variadic.
__vaultsh_kind_at() {
    kind=
    if (($1 < ${#kinds[@]})); then
        kind=${kinds[$1]}
    elif [[ $__vaultsh_variadic == 1 ]]; then
        kind=${kinds[${#kinds[@]} - 1]}
    fi
}
# as the integration itself, only from bash 4.4 on (mapfile, compopt, printf -v)
if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))); then
    \builtin complete -F __vaultsh_complete vaultsh
fi
