import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/secret.js";
import { renderUserData } from "../../../src/fleet/user-data.js";
import { jitRunnerId } from "../../../src/sim/world/jit-runner-id.js";

const config = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64");

describe("jitRunnerId", () => {
  it("reads the runner ID from the user data the launcher renders", () => {
    const userData = renderUserData(new Secret(config({ ".runner": 42, ".credentials": "x" })));
    expect(jitRunnerId(userData.reveal())).toBe(42);
  });

  it("is undefined without a JIT config, or with one that holds no runner ID", () => {
    expect(jitRunnerId("#!/bin/bash\nshutdown -h now\n")).toBeUndefined();
    expect(jitRunnerId(`./run.sh --jitconfig '${config({ ".runner": "42" })}'`)).toBeUndefined();
    expect(jitRunnerId("./run.sh --jitconfig 'bm90IGpzb24='")).toBeUndefined();
    // A JIT config anywhere but the file the boot script reads is not the runner's.
    const elsewhere = `#cloud-config\nwrite_files:\n  - path: /tmp/x\n    content: ${config({ ".runner": 42 })}\n`;
    expect(jitRunnerId(elsewhere)).toBeUndefined();
  });
});
