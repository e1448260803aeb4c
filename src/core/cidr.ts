/** An IPv4 block as numbers: first address and size. */
interface Block {
  readonly start: number;
  readonly size: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function parse(cidr: string): Block {
  const parts = CIDR.exec(cidr)?.slice(1).map(Number);
  const prefix = parts?.[4] ?? 99;
  const octets = parts?.slice(0, 4) ?? [];
  if (octets.length !== 4 || octets.some((o) => o > 255) || prefix > 32)
    throw new TypeError(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - prefix);
  const value = octets.reduce((n, o) => n * 256 + o, 0);
  return { start: value - (value % size), size };
}

function format(start: number, prefix: number): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/** Whether two IPv4 CIDR blocks share an address. */
export function overlaps(a: string, b: string): boolean {
  const x = parse(a);
  const y = parse(b);
  return x.start < y.start + y.size && y.start < x.start + x.size;
}

/** Whether `inner` lies wholly inside `outer`. */
export function contains(outer: string, inner: string): boolean {
  const o = parse(outer);
  const i = parse(inner);
  return i.start >= o.start && i.start + i.size <= o.start + o.size;
}

/**
 * Up to `count` blocks of `/prefix` carved from `range`, lowest first, none overlapping
 * `taken`. Fewer come back when the range is full.
 */
export function freeBlocks(
  range: string,
  prefix: number,
  taken: readonly string[],
  count: number,
): string[] {
  const outer = parse(range);
  const size = 2 ** (32 - prefix);
  const used = taken.map(parse);
  const out: string[] = [];
  for (let start = outer.start; start + size <= outer.start + outer.size; start += size) {
    if (out.length >= count) break;
    if (used.some((u) => start < u.start + u.size && u.start < start + size)) continue;
    out.push(format(start, prefix));
  }
  return out;
}
