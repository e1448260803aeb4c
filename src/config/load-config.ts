import { ConfigError } from "../errors.js";
import type { FleetConfig } from "./fleet-schema.js";
import { loadFleetFile, parseFleet } from "./load-fleet.js";
import { readSettings, type Settings } from "./settings.js";

export interface Config {
  readonly settings: Settings;
  readonly fleet: FleetConfig;
  readonly fleetPath: string;
}

/**
 * Reads the environment and the fleet file (`--config` wins over MAYFLY_CONFIG) and reports
 * every problem of both at once.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  configFlag?: string,
): Config {
  const problems: string[] = [];
  let settings: Settings | undefined;
  try {
    settings = readSettings(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  let fleet: FleetConfig | undefined;
  let fleetPath: string | undefined;
  try {
    ({ fleet, fleetPath } = loadFleetFromEnv(env, configFlag));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !settings || !fleet || !fleetPath) throw new ConfigError(problems);
  return { settings, fleet, fleetPath };
}

/**
 * The fleet file: `--config`, else MAYFLY_CONFIG (a path), else MAYFLY_CONFIG_YAML (the
 * file's text, for containers that get configuration from the environment only).
 */
export function loadFleetFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  configFlag?: string,
): { fleet: FleetConfig; fleetPath: string } {
  const fleetPath = configFlag ?? env.MAYFLY_CONFIG?.trim();
  if (fleetPath) return { fleet: loadFleetFile(fleetPath), fleetPath };
  const text = env.MAYFLY_CONFIG_YAML;
  if (text?.trim())
    return { fleet: parseFleet(text, "MAYFLY_CONFIG_YAML"), fleetPath: "MAYFLY_CONFIG_YAML" };
  throw new ConfigError([
    "MAYFLY_CONFIG: required (the fleet file; or pass --config FILE, or its text in MAYFLY_CONFIG_YAML)",
  ]);
}
