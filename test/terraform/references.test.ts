import { describe, expect, it } from "vitest";
import { parseHcl, parseTerraformDir, type Terraform } from "./hcl.js";
import { moduleInputProblems, undeclaredReferences } from "./reference-checks.js";

const all = await parseTerraformDir("terraform");
const root: Terraform = { files: all.files.filter((f) => !f.path.includes("examples")) };
const examples = all.files.filter((f) => f.path.includes("examples"));

describe("terraform: references", () => {
  it("uses only variables, locals, resources and data sources it declares", () => {
    expect(undeclaredReferences(root)).toEqual([]);
  });

  it.each(["minimal", "full"])(
    "the %s example calls the root module with its real inputs",
    (name) => {
      const file = examples.find((f) => f.path.includes(`examples/${name}/`));
      const calls = Object.values((file?.json.module ?? {}) as Record<string, unknown[]>).flat();
      expect(calls).toHaveLength(1);
      const call = calls[0] as Record<string, unknown>;
      expect(call.source).toBe("../..");
      expect(moduleInputProblems(root, call)).toEqual([]);
    },
  );

  it("catches a reference to something undeclared", async () => {
    const bad = await parseHcl(
      "bad.tf",
      'output "x" { value = [var.nope, local.gone, aws_lb.missing.arn] }',
    );
    expect(undeclaredReferences(bad)).toEqual(["aws_lb.missing", "local.gone", "var.nope"]);
  });
});
