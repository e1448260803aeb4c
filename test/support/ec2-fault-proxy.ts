import { randomUUID } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of moto_server that speaks EC2's query protocol. It records what
 * the SDK SENT (moto ignores MetadataOptions of launch templates, ClientToken and more, so
 * tests assert on the request), counts calls per action, and answers chosen calls with
 * EC2's error XML, which moto never produces for capacity or throttling.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 */
export type QueryParams = Readonly<Record<string, string>>;

export interface FaultRule {
  readonly action: string;
  /** The EC2 error code, e.g. InsufficientInstanceCapacity. */
  readonly code: string;
  readonly message?: string;
  /** Defaults to the status AWS uses for the code (see STATUS_OF). */
  readonly status?: number;
  /** Answer only the first N matching calls; absent: every call (or `fraction` of them). */
  readonly first?: number;
  /** Answer this share of matching calls, drawn from a generator seeded by `seed`. */
  readonly fraction?: number;
  readonly seed?: number;
  /** Only calls whose parameters pass this test match, e.g. DryRun requests. */
  readonly when?: (params: QueryParams) => boolean;
}

// The status EC2 answers each code with: server-side faults are 5xx (the SDK retries
// them), client faults 4xx. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
const STATUS_OF: Record<string, number> = {
  InsufficientInstanceCapacity: 500,
  InsufficientCapacity: 500,
  InternalError: 500,
  RequestLimitExceeded: 503,
  Unavailable: 503,
  UnauthorizedOperation: 403,
  DryRunOperation: 412,
};

export interface Ec2FaultProxy {
  readonly url: string;
  /** How many requests of this action reached the proxy (answered or forwarded). */
  calls(action: string): number;
  /** The parameters of every request of this action, in arrival order. */
  requests(action: string): QueryParams[];
  /** Adds a rule; rules are tried in the order they were added. */
  fail(rule: FaultRule): void;
  /** Forgets rules, counts and recorded requests. */
  reset(): void;
  stop(): Promise<void>;
}

export interface Ec2FaultProxyOptions {
  /**
   * Actions whose DryRun requests the proxy answers with DryRunOperation itself, for
   * actions moto does not check DryRun on (it would carry the request out instead).
   */
  readonly answerDryRun?: readonly string[];
}

interface ActiveRule {
  readonly rule: FaultRule;
  matched: number;
  readonly random: () => number;
}

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target` (moto_server's URL). */
export async function startEc2FaultProxy(
  target: string,
  options: Ec2FaultProxyOptions = {},
): Promise<Ec2FaultProxy> {
  let rules: ActiveRule[] = [];
  const seen = new Map<string, QueryParams[]>();
  const answerDryRun = new Set(options.answerDryRun ?? []);

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
        const action = params.Action ?? "";
        seen.set(action, [...(seen.get(action) ?? []), params]);
        const rule = rules.find((active) => matches(active, action, params));
        if (rule) return answerError(res, rule.rule.code, rule.rule.message, rule.rule.status);
        if (params.DryRun === "true" && answerDryRun.has(action)) {
          return answerError(
            res,
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
          );
        }
        forward(target, req, body, res);
      },
      (error: unknown) => res.destroy(error as Error),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls: (action) => seen.get(action)?.length ?? 0,
    requests: (action) => [...(seen.get(action) ?? [])],
    fail(rule) {
      rules.push({ rule, matched: 0, random: seededRandom(rule.seed ?? 1) });
    },
    reset() {
      rules = [];
      seen.clear();
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function matches(active: ActiveRule, action: string, params: QueryParams): boolean {
  const { rule } = active;
  if (rule.action !== action || (rule.when && !rule.when(params))) return false;
  active.matched += 1;
  if (rule.first !== undefined) return active.matched <= rule.first;
  if (rule.fraction !== undefined) return active.random() < rule.fraction;
  return true;
}

function answerError(res: ServerResponse, code: string, message?: string, status?: number): void {
  const text = message ?? `${code} (injected by the test proxy)`;
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code>` +
    `<Message>${escapeXml(text)}</Message></Error></Errors>` +
    `<RequestID>${randomUUID()}</RequestID></Response>`;
  res.writeHead(status ?? STATUS_OF[code] ?? 400, { "content-type": "text/xml;charset=UTF-8" });
  res.end(xml);
}

function forward(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", target);
  const headers = { ...req.headers, host: url.host, "content-length": String(body.length) };
  const upstream = httpRequest(url, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", (error) => res.destroy(error));
  upstream.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** mulberry32: a small seeded generator, so a "30% of calls" rule is repeatable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
