import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** A build of the controller outside the working tree: `cli` runs as `node dist/cli.js` would. */
export interface ControllerBuild {
  readonly cli: string;
  remove(): void;
}

/**
 * Compiles src/ as `npm run build` does, into a temporary directory, so a test never rewrites
 * the working tree's dist/ under a build or a run of the user's. The directory mirrors the
 * project's layout where the built code looks: package.json (ES modules), node_modules, and
 * the files it reads next to dist/ (cloud-init/, app-manifest.json).
 */
export function buildController(): ControllerBuild {
  const root = resolve(".");
  const dir = mkdtempSync(join(tmpdir(), "mayfly-build-"));
  for (const entry of ["package.json", "node_modules", "cloud-init", "app-manifest.json"])
    symlinkSync(join(root, entry), join(dir, entry));
  const out = join(dir, "dist");
  mkdirSync(out);
  execFileSync("npx", ["tsc", "-p", "tsconfig.json", "--outDir", out], { stdio: "pipe" });
  return { cli: join(out, "cli.js"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
