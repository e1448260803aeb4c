import { X509Certificate } from "node:crypto";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const KEY = "MAYFLY_EC2_IDENTITY_CERT_FILE";

/** Every PEM block of a text, in order, with its label ("CERTIFICATE", ...). */
export function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({
    label: match[1] ?? "",
    pem: `${match[0]}\n`,
  }));
}

/**
 * The certificates of MAYFLY_EC2_IDENTITY_CERT_FILE (one or more PEM RSA certificates), which
 * replace AWS's for verifying identity documents; problems are added to `problems`.
 */
export function readIdentityCertFile(
  path: string | undefined,
  readFile: (path: string) => string,
  problems: string[],
): readonly string[] | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    problems.push(`${KEY}: cannot read ${path} (${reason})`);
    return undefined;
  }
  const blocks = pemBlocks(text);
  const before = problems.length;
  if (blocks.length === 0) problems.push(`${KEY}: ${path} holds no PEM certificate`);
  blocks.forEach(({ label, pem }, index) => {
    const which = `${KEY}: ${path}, block ${index + 1}`;
    if (label !== "CERTIFICATE") {
      // Never echo the block: it may be a private key put here by mistake.
      problems.push(`${which} is a ${label}, not a CERTIFICATE`);
      return;
    }
    try {
      const certificate = new X509Certificate(pem);
      if (certificate.publicKey.asymmetricKeyType !== "rsa") {
        problems.push(`${which}: expected an RSA key (the rsa2048 signature is RSA)`);
      }
    } catch {
      problems.push(`${which} is not a valid X.509 certificate`);
    }
  });
  return problems.length === before ? blocks.map((block) => block.pem) : undefined;
}
