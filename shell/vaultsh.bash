# shellcheck shell=bash
# vaultsh shell integration for bash, printed by `vaultsh init bash`.
#
# - the `vaultsh` function runs the binary; for `use`, `allow`, `deny` and `pin` it evaluates
#   the shell code the binary prints, so they can change this shell's variables;
# - a PROMPT_COMMAND hook finds the governing .awsvault marker in shell code (walking up when
#   the directory changed; otherwise checking that the marker is still there) and starts the
#   binary only when the marker changed, the credentials are due for renewal or their server
#   exited;
# - completion, appended from shell/completions/vaultsh.bash.
#
# Bookkeeping lives in shell variables that are never exported and never hold a secret:
# __vaultsh_state (opaque, written by the binary), __vaultsh_scope (the marker last seen),
# __vaultsh_pwd (the directory the hook last walked up from),
# __vaultsh_refresh_at (when the credentials enter the renewal window, Unix seconds),
# __vaultsh_watch (a path that exists while the credential server in use runs).
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4))); then
    \builtin printf 'vaultsh: bash %s is too old for the shell integration (needs 4.4 or newer); vaultsh exec still works\n' "${BASH_VERSION-}" >&2
else

    # Sets __vaultsh_found to the nearest .awsvault at or above $PWD ('' when none).
    # Values given to `\builtin local` are quoted: called through `builtin`, its arguments are
    # split and globbed, and a directory named `x a[$(cmd)]=1` would run cmd.
    __vaultsh_find() {
        \builtin local dir="${PWD%/}"
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

    # Runs the binary with the bookkeeping in its environment and evaluates what it prints,
    # only when it succeeded; Ctrl-C cannot interrupt the evaluation halfway.
    __vaultsh_run() {
        \builtin local __vaultsh_out __vaultsh_trap
        __vaultsh_out=$(__VAULTSH_SHELL=bash __VAULTSH_STATE=${__vaultsh_state-} __VAULTSH_SCOPE=${__vaultsh_from-${__vaultsh_scope-}} __VAULTSH_MARKER=${__vaultsh_found-} \command @VAULTSH@ "$@") || return
        __vaultsh_trap=$(\builtin trap -p INT)
        \builtin trap -- '' INT
        \builtin eval -- "$__vaultsh_out"
        \builtin trap - INT
        [[ -z $__vaultsh_trap ]] || \builtin eval -- "$__vaultsh_trap"
    }

    # The prompt hook. Its idle path (the directory of the last walk, that walk's marker still
    # there, nothing due) is one test. Without $EPOCHSECONDS (bash < 5) credentials with a
    # renewal time take the other path, which reads the clock with printf.
    __vaultsh_hook() {
        \builtin local __vaultsh_status=$?
        [[ $PWD == "${__vaultsh_pwd-}" && -n ${__vaultsh_scope+set} &&
            (-z ${__vaultsh_scope-} || -f ${__vaultsh_scope-}) &&
            (-z ${__vaultsh_refresh_at-} || ${EPOCHSECONDS:-$__vaultsh_refresh_at} -lt $__vaultsh_refresh_at) &&
            (-z ${__vaultsh_watch-} || -e ${__vaultsh_watch-}) &&
            (-z ${VAULTSH_PROFILE-} || -n ${__vaultsh_state+set}) ]] || __vaultsh_check
        return "$__vaultsh_status"
    }

    # The hook's other path: walk up for the marker, and run the binary when the marker changed,
    # renewal is due, the credential server exited, or this shell inherited vaultsh credentials
    # it has not taken charge of yet.
    __vaultsh_check() {
        \builtin local __vaultsh_found __vaultsh_now=${EPOCHSECONDS-}
        __vaultsh_find
        __vaultsh_pwd=$PWD
        [[ -n $__vaultsh_now ]] || \builtin printf -v __vaultsh_now '%(%s)T' -1
        if [[ $__vaultsh_found != "${__vaultsh_scope-}" ]] ||
            [[ -n ${__vaultsh_refresh_at-} && $__vaultsh_now -ge $__vaultsh_refresh_at ]] ||
            [[ -n ${__vaultsh_watch-} && ! -e $__vaultsh_watch ]] ||
            [[ -n ${VAULTSH_PROFILE-} && -z ${__vaultsh_state+set} ]]; then
            # record the marker first: a hook cut short by Ctrl-C must not start over at the next prompt
            \builtin local __vaultsh_from="${__vaultsh_scope-}"
            __vaultsh_scope=$__vaultsh_found
            __vaultsh_run hook
        else
            __vaultsh_scope=$__vaultsh_found
        fi
    }

    vaultsh() {
        case ${1-} in
        use | allow | deny | pin)
            \builtin local __vaultsh_found
            __vaultsh_find
            __vaultsh_run "$@"
            ;;
        *)
            __VAULTSH_STATE=${__vaultsh_state-} \command @VAULTSH@ "$@"
            ;;
        esac
    }

    # Install the hook once, first in line so later prompt code (starship's aws module) sees the
    # new credentials; PROMPT_COMMAND may be a string or, since bash 5.1, an array.
    __vaultsh_install() {
        # joins array elements with ';' too, so the check finds the hook in either form
        \builtin local IFS=';'
        [[ ";${PROMPT_COMMAND[*]-};" != *";__vaultsh_hook;"* ]] || return 0
        if [[ $(\builtin declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
            PROMPT_COMMAND=(__vaultsh_hook "${PROMPT_COMMAND[@]}")
        else
            # shellcheck disable=SC2128,SC2178 # this branch handles the string form
            PROMPT_COMMAND="__vaultsh_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
        fi
    }
    __vaultsh_install
    \builtin unset -f __vaultsh_install

fi

# To use vaultsh in bash, add this to ~/.bashrc:
#
#   eval "$(vaultsh init bash)"
