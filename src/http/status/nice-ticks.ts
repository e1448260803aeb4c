/**
 * Round axis ticks from 0 to at least `max`: the smallest step from `steps` (ascending) that
 * needs at most `count` intervals, or the largest step if none does.
 */
export function niceTicks(max: number, steps: readonly number[], count = 4): number[] {
  const step = steps.find((s) => s * count >= max) ?? steps[steps.length - 1] ?? 1;
  const intervals = Math.max(1, Math.ceil(max / step));
  return Array.from({ length: intervals + 1 }, (_, i) => i * step);
}
