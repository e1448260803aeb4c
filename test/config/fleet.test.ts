import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fleetJsonSchema } from "../../src/config/fleet-schema.js";
import { loadFleetFile, parseFleet } from "../../src/config/load-fleet.js";
import { ConfigError } from "../../src/errors.js";
import { TEST_FLEET_YAML } from "../support/fixtures.js";

function problemsOf(yaml: string): string[] {
  try {
    parseFleet(yaml, "fleet.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected the fleet file to be rejected");
}

describe("fleet file", () => {
  it("accepts the shipped example and fills defaults", () => {
    const fleet = loadFleetFile("examples/fleet.yaml");
    expect(fleet.pools.map((p) => p.name)).toEqual(["linux-4cpu", "linux-arm-4cpu"]);
    expect(fleet.pools[0]).toMatchObject({
      idleTimeout: 600,
      bootTimeout: 180,
      maxLifetime: 21600,
      market: "spot-then-on-demand",
      publicRepositories: "deny",
    });
    expect(fleet.installations).toBeUndefined();
    expect(fleet.pools[1]).toMatchObject({ registration: "org", acceptDefaultLabelsOnly: false });
    expect(fleet.pools[1]?.runnerGroupId).toBeUndefined();
    expect(fleet.retention.deliveries).toBe(3 * 86400);
  });

  it("refuses a runner group for a pool with repositories, which gets a group of its own", () => {
    const yaml = TEST_FLEET_YAML.replace(
      "maxRunners: 2",
      "maxRunners: 2\n    repositories: [example-org/api]\n    runnerGroupId: 3",
    );
    expect(yaml).not.toBe(TEST_FLEET_YAML);
    expect(() => parseFleet(yaml, "t.yaml")).toThrow(
      /runnerGroupId: a pool with repositories registers its runners in a runner group of its own/,
    );
  });

  it("is frozen after validation", () => {
    const fleet = parseFleet(TEST_FLEET_YAML, "t.yaml");
    expect(Object.isFrozen(fleet.pools[0]?.labels)).toBe(true);
  });

  it("names file, line, field and problem for every mistake at once", () => {
    const problems = problemsOf(`fleet: example
network:
  vpcId: vpc-0abc
  runnerCidr: 10.0.0.0/16
  availabilityZones: [eu-west-1a]
pools:
  - name: one
    labels: [x]
    instanceTypes: [c7i.xlarge]
    image: ami-0123456789abcdef0
    market: cheapest
    maxRunners: 3
    idleTimeout: soon
    colour: blue
`);
    expect(problems).toEqual([
      expect.stringMatching(/^fleet\.yaml:11:13: pools\[0\]\.market: .*"spot"/),
      expect.stringMatching(
        /^fleet\.yaml:13:18: pools\[0\]\.idleTimeout: "soon" is not a duration/,
      ),
      expect.stringMatching(/^fleet\.yaml:7:5: pools\[0\]: Unrecognized key: "colour"/),
    ]);
  });

  it("reports a missing section at its parent", () => {
    expect(problemsOf("fleet: example\npools: []\n")).toEqual([
      expect.stringMatching(/^fleet\.yaml:1:1: network: /),
      expect.stringMatching(/^fleet\.yaml:2:8: pools: .*>=1/),
    ]);
  });

  it("reports duplicate pool names, a pool above the fleet limit, and subnets that do not fit", () => {
    const problems = problemsOf(`fleet: example
network: { vpcId: vpc-0abc, runnerCidr: 10.0.0.0/29, availabilityZones: [a] }
limits: { maxRunners: 5 }
pools:
  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 5 }
  - { name: p, labels: [y], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 6 }
`);
    expect(problems).toEqual([
      expect.stringContaining('pools[1].name: pool name "p" is used twice'),
      expect.stringContaining("pools[1].maxRunners: exceeds limits.maxRunners (5)"),
      expect.stringContaining(
        "network.subnetPrefixLength: a /28 subnet does not fit in 10.0.0.0/29",
      ),
    ]);
  });

  it("takes maxRunnersPerRepository for a pool and the fleet, absent by default", () => {
    const fleet = parseFleet(
      `fleet: example
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [a] }
limits: { maxRunners: 20, maxRunnersPerRepository: 3 }
pools:
  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 10, maxRunnersPerRepository: 4 }
  - { name: q, labels: [y], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 10 }
`,
      "fleet.yaml",
    );
    expect(fleet.limits.maxRunnersPerRepository).toBe(3);
    expect(fleet.pools.map((p) => p.maxRunnersPerRepository)).toEqual([4, undefined]);
    expect(loadFleetFile("examples/fleet.yaml").limits.maxRunnersPerRepository).toBeUndefined();
  });

  it("refuses a maxRunnersPerRepository that is not a positive whole number", () => {
    const problems = problemsOf(`fleet: example
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [a] }
limits: { maxRunnersPerRepository: -1 }
pools:
  - { name: q, labels: [y], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 4, maxRunnersPerRepository: 0 }
  - { name: r, labels: [z], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 4, maxRunnersPerRepository: 1.5 }
`);
    expect(problems).toEqual([
      expect.stringMatching(/^fleet\.yaml:3:\d+: limits\.maxRunnersPerRepository: .*>0/),
      expect.stringMatching(/^fleet\.yaml:5:\d+: pools\[0\]\.maxRunnersPerRepository: .*>0/),
      expect.stringMatching(/^fleet\.yaml:6:\d+: pools\[1\]\.maxRunnersPerRepository: .*int/),
    ]);
  });

  it("refuses a maxRunnersPerRepository above the maxRunners it shares, which would never bind", () => {
    const problems = problemsOf(`fleet: example
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [a] }
limits: { maxRunners: 5, maxRunnersPerRepository: 6 }
pools:
  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 4, maxRunnersPerRepository: 5 }
  - { name: q, labels: [y], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 4, maxRunnersPerRepository: 4 }
`);
    expect(problems).toEqual([
      expect.stringContaining(
        "pools[0].maxRunnersPerRepository: exceeds the pool's maxRunners (4), so it would never hold a repository back",
      ),
      expect.stringContaining(
        "limits.maxRunnersPerRepository: exceeds limits.maxRunners (5), so it would never hold a repository back",
      ),
    ]);
  });

  it("refuses egress none, saying runner VMs could not fetch their credential, alongside other mistakes", () => {
    const problems = problemsOf(`fleet: example
network:
  vpcId: vpc-0abc
  runnerCidr: 10.0.128.0/17
  availabilityZones: [eu-west-1a]
  egress: none
pools:
  - { name: p, labels: [x], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 0 }
`);
    expect(problems).toEqual([
      'fleet.yaml:6:11: network.egress: "none": runner VMs could not reach the controller\'s assignment endpoint to fetch their runner credential; use nat or direct',
      expect.stringMatching(/^fleet\.yaml:8:\d+: pools\[0\]\.maxRunners: /),
    ]);
  });

  it.each(["nat", "direct"])("accepts egress %s", (egress) => {
    const yaml = TEST_FLEET_YAML.replace(/^network:\n/m, `network:\n  egress: ${egress}\n`);
    expect(parseFleet(yaml, "t.yaml").network.egress).toBe(egress);
  });

  it("takes installations by ID or organisation login, and names a bad entry", () => {
    const fleet = parseFleet(`${TEST_FLEET_YAML}installations: [12345, example-org]\n`, "f.yaml");
    expect(fleet.installations).toEqual([12345, "example-org"]);
    expect(problemsOf(`${TEST_FLEET_YAML}installations: ["not an org!"]\n`)).toEqual([
      expect.stringMatching(/installations\[0\]: expected an organisation login/),
    ]);
    expect(problemsOf(`${TEST_FLEET_YAML}installations: []\n`)).toEqual([
      expect.stringMatching(/installations/),
    ]);
  });

  it("reports YAML syntax errors with their position", () => {
    expect(problemsOf("fleet: [unclosed\n")[0]).toMatch(/^fleet\.yaml:\d+:\d+: not valid YAML/);
  });

  it("names the file it cannot read", () => {
    const dir = mkdtempSync(join(tmpdir(), "mayfly-"));
    expect(() => loadFleetFile(join(dir, "missing.yaml"))).toThrow(
      /missing\.yaml: cannot read the fleet file \(ENOENT\)/,
    );
    writeFileSync(join(dir, "empty.yaml"), "");
    expect(() => loadFleetFile(join(dir, "empty.yaml"))).toThrow(ConfigError);
  });

  it("has a JSON Schema for editors that describes pools and their markets", () => {
    const schema = fleetJsonSchema() as {
      required: string[];
      properties: { pools: { items: { properties: { market: { enum: string[] } } } } };
    };
    expect(schema.required).toEqual(expect.arrayContaining(["fleet", "network", "pools"]));
    expect(schema.properties.pools.items.properties.market.enum).toEqual([
      "spot",
      "on-demand",
      "spot-then-on-demand",
    ]);
  });

  it("ships examples/fleet.schema.json in step with the schema (npm run config:schema)", () => {
    expect(JSON.parse(readFileSync("examples/fleet.schema.json", "utf8"))).toEqual(
      fleetJsonSchema(),
    );
  });
});
