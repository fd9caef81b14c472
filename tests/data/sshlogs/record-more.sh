#!/bin/bash
# Record the transcripts added for issue 16 with the real OpenSSH client against a throwaway
# loopback sshd (as record.sh does). Needs root. Loopback only.
# The TOTP cases run sshd with its own PAM stack (pam_oath, Debian's libpam-oath) bind-mounted
# over /etc/pam.d/sshd inside a private mount namespace (unshare --mount): the machine's files
# are never touched and nothing outlives the script. The client runs in a pty (pty-answer.py),
# as a user at a terminal would, so the prompt is in the transcript.
# Usage: bash tests/data/sshlogs/record-more.sh [OUTDIR]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "${1:-$HERE}" && pwd)
TB=$(mktemp -d /tmp/sshsetup-rec-XXXXXX); chmod 755 "$TB"
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TB/sshd/authorized_keys" "$TB/c" "$TB/oath" /run/sshd; chmod 755 /run/sshd; chmod 700 "$TB/c" "$TB/oath"
ssh-keygen -q -t ed25519 -N '' -C testbed-host -f "$TB/sshd/hostkey"
ssh-keygen -q -t ed25519 -N '' -C other-host -f "$TB/sshd/otherkey"
ssh-keygen -q -t ed25519 -N '' -C sshsetup-test -f "$TB/c/id_ed25519_jsc"
ssh-keygen -q -t dsa -N '' -C old-dsa -f "$TB/c/id_dsa" 2>/dev/null || echo "no DSA support in ssh-keygen"
SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
printf 'HOTP/T30/6\troot\t-\t%s\n' "$SECRET" > "$TB/oath/users.oath"; chmod 600 "$TB/oath/users.oath"
printf 'auth required pam_oath.so usersfile=%s window=0 digits=6\naccount required pam_permit.so\nsession required pam_permit.so\n' \
  "$TB/oath/users.oath" > "$TB/pam-sshd"
SSHD=""
cleanup() { [ -n "$SSHD" ] && kill "$SSHD" 2>/dev/null; wait 2>/dev/null; rm -rf "$TB"; }
trap cleanup EXIT
sshd_conf() {  # $1 = extra lines
  cat > "$TB/sshd/sshd_config" <<CFG
Port $P
ListenAddress 127.0.0.1
HostKey $TB/sshd/hostkey
PidFile none
AuthorizedKeysFile $TB/sshd/authorized_keys/%u
StrictModes no
PubkeyAuthentication yes
PrintMotd no
LogLevel VERBOSE
LoginGraceTime 8
$1
CFG
}
start_sshd() {  # $1 = "pam" to run it with the pam_oath stack in a private mount namespace
  /usr/sbin/sshd -t -f "$TB/sshd/sshd_config" || exit 1
  if [ "${1:-}" = pam ]; then
    setsid unshare --mount --propagation private sh -c \
      "mount --bind '$TB/pam-sshd' /etc/pam.d/sshd && exec /usr/sbin/sshd -D -e -f '$TB/sshd/sshd_config'" \
      </dev/null >>"$TB/sshd/sshd.log" 2>&1 &
  else
    setsid /usr/sbin/sshd -D -e -f "$TB/sshd/sshd_config" </dev/null >>"$TB/sshd/sshd.log" 2>&1 &
  fi
  SSHD=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.1; done
}
stop_sshd() { kill "$SSHD"; wait "$SSHD" 2>/dev/null; SSHD=""; }
HK=$(cut -d' ' -f1,2 "$TB/sshd/hostkey.pub"); OK=$(cut -d' ' -f1,2 "$TB/sshd/otherkey.pub")
printf '[127.0.0.1]:%s %s\n' "$P" "$HK" > "$TB/c/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$P" "$OK" > "$TB/c/known_hosts_changed"
base_config() {  # $1 = identity file, $2 = known_hosts, $3 = extra options
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
$3
CFG
  chmod 600 "$TB/c/config"
}
save() { sed -e "s#$TB#/tmp/tb#g" -e "s#\\b$P\\b#2222#g" "$TB/out" > "$OUT/$1.log"; echo "$1: rc=$2"; }
rec() {  # $1 = name, rest = command; the client's stderr
  local name=$1; shift
  "$@" </dev/null >/dev/null 2>"$TB/out"; save "$name" $?
}
SSH=(ssh -F "$TB/c/config")
printf '%s\n' "$(cat "$TB/c/id_ed25519_jsc.pub")" > "$TB/sshd/authorized_keys/root"

sshd_conf "UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding no"
start_sshd
# an old key type the client no longer offers (DSA)
base_config "$TB/c/id_dsa" "$TB/c/known_hosts" "    BatchMode yes"
[ -f "$TB/c/id_dsa" ] && rec dsa-key-skipped "${SSH[@]}" -v tb true
# a host key type the client does not accept
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" "    BatchMode yes
    HostKeyAlgorithms ssh-rsa"
rec hostkey-algorithm-refused "${SSH[@]}" -v tb true
# TCP forwarding disabled: the stdio forwarding a ProxyJump uses
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" "    BatchMode yes"
rec forwarding-disabled "${SSH[@]}" -v -W 127.0.0.1:22 tb
# no key to offer: the IdentityFile does not exist
base_config "$TB/c/id_missing" "$TB/c/known_hosts" "    BatchMode yes"
rec no-key-offered "${SSH[@]}" -v tb true
# a password that is refused (a user that does not exist; the answer comes from SSH_ASKPASS)
printf '#!/bin/sh\necho not-the-password\n' > "$TB/askpass"; chmod 755 "$TB/askpass"
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" "    PubkeyAuthentication no
    PreferredAuthentications password
    NumberOfPasswordPrompts 2"
rec password-denied env SSH_ASKPASS="$TB/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 "${SSH[@]}" -v -l nosuchuser tb true
# a changed host key with StrictHostKeyChecking no: ssh turns off password and keyboard
# authentication, and the key is not authorised either
: > "$TB/sshd/authorized_keys/root"
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts_changed" "    BatchMode yes"
sed -i 's/StrictHostKeyChecking yes/StrictHostKeyChecking no/' "$TB/c/config"
rec hostkey-changed-password "${SSH[@]}" -v tb true
stop_sshd
printf '%s\n' "$(cat "$TB/c/id_ed25519_jsc.pub")" > "$TB/sshd/authorized_keys/root"

# TOTP after the key: publickey,keyboard-interactive with pam_oath; the client in a pty
sshd_conf "UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication yes
PermitRootLogin yes
AuthenticationMethods publickey,keyboard-interactive"
start_sshd pam
base_config "$TB/c/id_ed25519_jsc" "$TB/c/known_hosts" "    ControlMaster no"
PTY=(python3 "$HERE/pty-answer.py")
code() { oathtool --totp "$SECRET"; }
"${PTY[@]}" "$TB/out" "$(code)" -- "${SSH[@]}" -v tb true; save totp-accepted $?
"${PTY[@]}" "$TB/out" 000000 000000 000000 -- "${SSH[@]}" -v tb true; save totp-wrong-code $?
"${PTY[@]}" "$TB/out" @12 -- "${SSH[@]}" -v tb true; save totp-unanswered $?
stop_sshd
ssh -V 2>&1 | sed 's/^/# /' > "$OUT/VERSION-more"; date -u +'# recorded %Y-%m-%d' >> "$OUT/VERSION-more"
