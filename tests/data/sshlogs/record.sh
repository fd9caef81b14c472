#!/bin/bash
# Re-record the ssh transcripts in this folder with the real OpenSSH client against a
# throwaway loopback sshd (testbed.md 1.2/1.5). Needs root (sshd with privilege separation).
# Loopback only: nothing here leaves 127.0.0.0/8 or ::1 (the DNS case runs in an empty
# network namespace). Usage: bash tests/data/sshlogs/record.sh [OUTDIR]
set -u
OUT=$(cd "${1:-$(dirname "$0")}" && pwd)
TB=$(mktemp -d /tmp/sshsetup-rec-XXXXXX); chmod 755 "$TB"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P=$(free_port)
mkdir -p "$TB/sshd/authorized_keys" "$TB/c" /run/sshd; chmod 755 /run/sshd; chmod 700 "$TB/c"
ssh-keygen -q -t ed25519 -N '' -C testbed-host -f "$TB/sshd/hostkey"
ssh-keygen -q -t ed25519 -N '' -C other-host -f "$TB/sshd/otherkey"
ssh-keygen -q -t ed25519 -N '' -C sshsetup-test -f "$TB/c/id_ed25519_jsc"
ssh-keygen -q -t ed25519 -N 'correct horse' -C jsc-pp -f "$TB/c/id_pp"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TB"; }
trap cleanup EXIT

sshd_conf() {  # $1 = extra lines
  cat > "$TB/sshd/sshd_config" <<CFG
Port $P
ListenAddress 127.0.0.1
ListenAddress ::1
HostKey $TB/sshd/hostkey
PidFile none
AuthorizedKeysFile $TB/sshd/authorized_keys/%u
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PrintMotd no
LogLevel VERBOSE
$1
CFG
}
start_sshd() {
  /usr/sbin/sshd -t -f "$TB/sshd/sshd_config" || exit 1
  setsid /usr/sbin/sshd -D -e -f "$TB/sshd/sshd_config" </dev/null >>"$TB/sshd/sshd.log" 2>&1 &
  SSHD=$!; PIDS+=("$SSHD")
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.05; done
}
stop_sshd() { kill "$SSHD"; wait "$SSHD" 2>/dev/null; }
HK=$(cut -d' ' -f1,2 "$TB/sshd/hostkey.pub")
OK=$(cut -d' ' -f1,2 "$TB/sshd/otherkey.pub")
printf '[127.0.0.1]:%s %s\n[::1]:%s %s\n' "$P" "$HK" "$P" "$HK" > "$TB/c/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$P" "$OK" > "$TB/c/known_hosts_changed"
: > "$TB/c/known_hosts_empty"
base_config() {  # $1 = identity file, $2 = known_hosts, $3 = extra
  cat > "$TB/c/config" <<CFG
Host tb
    HostName 127.0.0.1
    Port $P
    User root
    IdentityFile $1
    IdentitiesOnly yes
    UserKnownHostsFile $2
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
$3
CFG
  chmod 600 "$TB/c/config"
}
KEYLINE() { printf '%s%s\n' "$1" "$(cat "$TB/c/id_ed25519_jsc.pub")" > "$TB/sshd/authorized_keys/root"; }
rec() {  # $1 = name, rest = command; stores the client's stderr with stable placeholders
  local name=$1; shift
  "$@" </dev/null >/dev/null 2>"$TB/out"; local rc=$?
  sed -e "s#$TB#/tmp/tb#g" -e "s#\\b$P\\b#2222#g" "$TB/out" > "$OUT/$name.log"
  echo "$name: rc=$rc"
}
SSH=(ssh -F "$TB/c/config")

