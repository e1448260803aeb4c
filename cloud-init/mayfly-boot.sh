#!/bin/sh
# mayfly-boot: runs ONE GitHub Actions job on this VM, then powers it off.
#
# Started once by cloud-init (runcmd). Its inputs are data files that the rendered
# cloud-config writes under /run/mayfly (tmpfs, root-only, mode 0600); no value from the
# launcher or the job is ever spliced into shell code here. None of them is a secret: the
# runner's JIT config is not in the user data, the script asks the controller for it (the
# assignment below). The launch sets the instance's
# shutdown behaviour to "terminate", so powering off destroys the VM:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingInstanceInitiatedShutdownBehavior.html
#
# Every path that touches the system can be overridden through MAYFLY_* variables so the
# test suite runs this script unprivileged in a temporary directory with stand-ins; the
# real VM test (test/vm/) runs it as cloud-init does.
#
# Never add `set -x`: it would print the JIT config to the console log.
set -eu
umask 077

root="${MAYFLY_ROOT:-}"
state="$root/run/mayfly"
runner_dir="${MAYFLY_RUNNER_DIR:-$root/opt/actions-runner}"
runner_user="${MAYFLY_RUNNER_USER:-runner}"
shutdown_cmd="${MAYFLY_SHUTDOWN:-shutdown}"
poweroff_cmd="${MAYFLY_POWEROFF:-poweroff}"
iptables_cmd="${MAYFLY_IPTABLES:-iptables}"
ip6tables_cmd="${MAYFLY_IP6TABLES:-ip6tables}"
useradd_cmd="${MAYFLY_USERADD:-useradd}"
runuser_cmd="${MAYFLY_RUNUSER:-runuser}"
chown_cmd="${MAYFLY_CHOWN:-chown}"
mount_cmd="${MAYFLY_MOUNT:-mount}"
systemctl_cmd="${MAYFLY_SYSTEMCTL:-systemctl}"
sudo_cmd="${MAYFLY_SUDO:-sudo}"
poll_seconds="${MAYFLY_POLL_SECONDS:-5}"
retry_seconds="${MAYFLY_RETRY_SECONDS:-10}"
# The pause after a failed ask for the assignment: doubled on each failure up to the cap.
backoff_first="${MAYFLY_BACKOFF_SECONDS:-1}"
backoff_cap="${MAYFLY_BACKOFF_CAP_SECONDS:-10}"
# 169.254.169.254 and fd00:ec2::254 are the instance metadata service over IPv4 and IPv6:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
imds_address="169.254.169.254"
imds_address6="fd00:ec2::254"
imds_url="${MAYFLY_IMDS_URL:-http://$imds_address}"
# Operator hooks, written by the rendered cloud-config (src/runner-vm/render-user-data.ts).
# Not under /run: the initramfs mounts /run noexec, so a hook there cannot be executed
# (FIELD-NOTES.md, "Learned in 2026-12").
job_hooks_dir="$root/usr/local/lib/mayfly"
boot_hook="$job_hooks_dir/boot-hook"

log() { printf 'mayfly-boot: %s\n' "$*" >&2; }

# Exactly one power-off, whichever path gets here first: mkdir is atomic, so the runner's
# exit, the watchdog and the exit trap can race without powering off twice. A shutdown
# that fails is retried once, then the kernel is told to power off at once: a VM that
# stays up keeps its subnet and its bill.
power_off() {
  mkdir "$state/powered-off" 2>/dev/null || return 0
  log "powering off: $1"
  "$shutdown_cmd" -h now && return 0
  log "shutdown failed: retrying in ${retry_seconds}s"
  sleep "$retry_seconds"
  "$shutdown_cmd" -h now && return 0
  log "shutdown failed again: forcing the power-off"
  "$poweroff_cmd" -f
}

fail() {
  log "$1"
  power_off "$1"
  exit 1
}

positive_int() {
  case "$1" in
    '' | *[!0-9]* | 0*) return 1 ;;
    *) return 0 ;;
  esac
}

read_setting() {
  if [ -f "$state/$1" ]; then cat "$state/$1"; fi
}

mkdir -p "$state"
chmod 0700 "$state"
# The boot timeout counts from here: the assignment must arrive within it.
boot_started=$(date +%s)

# Any step that fails, or a signal, powers the VM off: nothing is left running unattended.
runner_pid=""
trap '[ -z "$runner_pid" ] || kill -TERM "$runner_pid" 2>/dev/null; power_off "the boot script ended"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

