import { describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { renderUserData } from "../../src/fleet/user-data.js";

describe("interim user data", () => {
  it("starts the runner once with the JIT config, then powers off", () => {
    const script = renderUserData(new Secret("eyJhIjoiYiJ9+/==")).reveal();
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("./run.sh --jitconfig 'eyJhIjoiYiJ9+/=='");
    expect(script.trimEnd().endsWith("shutdown -h now")).toBe(true);
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
