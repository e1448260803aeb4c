import { describe, expect, it, vi } from "vitest";
import { needTool, toolsRequired } from "./need-tool.js";

const MISSING = {
  tool: "shellcheck",
  found: false,
  suite: "the shellcheck tests (test/x.test.ts)",
  install: "apt-get install shellcheck",
};

describe("needTool: a missing tool skips a suite off the test command and fails it under it", () => {
  it("requires every tool when CI is any non-empty value", () => {
    for (const CI of ["true", "1", "yes", "false"]) expect(toolsRequired({ CI })).toBe(true);
    expect(toolsRequired({})).toBe(false);
    expect(toolsRequired({ CI: "" })).toBe(false);
  });

  it("runs the suite when the tool is found, whatever CI says", () => {
    expect(needTool({ ...MISSING, found: true }, { CI: "true" })).toBe(true);
    expect(needTool({ ...MISSING, found: true }, {})).toBe(true);
  });

  it("skips the suite with a message naming the tool and how to get it, off the test command", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(needTool(MISSING, {})).toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("shellcheck not found"));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("apt-get install shellcheck"));
    } finally {
      warn.mockRestore();
    }
  });

  it("throws under the test command, naming the tool, the suite and how to get it", () => {
    expect(() => needTool(MISSING, { CI: "true" })).toThrow(
      /shellcheck not found: the shellcheck tests \(test\/x\.test\.ts\) needs it \(apt-get install shellcheck\); CI=true requires/,
    );
  });
});