idle_timeout=$(read_setting idle-timeout)
max_lifetime=$(read_setting max-lifetime)
tarball_url=$(read_setting runner-url)
tarball_sha256=$(read_setting runner-sha256)
operator_access=$(read_setting operator-access)
assignment_url=$(read_setting assignment-url)
boot_timeout=$(read_setting boot-timeout)
positive_int "$idle_timeout" || fail "idle timeout is not a positive integer"
positive_int "$max_lifetime" || fail "max lifetime is not a positive integer"
positive_int "$boot_timeout" || fail "boot timeout is not a positive integer"
[ -n "$assignment_url" ] || fail "no assignment URL in $state"
boot_deadline=$((boot_started + boot_timeout))

job_started() {
  for worker_log in "$runner_dir"/_diag/Worker_*.log; do
    [ -e "$worker_log" ] && return 0
  done
  command -v pgrep >/dev/null 2>&1 && pgrep -x Runner.Worker >/dev/null 2>&1 && return 0
  return 1
}

# --- Watchdogs, started before anything that can hang (the download, the boot hook):
# they do not depend on the controller being reachable. The idle timeout counts from
# here, so a slow boot hook or download eats into it.
main_pid=$$
watchdog() {
  started_at=$(date +%s)
  while [ ! -d "$state/powered-off" ]; do
    elapsed=$(($(date +%s) - started_at))
    reason=""
    if [ "$elapsed" -ge "$max_lifetime" ]; then
      reason="max lifetime of ${max_lifetime}s reached"
    elif [ "$elapsed" -ge "$idle_timeout" ] && ! job_started; then
      reason="no job started within ${idle_timeout}s"
    fi
    if [ -n "$reason" ]; then
      power_off "$reason"
      # The main script's TERM trap stops the runner.
      kill -TERM "$main_pid" 2>/dev/null || true
      return 0
    fi
    sleep "$poll_seconds"
  done
}
(
  trap - EXIT TERM INT
  watchdog
) &

