import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { needTool } from "../support/need-tool.js";

const hasTerraform = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
const skip = !needTool({
  tool: "terraform",
  found: hasTerraform,
  suite: "terraform fmt (test/terraform/fmt.test.ts)",
  install: "https://developer.hashicorp.com/terraform/install",
});

describe("terraform: formatting", () => {
  it.skipIf(skip)(
    `terraform fmt -check finds nothing to reformat${skip ? " (SKIPPED: terraform is not on PATH)" : ""}`,
    () => {
      const run = () =>
        execFileSync("terraform", ["fmt", "-check", "-recursive", "terraform"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      expect(run).not.toThrow();
    },
  );
});
