import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { appJwt } from "../sim/app-jwt.js";
import { componentSchema, responseSchema, schemaProblems } from "../sim/openapi-check.js";
import { postForm } from "./manifest-browser.js";

const MANIFEST = {
  name: "mayfly-sim-test",
  url: "https://mayfly.example.org",
  hook_attributes: { url: "https://mayfly.example.org/webhook", active: true },
  redirect_url: "http://127.0.0.1:9/callback",
  public: false,
  default_permissions: { organization_self_hosted_runners: "write", metadata: "read" },
  default_events: ["workflow_job"],
};

describe("the simulated GitHub runs the manifest flow like GitHub", () => {
  let sim: SimGitHub;
  beforeAll(async () => {
    sim = await startSimGitHub();
  });
  afterAll(() => sim.stop());

  async function codeFor(manifest: unknown = MANIFEST, state = "s-1") {
    const location = await postForm({
      action: `${sim.url}/organizations/example-org/settings/apps/new?state=${state}`,
      manifest: JSON.stringify(manifest),
    });
    return new URL(location);
  }
  async function convert(code: string) {
    const response = await fetch(`${sim.url}/app-manifests/${code}/conversions`, {
      method: "POST",
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
    return { status: response.status, body: (await response.json()) as any };
  }
  async function asApp(path: string, key: string, appId: number, method = "GET") {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${appJwt(key, appId)}` },
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
    return { status: response.status, body: (await response.json()) as any };
  }

  it("sends the browser to redirect_url with a code and the caller's state", async () => {
    const location = await codeFor(MANIFEST, "abc123");
    expect(`${location.origin}${location.pathname}`).toBe(MANIFEST.redirect_url);
    expect(location.searchParams.get("state")).toBe("abc123");
    expect(location.searchParams.get("code")).toMatch(/^[0-9a-f]{40}$/);
  });

  it("hands out the App's credentials once per code, in GitHub's documented shape", async () => {
    const code = (await codeFor()).searchParams.get("code") ?? "";
    const first = await convert(code);
    expect(first.status).toBe(201);
    expect(
      schemaProblems(responseSchema("POST", "/app-manifests/{code}/conversions", 201), first.body),
    ).toEqual([]);
    expect(first.body.pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(first.body.owner.login).toBe("example-org");
    expect(first.body.permissions).toEqual(MANIFEST.default_permissions);
    const again = await convert(code);
    expect(again.status).toBe(404);
    expect(schemaProblems(componentSchema("basic-error"), again.body)).toEqual([]);
    expect((await convert("never-issued")).status).toBe(404);
  });

  it("refuses a manifest that is not JSON or lacks what mayfly needs", async () => {
    const bad = [
      "{not json",
      JSON.stringify({ ...MANIFEST, hook_attributes: { active: true } }),
      JSON.stringify({ ...MANIFEST, redirect_url: undefined }),
      JSON.stringify({ ...MANIFEST, default_events: ["push"] }),
    ];
    for (const manifest of bad) {
      const response = await fetch(`${sim.url}/settings/apps/new?state=x`, {
        method: "POST",
        body: new URLSearchParams({ manifest }),
        redirect: "manual",
      });
      expect(response.status, manifest).toBe(422);
    }
  });

  it("accepts the created App's JWT, but gives it nothing of the configured App's", async () => {
    const created = await convert((await codeFor()).searchParams.get("code") ?? "");
    const { id, pem } = created.body as { id: number; pem: string };
    const me = await asApp("/app", pem, id);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(id);
    expect(schemaProblems(responseSchema("GET", "/app", 200), me.body)).toEqual([]);
    // Installed nowhere yet: no token for the configured App's installation, no deliveries.
    sim.recordDelivery("workflow_job", { action: "queued" });
    expect((await asApp("/app/installations/77/access_tokens", pem, id, "POST")).status).toBe(404);
    expect((await asApp("/orgs/example-org/installation", pem, id)).status).toBe(404);
    expect((await asApp("/app/hook/deliveries", pem, id)).body).toEqual([]);
    // Its key is not the configured App's, and the configured App still works.
    expect((await asApp("/app", pem, sim.appId)).status).toBe(401);
    const key = sim.privateKey.reveal();
    expect(
      (await asApp("/app/installations/77/access_tokens", key, sim.appId, "POST")).status,
    ).toBe(201);
    expect((await asApp("/app", key, sim.appId)).body.id).toBe(sim.appId);
  });
});
