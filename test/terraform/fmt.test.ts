import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const hasTerraform = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
const skip = !hasTerraform && !process.env.CI;

describe("terraform: formatting", () => {
  it.skipIf(skip)(
    `terraform fmt -check finds nothing to reformat${skip ? " (SKIPPED: terraform is not on PATH)" : ""}`,
    () => {
      // Under CI a missing terraform fails here rather than passing unseen.
      expect(hasTerraform, "terraform is not on PATH").toBe(true);
      const run = () =>
        execFileSync("terraform", ["fmt", "-check", "-recursive", "terraform"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      expect(run).not.toThrow();
    },
  );
});
