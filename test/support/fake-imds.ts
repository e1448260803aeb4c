import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type ImdsRequest = { method: string; url: string; token: boolean };

/** What the fake metadata service serves under /latest/dynamic/instance-identity/. */
export type ServedIdentity = {
  /** The `document` answer, byte for byte (IMDS sends no final newline). */
  readonly document: string | Buffer;
  /** The `rsa2048` answer: base64 wrapped at 76 columns, as IMDS sends it. */
  readonly signature: string | Buffer;
};

export type FakeImds = {
  readonly port: number;
  /** Every request, in order, with whether it carried the session token. */
  readonly requests: ImdsRequest[];
  close(): Promise<void>;
};

const TOKEN = "fake-imds-session-token";

/**
 * A fake EC2 instance metadata service on 127.0.0.1 speaking IMDSv2: a token PUT, then GETs
 * that must carry the token. It serves the instance ID and, when given, the identity
 * document and its signature.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
 */
export function fakeImds(o: { instanceId: string; identity?: ServedIdentity }): Promise<FakeImds> {
  const requests: ImdsRequest[] = [];
  const note = (req: IncomingMessage) =>
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      token: req.headers["x-aws-ec2-metadata-token"] !== undefined,
    });
  const paths: Record<string, string | Buffer | undefined> = {
    "/latest/meta-data/instance-id": o.instanceId,
    "/latest/dynamic/instance-identity/document": o.identity?.document,
    "/latest/dynamic/instance-identity/rsa2048": o.identity?.signature,
  };
  const server = createServer((req, res) => {
    note(req);
    if (req.method === "PUT" && req.url === "/latest/api/token") {
      if (req.headers["x-aws-ec2-metadata-token-ttl-seconds"] === undefined) {
        res.statusCode = 400;
        return void res.end();
      }
      return void res.end(TOKEN);
    }
    if (req.headers["x-aws-ec2-metadata-token"] !== TOKEN) {
      res.statusCode = 401;
      return void res.end();
    }
    const answer = req.method === "GET" ? paths[req.url ?? ""] : undefined;
    if (answer === undefined) {
      res.statusCode = 404;
      return void res.end();
    }
    res.setHeader("content-type", "text/plain");
    res.end(answer);
  });
  return new Promise((resolve) => {
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
}
