# shellcheck shell=bash
# Helpers sourced by .ci/run, .ci/setup, wasm/build and tests/run (not executable on its own).
#
# Every command a script runs is printed first (`run`), every phase is announced with the
# seconds elapsed since the script started (`step`), so a CI log says what ran and how long.

# The repository root, whatever directory the caller was in.
MPCDIFF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MPCDIFF_ROOT

# rustup installs cargo binaries here; a fresh shell (CI) may not have it on PATH yet.
case ":$PATH:" in
*":$HOME/.cargo/bin:"*) ;;
*) export PATH="$HOME/.cargo/bin:$PATH" ;;
esac

_script_name="$(basename "$0")"

step() {
    printf '\n==> [%s +%ss] %s\n' "$_script_name" "$SECONDS" "$*" >&2
}

note() {
    printf '    %s\n' "$*" >&2
}

run() {
    printf '    $ %s\n' "$*" >&2
    "$@"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# lock_version NAME: the version of package NAME in Cargo.lock (exactly one entry expected).
lock_version() {
    local versions
    versions="$(awk -v name="$1" '
        $0 == "name = \"" name "\"" { want = 1; next }
        want && /^version = / { gsub(/^version = "|"$/, ""); print; want = 0 }
    ' "$MPCDIFF_ROOT/Cargo.lock")"
    case "$versions" in
    "") die "package $1 not found in Cargo.lock" ;;
    *$'\n'*) die "Cargo.lock holds several versions of $1: $(echo "$versions" | tr '\n' ' ')" ;;
    esac
    printf '%s\n' "$versions"
}

# wasm_bindgen_cli_version: the installed wasm-bindgen CLI's version, or nothing.
wasm_bindgen_cli_version() {
    if command -v wasm-bindgen >/dev/null 2>&1; then
        # Prints "wasm-bindgen 0.2.130".
        wasm-bindgen --version | awk '{ print $2 }'
    fi
}

# The cargo target directory (scripts run from the root, so a relative one is relative to it).
cargo_target_dir() {
    local dir="${CARGO_TARGET_DIR:-target}"
    case "$dir" in
    /*) printf '%s\n' "$dir" ;;
    *) printf '%s\n' "$MPCDIFF_ROOT/$dir" ;;
    esac
}