# --- The assignment: this is the one place that obtains the JIT config. As root, before
# the runner user exists, the VM proves who it is with its instance identity document and
# that document's signature (IMDSv2), and the controller answers its runner's JIT config
# (DESIGN.md, "The assignment endpoint"). The answer is held in memory only: never a file,
# a command line or a log line; it reaches the runner only through the runner's
# environment (start_runner).
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-identity-documents.html
jit_config=""
newline=$(printf '\n_')
newline=${newline%_}
# The IMDSv2 session token goes to curl on stdin (--header @-), never on its command line.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
imds_get() {
  printf 'X-aws-ec2-metadata-token: %s\n' "$imds_token" |
    curl --silent --show-error --fail --globoff --connect-timeout 2 --max-time 5 \
      --header @- --output "$2" "$imds_url$1"
}
read_identity() {
  imds_token=$(curl --silent --show-error --fail --globoff --connect-timeout 2 --max-time 5 \
    --request PUT --header 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
    "$imds_url/latest/api/token") &&
    imds_get /latest/dynamic/instance-identity/document "$state/identity-document" &&
    imds_get /latest/dynamic/instance-identity/rsa2048 "$state/identity-signature" &&
    [ -s "$state/identity-document" ] && [ -s "$state/identity-signature" ]
}
# Prints the file $1 as a JSON string, byte for byte: the controller compares the document
# with the content AWS signed, so nothing may be added, dropped or re-encoded. Read from the
# file, not from $(...), which would drop a final newline; awk sees each line without its
# newline, so a final one is put back only when the file ends with one. Bytes from 0x80 up
# pass as they are (the document is UTF-8); LC_ALL=C keeps awk reading bytes.
json_string() {
  printf '"'
  LC_ALL=C awk 'BEGIN {
      for (i = 1; i < 32; i++) e[sprintf("%c", i)] = sprintf("\\u%04x", i)
      e["\t"] = "\\t"; e["\r"] = "\\r"; e["\""] = "\\\""; e["\\"] = "\\\\"
    }
    {
      out = (NR > 1) ? "\\n" : ""
      n = length($0)
      for (i = 1; i <= n; i++) { c = substr($0, i, 1); out = out ((c in e) ? e[c] : c) }
      printf "%s", out
    }' "$1"
  [ -n "$(tail -c 1 "$1")" ] || printf '\\n'
  printf '"'
}
# A NUL byte has no place in the document or signature, and awk cannot carry it.
no_nul() {
  [ "$(tr -d '\000' <"$1" | wc -c)" = "$(wc -c <"$1")" ]
}
write_request() {
  if ! no_nul "$state/identity-document" || ! no_nul "$state/identity-signature"; then
    fail "the instance identity from IMDS holds a NUL byte"
  fi
  {
    printf '{"document":'
    json_string "$state/identity-document"
    printf ',"signature":'
    json_string "$state/identity-signature"
    printf '}'
  } >"$state/assignment-request"
}
# One ask. The controller may hold a 204 for up to 20 s, so curl waits 30 s for an answer
# (less when the boot timeout is nearer, but never 0, which curl reads as no limit). The
# answer's body stays in a variable; its status and Retry-After header follow it on a last
# line of their own.
ask_for_assignment() {
  max_time=$((boot_deadline - $(date +%s)))
  [ "$max_time" -le 30 ] || max_time=30
  [ "$max_time" -ge 1 ] || max_time=1
  curl_status=0
  answer=$(curl --silent --show-error --globoff --proto '=https,http' \
    --connect-timeout 10 --max-time "$max_time" \
    --header 'Content-Type: application/json' --data-binary "@$state/assignment-request" \
    --write-out '\n%{http_code} %header{retry-after}' "$assignment_url") || curl_status=$?
  meta=${answer##*"$newline"}
  body=${answer%"$newline"*}
  answer=""
  http_status=${meta%% *}
  retry_after=${meta#* }
}
# Waits as the controller's Retry-After says (whole seconds, 1 to 30; 2 if it says none),
# never past the boot timeout.
wait_as_told() {
  case "$retry_after" in
    '' | *[!0-9]*) retry_after=2 ;;
    ? | ??) [ "$retry_after" -ge 1 ] || retry_after=1 ;;
    *) retry_after=30 ;;
  esac
  [ "$retry_after" -le 30 ] || retry_after=30
  left=$((boot_deadline - $(date +%s)))
  [ "$retry_after" -le "$left" ] || retry_after=$left
  [ "$retry_after" -le 0 ] || sleep "$retry_after"
}
back_off() {
  log "$1: asking again in ${backoff}s"
  sleep "$backoff"
  backoff=$(awk -v b="$backoff" -v cap="$backoff_cap" 'BEGIN { b *= 2; print (b > cap ? cap : b) }')
}
obtain_assignment() {
  log "asking the controller for this VM's assignment"
  backoff=$backoff_first
  told_to_wait=""
  while :; do
    [ "$(date +%s)" -lt "$boot_deadline" ] || fail "no assignment within ${boot_timeout}s"
    if [ ! -f "$state/assignment-request" ]; then
      if ! read_identity; then
        back_off "cannot read the instance identity document from IMDS"
        continue
      fi
      write_request
    fi
    ask_for_assignment
    if [ "$curl_status" -ne 0 ]; then
      back_off "cannot reach the controller (curl status $curl_status)"
      continue
    fi
    case "$http_status" in
      200) break ;;
      204 | 429)
        [ -n "$told_to_wait" ] || log "no assignment yet (HTTP $http_status): waiting as the controller says"
        told_to_wait=yes
        backoff=$backoff_first
        wait_as_told
        ;;
      5??) back_off "the controller answered HTTP $http_status" ;;
      410) fail "the controller has no assignment for this VM (HTTP 410)" ;;
      *) fail "the controller refused the assignment with HTTP $http_status" ;;
    esac
  done
  jit_config=$(printf '%s' "$body" |
    sed -n 's/^[[:space:]]*{[[:space:]]*"jitConfig"[[:space:]]*:[[:space:]]*"\([^"]*\)"[[:space:]]*}[[:space:]]*$/\1/p')
  body=""
  case "$jit_config" in
    '' | *[!A-Za-z0-9+/=]*)
      jit_config=""
      fail "the controller's answer holds no base64 JIT config"
      ;;
  esac
  rm -f "$state/assignment-request" "$state/identity-document" "$state/identity-signature"
  log "assignment received"
}
obtain_assignment

