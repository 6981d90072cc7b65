#!/bin/sh
# shellcheck shell=dash
#
# Installs vaultsh for the current user:
#   ./install.sh               install (or update) vaultsh into ${VAULTSH_INSTALL_DIR:-~/.local/bin}
#   ./install.sh --uninstall   remove what install.sh installed (stored keys are left alone)
#
# It uses a deno >= 2.9 from PATH, or installs Deno 2.9.6 through npm into vaultsh's own
# prefix, and builds a code-split bundle of vaultsh (the AWS SDK in chunks loaded only when a
# command calls AWS). It compiles that bundle into a binary where compiling works (the first
# compile downloads Deno's runtime, denort); otherwise it installs a launcher script that runs
# the bundle, with exactly the permissions the binary would have.
#
# Environment: VAULTSH_INSTALL_DIR (bin dir), VAULTSH_INSTALL_MODE (auto|compile|launcher),
# VAULTSH_DENO (a deno binary to use), DENO_DIR (where dependencies are cached).
set -eu

DENO_VERSION=2.9.6
PERMISSIONS="--allow-env --allow-read --allow-write --allow-run --allow-net --allow-ffi --allow-sys"

main() {
    parse_args "$@"
    here=$(cd "$(dirname "$0")" && pwd -P)
    bin_dir=${VAULTSH_INSTALL_DIR:-$HOME/.local/bin}
    data_dir=${XDG_DATA_HOME:-$HOME/.local/share}/vaultsh
    app_dir=$data_dir/app

    if [ "$uninstall" = 1 ]; then
        uninstall
        return
    fi

    deno=$(find_deno)
    say "using $("$deno" --version | head -n 1) ($deno)"
    if [ -z "${DENO_DIR:-}" ]; then
        DENO_DIR=$data_dir/deno-cache
    fi
    export DENO_DIR

    say "fetching dependencies into $DENO_DIR"
    (cd "$here" && "$deno" install --quiet --frozen --entrypoint src/main.ts) ||
        err "could not fetch dependencies (is the npm registry reachable?)"
    build_bundle

    ensure mkdir -p "$bin_dir"
    mode=${VAULTSH_INSTALL_MODE:-auto}
    case $mode in
    auto)
        if try_compile; then mode=compile; else mode=launcher; fi
        ;;
    compile) try_compile || err "deno compile failed (it needs to download denort once)" ;;
    launcher) ;;
    *) err "VAULTSH_INSTALL_MODE must be auto, compile or launcher, not '$mode'" ;;
    esac
    if [ "$mode" = launcher ]; then
        write_launcher
        say "installed a launcher script at $bin_dir/vaultsh (deno compile is unavailable here: it needs to download denort)"
    else
        say "installed the compiled binary at $bin_dir/vaultsh"
    fi

    case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) say "note: $bin_dir is not on your PATH; add it, or use the full path below" ;;
    esac
    shell_name=$(basename "${SHELL:-bash}")
    case $shell_name in
    zsh | bash) rc=$HOME/.${shell_name}rc ;;
    fish) rc=${XDG_CONFIG_HOME:-$HOME/.config}/fish/config.fish ;;
    *) shell_name=bash rc=$HOME/.bashrc ;;
    esac
    say ""
    say "Add this line to $rc:"
    if [ "$shell_name" = fish ]; then
        say "  $bin_dir/vaultsh init fish | source"
    else
        say "  eval \"\$($bin_dir/vaultsh init $shell_name)\""
    fi
}

parse_args() {
    uninstall=0
    for arg in "$@"; do
        case $arg in
        --uninstall) uninstall=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) err "unknown argument '$arg' (try --help)" ;;
        esac
    done
}

# The comment block at the top of this file, without its '#' marks.
usage() {
    printf 'Usage: ./install.sh [--uninstall]\n\n'
    sed -n '3,/^[^#]/{/^#/s/^# \{0,1\}//p;}' "$0" | sed '1{/^$/d;}'
}

# Prints the path of a deno >= 2.9, installing Deno $DENO_VERSION through npm when needed.
find_deno() {
    if [ -n "${VAULTSH_DENO:-}" ]; then
        echo "$VAULTSH_DENO"
        return
    fi
    if candidate=$(command -v deno 2>/dev/null) && deno_is_recent "$candidate"; then
        echo "$candidate"
        return
    fi
    prefix=$data_dir/deno
    candidate=$prefix/node_modules/.bin/deno
    if [ -x "$candidate" ] && deno_is_recent "$candidate"; then
        echo "$candidate"
        return
    fi
    need_cmd npm
    say "installing Deno $DENO_VERSION through npm into $prefix"
    ensure mkdir -p "$prefix"
    npm install --silent --no-audit --no-fund --prefix "$prefix" "deno@$DENO_VERSION" >&2 ||
        err "npm could not install deno@$DENO_VERSION"
    [ -x "$candidate" ] || err "npm installed deno but $candidate is missing"
    echo "$candidate"
}

