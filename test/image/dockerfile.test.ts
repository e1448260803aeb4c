import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dockerfileProblems, parseDockerfile } from "./dockerfile-checks.js";

const dockerfile = readFileSync("Dockerfile", "utf8");

// The same image with every protection taken out: a tag instead of a digest, Node 20 and 23,
// install scripts run, the CA bundle downloaded unchecked (or with a checksum left empty).
const UNSAFE = `
ARG NODE_IMAGE=node:20-bookworm-slim
FROM \${NODE_IMAGE} AS build
RUN npm ci --no-audit
FROM node:23-slim@sha256:${"0".repeat(64)} AS deps
RUN npm ci --omit=dev \\
    --no-fund
FROM build
ARG RDS_CA_SHA256=
ADD https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds.pem
ADD --checksum=sha256:\${RDS_CA_SHA256} https://example.com/bundle.pem /tmp/
`;

describe("the controller image", () => {
  it("starts from a Node LTS (22 or later) pinned by digest, runs no install script, checks what it downloads", () => {
    expect(dockerfileProblems(dockerfile)).toEqual([]);
  });

  it("takes every stage's Node from the one pinned NODE_IMAGE", () => {
    const froms = parseDockerfile(dockerfile).filter((i) => i.keyword === "FROM");
    expect(froms.length).toBeGreaterThan(1);
    for (const from of froms) expect(from.args).toMatch(/^node:24-bookworm-slim@sha256:/);
  });

  it("reports each protection taken out", () => {
    const problems = dockerfileProblems(UNSAFE);
    for (const pattern of [
      /line 3: FROM node:20-bookworm-slim is not pinned by digest/,
      /line 3: Node 20 is not an LTS of at least 22/,
      /line 5: Node 23 is not an LTS/,
      /line 4: npm installs without --ignore-scripts/,
      /line 6: npm installs without --ignore-scripts/,
      /line 10: remote ADD without --checksum/,
      /line 11: remote ADD without --checksum/,
    ]) {
      expect(
        problems.some((p) => pattern.test(p)),
        `${pattern} in ${JSON.stringify(problems)}`,
      ).toBe(true);
    }
    expect(problems.some((p) => p.startsWith("line 8:"))).toBe(false);
  });
});
