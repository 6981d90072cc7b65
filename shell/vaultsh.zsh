# shellcheck shell=bash disable=SC2296,SC2298,SC2299,SC2154,SC2206
# (shellcheck has no zsh mode: these codes flag zsh-only expansions and arrays)
# vaultsh shell integration for zsh, printed by `vaultsh init zsh`.
#
# - the `vaultsh` function runs the binary; for `use`, `allow`, `deny` and `pin` it evaluates
#   the shell code the binary prints, so they can change this shell's variables;
# - chpwd and precmd hooks find the governing .awsvault marker in shell code (walking up when
#   the directory changed; otherwise checking that the marker is still there) and start the
#   binary only when the marker changed, the credentials are due for renewal or their server
#   exited; they do nothing in subshells, completion functions and non-interactive shells;
# - completion, appended from shell/completions/vaultsh.zsh.
#
# Bookkeeping lives in shell variables that are never exported and never hold a secret:
# __vaultsh_state (opaque, written by the binary), __vaultsh_scope (the marker last seen),
# __vaultsh_pwd (the directory the hook last walked up from),
# __vaultsh_refresh_at (when the credentials enter the renewal window, Unix seconds),
# __vaultsh_watch (a path that exists while the credential server in use runs).
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

# Sets __vaultsh_found to the nearest .awsvault at or above $PWD ('' when none).
__vaultsh_find() {
    emulate -L zsh
    local dir=${PWD%/}
    __vaultsh_found=
    while :; do
        if [[ -f $dir/.awsvault ]]; then
            __vaultsh_found=$dir/.awsvault
            return 0
        fi
        [[ -n $dir ]] || return 0
        dir=${dir%/*}
    done
}

# Runs the binary with the bookkeeping in its environment and evaluates what it prints, only
# when it succeeded; Ctrl-C cannot interrupt the evaluation halfway.
__vaultsh_run() {
    emulate -L zsh
    local __vaultsh_out
    __vaultsh_out=$(__VAULTSH_SHELL=zsh __VAULTSH_STATE=${__vaultsh_state-} __VAULTSH_SCOPE=${__vaultsh_from-${__vaultsh_scope-}} __VAULTSH_MARKER=${__vaultsh_found-} \command @VAULTSH@ "$@") || return
    # emulate -L makes this trap local to the function
    trap '' INT
    eval -- "$__vaultsh_out"
}

# The prompt and chpwd hook. Its idle path (the directory of the last walk, that walk's marker
# still there, nothing due) is one test: no nested call and no emulate, each of which costs
# more than the test. zsh restores $? after hook functions.
__vaultsh_hook() {
    [[ $PWD == "${__vaultsh_pwd-}" && -n ${__vaultsh_scope+set} &&
        (-z ${__vaultsh_scope-} || -f ${__vaultsh_scope-}) &&
        (-z ${__vaultsh_refresh_at-} || ${EPOCHSECONDS-0} -lt ${__vaultsh_refresh_at-}) &&
        (-z ${__vaultsh_watch-} || -e ${__vaultsh_watch-}) &&
        (-z ${VAULTSH_PROFILE-} || -n ${__vaultsh_state+set}) ]] || __vaultsh_check
}

# The hook's other path, in interactive shells only: walk up for the marker, and run the binary
# when the marker changed, renewal is due, the credential server exited, or this shell inherited
# vaultsh credentials it has not taken charge of yet.
__vaultsh_check() {
    emulate -L zsh
    [[ -o interactive ]] && ((!ZSH_SUBSHELL)) || return 0
    local __vaultsh_found
    __vaultsh_find
    typeset -g __vaultsh_pwd=$PWD
    if [[ $__vaultsh_found != "${__vaultsh_scope-}" ]] ||
        [[ -n ${__vaultsh_refresh_at-} && $EPOCHSECONDS -ge $__vaultsh_refresh_at ]] ||
        [[ -n ${__vaultsh_watch-} && ! -e $__vaultsh_watch ]] ||
        [[ -n ${VAULTSH_PROFILE-} && -z ${__vaultsh_state+set} ]]; then
        # record the marker first: a hook cut short by Ctrl-C must not start over at the next prompt
        local __vaultsh_from="${__vaultsh_scope-}"
        typeset -g __vaultsh_scope=$__vaultsh_found
        __vaultsh_run hook
    else
        typeset -g __vaultsh_scope=$__vaultsh_found
    fi
}

vaultsh() {
    case ${1-} in
    use | allow | deny | pin)
        local __vaultsh_found
        __vaultsh_find
        __vaultsh_run "$@"
        ;;
    *)
        __VAULTSH_STATE=${__vaultsh_state-} \command @VAULTSH@ "$@"
        ;;
    esac
}

# Install the hooks once, first in line so later prompt code (starship's aws module) sees the
# new credentials; chpwd also catches directory changes made by ZLE widgets.
typeset -ag precmd_functions chpwd_functions
precmd_functions=(__vaultsh_hook ${precmd_functions:#__vaultsh_hook})
chpwd_functions=(__vaultsh_hook ${chpwd_functions:#__vaultsh_hook})

# To use vaultsh in zsh, add this to ~/.zshrc:
#
#   eval "$(vaultsh init zsh)"
