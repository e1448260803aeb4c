import { ec2ErrorCode } from "./ec2-errors.js";

/** What `mayfly doctor` found for one permission or resource. */
export interface DoctorCheck {
  readonly status: "ok" | "missing" | "warn";
  /** What was checked, e.g. "permission ec2:RunInstances" or "vpc vpc-0abc". */
  readonly check: string;
  /** AWS's message when something is missing, or why a check only warns. */
  readonly detail?: string;
}

export const ok = (check: string, detail?: string): DoctorCheck =>
  detail === undefined ? { status: "ok", check } : { status: "ok", check, detail };
export const missing = (check: string, detail: string): DoctorCheck => ({
  status: "missing",
  check,
  detail,
});
export const warn = (check: string, detail: string): DoctorCheck => ({
  status: "warn",
  check,
  detail,
});

/** "Code: message" of an SDK error, as AWS sent it. */
export function awsMessage(error: unknown): string {
  const code = ec2ErrorCode(error) ?? "Error";
  return `${code}: ${error instanceof Error ? error.message : String(error)}`;
}

/** Whether an SDK error says the named resource does not exist (e.g. InvalidVpcID.NotFound). */
export function isNotFound(error: unknown): boolean {
  const code = ec2ErrorCode(error) ?? "";
  return code.endsWith(".NotFound") || code.endsWith("NotFoundException");
}
