import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import type { IncomingMessage, Server } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Request = { method: string; url: string; token: boolean };
export type Listening = { port: number; requests: Request[]; close: () => Promise<void> };

const listen = (server: Server, requests: Request[]): Promise<Listening> =>
  new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });

const note = (requests: Request[], req: IncomingMessage) =>
  requests.push({
    method: req.method ?? "",
    url: req.url ?? "",
    token: req.headers["x-aws-ec2-metadata-token"] !== undefined,
  });

export type Tls = { cert: string; key: string };

/** A self-signed certificate for IP addresses, which the guest is given to trust. */
export function selfSignedCert(...ips: string[]): Tls {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-vm-tls-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=mayfly-vm-test",
      "-addext",
      `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(",")}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ],
    { stdio: "ignore" },
  );
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

/** An https server for the runner tarball: it sends it, or stalls after the headers. */
export function tarballServer(tls: Tls, body: Buffer, mode: "serve" | "stall"): Promise<Listening> {
  const requests: Request[] = [];
  const server = createHttps(tls, (req, res) => {
    note(requests, req);
    res.writeHead(200, { "content-type": "application/gzip", "content-length": body.length });
    if (mode === "serve") return void res.end(body);
    // A few bytes, then nothing: a download that hangs rather than fails.
    res.write(body.subarray(0, 16));
  });
  return listen(server as unknown as Server, requests);
}
