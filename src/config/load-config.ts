import { ConfigError } from "../errors.js";
import type { FleetConfig } from "./fleet-schema.js";
import { loadFleetFile } from "./load-fleet.js";
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
  const fleetPath = configFlag ?? env.MAYFLY_CONFIG?.trim();
  let fleet: FleetConfig | undefined;
  if (!fleetPath) {
    problems.push("MAYFLY_CONFIG: required (the fleet file; or pass --config FILE)");
  } else {
    try {
      fleet = loadFleetFile(fleetPath);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0 || !settings || !fleet || !fleetPath) throw new ConfigError(problems);
  return { settings, fleet, fleetPath };
}
