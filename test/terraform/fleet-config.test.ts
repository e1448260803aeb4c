import { describe, expect, it } from "vitest";
import { fleetJsonSchema } from "../../src/config/fleet-schema.js";
import { blocks, local, parseTerraformDir, resources } from "./hcl.js";

const tf = await parseTerraformDir("terraform");

/** One object level of the fleet file's JSON Schema. */
interface Level {
  readonly properties: Record<string, Level>;
  readonly required?: readonly string[];
  readonly items?: Level;
}

const schema = fleetJsonSchema() as unknown as Level;
const level = (name: string) => schema.properties[name] as Level;
const pool = level("pools").items as Level;
const unknownKeys = (keys: readonly string[], at: Level) =>
  keys.filter((k) => !(k in at.properties));
const missingKeys = (keys: readonly string[], at: Level) =>
  (at.required ?? []).filter((k) => !keys.includes(k));

const config = local(tf, "fleet_config") as Record<string, object>;
// The pools are a for expression; its field names are the keys that start its lines.
const poolKeys = [...String(local(tf, "fleet_pools")).matchAll(/^\s*(\w+)\s*=/gm)].map(
  (m) => m[1] as string,
);
// The limits too, so that an unset optional limit is dropped rather than rendered null.
const limitKeys = [...String(local(tf, "fleet_limits")).matchAll(/^\s*(\w+)\s*=/gm)].map(
  (m) => m[1] as string,
);
const hookKeys = ["boot", "jobStarted", "jobCompleted"];
/** An HCL expression as hcl2json writes it. */
const expr = (inner: string) => `\${${inner}}`;

describe("terraform: the fleet file it renders", () => {
  it("uses only field names the fleet schema knows", () => {
    expect(unknownKeys(Object.keys(config), schema)).toEqual([]);
    expect(config.limits).toBe(expr("local.fleet_limits"));
    expect(unknownKeys(limitKeys, level("limits"))).toEqual([]);
    for (const section of ["network", "retention"]) {
      expect(unknownKeys(Object.keys(config[section] as object), level(section)), section).toEqual(
        [],
      );
    }
    const poolFields = poolKeys.filter((k) => !hookKeys.includes(k));
    expect(unknownKeys(poolFields, pool)).toEqual([]);
    expect(unknownKeys(hookKeys, pool.properties.hooks as Level)).toEqual([]);
  });

  it("sets every field the fleet schema requires", () => {
    expect(missingKeys(Object.keys(config), schema)).toEqual([]);
    expect(missingKeys(Object.keys(config.network as object), level("network"))).toEqual([]);
    expect(missingKeys(poolKeys, pool)).toEqual([]);
  });

  it("renders maxRunnersPerRepository for pools and the fleet, dropped when unset", () => {
    expect(poolKeys).toContain("maxRunnersPerRepository");
    expect(limitKeys).toContain("maxRunnersPerRepository");
    expect(String(local(tf, "fleet_limits"))).toMatch(/if v != null/);
  });

  it("names Terraform's launch template, isolating ACL and route table", () => {
    expect(config.launchTemplate).toBe(expr("aws_launch_template.runner.name"));
    expect(config.network).toMatchObject({
      networkAclId: expr("aws_network_acl.runner.id"),
      routeTableId: expr("aws_route_table.runner.id"),
    });
  });

  it("gives each pool the launch template's root device and volume key, from the same variables", () => {
    const [template] = resources(tf, "aws_launch_template").map((r) => r.body);
    const [mapping] = blocks(template, "block_device_mappings");
    const [ebs] = blocks(mapping, "ebs");
    const pools = String(local(tf, "fleet_pools"));
    expect(mapping?.device_name).toBe(expr("var.runner_root_device_name"));
    expect(ebs?.kms_key_id).toBe(expr("var.runner_volume_kms_key_arn"));
    expect(pools).toMatch(/^\s*rootDevice\s*=\s*var\.runner_root_device_name$/m);
    expect(pools).toMatch(/^\s*volumeKmsKeyId\s*=\s*var\.runner_volume_kms_key_arn$/m);
  });

  it("reaches the controller as MAYFLY_CONFIG_YAML", () => {
    expect(local(tf, "task_environment")).toMatchObject({
      MAYFLY_CONFIG_YAML: expr("local.fleet_yaml"),
    });
    expect(local(tf, "fleet_yaml")).toBe(expr("yamlencode(local.fleet_config)"));
  });
});
