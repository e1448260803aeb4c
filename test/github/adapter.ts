import type { Secret } from "../../src/config/secret.js";
import type { GitHubTuning } from "../../src/github/github-app.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import type { SimGitHub } from "../../src/sim/github/start-sim-github.js";
import { memoryLogger } from "../support/fixtures.js";

// Waits in milliseconds instead of seconds, and no spacing between writes, so tests stay fast.
export const FAST: GitHubTuning = { waitUnitMs: 1, writeSpacingMs: 0 };

/** The production adapter pointed at a simulated GitHub, with an in-memory log. */
export function adapterFor(sim: SimGitHub, tuning: GitHubTuning = {}, privateKey?: Secret) {
  const { logger, lines } = memoryLogger();
  const github = new OctokitGitHub({
    appId: sim.appId,
    privateKey: privateKey ?? sim.privateKey,
    baseUrl: sim.url,
    logger,
    tuning: { ...FAST, ...tuning },
  });
  return { github, lines };
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
