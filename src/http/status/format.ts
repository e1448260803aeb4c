const usd = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** A wait as people say it: "42 s", "3 min", "2 h 5 min"; "–" when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "–";
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** Dollars to the cent: "$1,234.50". */
export function formatUsd(amount: number): string {
  return usd.format(amount);
}

/** "2026-11-23 12:00:05 UTC". */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "12:00", the hour and minute in UTC, for time axes. */
export function formatUtcClock(date: Date): string {
  return date.toISOString().slice(11, 16);
}

/** "November 2026", the month of a UTC date. */
export function formatUtcMonth(date: Date): string {
  return date.toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}