# --- Other users' processes are invisible to the runner user and the job: without this,
# /proc/PID/cmdline of every process is world-readable. The job still sees its own
# runner's processes (README: "The runner image").
# https://docs.kernel.org/filesystems/proc.html#mount-options
"$mount_cmd" -o remount,hidepid=invisible "$root/proc" ||
  fail "cannot hide other users' processes (hidepid): refusing to run the job"

# --- Operator back doors (the SSM agent, a login on the serial console) are closed unless
# the pool opts in with operatorAccess: the job must be the only thing on this VM that
# the pool did not ask for.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-serial-console.html
# One stop and one mask for all of them: each systemctl mask reloads systemd.
if [ "$operator_access" = "true" ]; then
  log "operator access kept: the SSM agent and the serial console stay as the image has them"
else
  {
    echo amazon-ssm-agent.service
    echo snap.amazon-ssm-agent.amazon-ssm-agent.service
    "$systemctl_cmd" list-units --plain --no-legend --all 'serial-getty@*.service' 2>/dev/null |
      cut -d ' ' -f 1 || true
  } >"$state/operator-units"
  xargs "$systemctl_cmd" stop <"$state/operator-units" >/dev/null 2>&1 || true
  # Masking the template too keeps a new serial getty from starting later.
  xargs "$systemctl_cmd" mask serial-getty@.service <"$state/operator-units" >/dev/null 2>&1 || true
  while read -r unit; do
    if "$systemctl_cmd" is-active --quiet "$unit" 2>/dev/null; then
      fail "cannot stop $unit: refusing to run the job"
    fi
  done <"$state/operator-units"
  log "operator access closed: the SSM agent and serial-console logins are stopped and masked"
fi

# --- An unprivileged user for the runner and the job. An image may already have a user
# of that name; one with root's uid, an admin group or sudo rights would hand the job the
# VM (and its instance role), so such an image is refused.
if id "$runner_user" >/dev/null 2>&1; then
  [ "$(id -u "$runner_user")" != 0 ] || fail "the image's $runner_user user has uid 0: refusing to run the job"
  for group in $(id -Gn "$runner_user"); do
    case "$group" in
      root | sudo | wheel | adm | admin | docker) fail "the image's $runner_user user is in the $group group: refusing to run the job" ;;
    esac
  done
  if command -v "$sudo_cmd" >/dev/null 2>&1 &&
    "$sudo_cmd" -n -l -U "$runner_user" 2>/dev/null | grep -q 'may run the following'; then
    fail "the image's $runner_user user has sudo rights: refusing to run the job"
  fi
else
  "$useradd_cmd" --create-home --shell /bin/bash "$runner_user" || fail "cannot create user $runner_user"
fi

# --- The runner: preinstalled in the image, or downloaded and checked against its SHA-256.
# curl gives up on a connection that does not open, a transfer that stalls, and a
# download that would outlast the idle timeout (the job would be gone by then).
if [ ! -x "$runner_dir/run.sh" ]; then
  [ -n "$tarball_url" ] || fail "no runner in $runner_dir and no tarball URL"
  case "$tarball_sha256" in
    *[!0-9a-f]*) fail "runner SHA-256 is not lowercase hex" ;;
  esac
  [ "${#tarball_sha256}" -eq 64 ] || fail "runner SHA-256 is not 64 hex digits"
  tarball="$state/runner.tar.gz"
  curl --fail --silent --show-error --location --proto '=https' --output "$tarball" \
    --connect-timeout 30 --speed-limit 1024 --speed-time 30 --max-time "$idle_timeout" \
    "$tarball_url" || fail "runner download failed"
  actual=$(sha256sum "$tarball" | cut -d ' ' -f 1)
  [ "$actual" = "$tarball_sha256" ] || fail "runner tarball SHA-256 mismatch: refusing to run it"
  mkdir -p "$runner_dir"
  tar -xzf "$tarball" -C "$runner_dir"
  rm -f "$tarball"
fi
mkdir -p "$runner_dir/_work"
"$chown_cmd" -R "$runner_user" "$runner_dir" || fail "cannot give $runner_dir to $runner_user"

# --- Block the runner user from the instance metadata service. IMDSv2 with a hop limit
# of 1 only stops containers (one extra network hop); a local process still reaches it
# and could read the instance role's credentials and this VM's user data. The rule goes
# first in OUTPUT so that no ACCEPT already in the image comes before it, and a real
# request as the runner user must then fail.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
"$iptables_cmd" -w -I OUTPUT 1 -d "$imds_address" -m owner --uid-owner "$runner_user" -j REJECT ||
  fail "cannot block the metadata service for $runner_user: refusing to run the job"
