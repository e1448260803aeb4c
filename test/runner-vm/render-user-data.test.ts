import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Secret } from "../../src/config/secret.js";
import {
  bootScript,
  JIT_CONFIG_PATH,
  renderUserData,
  USER_DATA_LIMIT_BYTES,
  type UserDataInput,
} from "../../src/runner-vm/render-user-data.js";
import { toolAvailable } from "./tools.js";

type Doc = { write_files: { path: string; content: string; permissions: string }[] };
const base: UserDataInput = {
  jitConfig: new Secret("eyJydW5uZXIiOjF9"),
  idleTimeoutSeconds: 600,
  maxLifetimeSeconds: 21600,
};
const runner = {
  tarballUrl:
    "https://github.com/actions/runner/releases/download/v2.330.0/actions-runner-linux-x64-2.330.0.tar.gz",
  sha256: "a".repeat(64),
};
const render = (over: Partial<UserDataInput> = {}) => renderUserData({ ...base, ...over }).reveal();

// Lines holding a command substitution: a value turning up in one would run on the VM.
const substitutions = (text: string) =>
  text.split("\n").filter((line) => line.includes("$(") || line.includes("`"));

const variants: [string, Partial<UserDataInput>][] = [
  ["runner in the image", {}],
  ["runner downloaded", { runner }],
  ["odd but valid JIT config", { jitConfig: new Secret("+/+/AAAA==") }],
];

describe.runIf(toolAvailable("cloud-init"))("cloud-init schema", () => {
  it.each(variants)("validates the rendered config: %s", (_name, over) => {
    const file = join(mkdtempSync(join(tmpdir(), "mayfly-schema-")), "user-data");
    writeFileSync(file, render(over));
    const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Valid (cloud-config|schema)/);
    expect(result.status).toBe(0);
  });

  it("rejects a config that breaks the schema (the check can fail)", () => {
    const file = join(mkdtempSync(join(tmpdir(), "mayfly-schema-")), "user-data");
    writeFileSync(file, "#cloud-config\nwrite_files: 42\n");
    const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
  });
});

describe.runIf(toolAvailable("shellcheck"))("shellcheck", () => {
  it("passes on the boot script", () => {
    // Tracing would print the JIT config into the console log.
    expect(bootScript()).not.toMatch(/^\s*set (-[a-z]*x|-o xtrace)/m);
    const result = spawnSync("shellcheck", ["cloud-init/mayfly-boot.sh"], { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("renderUserData", () => {
  it("writes the script root-only and every value as a 0600 data file under /run", () => {
    const doc = parse(render({ runner })) as Doc;
    const script = doc.write_files[0];
    expect(script?.content).toBe(bootScript());
    expect(script?.permissions).toBe("0700");
    for (const f of doc.write_files.slice(1)) {
      expect(f.path).toMatch(/^\/run\/mayfly\//);
      expect(f.permissions).toBe("0600");
    }
    expect(doc.write_files.find((f) => f.path === "/run/mayfly/runner-url")?.content).toBe(
      runner.tarballUrl,
    );
  });

  it.each([
    ["idle timeout 0", { idleTimeoutSeconds: 0 }, /idleTimeoutSeconds/],
    ["fractional lifetime", { maxLifetimeSeconds: 1.5 }, /maxLifetimeSeconds/],
    ["http URL", { runner: { ...runner, tarballUrl: "http://example.com/r.tgz" } }, /https/],
    ["URL with a quote", { runner: { ...runner, tarballUrl: 'https://e.com/"a' } }, /https/],
    ["short sha256", { runner: { ...runner, sha256: "abc" } }, /SHA-256/],
    ["JIT config with a quote", { jitConfig: new Secret("QUJD'") }, /not base64/],
  ] as [string, Partial<UserDataInput>, RegExp][])("refuses %s", (_name, over, message) => {
    expect(() => render(over)).toThrow(message);
  });

  it("property: any JIT config is refused, or reaches the VM only as YAML data", () => {
    const fixed = parse(render()) as Doc & { runcmd: unknown };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "grapheme" }),
          fc.constantFrom("$(reboot)", "a'b", 'a"b', "a\nb", "`id`", "QUJD\n$(id)", "é==", "QUJD"),
          fc.base64String({ minLength: 4 }),
        ),
        (value) => {
          let text: string;
          try {
            text = render({ jitConfig: new Secret(value) });
          } catch (error) {
            expect(String(error)).toMatch(/not base64/);
            expect(/^[A-Za-z0-9+/]+={0,2}$/.test(value)).toBe(false);
            return;
          }
          const doc = parse(text) as Doc & { runcmd: unknown };
          // It is exactly the content of the data file; the shell code the VM runs (the
          // script and runcmd) is the same whatever the value, so the value is not in it.
          expect(doc.write_files.find((f) => f.path === JIT_CONFIG_PATH)?.content).toBe(value);
          expect(doc.write_files[0]).toEqual(fixed.write_files[0]);
          expect(doc.runcmd).toEqual(fixed.runcmd);
          expect(substitutions(text)).toEqual(substitutions(render()));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accepts user data just under EC2's 16 KB limit and refuses it just over", () => {
    const overhead = Buffer.byteLength(render({ bootScript: "x" }), "utf8") - 1;
    // A one-line script of n bytes grows the YAML by n bytes (a plain scalar).
    const fits = "x".repeat(USER_DATA_LIMIT_BYTES - overhead);
    const exact = render({ bootScript: fits });
    expect(Buffer.byteLength(exact, "utf8")).toBe(USER_DATA_LIMIT_BYTES);
    expect(() => render({ bootScript: `${fits}x` })).toThrow(/16384-byte limit/);
  });

  it("leaves room under the limit with the real script and a large JIT config", () => {
    const bigJit = new Secret(Buffer.alloc(3000, 1).toString("base64"));
    const size = Buffer.byteLength(render({ jitConfig: bigJit, runner }), "utf8");
    expect(size).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });
});
