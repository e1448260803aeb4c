import { afterEach, describe, expect, it } from "vitest";
import {
  type ControllerInWorld,
  controllerInWorld,
  WORLD_FLEET_YAML,
} from "../support/controller-in-world.js";

describe("serve's warnings at start", () => {
  let c: ControllerInWorld | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  it("names each pool that serves public repositories, and no other", async () => {
    const fleetYaml = `${WORLD_FLEET_YAML}  - { name: open, labels: [mayfly-open], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 2, publicRepositories: allow }\n`;
    c = await controllerInWorld({ fleetYaml });
    const warned = c.log
      .lines()
      .split("\n")
      .filter((l) => l.includes("pool serves public repositories"));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/"level":40.*"pool":"open"/);
  });
});
