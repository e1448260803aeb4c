#!/usr/bin/env bash
# The one test command (`npm run test:all`; .ci/run calls it). On a fresh Debian machine it
# installs or finds what the suites need, then runs what CI runs: npm ci, typecheck, lint,
# build, every vitest suite (and the real-VM suite when package.json has `test:vm`), a start-up
# check of `mayfly serve`, the demo and the quick bench. CI=true makes a missing tool fail its
# suite instead of skipping it (test/support/need-tool.ts). The last line is
# "N passed, N failed[, N skipped]"; the exit status is 0 only when nothing failed.
#
# With test files as arguments (`npm run test:all -- test/x.test.ts`) it installs the same
# tools, then runs only those files under the same rules: one suite as CI would run it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export CI="${CI:-true}"

step() { printf '\n== %s\n' "$*"; }
failed_steps=()
# Runs a step by name; a failure is remembered for the summary and the run goes on.
run_step() {
  local name=$1
  shift
  step "$name"
  "$@" || failed_steps+=("$name")
}
has_script() {
  node -e 'process.exit(require("./package.json").scripts?.[process.argv[1]] ? 0 : 1)' "$1"
}

# Whether a Debian package the suites need is here, by what the suites use of it.
found() {
  case $1 in
    # The ledger suites start a server from these binaries (test/support/postgres-server.ts).
    postgresql) ls /usr/lib/postgresql/*/bin/initdb ;;
    # The runner VM suites check the boot script with shellcheck, the rendered user data with
    # `cloud-init schema`, and read it back with PyYAML as cloud-init does.
    python3-yaml) python3 -c 'import yaml' ;;
    # The status page and demo report suites drive Debian's Chromium through playwright-core.
    chromium) test -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ;;
    # The real-VM suite builds a Debian image and boots it in qemu.
    qemu-system-x86) command -v qemu-system-x86_64 ;;
    qemu-utils) command -v qemu-img ;;
    *) command -v "$1" ;;
  esac >/dev/null 2>&1
}
packages=(postgresql shellcheck cloud-init python3-yaml chromium)
if has_script test:vm; then packages+=(qemu-system-x86 qemu-utils mmdebstrap genisoimage); fi
missing=()
for pkg in "${packages[@]}"; do found "$pkg" || missing+=("$pkg"); done

if ((${#missing[@]} > 0)); then
  step "apt-get install ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  # sudo drops the environment, so the non-interactive frontend is passed explicitly.
  apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
  log=$(mktemp)
  if ! apt_get update -qq >"$log" 2>&1; then
    cat "$log"
    echo "apt-get update failed, so these packages could not be installed: ${missing[*]}"
    exit 1
  fi
  if ! apt_get install -y -qq "${missing[@]}" >"$log" 2>&1; then
    # apt-get installs all or nothing: try each package alone to name the one that fails.
    broken=()
    for pkg in "${missing[@]}"; do
      apt_get install -y -qq "$pkg" >"$log.$pkg" 2>&1 || {
        broken+=("$pkg")
        tail -n 5 "$log.$pkg"
      }
    done
    if ((${#broken[@]} > 0)); then
      echo "apt-get install failed for: ${broken[*]}"
      exit 1
    fi
  fi
  rm -f "$log" "$log".*
  still=()
  for pkg in "${missing[@]}"; do found "$pkg" || still+=("$pkg"); done
  echo "installed: ${missing[*]}"
  if ((${#still[@]} > 0)); then
    echo "installed, but still not found: ${still[*]}; their suites fail"
  fi
fi

# moto_server (the EC2 wire suites) and terraform (terraform fmt) come from neither Debian nor
# npm, so they are found, not installed; their suites fail here when they are absent.
step "tools found, not installed"
moto=$(command -v moto_server 2>/dev/null) ||
  { [ -x /root/.pyenv/shims/moto_server ] && moto=/root/.pyenv/shims/moto_server; } ||
  moto="NOT FOUND: the moto_server suites (test/cloud, test/fleet/launch-on-moto, ...) fail"
echo "moto_server: $moto"
echo "terraform: $(command -v terraform || echo "NOT FOUND: test/terraform/fmt.test.ts fails")"

mkdir -p test-results
rm -f test-results/vitest*.json
failed_runs=()
vitest_json() { printf '%s' "--reporter=default --reporter=json --outputFile.json=test-results/$1"; }

if (($# > 0)); then
  # One suite: the installs above, then only the files named.
  [ -d node_modules ] || { step "npm ci" && npm ci --no-audit --no-fund; } || exit 1
  step "vitest run $*"
  # shellcheck disable=SC2046 # one word per reporter option
  npm test -- $(vitest_json vitest.json) "$@" || failed_runs+=(test-results/vitest.json)
  step "summary"
  exec node test/support/summarize-results.mjs "${failed_runs[@]/#/--failed-run=}"
fi

step "npm ci"
npm ci --no-audit --no-fund || exit 1

run_step typecheck npm run --silent typecheck
run_step lint npm run --silent lint
run_step build npm run --silent build

step "npm test (with coverage: vitest.config.ts holds the thresholds)"
# shellcheck disable=SC2046 # one word per reporter option
npm test -- --coverage $(vitest_json vitest.json) || failed_runs+=(test-results/vitest.json)

if has_script test:vm; then
  step "npm run test:vm"
  # shellcheck disable=SC2046 # one word per reporter option
  npm run test:vm -- $(vitest_json vitest-vm.json) || failed_runs+=(test-results/vitest-vm.json)
fi

smoke() {
  local dir port server ready=1
  dir=$(mktemp -d)
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  GITHUB_WEBHOOK_SECRET=ci-smoke-secret MAYFLY_CONFIG=examples/fleet.yaml MAYFLY_DATA_DIR="$dir" \
    MAYFLY_PORT="$port" node dist/cli.js serve >"$dir/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      ready=0
      break
    fi
    sleep 0.2
  done
  kill -TERM "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  if [ "$ready" -ne 0 ]; then
    echo "server did not become ready:"
    cat "$dir/serve.log"
  else
    echo "ready on 127.0.0.1:$port, stopped on SIGTERM"
  fi
  rm -rf "$dir"
  return "$ready"
}
run_step "start-up: npm start with the example fleet file" smoke

run_step "demo: npm run demo (simulated GitHub and EC2, ~100 jobs)" npm run --silent demo

bench() {
  local status=0
  npm run --silent bench -- --quick --json --check >test-results/bench.json || status=$?
  cat test-results/bench.json
  return "$status"
}
# The quick bench's counts (calls, VMs and lost jobs per job, throttle answers) fail the run when
# they miss their targets; its timings are printed and stay advisory (docs/BENCHMARKS.md).
run_step "bench: npm run bench -- --quick --check (figures in test-results/bench.json)" bench

step "summary"
exec node test/support/summarize-results.mjs "${failed_runs[@]/#/--failed-run=}" "${failed_steps[@]}"
