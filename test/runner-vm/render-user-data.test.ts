import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Secret } from "../../src/config/secret.js";
import { scrub } from "../../src/log/logger.js";
import {
  ASSIGNMENT_URL_PATH,
  BOOT_HOOK_PATH,
  BOOT_SCRIPT_PATH,
  BOOT_TIMEOUT_PATH,
  bootScript,
  JOB_COMPLETED_HOOK_PATH,
  JOB_STARTED_HOOK_PATH,
  renderUserData,
  STATE_DIR,
  USER_DATA_LIMIT_BYTES,
  type UserDataInput,
  userDataBytes,
} from "../../src/runner-vm/render-user-data.js";
import { needTool } from "../support/need-tool.js";
import { toolAvailable } from "./tools.js";

type Doc = {
  write_files: {
    path: string;
    content: string;
    permissions: string;
    owner: string;
    encoding?: string;
  }[];
};
// The bytes cloud-init writes for one write_files entry.
const bytesOf = (f: Doc["write_files"][number] | undefined) =>
  f?.encoding === "b64"
    ? Buffer.from(f.content, "base64")
    : f?.encoding === "gz+b64"
      ? gunzipSync(Buffer.from(f.content, "base64"))
      : Buffer.from(f?.content ?? "", "utf8");
const ASSIGNMENT_URL = "https://mayfly.example.com/runner/v1/assignment";
const base: UserDataInput = {
  assignmentUrl: ASSIGNMENT_URL,
  bootTimeoutSeconds: 300,
  idleTimeoutSeconds: 600,
  maxLifetimeSeconds: 21600,
};
const runner = {
  tarballUrl:
    "https://github.com/actions/runner/releases/download/v2.330.0/actions-runner-linux-x64-2.330.0.tar.gz",
  sha256: "a".repeat(64),
};
const hooks = {
  boot: "#!/bin/bash\nset -eu\napt-get install -y jq\n",
  jobStarted: '#!/bin/bash\necho "job $GITHUB_JOB starting"\n',
  jobCompleted: '#!/bin/sh\nrm -rf "$RUNNER_TEMP"/* || true\n',
};
const render = (over: Partial<UserDataInput> = {}) => renderUserData({ ...base, ...over });

const variants: [string, Partial<UserDataInput>][] = [
  ["runner in the image", {}],
  ["runner downloaded", { runner }],
  [
    "an http assignment URL (a test's forwarded address)",
    { assignmentUrl: "http://169.254.169.252:8080/runner/v1/assignment" },
  ],
  ["with hooks", { runner, hooks }],
  ["with operator access", { operatorAccess: true }],
  ["with hooks, a runner tarball and operator access", { runner, hooks, operatorAccess: true }],
  [
    "with hooks full of quotes and unicode",
    { hooks: { boot: "#!/bin/sh\necho '$(x)' \"é\" 🚀\r\n\t`y`\n" } },
  ],
];

// Prints, for each user data document on stdin, the content of its hook files as PyYAML
// (cloud-init's parser) reads them.
const PYYAML_HOOKS = `
import base64, json, sys, yaml
docs = [yaml.safe_load(text) for text in json.load(sys.stdin)]
def content(f):
    if f.get("encoding") == "b64":
        return base64.b64decode(f["content"]).decode("utf-8")
    return f["content"]
print(json.dumps([{f["path"]: content(f) for f in d["write_files"] if "hook" in f["path"] or f["path"].endswith(".sh")} for d in docs]))
`;
const FILE = "(test/runner-vm/render-user-data.test.ts)";
const pythonYaml = needTool({
  tool: "PyYAML (python3 -c 'import yaml')",
  found: spawnSync("python3", ["-c", "import yaml"]).status === 0,
  suite: `the PyYAML reading of the hooks ${FILE}`,
  install: "apt-get install python3-yaml",
});
const withCloudInit = toolAvailable("cloud-init", `the cloud-init schema tests ${FILE}`);
const withShellcheck = toolAvailable("shellcheck", `the shellcheck tests ${FILE}`);

