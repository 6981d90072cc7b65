# vaultsh shell integration for fish, printed by `vaultsh init fish`.
#
# - the `vaultsh` function runs the binary; for `use`, `allow`, `deny` and `pin` it evaluates
#   the shell code the binary prints, so they can change this shell's variables;
# - prompt and PWD hooks (interactive shells only) find the governing .awsvault marker in shell
#   code and start the binary only when the marker changed or the credentials are due for
#   renewal; the PWD hook is armed only while the prompt is shown (direnv's approach), so a
#   `cd` inside a script or function never triggers it;
# - completion, appended from shell/completions/vaultsh.fish.
#
# Bookkeeping lives in global variables that are never exported and never hold a secret:
# __vaultsh_state (opaque, written by the binary), __vaultsh_scope (the marker last seen),
# __vaultsh_refresh_at / __vaultsh_refresh_up (when the credentials enter the renewal window,
# in Unix seconds and in seconds of /proc/uptime, which fish can read without a process),
# __vaultsh_watch (a path that exists while the credential server in use runs).
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

# Prints the nearest .awsvault at or above $PWD (nothing when none). The directory is kept
# with a trailing '/': a command substitution drops trailing newlines and splits at the others,
# and a directory name may hold both (`string collect` keeps it one word).
function __vaultsh_find
    set -l dir (string replace -r '/*\z' / -- $PWD | string collect)
    while test -n "$dir"
        if test -f "$dir.awsvault"
            printf '%s' "$dir.awsvault"
            return 0
        end
        set dir (string replace -r '[^/]*/\z' '' -- $dir | string collect)
    end
end

# Runs the binary for marker $argv[1], coming from scope $argv[2], with the bookkeeping in its
# environment and sources what it prints, only when it succeeded. Its output is read through a
# pipe, not a command substitution: fish gives a substitution the terminal's stderr whatever the
# caller redirected, and vaultsh's messages belong to the caller's stderr (`2>/dev/null`).
function __vaultsh_run
    set -l marker $argv[1]
    set -l from $argv[2]
    set -e argv[1..2]
    __VAULTSH_SHELL=fish __VAULTSH_STATE="$__vaultsh_state" __VAULTSH_SCOPE="$from" __VAULTSH_MARKER="$marker" command @VAULTSH@ $argv | read -z -l out
    set -l code $pipestatus[1]
    test $code -eq 0; or return $code
    printf '%s' "$out" | source
    # its status is that of the last `set`, and `set -e` of a variable not set returns 4
    return 0
end

# True when the credentials entered their renewal window.
function __vaultsh_due
    if set -q __vaultsh_refresh_up[1]; and test -r /proc/uptime
        read -l up _rest </proc/uptime
        test (math "floor($up)") -ge "$__vaultsh_refresh_up"
    else if set -q __vaultsh_refresh_at[1]
        test (command date +%s) -ge "$__vaultsh_refresh_at"
    else
        return 1
    end
end

function __vaultsh_check
    set -l found (__vaultsh_find | string collect)
    if test "$found" != "$__vaultsh_scope"; or __vaultsh_due; or begin
            set -q __vaultsh_watch[1]; and not test -e "$__vaultsh_watch"
        end; or begin
            set -q VAULTSH_PROFILE[1]; and not set -q __vaultsh_state
        end
        set -l from "$__vaultsh_scope"
        # record the marker first: a hook cut short by Ctrl-C must not start over at the next prompt
        set -g __vaultsh_scope "$found"
        __vaultsh_run "$found" "$from" hook
    end
end

function vaultsh
    switch "$argv[1]"
        case use allow deny pin
            # through a variable: an empty substitution would vanish from the argument list
            set -l found (__vaultsh_find | string collect)
            __vaultsh_run "$found" "$__vaultsh_scope" $argv
        case '*'
            __VAULTSH_STATE="$__vaultsh_state" command @VAULTSH@ $argv
    end
end

if status is-interactive
    function __vaultsh_prompt_hook --on-event fish_prompt
        __vaultsh_check
        function __vaultsh_pwd_hook --on-variable PWD
            __vaultsh_check
        end
    end

    function __vaultsh_preexec_hook --on-event fish_preexec
        functions --erase __vaultsh_pwd_hook
    end
end

# To use vaultsh in fish, add this to ~/.config/fish/config.fish:
#
#   vaultsh init fish | source
