import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { fillAppManifest, loadManifestTemplate } from "../../src/github/app-manifest.js";
import { apiUrlFor } from "../../src/github/create-app.js";

const VALUES = {
  name: "mayfly-example-org",
  webhookUrl: "https://mayfly.example.org/webhook",
  redirectUrl: "http://127.0.0.1:4567/callback",
};

describe("the App manifest asks for what mayfly uses, and no more", () => {
  it("asks for org runners (write), actions and metadata (read), and workflow_job only", () => {
    const manifest = fillAppManifest(loadManifestTemplate(), VALUES);
    expect(manifest.default_permissions).toEqual({
      organization_self_hosted_runners: "write",
      actions: "read",
      metadata: "read",
    });
    expect(manifest.default_events).toEqual(["workflow_job"]);
    expect(manifest.public).toBe(false);
    expect(manifest).toMatchObject({
      name: VALUES.name,
      url: "https://mayfly.example.org",
      hook_attributes: { url: VALUES.webhookUrl, active: true },
      redirect_url: VALUES.redirectUrl,
    });
  });

  it("adds repository Administration (write) only for repository-level runners", () => {
    const manifest = fillAppManifest(loadManifestTemplate(), {
      ...VALUES,
      repositoryRunners: true,
    });
    expect(manifest.default_permissions.administration).toBe("write");
  });

  it("reports every problem of a bad template, naming the field", () => {
    const template = loadManifestTemplate() as Record<string, unknown>;
    const bad = { ...template, default_events: [], extra: 1 };
    expect(() => fillAppManifest(bad, VALUES)).toThrow(ConfigError);
    try {
      fillAppManifest(bad, VALUES);
    } catch (error) {
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/default_events/);
      expect(problems).toMatch(/extra/);
    }
    expect(() => fillAppManifest(template, { ...VALUES, redirectUrl: "not a url" })).toThrow(
      /redirect_url/,
    );
    expect(() => loadManifestTemplate("/nonexistent/app-manifest.json")).toThrow(ConfigError);
  });

  it("finds the API of github.com, GHE.com and GitHub Enterprise Server", () => {
    expect(apiUrlFor("https://github.com")).toBe("https://api.github.com");
    expect(apiUrlFor("https://octo.ghe.com")).toBe("https://api.octo.ghe.com");
    expect(apiUrlFor("https://github.example.com")).toBe("https://github.example.com/api/v3");
  });
});