describe.runIf(withCloudInit)("cloud-init schema", () => {
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

describe.runIf(withShellcheck)("shellcheck", () => {
  it("passes on the boot script", () => {
    // Tracing would print the JIT config into the console log.
    expect(bootScript()).not.toMatch(/^\s*set (-[a-z]*x|-o xtrace)/m);
    const result = spawnSync("shellcheck", ["cloud-init/mayfly-boot.sh"], { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  it("passes on the boot script as the rendered config with hooks writes it", () => {
    const doc = parse(render({ hooks })) as Doc;
    const file = join(mkdtempSync(join(tmpdir(), "mayfly-shellcheck-")), "mayfly-boot");
    writeFileSync(file, bytesOf(doc.write_files.find((f) => f.path === BOOT_SCRIPT_PATH)));
    const result = spawnSync("shellcheck", [file], { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });
});

// Hook text of any bytes, with what could break out of YAML or the shell on purpose.
const tricky = fc.constantFrom(
  "$(reboot)",
  "`id`",
  "'",
  '"',
  "\\",
  "$" + "{HOME}",
  "\n",
  "\r\n",
  "\t",
  "\u0000",
  "\u0085",
  "\u2028",
  "\ufeff",
  "é",
  "🚀",
  "EOF",
  "---",
  "...",
  "#cloud-config",
  "- path: /etc/shadow",
  ": ",
  " ",
);
const hookText = fc
  .tuple(
    fc.constantFrom("#!/bin/sh\n", "#!/bin/bash\n", "#!/usr/bin/env python3\n"),
    fc.array(fc.oneof(tricky, fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" })), {
      maxLength: 12,
    }),
  )
  .map(([shebang, parts]) => shebang + parts.join(""));

describe("renderUserData", () => {
  it("writes the script root-only and every value as a 0600 data file under /run", () => {
    const doc = parse(render({ runner })) as Doc;
    const script = doc.write_files[0];
    // Sent gzipped (write_files' gz+b64): the same script, in a third of the room.
    expect(script?.encoding).toBe("gz+b64");
    expect(bytesOf(script).toString("utf8")).toBe(bootScript());
    expect(script?.permissions).toBe("0700");
    for (const f of doc.write_files.slice(1)) {
      expect(f.path).toMatch(/^\/run\/mayfly\//);
      expect(f.permissions).toBe("0600");
    }
    const at = (path: string) => doc.write_files.find((f) => f.path === path)?.content;
    expect(at("/run/mayfly/runner-url")).toBe(runner.tarballUrl);
    expect(at(ASSIGNMENT_URL_PATH)).toBe(ASSIGNMENT_URL);
    expect(at(BOOT_TIMEOUT_PATH)).toBe("300");
    // The boot script reads them from there.
    expect(bootScript()).toContain("assignment_url=$(read_setting assignment-url)");
    expect(bootScript()).toContain("boot_timeout=$(read_setting boot-timeout)");
  });

  it.each(variants)("holds no secret: %s", (_name, over) => {
    const text = render(over);
    const doc = parse(text) as Doc & { runcmd: unknown };
    const paths = doc.write_files.map((f) => f.path);
    expect(paths).not.toContain(`${STATE_DIR}/jitconfig`);
    expect(text).not.toMatch(/jit_?config/i);
    // The data files hold settings only: nothing the log redaction would take for a
    // credential (a JWT, a key, base64 JSON such as a JIT config, a long token).
    const data = doc.write_files.filter((f) => f.path.startsWith("/run/mayfly/"));
    expect(data.map((f) => f.path).sort()).toEqual(
      [
        ASSIGNMENT_URL_PATH,
        BOOT_TIMEOUT_PATH,
        "/run/mayfly/idle-timeout",
        "/run/mayfly/max-lifetime",
        ...(over.runner ? ["/run/mayfly/runner-sha256", "/run/mayfly/runner-url"] : []),
        ...(over.operatorAccess ? ["/run/mayfly/operator-access"] : []),
      ].sort(),
    );
    for (const f of data) expect(scrub(f.content), f.path).toBe(f.content);
    expect(scrub(JSON.stringify(doc.runcmd))).toBe(JSON.stringify(doc.runcmd));
  });

  it("has no place for a JIT config, by its type and at run time", () => {
    const jit = Buffer.from('{".runner":"x",".credentials":"y"}').toString("base64");
    const input: UserDataInput = {
      ...base,
      // @ts-expect-error: user data is readable through EC2's API, so it takes no JIT config.
      jitConfig: new Secret(jit),
    };
    const text = renderUserData(input);
    expect(text).not.toContain(jit);
    expect(text).toBe(render());
  });

  it("writes the boot hook root-only and the job hooks runnable but not writable by the runner", () => {
    const doc = parse(render({ hooks })) as Doc;
    const at = (path: string) => doc.write_files.find((f) => f.path === path);
    expect(at(BOOT_HOOK_PATH)).toMatchObject({
      content: hooks.boot,
      owner: "root:root",
      permissions: "0700",
    });
    expect(at(JOB_STARTED_HOOK_PATH)).toMatchObject({
      content: hooks.jobStarted,
      owner: "root:root",
      permissions: "0755",
    });
    expect(at(JOB_COMPLETED_HOOK_PATH)).toMatchObject({
      content: hooks.jobCompleted,
      owner: "root:root",
      permissions: "0755",
    });
    // GitHub asks for job hooks outside the runner's directory, ending in .sh.
    for (const path of [JOB_STARTED_HOOK_PATH, JOB_COMPLETED_HOOK_PATH]) {
      expect(path).toMatch(/\.sh$/);
      expect(path.startsWith("/opt/actions-runner")).toBe(false);
    }
    // The boot script runs the boot hook from where it is written, and not from /run:
    // the initramfs mounts /run noexec (FIELD-NOTES.md, "Learned in 2026-12").
    expect(bootScript()).toContain('job_hooks_dir="$root/usr/local/lib/mayfly"');
    expect(bootScript()).toContain('boot_hook="$job_hooks_dir/boot-hook"');
    expect(BOOT_HOOK_PATH).toBe("/usr/local/lib/mayfly/boot-hook");
    expect(BOOT_HOOK_PATH.startsWith("/run/")).toBe(false);
  });

  it("sends a hook as text when PyYAML reads it alike, base64-encoded when it would not", () => {
    const doc = parse(
      render({ hooks: { boot: hooks.boot, jobStarted: "#!/bin/sh\r\necho \u2028\n" } }),
    ) as Doc;
    const at = (path: string) => doc.write_files.find((f) => f.path === path);
    expect(at(BOOT_HOOK_PATH)?.encoding).toBeUndefined();
    expect(at(JOB_STARTED_HOOK_PATH)?.encoding).toBe("b64");
    expect(bytesOf(at(JOB_STARTED_HOOK_PATH)).toString("utf8")).toBe("#!/bin/sh\r\necho \u2028\n");
  });

  it("tells the VM to keep operator access only when the pool asks for it", () => {
    const at = (over: Partial<UserDataInput>) =>
      (parse(render(over)) as Doc).write_files.find(
        (f) => f.path === "/run/mayfly/operator-access",
      );
    expect(at({})).toBeUndefined();
    expect(at({ operatorAccess: false })).toBeUndefined();
    expect(at({ operatorAccess: true })).toMatchObject({ content: "true", permissions: "0600" });
  });

  it("hands the runner its JIT config in its environment, never on its command line", () => {
    const script = bootScript();
    expect(script).toContain("ACTIONS_RUNNER_INPUT_JITCONFIG=$jit_config");
    expect(script).not.toMatch(/--jitconfig/);
  });

  it("writes no hook file for a hook the pool does not have", () => {
    const doc = parse(render({ hooks: { jobCompleted: hooks.jobCompleted } })) as Doc;
    const paths = doc.write_files.map((f) => f.path);
    expect(paths).toContain(JOB_COMPLETED_HOOK_PATH);
    expect(paths).not.toContain(BOOT_HOOK_PATH);
    expect(paths).not.toContain(JOB_STARTED_HOOK_PATH);
  });

  it.each([
    ["a hook without an interpreter line", { hooks: { boot: "echo hi" } }, /boot hook/],
    [
      "a hook with a lone surrogate",
      { hooks: { jobStarted: "#!/bin/sh\n\ud800" } },
      /jobStarted hook/,
    ],
    ["idle timeout 0", { idleTimeoutSeconds: 0 }, /idleTimeoutSeconds/],
    ["fractional lifetime", { maxLifetimeSeconds: 1.5 }, /maxLifetimeSeconds/],
    ["boot timeout 0", { bootTimeoutSeconds: 0 }, /bootTimeoutSeconds/],
    ["a negative boot timeout", { bootTimeoutSeconds: -300 }, /bootTimeoutSeconds/],
    ["http URL", { runner: { ...runner, tarballUrl: "http://example.com/r.tgz" } }, /https/],
    ["URL with a quote", { runner: { ...runner, tarballUrl: 'https://e.com/"a' } }, /https/],
    ["short sha256", { runner: { ...runner, sha256: "abc" } }, /SHA-256/],
    ["an assignment URL that is not one", { assignmentUrl: "mayfly.example.com" }, /not a URL/],
    [
      "an ftp assignment URL",
      { assignmentUrl: "ftp://e.com/runner/v1/assignment" },
      /https or http/,
    ],
    ["a file assignment URL", { assignmentUrl: "file:///etc/passwd" }, /https or http/],
    [
      "an assignment URL with a double quote",
      { assignmentUrl: 'https://e.com/"a' },
      /https or http/,
    ],
    ["an assignment URL with a space", { assignmentUrl: "https://e.com/a b" }, /https or http/],
    [
      "an assignment URL with a password",
      { assignmentUrl: "https://mayfly:hunter2@e.com/runner/v1/assignment" },
      /no user name or password/,
    ],
  ] as [string, Partial<UserDataInput>, RegExp][])("refuses %s", (_name, over, message) => {
    expect(() => render(over)).toThrow(message);
  });

  it("property: any assignment URL is refused, or reaches the VM only as YAML data", () => {
    const fixed = parse(render()) as Doc & { runcmd: unknown };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          fc.string({ unit: "grapheme" }).map((text) => `https://e.com/${text}`),
          fc.constantFrom(
            "https://e.com/$(reboot)",
            "https://e.com/a'b",
            'https://e.com/a"b',
            "https://e.com/a\nb",
            "https://e.com/`id`",
            "https://e.com/\n$(id)",
            "https://[::1]:8443/runner/v1/assignment",
            "http://10.0.0.1/runner/v1/assignment",
          ),
        ),
        (value) => {
          let text: string;
          try {
            text = render({ assignmentUrl: value });
          } catch (error) {
            expect(String(error)).toMatch(/assignment URL/);
            return;
          }
          expect(value).toMatch(/^https?:\/\/[A-Za-z0-9._~:/?#[\]@!$&'()*+,;=%-]+$/);
          const doc = parse(text) as Doc & { runcmd: unknown };
          // It is exactly the content of the data file; the shell code the VM runs (the
          // script and runcmd) is the same whatever the value, so the value is not in it.
          expect(doc.write_files.find((f) => f.path === ASSIGNMENT_URL_PATH)?.content).toBe(value);
          const others = (d: Doc) => d.write_files.filter((f) => f.path !== ASSIGNMENT_URL_PATH);
          expect(others(doc)).toEqual(others(fixed));
          expect(doc.runcmd).toEqual(fixed.runcmd);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: hook text of any bytes reaches its file exactly, as data, never as code", () => {
    const plain = parse(render()) as Doc & { runcmd: unknown };
    const hookPaths = [BOOT_HOOK_PATH, JOB_STARTED_HOOK_PATH, JOB_COMPLETED_HOOK_PATH];
    fc.assert(
      fc.property(hookText, hookText, (boot, jobStarted) => {
        const text = render({ hooks: { boot, jobStarted } });
        const doc = parse(text) as Doc & { runcmd: unknown };
        const at = (path: string) => doc.write_files.find((f) => f.path === path);
        expect(bytesOf(at(BOOT_HOOK_PATH))).toEqual(Buffer.from(boot, "utf8"));
        expect(bytesOf(at(JOB_STARTED_HOOK_PATH))).toEqual(Buffer.from(jobStarted, "utf8"));
        // Everything else, the shell code the VM runs included, is what it is without hooks.
        expect(doc.write_files.filter((f) => !hookPaths.includes(f.path))).toEqual(
          plain.write_files,
        );
        expect(doc.runcmd).toEqual(plain.runcmd);
      }),
      { numRuns: 300 },
    );
  });

  // cloud-init reads user data with PyYAML, not the yaml package: it must agree. Without
  // PyYAML this case is skipped, and under CI the file fails (see pythonYaml above).
  it.runIf(pythonYaml)(
    "property: PyYAML, cloud-init's parser, reads hook text of any bytes exactly",
    () => {
      const rendered = fc
        .sample(fc.tuple(hookText, hookText), { numRuns: 300, seed: 16 })
        .map(([boot, jobStarted]) => ({
          text: render({ hooks: { boot, jobStarted } }),
          hooks: { [BOOT_HOOK_PATH]: boot, [JOB_STARTED_HOOK_PATH]: jobStarted },
        }));
      const read = spawnSync("python3", ["-c", PYYAML_HOOKS], {
        input: JSON.stringify(rendered.map((r) => r.text)),
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(read.stderr).toBe("");
      const seen = JSON.parse(read.stdout) as Record<string, string>[];
      expect(seen).toEqual(rendered.map((r) => r.hooks));
    },
  );

  it("accepts user data just under EC2's 16 KB limit and refuses it just over", () => {
    const overhead = Buffer.byteLength(render({ bootScript: "x" }), "utf8") - 1;
    // A one-line script of n bytes grows the YAML by n bytes (a plain scalar).
    const fits = "x".repeat(USER_DATA_LIMIT_BYTES - overhead);
    const exact = render({ bootScript: fits });
    expect(Buffer.byteLength(exact, "utf8")).toBe(USER_DATA_LIMIT_BYTES);
    expect(() => render({ bootScript: `${fits}x` })).toThrow(/16384-byte limit/);
  });

  it("refuses hooks that push the user data over EC2's limit, with a RangeError", () => {
    const big = `#!/bin/sh\n${"x".repeat(8180)}\n`;
    expect(() => render({ hooks: { boot: big, jobStarted: big } })).toThrow(RangeError);
    expect(() => render({ hooks: { boot: big, jobStarted: big } })).toThrow(
      /over EC2's 16384-byte limit/,
    );
    expect(userDataBytes({ ...base, hooks: { boot: big, jobStarted: big } })).toBeGreaterThan(
      USER_DATA_LIMIT_BYTES,
    );
  });

  it("leaves most of the limit to the hooks with the real script and every setting", () => {
    const assignmentUrl = `https://${"c".repeat(200)}.example.com/runner/v1/assignment`;
    const size = Buffer.byteLength(render({ assignmentUrl, runner, operatorAccess: true }), "utf8");
    expect(size).toBeLessThan(USER_DATA_LIMIT_BYTES / 2);
  });
});
