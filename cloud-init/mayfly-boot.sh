#!/bin/sh
# mayfly-boot: runs ONE GitHub Actions job on this VM, then powers it off.
#
# Started once by cloud-init (runcmd). Its inputs are data files that the rendered
# cloud-config writes under /run/mayfly (tmpfs, root-only, mode 0600); no value from the
# launcher or the job is ever spliced into shell code here. The launch sets the instance's
# shutdown behaviour to "terminate", so powering off destroys the VM:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingInstanceInitiatedShutdownBehavior.html
#
# Every path that touches the system can be overridden through MAYFLY_* variables so the
# test suite runs this script unprivileged in a temporary directory with stand-ins.
#
# Never add `set -x`: it would print the JIT config to the console log.
set -eu
umask 077

root="${MAYFLY_ROOT:-}"
state="$root/run/mayfly"
cloud_dir="$root/var/lib/cloud"
runner_dir="${MAYFLY_RUNNER_DIR:-$root/opt/actions-runner}"
runner_user="${MAYFLY_RUNNER_USER:-runner}"
shutdown_cmd="${MAYFLY_SHUTDOWN:-shutdown}"
iptables_cmd="${MAYFLY_IPTABLES:-iptables}"
ip6tables_cmd="${MAYFLY_IP6TABLES:-ip6tables}"
useradd_cmd="${MAYFLY_USERADD:-useradd}"
runuser_cmd="${MAYFLY_RUNUSER:-runuser}"
chown_cmd="${MAYFLY_CHOWN:-chown}"
poll_seconds="${MAYFLY_POLL_SECONDS:-5}"
# 169.254.169.254 and fd00:ec2::254 are the instance metadata service over IPv4 and IPv6:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
imds_address="169.254.169.254"
imds_address6="fd00:ec2::254"
# Operator hooks, written by the rendered cloud-config (src/runner-vm/render-user-data.ts).
boot_hook="$state/boot-hook"
job_hooks_dir="$root/usr/local/lib/mayfly"

log() { printf 'mayfly-boot: %s\n' "$*" >&2; }

# Exactly one power-off, whichever path gets here first: mkdir is atomic, so the runner's
# exit and the watchdog can race without both calling shutdown.
power_off() {
  if mkdir "$state/powered-off" 2>/dev/null; then
    log "powering off: $1"
    "$shutdown_cmd" -h now || log "shutdown failed"
  fi
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

# --- The JIT config: read once into memory, then the file is gone before anything else
# runs. It is only ever passed to the runner as an argument, never printed.
[ -f "$state/jitconfig" ] || fail "no JIT config in $state"
jit_config=$(cat "$state/jitconfig")
rm -f "$state/jitconfig"
case "$jit_config" in
  '' | *[!A-Za-z0-9+/=]*) fail "the JIT config is not base64" ;;
esac

# cloud-init keeps copies of the user data (which held the JIT config) on disk; remove
# them now that it has been read. https://cloudinit.readthedocs.io/en/latest/reference/base_config_reference.html
for instance in "$cloud_dir/instance" "$cloud_dir"/instances/*; do
  [ -d "$instance" ] || continue
  rm -rf "$instance"/user-data.txt* "$instance"/cloud-config.txt "$instance"/obj.pkl \
    "$instance"/scripts
done
# Newer cloud-init also keeps the merged cloud-config (write_files content included) here.
rm -f "$root/run/cloud-init/combined-cloud-config.json"

idle_timeout=$(read_setting idle-timeout)
max_lifetime=$(read_setting max-lifetime)
tarball_url=$(read_setting runner-url)
tarball_sha256=$(read_setting runner-sha256)
positive_int "$idle_timeout" || fail "idle timeout is not a positive integer"
positive_int "$max_lifetime" || fail "max lifetime is not a positive integer"

# --- An unprivileged user for the runner and the job.
if ! id "$runner_user" >/dev/null 2>&1; then
  "$useradd_cmd" --create-home --shell /bin/bash "$runner_user" || fail "cannot create user $runner_user"
fi

# --- The runner: preinstalled in the image, or downloaded and checked against its SHA-256.
if [ ! -x "$runner_dir/run.sh" ]; then
  [ -n "$tarball_url" ] || fail "no runner in $runner_dir and no tarball URL"
  case "$tarball_sha256" in
    *[!0-9a-f]*) fail "runner SHA-256 is not lowercase hex" ;;
  esac
  [ "${#tarball_sha256}" -eq 64 ] || fail "runner SHA-256 is not 64 hex digits"
  tarball="$state/runner.tar.gz"
  curl --fail --silent --show-error --location --proto '=https' --output "$tarball" \
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
# and could read the instance role's credentials and this VM's user data.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
"$iptables_cmd" -w -A OUTPUT -d "$imds_address" -m owner --uid-owner "$runner_user" -j REJECT ||
  fail "cannot block the metadata service for $runner_user: refusing to run the job"
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
  "$ip6tables_cmd" -w -A OUTPUT -d "$imds_address6" -m owner --uid-owner "$runner_user" -j REJECT ||
    fail "cannot block the IPv6 metadata service for $runner_user: refusing to run the job"
fi

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

# --- The runner's own job hooks: it runs them as the runner user, before and after the job,
# when these variables hold their absolute paths; unset means no hook.
# https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/running-scripts-before-or-after-a-job
set -- "$runner_dir/run.sh" --jitconfig "$jit_config"
if [ -f "$job_hooks_dir/job-completed.sh" ]; then
  set -- "ACTIONS_RUNNER_HOOK_JOB_COMPLETED=$job_hooks_dir/job-completed.sh" "$@"
fi
if [ -f "$job_hooks_dir/job-started.sh" ]; then
  set -- "ACTIONS_RUNNER_HOOK_JOB_STARTED=$job_hooks_dir/job-started.sh" "$@"
fi

# --- Start the runner once. --jitconfig makes it take exactly one job and exit:
# https://docs.github.com/en/rest/actions/self-hosted-runners#create-configuration-for-a-just-in-time-runner-for-an-organization
log "starting the runner"
"$runuser_cmd" -u "$runner_user" -- env "$@" &
runner_pid=$!
jit_config=""
set --

job_started() {
  for worker_log in "$runner_dir"/_diag/Worker_*.log; do
    [ -e "$worker_log" ] && return 0
  done
  command -v pgrep >/dev/null 2>&1 && pgrep -x Runner.Worker >/dev/null 2>&1 && return 0
  return 1
}

# --- Watchdogs: they do not depend on the controller being reachable.
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
      kill -TERM "$runner_pid" 2>/dev/null || true
      return 0
    fi
    sleep "$poll_seconds"
  done
}
watchdog &
watchdog_pid=$!

status=0
wait "$runner_pid" || status=$?
power_off "runner exited with status $status"
kill -TERM "$watchdog_pid" 2>/dev/null || true
exit 0