deno_is_recent() {
    version=$("$1" --version 2>/dev/null | sed -n '1s/^deno \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
    [ -n "$version" ] || return 1
    major=${version% *}
    minor=${version#* }
    [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 9 ]; }
}

# The bundle: vaultsh and its dependencies as plain JavaScript, so starting it resolves and
# type-checks nothing; the launcher and the binary run it from $app_dir, so the clone can move or
# go away after installing. Built beside the old one and swapped in, so a failed build leaves
# the installed vaultsh working.
build_bundle() {
    say "bundling vaultsh (deno bundle)"
    ensure mkdir -p "$data_dir"
    chmod 700 "$data_dir"
    staging=$data_dir/app.new
    rm -rf "$staging"
    (cd "$here" && "$deno" bundle --quiet --frozen --code-splitting --platform deno \
        --outdir "$staging" src/main.ts) >&2 || err "deno bundle failed"
    [ -f "$staging/main.js" ] || err "deno bundle wrote no $staging/main.js"
    # Two rewrites keep a cache hit to the code it runs (test/hot_path_test.ts checks them):
    # - at start-up deno reads and parses every module a string-literal import() names, so each
    #   run would parse all chunks, the whole AWS SDK included; a computed specifier is loaded
    #   only when the code runs the import;
    # - the bundler's shared runtime chunk imports node:module for the require() of CommonJS
    #   packages (only SDK code calls it), which starts Deno's Node layer in every run; the
    #   rewritten __require reaches node:module only when called.
    for chunk in "$staging"/*.js; do
        ensure sed -E \
            -e 's/import\("(\.\/[A-Za-z0-9_-]+\.js)"\)/import(["\1"][0])/g' \
            -e '/^import \{ createRequire as __deno_internal_createRequire \} from "node:module";$/d' \
            -e 's/^var __require = __deno_internal_createRequire\(import\.meta\.url\);$/var __require = (id) => globalThis.process.getBuiltinModule("node:module").createRequire(import.meta.url)(id);/' \
            "$chunk" >"$chunk.tmp"
        ensure mv "$chunk.tmp" "$chunk"
    done
    rm -rf "$app_dir.old"
    if [ -d "$app_dir" ]; then ensure mv "$app_dir" "$app_dir.old"; fi
    ensure mv "$staging" "$app_dir"
    rm -rf "$app_dir.old"
}

try_compile() {
    say "compiling (deno compile)..."
    target=$bin_dir/.vaultsh.new
    # shellcheck disable=SC2086 # the permission flags are meant to split
    if (cd "$app_dir" && "$deno" compile --quiet --no-config --no-check $PERMISSIONS \
        --include "$app_dir" --output "$target" main.js) >/dev/null 2>&1; then
        ensure mv "$target" "$bin_dir/vaultsh"
        return 0
    fi
    rm -f "$target"
    return 1
}

write_launcher() {
    target=$bin_dir/.vaultsh.new
    cat >"$target" <<LAUNCHER
#!/bin/sh
# vaultsh launcher written by install.sh: runs the installed bundle with the permissions the
# compiled binary would have. VAULTSH_SELF tells vaultsh its own path for 'vaultsh init'.
# No core files: vaultsh's memory holds keys (vaultsh also sets this itself, where it can).
ulimit -Sc 0 2>/dev/null
VAULTSH_SELF=$(quote "$bin_dir/vaultsh") DENO_DIR=$(quote "$DENO_DIR") exec $(quote "$deno") run --quiet --no-prompt --no-config --cached-only --no-check $PERMISSIONS $(quote "$app_dir/main.js") "\$@"
LAUNCHER
    ensure chmod 755 "$target"
    ensure mv "$target" "$bin_dir/vaultsh"
}

uninstall() {
    removed=0
    if [ -e "$bin_dir/vaultsh" ]; then
        ensure rm -f "$bin_dir/vaultsh"
        say "removed $bin_dir/vaultsh"
        removed=1
    fi
    for dir in "$app_dir" "$data_dir/deno" "$data_dir/deno-cache"; do
        if [ -e "$dir" ]; then
            ensure rm -rf "$dir"
            say "removed $dir"
            removed=1
        fi
    done
    [ "$removed" = 1 ] || say "nothing to remove"
    say "stored keys and trust records are kept; 'vaultsh remove' deletes keys before uninstalling"
}

# Single-quotes a value for sh.
quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

say() {
    printf '%s\n' "$*" >&2
}

err() {
    say "install.sh: $*"
    exit 1
}

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || err "need '$1' (not found on PATH)"
}

ensure() {
    "$@" || err "command failed: $*"
}

main "$@"
