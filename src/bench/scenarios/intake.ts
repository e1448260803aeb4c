import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startController } from "../controller-process.js";
import { freePort } from "../free-port.js";
import type { IntakeLoadResult } from "../intake-load.js";

export interface IntakeParams {
  readonly connections: number;
  readonly durationMs: number;
  readonly databaseUrl?: string;
}

export interface IntakeFigures {
  readonly perSecond: number;
  readonly rejected: number;
  readonly peakRssMb: number;
}

const FLEET = `
fleet: bench
network: { vpcId: vpc-0de0000000000000d, runnerCidr: 10.0.128.0/17, availabilityZones: [eu-west-1a] }
pools:
  - { name: linux, labels: [mayfly-2cpu], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 10 }
`;

/**
 * Webhook intake alone: `mayfly serve` without App credentials records deliveries and
 * launches nothing; a separate process sends signed deliveries over keep-alive connections.
 */
export async function runIntake(p: IntakeParams): Promise<IntakeFigures> {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-bench-intake-"));
  const secret = randomBytes(24).toString("hex");
  writeFileSync(join(dir, "fleet.yaml"), FLEET);
  const controller = await startController(
    {
      GITHUB_WEBHOOK_SECRET: secret,
      MAYFLY_DATA_DIR: join(dir, "data"),
      MAYFLY_CONFIG: join(dir, "fleet.yaml"),
      ...(p.databaseUrl ? { DATABASE_URL: p.databaseUrl } : {}),
      HOME: dir,
    },
    await freePort(),
    join(dir, "controller.log"),
  );
  try {
    const script = fileURLToPath(new URL("../intake-load.js", import.meta.url));
    const args = {
      url: controller.url,
      secret,
      connections: p.connections,
      durationMs: p.durationMs,
    };
    const { stdout } = await promisify(execFile)(process.execPath, [script, JSON.stringify(args)], {
      timeout: p.durationMs + 60_000,
    });
    const result = JSON.parse(stdout) as IntakeLoadResult;
    return {
      perSecond: Math.round(result.accepted / result.seconds),
      rejected: result.rejected,
      peakRssMb: Math.round(controller.usage().peakRssMb),
    };
  } finally {
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
