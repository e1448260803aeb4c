import { afterEach, describe, expect, it } from "vitest";
import { type ControllerInWorld, controllerInWorld } from "../support/controller-in-world.js";

/**
 * The assignment handoff through `serve`: the world's VMs prove who they are with documents
 * its EC2 signs, the controller trusts that certificate (MAYFLY_EC2_IDENTITY_CERT_FILE), and
 * every runner is registered when its VM asks, never before its launch.
 */
describe("the assignment endpoint in the real controller", () => {
  let c: ControllerInWorld | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  const ask = (body: unknown) =>
    fetch(`${c?.url}/runner/v1/assignment`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("serves a job through the handoff, refuses a replay with 410 and counts it, logging no secret", async () => {
    c = await controllerInWorld();
    const jobId = await c.queue(4000);
    const ledger = c.running.ledger;
    const deadline = Date.now() + 30_000;
    while ((await ledger.getJob(jobId))?.state !== "in_progress" && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await ledger.getJob(jobId))?.state).toBe("in_progress");

    // A copy of the VM's document and signature, asked again while its runner runs the job.
    const [vm] = c.world.ec2.instances();
    const copy = c.world.assignmentRequestOf(vm?.instanceId ?? "");
    if (copy === undefined) throw new Error("the VM never asked");
    const replay = await ask(copy);
    expect(replay.status).toBe(410);
    const answer = await replay.text();
    expect(JSON.parse(answer)).toEqual({
      error: "GONE",
      message: "no assignment for this VM (runner-started)",
    });
    expect(c.log.lines()).toMatch(
      /"level":40.*"instanceId":"i-[0-9a-f]+".*"reason":"runner-started".*"assignment refused: already assigned or retired"/,
    );
    const metrics = await fetch(`${c.url}/metrics`, {
      headers: { authorization: `Bearer ${c.adminToken}` },
    }).then((r) => r.text());
    expect(metrics).toMatch(/mayfly_assignment_refusals_total\{reason="runner-started"\} 1\b/);

    // A document one byte off what was signed proves nothing: 401, nothing registered.
    const issued = c.world.github.issuedJitConfigs();
    expect(issued).toHaveLength(1);
    const forged = await ask({ ...copy, document: copy.document.replace("i-", "i-f") });
    expect(forged.status).toBe(401);
    expect(c.world.github.issuedJitConfigs()).toHaveLength(1);

    await c.allCompleted(30_000);
    expect(c.world.jobs().map((j) => j.conclusion)).toEqual(["success"]);
    for (const jit of issued) {
      expect(c.log.lines()).not.toContain(jit);
      expect(answer).not.toContain(jit);
    }
  }, 90_000);
});