sshd_conf ""; start_sshd
KEYLINE 'from="127.0.0.0/8,::1" '
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" ""
rec accepted "${SSH[@]}" -v tb true
rec accepted-vvv "${SSH[@]}" -vvv tb true
KEYLINE 'from="127.0.0.0/8" '
rec ipv6-not-in-range "${SSH[@]}" -v -o AddressFamily=inet6 -o HostName=::1 tb true
: > "$TB/sshd/authorized_keys/root"
rec publickey-not-uploaded "${SSH[@]}" -v tb true
KEYLINE 'from="10.0.0.0/8" '
rec publickey-from-mismatch "${SSH[@]}" -v tb true
KEYLINE 'from="127.0.0.0/8,::1" '
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts_changed" ""
rec hostkey-changed "${SSH[@]}" -v tb true
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts_empty" ""
rec hostkey-unknown "${SSH[@]}" -v tb true
# an encrypted key, BatchMode, no agent
printf '%s\n' "$(cat "$TB/c/id_pp.pub")" > "$TB/sshd/authorized_keys/root"
base_config "$TB/c/id_pp" "$TB/c/known_hosts" ""
rec passphrase-no-agent "${SSH[@]}" -v tb true
rec passphrase-no-agent-vvv "${SSH[@]}" -vvv tb true
# bad permissions: the config, then the key
KEYLINE ''
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" ""
# ssh checks the mode of ~/.ssh/config only (not of a file given with -F): use a throwaway
# user whose passwd home is $TB/home (testbed.md 1.3), named like tests/testbed/users.py's.
U=sshsetup-$(python3 -c 'import secrets; print(secrets.token_hex(3))')
useradd -M -d "$TB/home" -s /bin/sh "$U" && usermod -p '*' "$U"
install -d -m 755 -o "$U" "$TB/home"; install -d -m 700 -o "$U" "$TB/home/.ssh"
install -m 666 -o "$U" "$TB/c/config" "$TB/home/.ssh/config"; chmod 666 "$TB/home/.ssh/config"
rec bad-permissions-config runuser -u "$U" -- ssh -v tb true
userdel "$U"
chmod 644 "$TB/c/id_ed25519_jsc"; rec unprotected-key "${SSH[@]}" -v tb true; chmod 600 "$TB/c/id_ed25519_jsc"
# too many authentication failures: an agent with 6 unrelated keys, no IdentitiesOnly
stop_sshd; sshd_conf "MaxAuthTries 3"; start_sshd
eval "$(ssh-agent -a "$TB/agent.sock" -s)" >/dev/null; PIDS+=("$SSH_AGENT_PID")
for i in 1 2 3 4 5 6; do ssh-keygen -q -t ed25519 -N '' -C "agent-$i" -f "$TB/c/agent$i"; ssh-add -q "$TB/c/agent$i" 2>/dev/null; done
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" ""
sed -i 's/IdentitiesOnly yes/IdentitiesOnly no/' "$TB/c/config"
rec too-many-failures "${SSH[@]}" -v tb true
kill "$SSH_AGENT_PID"; unset SSH_AUTH_SOCK SSH_AGENT_PID
# 2FA: publickey then keyboard-interactive (PAM supplies the prompt)
stop_sshd; sshd_conf "UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive"
sed -i '/^UsePAM no/d; /^KbdInteractiveAuthentication no/d' "$TB/sshd/sshd_config"
start_sshd
rec partial-success-2fa "${SSH[@]}" -v tb true
stop_sshd
# a refused port (nothing listens on it now)
rec connection-refused "${SSH[@]}" -v tb true
# a tarpit: accepts, never sends a banner
python3 - "$P" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
PIDS+=($!); sleep 0.5
rec banner-timeout "${SSH[@]}" -v -o ConnectTimeout=1 tb true
kill "${PIDS[-1]}"; sleep 0.2
# a server that accepts and closes at once (what a firewall block or MaxStartups looks like)
python3 - "$P" <<'PY' &
import socket, struct, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); n = 0
while True:
    c, _ = s.accept(); n += 1
    c.recv(256)  # read the client's banner first: closing with unread data sends a reset
    if n % 2 == 0:  # every second connection: a reset (SO_LINGER 0) instead of a clean close
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
PIDS+=($!); sleep 0.5
rec closed-before-auth "${SSH[@]}" -v tb true
rec reset-before-auth "${SSH[@]}" -v tb true
kill "${PIDS[-1]}"; sleep 0.2
# TCP connect timeout: a listener whose backlog is full drops further SYNs (like a firewall DROP)
python3 - "$P" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(0)
fill = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False); c.connect_ex(("127.0.0.1", int(sys.argv[1]))); fill.append(c)
time.sleep(600)
PY
PIDS+=($!); sleep 0.5
rec connect-timeout "${SSH[@]}" -v -o ConnectTimeout=2 tb true
kill "${PIDS[-1]}"
# an unresolvable name, with no network at all (no DNS query leaves the machine)
rec resolve-failed unshare -n "${SSH[@]}" -v -o HostName=login.nohost.invalid tb true
ssh -V 2>&1 | sed 's/^/# /' > "$OUT/VERSION"; date -u +'# recorded %Y-%m-%d' >> "$OUT/VERSION"
