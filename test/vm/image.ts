import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const RECIPE = fileURLToPath(new URL("./build-image.sh", import.meta.url));

export type VmImage = { dir: string; kernel: string; initrd: string; disk: string };

/** Where images are cached between runs on one machine: outside the repository. */
export const cacheRoot = () => process.env.MAYFLY_VM_CACHE ?? "/var/cache/mayfly-vm-test";

/**
 * The test image, built by build-image.sh on first use and cached under a hash of that
 * recipe: a changed recipe builds a new image, an unchanged one costs nothing.
 */
export function vmImage(): VmImage & { built: boolean; seconds: number } {
  const hash = createHash("sha256").update(readFileSync(RECIPE)).digest("hex").slice(0, 16);
  const dir = join(cacheRoot(), hash);
  const image = {
    dir,
    kernel: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.img"),
    disk: join(dir, "disk.raw"),
  };
  if (existsSync(image.disk)) return { ...image, built: false, seconds: 0 };
  mkdirSync(cacheRoot(), { recursive: true });
  const started = Date.now();
  const build = spawnSync("sh", [RECIPE, dir], { stdio: ["ignore", "inherit", "inherit"] });
  if (build.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `building the VM test image failed (status ${build.status}): see the output above`,
    );
  }
  return { ...image, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}
