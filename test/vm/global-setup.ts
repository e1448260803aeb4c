import type { TestProject } from "vitest/node";
import { toolsRequired } from "../support/need-tool.js";
import { vmImage } from "./image.js";
import { missingVmTools } from "./vm-tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    vmImage: { dir: string; kernel: string; initrd: string; disk: string } | null;
    vmMissing: string[];
  }
}

/** Builds (or finds in the cache) the VM image once for the whole suite. */
export default function setup(project: TestProject) {
  const missing = missingVmTools();
  project.provide("vmMissing", missing);
  if (missing.length > 0) {
    if (toolsRequired()) throw new Error(`the VM suite needs: ${missing.join(", ")}`);
    console.warn(`skipping the VM suite; missing: ${missing.join(", ")}`);
    project.provide("vmImage", null);
    return;
  }
  const image = vmImage();
  console.log(
    image.built
      ? `built the VM image in ${image.seconds}s: ${image.dir}`
      : `VM image from the cache: ${image.dir}`,
  );
  project.provide("vmImage", {
    dir: image.dir,
    kernel: image.kernel,
    initrd: image.initrd,
    disk: image.disk,
  });
}
