import { createServer, Agent as HttpAgent, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** One request the proxy passed on: when it arrived, when its answer left, and what it was. */
export interface ProxyRecord {
  /** `performance.timeOrigin + performance.now()` at arrival, in milliseconds. */
  readonly atMs: number;
  /** The same clock when the answer's last byte was written. */
  doneMs: number;
  readonly method: string;
  readonly path: string;
  status: number;
  /** What `classify` made of the request (an EC2 action, a job ID, ...). */
  readonly info: Readonly<Record<string, string>>;
}

export interface RecordingProxyOptions {
  /** Where requests go, e.g. http://127.0.0.1:PORT. */
  readonly target: string;
  /** Names a request from its body; runs once per request. */
  readonly classify: (method: string, path: string, body: Buffer) => Record<string, string>;
  /** Delay before forwarding, per request, in milliseconds (the service's latency). */
  latencyMs?: (info: Readonly<Record<string, string>>) => number;
  /** Told of each request as it arrives, before it is forwarded. */
  readonly onRequest?: (record: ProxyRecord) => void;
}

/** A recording proxy: the service's side of the wire, as a stopwatch. */
export interface RecordingProxy {
  readonly url: string;
  readonly records: ProxyRecord[];
  /** Replaces the latency rule (e.g. none while warming up). */
  setLatency(latencyMs: (info: Readonly<Record<string, string>>) => number): void;
  stop(): Promise<void>;
}

/** Milliseconds on a clock shared by every record of this process, sub-millisecond precise. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host"]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * A loopback HTTP proxy in front of a simulator or the controller, recording each request's
 * arrival and answer times as the service sees them, and adding the service's latency. The
 * simulators keep counts only; per-request times are measured here, outside src/sim.
 */
export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  const target = new URL(options.target);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const records: ProxyRecord[] = [];
  let latency = options.latencyMs ?? (() => 0);

  const server = createServer((req, res) => {
    const atMs = nowMs();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? "GET";
      const path = req.url ?? "/";
      const record: ProxyRecord = {
        atMs,
        doneMs: 0,
        method,
        path,
        status: 0,
        info: options.classify(method, path, body),
      };
      records.push(record);
      options.onRequest?.(record);
      const wait = latency(record.info);
      void (wait > 0 ? sleep(wait) : Promise.resolve()).then(() => {
        const upstream = request(
          {
            host: target.hostname,
            port: target.port,
            method,
            path,
            agent,
            headers: { ...forwardable(req.headers), "content-length": String(body.length) },
          },
          (answer) => {
            record.status = answer.statusCode ?? 0;
            res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
            answer.pipe(res);
            answer.on("end", () => {
              record.doneMs = nowMs();
            });
          },
        );
        upstream.on("error", () => {
          record.status = 502;
          record.doneMs = nowMs();
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        upstream.end(body);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    setLatency(next) {
      latency = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
