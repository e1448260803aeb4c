/**
 * Whether every external tool a suite needs is required in this run. The test command
 * (`npm run test:all`, test/run-all.sh) installs or finds them all and sets CI=true, so
 * there a missing tool fails its suite instead of letting it pass unseen (issue 14, item 6).
 * Any non-empty CI counts: CI services set it to values other than "true".
 */
export function toolsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.CI ?? "") !== "";
}

/** A tool one suite needs, and whether this machine has it. */
export interface NeededTool {
  /** What is missing, as a person would look for it: "chromium", "moto_server". */
  readonly tool: string;
  readonly found: boolean;
  /** The suite that needs it, with its file: "the shellcheck tests (test/x.test.ts)". */
  readonly suite: string;
  /** How to get it: "apt-get install shellcheck". */
  readonly install: string;
}

/**
 * Whether the suite runs: true when the tool is found. When it is missing, false after saying
 * the suite skips; where tools are required (see toolsRequired), it throws an error naming
 * the tool, the suite and how to get it, so the suite's file fails.
 */
export function needTool(need: NeededTool, env: NodeJS.ProcessEnv = process.env): boolean {
  if (need.found) return true;
  const message = `${need.tool} not found: ${need.suite} needs it (${need.install})`;
  if (toolsRequired(env)) {
    throw new Error(
      `${message}; CI=${env.CI} requires every tool here (npm run test:all installs or finds them)`,
    );
  }
  console.warn(`${message}: skipping; npm run test:all installs it and runs every suite`);
  return false;
}
