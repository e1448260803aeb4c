import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseFleet } from "../../src/config/load-fleet.js";
import { Secret } from "../../src/config/secret.js";
import { renderUserData } from "../../src/fleet/user-data.js";
import { BOOT_SCRIPT_PATH, JIT_CONFIG_PATH } from "../../src/runner-vm/render-user-data.js";

type Doc = { write_files: { path: string; content: string }[]; runcmd: string[][] };
const fileAt = (doc: Doc, path: string) => doc.write_files.find((f) => f.path === path)?.content;

describe("runner VM user data for the launcher", () => {
  it("is the cloud-init bootstrap with the JIT config and the pool's watchdog times", () => {
    const text = renderUserData(new Secret("eyJhIjoiYiJ9+/=="), {
      idleTimeout: 120,
      maxLifetime: 3600,
    }).reveal();
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(text) as Doc;
    expect(fileAt(doc, JIT_CONFIG_PATH)).toBe("eyJhIjoiYiJ9+/==");
    expect(fileAt(doc, "/run/mayfly/idle-timeout")).toBe("120");
    expect(fileAt(doc, "/run/mayfly/max-lifetime")).toBe("3600");
    expect(fileAt(doc, BOOT_SCRIPT_PATH)).toMatch(/^#!\/bin\/sh\n/);
    expect(doc.runcmd.flat()).toContain(BOOT_SCRIPT_PATH);
  });

  it.each(["abc'; rm -rf /", "$(reboot)", "a b", ""])(
    "refuses a JIT config that is not base64: %s",
    (bad) => {
      expect(() => renderUserData(new Secret(bad))).toThrow(/not base64/);
    },
  );

  it("stays a Secret: printing it shows nothing", () => {
    expect(JSON.stringify({ userData: renderUserData(new Secret("QUJD")) })).toBe(
      '{"userData":"[redacted]"}',
    );
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
    const userData = renderUserData(new Secret("QUJD"), firstPool).reveal();
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
