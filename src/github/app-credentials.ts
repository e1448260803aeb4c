import { type FileHandle, open, unlink } from "node:fs/promises";
import { ConfigError, UsageError } from "../errors.js";
import type { ConvertedApp } from "./manifest-conversion.js";

/** The variables mayfly reads (src/config/settings.ts), as an object of strings. */
function variables(app: ConvertedApp): Record<string, string> {
  return {
    GITHUB_APP_ID: String(app.id),
    GITHUB_APP_PRIVATE_KEY: app.privateKey.reveal(),
    GITHUB_WEBHOOK_SECRET: app.webhookSecret.reveal(),
  };
}

// A value a POSIX shell, `node --env-file` and systemd read back unchanged.
function quoted(value: string): string {
  return /^[A-Za-z0-9_.:/+=-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The credentials as an env file. The PEM goes on one line with `\n` escapes, which
 * settings.ts turns back into newlines; PEM text holds no quote, `$` or backslash.
 */
export function credentialsEnvFile(app: ConvertedApp): string {
  const pem = app.privateKey.reveal().trim().replace(/\r?\n/g, "\\n");
  return [
    `# GitHub App "${app.name.replace(/[\r\n]/g, " ")}" (${app.htmlUrl}), written by mayfly app create`,
    `GITHUB_APP_ID=${app.id}`,
    `GITHUB_APP_PRIVATE_KEY="${pem}"`,
    `GITHUB_WEBHOOK_SECRET=${quoted(app.webhookSecret.reveal())}`,
    "",
  ].join("\n");
}

/** The credentials as one JSON object, e.g. for `aws secretsmanager put-secret-value`. */
export function credentialsJson(app: ConvertedApp): string {
  return JSON.stringify(variables(app));
}

/**
 * Creates the output file before the App exists, so a taken or unwritable path fails first
 * and the credentials (shown by GitHub only once) always have a place to go. Mode 0600.
 */
export async function reserveCredentialsFile(path: string): Promise<FileHandle> {
  try {
    const handle = await open(path, "wx", 0o600);
    // The umask may have taken more than group and other bits: make it exactly 0600.
    await handle.chmod(0o600);
    return handle;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unwritable";
    if (reason === "EEXIST") {
      throw new UsageError(
        `${path} exists; mayfly app create never overwrites credentials: name a new file or remove it`,
      );
    }
    throw new ConfigError([`${path}: cannot create the credentials file (${reason})`], {
      cause: error,
    });
  }
}

/** Writes the env file into the reserved file and closes it. */
export async function writeCredentialsFile(
  handle: FileHandle,
  path: string,
  app: ConvertedApp,
): Promise<void> {
  try {
    await handle.writeFile(credentialsEnvFile(app), "utf8");
    await handle.sync();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unwritable";
    throw new ConfigError(
      [
        `${path}: writing the credentials failed (${reason}); the App ${app.slug} (ID ${app.id}) ` +
          `exists: generate a new private key and webhook secret at ${app.htmlUrl}`,
      ],
      { cause: error },
    );
  } finally {
    await handle.close();
  }
}

/** Closes and removes a reserved file that never received credentials. */
export async function releaseCredentialsFile(handle: FileHandle, path: string): Promise<void> {
  await handle.close().catch(() => {});
  await unlink(path).catch(() => {});
}
