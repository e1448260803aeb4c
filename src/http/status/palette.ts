/** The few colours of the status page, chosen to stay apart for colour-blind readers too. */
export const PALETTE = {
  blue: "#0969da",
  green: "#2da44e",
  amber: "#d4a72c",
  orange: "#e16f24",
  gray: "#8c959f",
  lightGray: "#c9d1d9",
  purple: "#8250df",
} as const;
