import { createHmac, randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { jobPayload } from "../sim/world/job-payload.js";
import { BENCH_LABELS } from "./bench-world.js";

/** What the load generator is told (as JSON in argv[2]). */
export interface IntakeLoadArgs {
  readonly url: string;
  readonly secret: string;
  readonly connections: number;
  readonly durationMs: number;
}

/** What it reports (one JSON line on stdout). */
export interface IntakeLoadResult {
  readonly accepted: number;
  readonly rejected: number;
  readonly seconds: number;
}

/**
 * Signed `workflow_job` `queued` deliveries, each a new job, sent back to back over
 * `connections` keep-alive connections for `durationMs`; counts 2xx answers.
 */
export async function intakeLoad(args: IntakeLoadArgs): Promise<IntakeLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: args.connections });
  const target = new URL(args.url);
  let nextId = 5_000_000;
  let accepted = 0;
  let rejected = 0;
  const post = () =>
    new Promise<void>((resolve) => {
      const id = nextId++;
      const now = new Date();
      const body = JSON.stringify(
        jobPayload(
          "queued",
          {
            id,
            runId: id * 10,
            repository: "example-org/app",
            name: "build",
            workflowName: "CI",
            headBranch: "main",
            headSha: "0123456789abcdef0123456789abcdef01234567",
            labels: BENCH_LABELS,
            status: "queued",
            conclusion: null,
            runnerId: null,
            runnerName: null,
            createdAt: now,
            startedAt: null,
            completedAt: null,
          },
          77,
        ),
      );
      const signature = createHmac("sha256", args.secret).update(body).digest("hex");
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: "/webhook",
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "x-github-event": "workflow_job",
            "x-github-delivery": randomUUID(),
            "x-hub-signature-256": `sha256=${signature}`,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) accepted++;
            else rejected++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        rejected++;
        resolve();
      });
      req.end(body);
    });
  const started = performance.now();
  const deadline = started + args.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) await post();
  };
  await Promise.all(Array.from({ length: args.connections }, worker));
  agent.destroy();
  return { accepted, rejected, seconds: (performance.now() - started) / 1000 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = JSON.parse(process.argv[2] ?? "{}") as IntakeLoadArgs;
  intakeLoad(args).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
}