blocked_urls="http://$imds_address/latest/api/token"
# The IPv6 endpoint answers only on Nitro instances whose metadata options enable it. With
# no IPv6 stack (no /proc/net/if_inet6) it is unreachable, so there is nothing to block.
# An image without ip6tables is logged and tolerated: the launch leaves HttpProtocolIpv6 at
# its default, disabled, so this rule is a second wall, not the only one. A present
# ip6tables that fails is an error, like the IPv4 rule.
if [ ! -e "$root/proc/net/if_inet6" ]; then
  log "no IPv6 stack: the IPv6 metadata endpoint is unreachable, no ip6tables rule needed"
elif ! command -v "$ip6tables_cmd" >/dev/null 2>&1; then
  log "no ip6tables on this image: the IPv6 metadata endpoint is not blocked for $runner_user"
else
  "$ip6tables_cmd" -w -I OUTPUT 1 -d "$imds_address6" -m owner --uid-owner "$runner_user" -j REJECT ||
    fail "cannot block the IPv6 metadata service for $runner_user: refusing to run the job"
  blocked_urls="$blocked_urls http://[$imds_address6]/latest/api/token"
fi
# curl exits 7 (could not connect) or 28 (timed out) when the block holds; anything else,
# success above all, means the runner user might reach the metadata service.
for url in $blocked_urls; do
  probe_status=0
  "$runuser_cmd" -u "$runner_user" -- curl --silent --output /dev/null --globoff \
    --connect-timeout 3 --max-time 5 --request PUT \
    --header 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$url" </dev/null || probe_status=$?
  case "$probe_status" in
    7 | 28) ;;
    *) fail "the metadata block does not hold for $runner_user ($url, curl status $probe_status): refusing to run the job" ;;
  esac
done
log "the metadata service is blocked for $runner_user"

# --- The operator's boot hook: root, after the runner user, its directory and the metadata
# block exist, before the runner starts. It gets the idle timeout as its time limit (the
# job waits at GitHub meanwhile); a failure or a timeout powers the VM off.
if [ -f "$boot_hook" ]; then
  log "running the boot hook"
  hook_status=0
  timeout --kill-after=10 "$idle_timeout" "$boot_hook" </dev/null || hook_status=$?
  case "$hook_status" in
    0) log "the boot hook succeeded" ;;
    124 | 137) fail "the boot hook timed out after ${idle_timeout}s: not starting the runner" ;;
    *) fail "the boot hook failed with status $hook_status: not starting the runner" ;;
  esac
fi

# --- Start the runner once, with the JIT config in its environment: the runner reads
# ACTIONS_RUNNER_INPUT_<NAME> as its --<name> argument and removes it from its own
# environment (actions/runner src/Runner.Listener/CommandSettings.cs). On a command line
# it would be world-readable in /proc and stamped on every journal line (_CMDLINE).
# A JIT config makes the runner take exactly one job and exit:
# https://docs.github.com/en/rest/actions/self-hosted-runners#create-configuration-for-a-just-in-time-runner-for-an-organization
# The runner's own job hooks: it runs them as the runner user, before and after the job,
# when these variables hold their absolute paths; unset means no hook.
# https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/running-scripts-before-or-after-a-job
start_runner() {
  log "starting the runner"
  (
    ACTIONS_RUNNER_INPUT_JITCONFIG=$jit_config
    export ACTIONS_RUNNER_INPUT_JITCONFIG
    if [ -f "$job_hooks_dir/job-started.sh" ]; then
      ACTIONS_RUNNER_HOOK_JOB_STARTED="$job_hooks_dir/job-started.sh"
      export ACTIONS_RUNNER_HOOK_JOB_STARTED
    fi
    if [ -f "$job_hooks_dir/job-completed.sh" ]; then
      ACTIONS_RUNNER_HOOK_JOB_COMPLETED="$job_hooks_dir/job-completed.sh"
      export ACTIONS_RUNNER_HOOK_JOB_COMPLETED
    fi
    trap - EXIT TERM INT
    exec "$runuser_cmd" -u "$runner_user" -- "$runner_dir/run.sh"
  ) &
  runner_pid=$!
  jit_config=""
}
start_runner

status=0
wait "$runner_pid" || status=$?
runner_pid=""
power_off "runner exited with status $status"
exit 0
