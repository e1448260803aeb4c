/** One Dockerfile instruction, continuation lines joined, `${ARG}`s resolved. */
export interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

/**
 * The instructions of a Dockerfile. Comments and blank lines are dropped, `\` continuations
 * joined, and `$NAME` / `${NAME}` replaced by the default of an ARG declared before (global
 * ARGs before the first FROM, as BuildKit scopes them for FROM lines).
 */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  const args = new Map<string, string>();
  let pending = "";
  let start = 0;
  for (const [i, raw] of text.split("\n").entries()) {
    if (pending === "" && /^\s*(#|$)/.test(raw)) continue;
    if (pending === "") start = i + 1;
    const continued = /\\\s*$/.test(raw);
    pending += `${raw.replace(/\\\s*$/, "")} `;
    if (continued) continue;
    const match = /^\s*(\w+)\s+(.*?)\s*$/.exec(pending);
    pending = "";
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    const resolved = (match[2] as string).replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (whole, braced?: string, bare?: string) => args.get((braced ?? bare) as string) ?? whole,
    );
    if (keyword === "ARG") {
      const arg = /^(\w+)=(\S+)$/.exec(resolved);
      if (arg) args.set(arg[1] as string, arg[2] as string);
    }
    instructions.push({ line: start, keyword, args: resolved });
  }
  return instructions;
}

// Even-numbered Node majors become LTS; 22 is the oldest the image may use.
const OLDEST_LTS = 22;

/**
 * The controller image's supply chain: every base image pinned by digest and on a Node LTS
 * of at least 22, no install script run by `npm ci`, every remote ADD checked by a checksum.
 */
export function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const instructions = parseDockerfile(text);
  const stages = new Set<string>();
  const froms = instructions.filter((i) => i.keyword === "FROM");
  if (froms.length === 0) problems.push("no FROM");
  for (const { line, args } of froms) {
    const [image = "", , alias] = args.split(/\s+/);
    if (alias !== undefined) stages.add(alias.toLowerCase());
    if (stages.has(image.toLowerCase()) && image.toLowerCase() !== alias?.toLowerCase()) continue;
    if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
      problems.push(`line ${line}: FROM ${image} is not pinned by digest`);
    }
    const node = /^(?:[\w.-]+\/)*node:(\d+)/.exec(image);
    if (!node) problems.push(`line ${line}: FROM ${image} is not a Node image`);
    else {
      const major = Number(node[1]);
      if (major < OLDEST_LTS || major % 2 !== 0) {
        problems.push(`line ${line}: Node ${major} is not an LTS of at least ${OLDEST_LTS}`);
      }
    }
  }
  for (const { line, keyword, args } of instructions) {
    if (
      keyword === "RUN" &&
      /\bnpm\s+(ci|install|i)\b/.test(args) &&
      !args.includes("--ignore-scripts")
    ) {
      problems.push(`line ${line}: npm installs without --ignore-scripts`);
    }
    if (
      keyword === "ADD" &&
      /\bhttps?:\/\//.test(args) &&
      !/--checksum=sha256:[0-9a-f]{64}\b/.test(args)
    ) {
      problems.push(`line ${line}: remote ADD without --checksum`);
    }
  }
  return problems;
}
