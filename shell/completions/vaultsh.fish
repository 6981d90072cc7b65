# vaultsh completion for fish, appended to `vaultsh init fish`.
#
# Commands, flags (with their descriptions) and value lists come from vaultsh's command table
# (the generated lines below); profile names from `vaultsh list --names`, sso-session names
# from `vaultsh list --sso-sessions`. fish inserts a
# candidate escaped: a profile named `$(cmd)` completes to `\$\(cmd\)` and never runs.
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

function __vaultsh_profiles
    command @VAULTSH@ list --names 2>/dev/null
end

function __vaultsh_sso_sessions
    command @VAULTSH@ list --sso-sessions 2>/dev/null
end

# Prints the command being completed, the number of the argument under the cursor (from 1),
# and where among the tokens a variadic last argument (exec's command) starts (0: not yet).
# Nothing before a command. fish asks once per `complete` line: the answer is kept for the
# line being edited.
function __vaultsh_position
    set -l line (commandline -cp | string collect)
    if test "$line" != "$__vaultsh_position_line"
        set -g __vaultsh_position_line $line
        set -g __vaultsh_position_is (__vaultsh_find_position)
    end
    test -n "$__vaultsh_position_is"; and echo $__vaultsh_position_is
end

function __vaultsh_find_position
    set -l tokens (commandline -opc)
    set -l command
    set -l value 0
    set -l position 1
    set -l i 1
    while test $i -lt (count $tokens)
        set i (math $i + 1)
        set -l token $tokens[$i]
        if test $value = 1
            set value 0
        else if test -z "$command"
            string match -q -- '-*' $token; and continue
            set command (__vaultsh_canonical $token)
            __vaultsh_spec $command; or return 1
        else if test -n "$__vaultsh_subs"
            # a group (vaultsh sso): this token names its command
            string match -q -- '-*' $token; and continue
            set command $command.$token
            __vaultsh_spec $command; or return 1
        else if test "$token" = -- -a $__vaultsh_variadic = 1
            echo $command $__vaultsh_nargs (math $i + 1)
            return 0
        else if string match -q -- '-?*' $token
            contains -- $token $__vaultsh_valued; and set value 1
        else if test $position -ge $__vaultsh_nargs -a $__vaultsh_variadic = 1
            echo $command $__vaultsh_nargs $i
            return 0
        else
            set position (math $position + 1)
        end
    end
    test -n "$command"; or return 1
    set -l start 0
    if test $position -ge $__vaultsh_nargs -a $__vaultsh_variadic = 1
        and not string match -q -- '-*' (commandline -ct)
        set start (math (count $tokens) + 1)
    end
    echo $command $position $start
end

function __vaultsh_no_command
    not __vaultsh_position >/dev/null
end

# True while completing command $argv[1]'s own flags.
function __vaultsh_in
    set -l at (__vaultsh_position | string split ' ')
    test "$at[1]" = $argv[1] -a "$at[3]" = 0
end

# True while completing argument $argv[2] of command $argv[1]; with a third argument (+), the
# variadic last argument (exec's command), wherever it has got to.
function __vaultsh_argument
    set -l at (__vaultsh_position | string split ' ')
    test "$at[1]" = $argv[1]; or return 1
    if test (count $argv) = 3
        test "$at[3]" != 0
    else
        test "$at[3]" = 0 -a "$at[2]" = $argv[2]
        and not string match -q -- '-*' (commandline -ct)
    end
end

# Completes exec's command as if it were typed on its own.
function __vaultsh_command_words
    set -l tokens (commandline -opc)
    set -l start (__vaultsh_position | string split ' ')[3]
    set -l rest
    test $start -le (count $tokens); and set rest $tokens[$start..-1]
    complete -C (string join ' ' -- (string escape -- $rest) (commandline -ct))
end

# @VAULTSH_WORDS@
