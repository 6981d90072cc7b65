# Entry point for fish plugin managers (fisher): runs `vaultsh init fish`.
# It needs vaultsh on PATH; otherwise add `/path/to/vaultsh init fish | source` to config.fish.
if command -q vaultsh
    command vaultsh init fish | source
else if status is-interactive
    echo 'vaultsh: the fish plugin needs vaultsh on PATH (see install.sh)' >&2
end
