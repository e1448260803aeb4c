import { describe, expect, it } from "vitest";
import { run } from "../../src/cli.js";

async function mayfly(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, {}, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("mayfly demo --ec2-endpoint", () => {
  it.each(["notaurl", "ftp://127.0.0.1:5000", "127.0.0.1:5000", "http://"])(
    "refuses %s as a usage error naming the flag",
    async (endpoint) => {
      const { code, err } = await mayfly(["demo", "--ec2-endpoint", endpoint]);
      expect(code).toBe(64);
      expect(err).toContain("--ec2-endpoint");
      expect(err).toContain("usage: mayfly");
    },
  );

  it("says the flag needs a value", async () => {
    const { code, err } = await mayfly(["demo", "--ec2-endpoint"]);
    expect(code).toBe(64);
    expect(err).toContain("--ec2-endpoint");
  });
});
