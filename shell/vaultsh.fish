# vaultsh shell integration for fish, printed by `vaultsh init fish`.
#
# - the `vaultsh` function runs the binary; for `use`, `allow`, `deny` and `pin` it evaluates
#   the shell code the binary prints, so they can change this shell's variables;
# - prompt and PWD hooks (interactive shells only) find the governing .awsvault marker in shell
#   code (walking up when the directory changed; otherwise checking that the marker is still
#   there) and start the binary only when the marker changed, the credentials are due for
#   renewal or their server exited; the PWD hook is armed only while the prompt is shown
#   (direnv's approach), so a `cd` inside a script or function never triggers it;
# - completion, appended from shell/completions/vaultsh.fish.
#
# Bookkeeping lives in global variables that are never exported and never hold a secret:
# __vaultsh_state (opaque, written by the binary), __vaultsh_scope (the marker last seen),
# __vaultsh_pwd (the directory the hook last walked up from), __vaultsh_found (the marker
# found by the last walk),
# __vaultsh_refresh_at / __vaultsh_refresh_up (when the credentials enter the renewal window,
# in Unix seconds and in seconds of /proc/uptime, which fish can read without a process),
# __vaultsh_watch (a path that exists while the credential server in use runs).
# @VAULTSH@ stands for the binary's absolute path, quoted, filled in by `vaultsh init`.

# Sets __vaultsh_found to the nearest .awsvault at or above $PWD ('' when none). One
# substitution splits $PWD (when `string split` ends a substitution fish keeps its pieces
# whole, newlines included); the candidates are built with `set`, which needs none.
function __vaultsh_find
    set -l dir /
    set -l candidates /.awsvault
    for part in (string split --no-empty / -- $PWD)
        set dir "$dir$part/"
        set -p candidates "$dir.awsvault"
    end
    for candidate in $candidates
        if test -f "$candidate"
            set -g __vaultsh_found "$candidate"
            return 0
        end
    end
    set -g __vaultsh_found ''
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
    if set -q __vaultsh_refresh_up[1]; and read -d . -l up rest </proc/uptime 2>/dev/null
        test "$up" -ge "$__vaultsh_refresh_up"
    else if set -q __vaultsh_refresh_at[1]
        test (command date +%s) -ge "$__vaultsh_refresh_at"
    else
        return 1
    end
end

function __vaultsh_check
    # the idle path: the directory of the last walk, that walk's marker still there, nothing due
    if set -q __vaultsh_scope
        and test "$PWD" = "$__vaultsh_pwd" -a \( -z "$__vaultsh_scope" -o -f "$__vaultsh_scope" \) -a \( -z "$__vaultsh_watch" -o -e "$__vaultsh_watch" \) -a \( -z "$VAULTSH_PROFILE" -o -n "$__vaultsh_state" \)
        and not __vaultsh_due
        return 0
    end
    __vaultsh_find
    set -g __vaultsh_pwd $PWD
    if test "$__vaultsh_found" != "$__vaultsh_scope"; or __vaultsh_due; or begin
            set -q __vaultsh_watch[1]; and not test -e "$__vaultsh_watch"
        end; or begin
            set -q VAULTSH_PROFILE[1]; and not set -q __vaultsh_state
        end
        set -l from "$__vaultsh_scope"
        # record the marker first: a hook cut short by Ctrl-C must not start over at the next prompt
        set -g __vaultsh_scope "$__vaultsh_found"
        __vaultsh_run "$__vaultsh_found" "$from" hook
    else
        set -g __vaultsh_scope "$__vaultsh_found"
    end
end

function vaultsh
    switch "$argv[1]"
        case use allow deny pin
            __vaultsh_find
            __vaultsh_run "$__vaultsh_found" "$__vaultsh_scope" $argv
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
