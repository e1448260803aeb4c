import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import { needPostgres } from "../support/need-postgres.js";
import { replicaLedgers, type TestLedger, testLedger } from "../support/test-ledger.js";

// The subnet lease is the guard behind "every VM gets a runner subnet of its own": two
// replicas leasing at once must never get the same subnet. One connection (PGlite) cannot
// race, so this runs on the PostgreSQL server, each replica with its own connection pool.
const SUITE = "the subnet lease race (test/ledger/subnet-lease-race.test.ts)";
const postgres = needPostgres(SUITE);
const postgresUrl = postgres.url;
const REPLICAS = 4;
const SUBNETS = 10;
const LEASES = 20;
const now = new Date("2026-11-23T12:00:00Z");

describe.skipIf(!postgresUrl)(postgres.title("subnet leases on one PostgreSQL server"), () => {
  let t: TestLedger;
  const replicas: Ledger[] = [];

  beforeAll(async () => {
    t = await testLedger("postgresql", postgresUrl);
    replicas.push(...(await replicaLedgers(t, postgresUrl, REPLICAS)));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await t?.close();
  });

  it("leases each of 10 subnets once to 20 runners asking at once from four replicas", async () => {
    await t.ledger.addSubnets(
      Array.from({ length: SUBNETS }, (_, i) => ({
        subnetId: `subnet-${String(i).padStart(2, "0")}`,
        availabilityZone: i % 2 ? "eu-west-1b" : "eu-west-1a",
        cidr: `10.0.128.${16 * i}/28`,
      })),
    );
    const values = Array.from({ length: LEASES }, (_, i) => `('p', 'r${i}', 't${i}', 'launching')`);
    const runners = await t.query<{ id: number }>(
      `insert into runners (pool, runner_name, launch_token, state) values ${values.join(", ")} returning id::int`,
    );
    expect(runners).toHaveLength(LEASES);
    // Every replica's pool opens its connections first, so the leases meet in the database.
    await Promise.all(replicas.map((r) => r.ping()));

    const leases = await Promise.all(
      runners.map((r, i) =>
        (replicas[i % REPLICAS] as Ledger).leaseSubnet(r.id, ["eu-west-1a", "eu-west-1b"], now),
      ),
    );
    const got = leases.flatMap((s, i) =>
      s === undefined ? [] : [[runners[i]?.id, s.subnetId] as const],
    );
    const subnets = got.map(([, subnet]) => subnet);
    const twice = subnets.filter((s, i) => subnets.indexOf(s) !== i);
    expect(twice).toEqual([]);
    expect(got).toHaveLength(SUBNETS);
    // The ledger agrees with what each runner was told: its lease is the one it holds.
    const held = await t.query<{ runner: number; subnet: string }>(
      "select runner_id::int as runner, subnet_id as subnet from subnets where runner_id is not null",
    );
    expect(new Map(held.map((h) => [h.runner, h.subnet]))).toEqual(new Map(got));
  });
});
