import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseFleet } from "../../src/config/load-fleet.js";
import { renderUserData } from "../../src/fleet/user-data.js";
import {
  BOOT_HOOK_PATH,
  BOOT_SCRIPT_PATH,
  JOB_COMPLETED_HOOK_PATH,
  JOB_STARTED_HOOK_PATH,
} from "../../src/runner-vm/render-user-data.js";

type Doc = {
  write_files: { path: string; content: string; encoding?: string }[];
  runcmd: string[][];
};
// What cloud-init writes there: the boot script travels gzipped (`encoding: gz+b64`).
const fileAt = (doc: Doc, path: string) => {
  const f = doc.write_files.find((w) => w.path === path);
  return f?.encoding === "gz+b64"
    ? gunzipSync(Buffer.from(f.content, "base64")).toString("utf8")
    : f?.content;
};

const ENDPOINT = "https://mayfly.example.com";
const TIMES = { idleTimeout: 120, bootTimeout: 90, maxLifetime: 3600 };

describe("runner VM user data for the launcher", () => {
  it("is the cloud-init bootstrap with where to ask for the assignment and the pool's times", () => {
    const text = renderUserData(ENDPOINT, TIMES);
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(text) as Doc;
    expect(fileAt(doc, "/run/mayfly/assignment-url")).toBe(
      "https://mayfly.example.com/runner/v1/assignment",
    );
    expect(fileAt(doc, "/run/mayfly/boot-timeout")).toBe("90");
    expect(fileAt(doc, "/run/mayfly/idle-timeout")).toBe("120");
    expect(fileAt(doc, "/run/mayfly/max-lifetime")).toBe("3600");
    expect(fileAt(doc, BOOT_SCRIPT_PATH)).toMatch(/^#!\/bin\/sh\n/);
    expect(doc.runcmd.flat()).toContain(BOOT_SCRIPT_PATH);
  });

  it.each(["ftp://mayfly.example.com", "https://mayfly.example.com/\nreboot", "https://a b"])(
    "refuses a runner endpoint that is not a plain http(s) URL: %s",
    (bad) => {
      expect(() => renderUserData(bad, TIMES)).toThrow(/assignment URL/);
    },
  );

  // Every input the user data can have, at once and one by one: none is a credential.
  const variants: [string, string][] = [
    ["a plain pool", ""],
    [
      "a runner tarball",
      `runner: { tarballUrl: "https://example.com/r.tgz", sha256: "${"b".repeat(64)}" }`,
    ],
    [
      "hooks",
      `hooks: { boot: "#!/bin/sh\\ntrue\\n", jobStarted: "#!/bin/bash\\ntrue\\n", jobCompleted: "#!/bin/bash\\ntrue\\n" }`,
    ],
    ["operator access", "operatorAccess: true"],
    ["repository registration", "registration: repo, repositories: [example-org/app]"],
    ["spot", "market: spot-then-on-demand"],
  ];
  it.each(variants)("holds no JIT config, token or key for %s", (_, extra) => {
    const yaml = `fleet: f\nnetwork: { vpcId: vpc-0a, runnerCidr: 10.0.0.0/16, availabilityZones: [a] }\npools:\n  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 1${extra ? `, ${extra}` : ""} }\n`;
    const [pool] = parseFleet(yaml, "f.yaml").pools;
    if (!pool) throw new Error("expected a pool");
    const text = renderUserData(ENDPOINT, pool);
    const doc = parse(text) as Doc;
    // Only these files, whose contents are the pool's own settings and the public URL.
    const data = doc.write_files.filter((f) => f.path.startsWith("/run/mayfly/"));
    expect(data.map((f) => f.path).sort()).toEqual(
      [
        "assignment-url",
        "boot-timeout",
        "idle-timeout",
        "max-lifetime",
        ...(pool.runner ? ["runner-sha256", "runner-url"] : []),
        ...(pool.operatorAccess ? ["operator-access"] : []),
      ]
        .map((name) => `/run/mayfly/${name}`)
        .sort(),
    );
    expect(text).not.toMatch(/jit|ghs_|ghp_|github_pat_|BEGIN [A-Z ]*PRIVATE KEY|AKIA|ASIA/i);
  });
});

describe("a pool's runner tarball", () => {
  it("reaches the VM as data, and the fleet file checks it", () => {
    const pool = (runner: string) =>
      `fleet: f\nnetwork: { vpcId: vpc-0a, runnerCidr: 10.0.0.0/16, availabilityZones: [a] }\npools:\n  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 1, ${runner} }\n`;
    const sha = "a".repeat(64);
    const fleet = parseFleet(
      pool(`runner: { tarballUrl: "https://example.com/runner.tgz", sha256: "${sha}" }`),
      "f.yaml",
    );
    const [firstPool] = fleet.pools;
    if (!firstPool) throw new Error("expected a pool");
    const userData = renderUserData(ENDPOINT, firstPool);
    expect(userData).toContain("https://example.com/runner.tgz");
    expect(userData).toContain(sha);
    expect(() =>
      parseFleet(
        pool(`runner: { tarballUrl: "http://example.com/r.tgz", sha256: "${sha}" }`),
        "f.yaml",
      ),
    ).toThrow(/pools\[0\]\.runner\.tarballUrl/);
    expect(() =>
      parseFleet(
        pool(`runner: { tarballUrl: "https://example.com/r.tgz", sha256: "nope" }`),
        "f.yaml",
      ),
    ).toThrow(/pools\[0\]\.runner\.sha256: expected 64 lowercase hex digits/);
  });
});

describe("a pool's hooks", () => {
  const fleetWith = (hooks: Record<string, string>) =>
    `fleet: f\nnetwork: { vpcId: vpc-0a, runnerCidr: 10.0.0.0/16, availabilityZones: [a] }\npools:\n  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 1, hooks: ${JSON.stringify(hooks)} }\n`;

  it("reach the VM as files, byte for byte, from the fleet file", () => {
    const hooks = {
      boot: "#!/bin/bash\nset -eu\necho \"$(hostname)\" 'é'\n",
      jobStarted: "#!/bin/bash\necho started\n",
      jobCompleted: "#!/bin/sh\necho completed\n",
    };
    const [pool] = parseFleet(fleetWith(hooks), "f.yaml").pools;
    if (!pool) throw new Error("expected a pool");
    const doc = parse(renderUserData(ENDPOINT, pool)) as Doc;
    expect(fileAt(doc, BOOT_HOOK_PATH)).toBe(hooks.boot);
    expect(fileAt(doc, JOB_STARTED_HOOK_PATH)).toBe(hooks.jobStarted);
    expect(fileAt(doc, JOB_COMPLETED_HOOK_PATH)).toBe(hooks.jobCompleted);
  });

  it("are refused when the user data could not fit EC2's 16 KB, with the figure", () => {
    const big = `#!/bin/bash\n# ${"x".repeat(7000)}\n`;
    expect(() => parseFleet(fleetWith({ boot: big, jobStarted: big }), "f.yaml")).toThrow(
      /f\.yaml:\d+:\d+: pools\[0\]\.hooks: the runner VM's user data would be \d+ bytes \(with a 512-character assignment URL\), \d+ bytes over EC2's 16384-byte limit/,
    );
    // One of them fits.
    expect(parseFleet(fleetWith({ boot: big }), "f.yaml").pools[0]?.hooks?.boot).toBe(big);
  });

  it("are refused when they cannot reach the VM byte for byte", () => {
    // A lone surrogate (here a YAML escape) has no UTF-8 form.
    expect(() => parseFleet(fleetWith({ boot: "#!/bin/sh\ud800" }), "f.yaml")).toThrow(
      /pools\[0\]\.hooks: cannot render the runner VM's user data: the boot hook/,
    );
  });

  it("refuses a job hook the runner could not run: it runs them with bash", () => {
    expect(() =>
      parseFleet(fleetWith({ jobStarted: "#!/usr/bin/env python3\nprint(1)\n" }), "f.yaml"),
    ).toThrow(/pools\[0\]\.hooks\.jobStarted: the runner runs job hooks with bash/);
    expect(() => parseFleet(fleetWith({ boot: "echo no interpreter line" }), "f.yaml")).toThrow(
      /pools\[0\]\.hooks\.boot: a hook script starts with an interpreter line/,
    );
    expect(
      parseFleet(fleetWith({ jobStarted: "#!/usr/bin/env bash\ntrue\n" }), "f.yaml").pools[0]
        ?.hooks,
    ).toEqual({ jobStarted: "#!/usr/bin/env bash\ntrue\n" });
  });
});
