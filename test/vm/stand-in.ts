import { stringify } from "yaml";

/** Where the guest keeps what the test reads after power-off (1777 in the image). */
export const EVIDENCE_DIR = "/var/lib/mayfly-test";

export type RunnerMode = "job" | "crash" | "idle" | "hung";

/**
 * A stand-in for the runner's run.sh. It takes the JIT config as the real runner does, from
 * ACTIONS_RUNNER_INPUT_JITCONFIG, records what the runner user can read and reach, then
 * behaves as `mode` says: a job (the Worker log the watchdog looks for, the job hooks run
 * with `bash -e` as the runner runs them), a crash, no job at all, or a job that never ends.
 * The JIT config is only ever compared and hashed, never written or printed.
 */
export function standInRunner(mode: RunnerMode): string {
  const behaviour = {
    job: [
      'mkdir -p "$here/_diag" && : > "$here/_diag/Worker_20261202-000000-utc.log"',
      '[ -z "$ACTIONS_RUNNER_HOOK_JOB_STARTED" ] || bash -e "$ACTIONS_RUNNER_HOOK_JOB_STARTED"',
      "sleep 2",
      '[ -z "$ACTIONS_RUNNER_HOOK_JOB_COMPLETED" ] || bash -e "$ACTIONS_RUNNER_HOOK_JOB_COMPLETED"',
      "echo 'stand-in runner: job done' >&2",
      "exit 0",
    ],
    crash: ["echo 'stand-in runner: crashing' >&2", "exit 3"],
    idle: ["echo 'stand-in runner: waiting for a job that never comes' >&2", "exec sleep 100000"],
    hung: [
      'mkdir -p "$here/_diag" && : > "$here/_diag/Worker_20261202-000000-utc.log"',
      "echo 'stand-in runner: a job that never ends' >&2",
      "exec sleep 100000",
    ],
  }[mode];
  return `#!/bin/bash
here=$(cd "$(dirname "$0")" && pwd)
jit=\${ACTIONS_RUNNER_INPUT_JITCONFIG:-}
unset ACTIONS_RUNNER_INPUT_JITCONFIG
out=${EVIDENCE_DIR}/runner
echo "stand-in runner: started as $(id -un)" >&2
# With no JIT config received, there is nothing to look for (an empty pattern matches all).
has_jit() { [ \${#jit} -gt 100 ] && grep -qaF -f <(printf '%s\\n' "$jit"); }
{
  echo "uid=$(id -u)"
  echo "groups=$(id -Gn)"
  echo "jit_received=$([ \${#jit} -gt 100 ] && echo yes || echo no)"
  echo "jit_sha256=$(printf '%s' "$jit" | sha256sum | cut -d ' ' -f 1)"
  echo "jit_in_env_of_job=$(env | has_jit && echo yes || echo no)"
  echo "hook_started=\${ACTIONS_RUNNER_HOOK_JOB_STARTED:-}"
  echo "hook_completed=\${ACTIONS_RUNNER_HOOK_JOB_COMPLETED:-}"
  echo "sudo=$(sudo -n true >/dev/null 2>&1 && echo yes || echo no)"
  echo "read_run_mayfly=$(ls /run/mayfly >/dev/null 2>&1 && echo yes || echo no)"
  echo "read_boot_hook=$(cat /usr/local/lib/mayfly/boot-hook >/dev/null 2>&1 && echo yes || echo no)"
  curl -s -o /dev/null --connect-timeout 3 -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token
  echo "imds4=$?"
  curl -s -g -o /dev/null --connect-timeout 3 -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' 'http://[fd00:ec2::254]/latest/api/token'
  echo "imds6=$?"
  echo "proc1_visible=$([ -e /proc/1/cmdline ] && echo yes || echo no)"
  echo "proc_options=$(findmnt -no OPTIONS /proc)"
  echo "serial_getty=$(systemctl is-active serial-getty@ttyS0.service 2>/dev/null)"
  # Every file this user can read (the journal files included) that holds the JIT config.
  [ \${#jit} -le 100 ] || grep -rlsaF --devices=skip -f <(printf '%s\\n' "$jit") /etc /home /opt /root /run /srv /tmp /var /usr/local |
    sed 's/^/jit_file=/'
  # Every visible process whose command line or environment holds it.
  for p in /proc/[0-9]*; do
    has_jit < "$p/cmdline" 2>/dev/null && echo "jit_cmdline=$(cat "$p/comm" 2>/dev/null):$(stat -c %U "$p")"
    has_jit < "$p/environ" 2>/dev/null && echo "jit_environ=$(cat "$p/comm" 2>/dev/null):$(stat -c %U "$p")"
  done
  echo "done=yes"
} > "$out" 2>/dev/null
${behaviour.join("\n")}
`;
}

/**
 * The seed's vendor data: test-only setup that cloud-init runs before the user data (the
 * CA the guest trusts for the fake tarball server, a preinstalled stand-in runner, an
 * image user), as shell commands in bootcmd, which the rendered user data does not use.
 */
export function vendorData(setup: {
  runner?: string;
  trustedCert?: string;
  imageCommands?: string[];
}): string {
  const write = (path: string, mode: string, text: string) =>
    `mkdir -p "$(dirname ${path})" && echo ${Buffer.from(text).toString("base64")} | base64 -d > ${path} && chmod ${mode} ${path}`;
  const bootcmd = [
    ...(setup.trustedCert === undefined
      ? []
      : [
          `echo ${Buffer.from(setup.trustedCert).toString("base64")} | base64 -d >> /etc/ssl/certs/ca-certificates.crt`,
        ]),
    ...(setup.runner === undefined
      ? []
      : [write("/opt/actions-runner/run.sh", "0755", setup.runner)]),
    ...(setup.imageCommands ?? []),
  ].map((command) => ["sh", "-c", command]);
  return `#cloud-config\n${stringify({ bootcmd }, { lineWidth: 0 })}`;
}
