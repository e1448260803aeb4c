import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "./fixtures.js";

/** Where one controller takes its webhooks, and the secret it checks them with. */
export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookSplitter extends WebhookTarget {
  /** Deliveries handed to each target so far, in the targets' order. */
  counts(): number[];
  stop(): Promise<void>;
}

// Headers that belong to one hop, or that the splitter writes itself.
const HOP_HEADERS = new Set(["host", "connection", "content-length", "x-hub-signature-256"]);

/**
 * One webhook URL in front of several controllers, as a load balancer in front of replicas:
 * deliveries go to each target in turn, each re-signed with that target's secret, and the
 * target's answer goes back to the sender. The splitter does not check what it receives.
 */
export async function startWebhookSplitter(
  targets: readonly WebhookTarget[],
): Promise<WebhookSplitter> {
  const counts = targets.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const i = next++ % targets.length;
    const target = targets[i] as WebhookTarget;
    counts[i] = (counts[i] ?? 0) + 1;
    void forward(req, target).then(
      ({ status, body }) => res.writeHead(status).end(body),
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    secret: randomBytes(16).toString("hex"),
    counts: () => [...counts],
    stop: () => new Promise((closed) => server.close(() => closed())),
  };
}

async function forward(
  req: IncomingMessage,
  target: WebhookTarget,
): Promise<{ status: number; body: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string" && !HOP_HEADERS.has(name)) headers[name] = value;
  }
  headers["x-hub-signature-256"] = sign(body, target.secret);
  const res = await fetch(target.url, { method: "POST", headers, body });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}
