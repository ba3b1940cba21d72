#!/usr/bin/env bash
# Installs what the VS Code end-to-end test needs, idempotently, cached outside the repository:
# Debian packages (libkrb5-dev pkg-config chromium), a seeded ripgrep download cache, and
# code-server@4.100.3 + playwright-core with code-server's postinstall run by hand.
# Follows /work/shared/recipes/code-server.md. Prints the cache folder as its last line.
# Exit codes: 0 ready, 3 cannot install here (the test skips with the message on stderr), other: failure.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${PLANGATE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plangate-e2e}"
CODE_SERVER_VERSION=4.100.3
STAMP="$CACHE/.installed-code-server-$CODE_SERVER_VERSION"

log() { echo "[setup] $*" >&2; }
cannot() { echo "[setup] cannot install: $*" >&2; exit 3; }

mkdir -p "$CACHE"
# One setup at a time (pytest-xdist or two checkouts sharing the cache).
exec 9>"$CACHE/.lock"
flock -w 1800 9 || cannot "timed out waiting for another setup holding $CACHE/.lock"

# 1. Debian packages.
missing=()
for pkg in libkrb5-dev pkg-config chromium; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || cannot "apt-get not found and missing: ${missing[*]}"
    SUDO=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || cannot "not root, no sudo; missing: ${missing[*]}"
        SUDO=(sudo -n)
    fi
    log "apt-get install ${missing[*]}"
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; then
        "${SUDO[@]}" apt-get update -q >&2 || true
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
            || cannot "apt-get install ${missing[*]} failed"
    fi
fi
[[ -x /usr/bin/chromium ]] || cannot "/usr/bin/chromium missing after install"

command -v node >/dev/null || cannot "node not found"
command -v npm >/dev/null || cannot "npm not found"

# 2. Seed @vscode/ripgrep's download cache (GitHub is unreachable) with the rg of the project's venv.
TMP_NODE="$(node -p 'require("os").tmpdir()')"
RG_CACHE="$TMP_NODE/vscode-ripgrep-cache-1.15.11"
RG_TAR="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [[ ! -s "$RG_TAR" ]]; then
    RG=""
    for c in "$REPO/.venv/bin/rg" "$(command -v rg || true)"; do
        [[ -n "$c" && -x "$c" ]] && { RG="$c"; break; }
    done
    [[ -n "$RG" ]] || cannot "no rg binary (expected $REPO/.venv/bin/rg from the ripgrep==14.1.0 wheel)"
    log "seeding $RG_TAR from $RG"
    mkdir -p "$RG_CACHE"
    tmp="$(mktemp -d)"
    cp "$RG" "$tmp/rg" && chmod 755 "$tmp/rg"
    tar -C "$tmp" -czf "$RG_TAR.part" rg && mv "$RG_TAR.part" "$RG_TAR"
    rm -rf "$tmp"
fi

# 3. code-server + playwright-core.
if [[ ! -f "$STAMP" ]]; then
    cd "$CACHE"
    [[ -f package.json ]] || echo '{"name": "plangate-e2e-cache", "private": true}' > package.json
    log "npm install code-server@$CODE_SERVER_VERSION playwright-core (in $CACHE)"
    # npm may run code-server's postinstall itself (it needs these answers) or skip it ("not yet
    # covered by allowScripts"); then we run it by hand.
    npm_config_yes=true npm_config_unsafe_perm=true \
        npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" playwright-core >&2
    VS=node_modules/code-server/lib/vscode/node_modules
    if [[ ! -e $VS/node-pty/build/Release/pty.node ]] || [[ ! -e $VS/@vscode/ripgrep/bin/rg ]]; then
        log "running code-server's postinstall by hand (compiles native modules: minutes)"
        (cd node_modules/code-server \
            && npm_config_yes=true npm_config_unsafe_perm=true \
               npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64" sh ./postinstall.sh >&2)
    fi
    [[ -x node_modules/.bin/code-server ]] || { log "no node_modules/.bin/code-server"; exit 1; }
    node_modules/.bin/code-server --config "$CACHE/config.yaml" --version >&2
    touch "$STAMP"
fi
echo "$CACHE"
