import { describe, expect, it } from "vitest";
import { parseTerraformDir } from "./hcl.js";
import {
  outputProblems,
  secretStoreProblems,
  secretVariableProblems,
  taskDefinitionProblems,
} from "./secret-checks.js";

const tf = await parseTerraformDir("terraform");

describe("terraform: secrets", () => {
  it("never puts a secret value in an output", () => {
    expect(outputProblems(tf)).toEqual([]);
  });

  it("has no secret-looking variable with a default", () => {
    expect(secretVariableProblems(tf)).toEqual([]);
  });

  it("keeps secrets in KMS-encrypted Secrets Manager entries, none written in the code", () => {
    expect(secretStoreProblems(tf)).toEqual([]);
  });

  it("hands the controller its secrets through ECS secrets, never environment", () => {
    expect(taskDefinitionProblems(tf)).toEqual([]);
  });
});
