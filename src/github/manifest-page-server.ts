import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { GitHubError } from "../errors.js";
import type { Logger } from "../log/logger.js";

/** The form the local page posts to GitHub. */
export interface ManifestForm {
  /** GitHub's new-App URL, `state` included. */
  action: string;
  /** The manifest, as JSON text. */
  manifest: string;
}

export interface ManifestPageOptions {
  /** The value GitHub must hand back with the code; anything else is refused. */
  state: string;
  /** Builds the form once the callback URL (which holds the port) is known. */
  form: (callbackUrl: string) => ManifestForm;
  timeoutMs: number;
  logger: Logger;
}

/** A local page that sends the manifest to GitHub, and the callback GitHub redirects to. */
export interface ManifestPageServer {
  /** The page the operator opens in a browser. */
  readonly url: string;
  /** Where GitHub sends the browser back with `code` and `state`. */
  readonly callbackUrl: string;
  /** The code GitHub handed back with the right state; rejects when the time is up. */
  code(): Promise<string>;
  close(): Promise<void>;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const page = (title: string, body: string): string =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>\n<body>\n${body}\n</body></html>\n`;

// The browser posts the manifest to GitHub itself: GitHub takes it only from a signed-in user.
// https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest#implementing-the-github-app-manifest-flow
function formPage(form: ManifestForm): string {
  return page(
    "Create the mayfly GitHub App",
    [
      `<form id="manifest" method="post" action="${escapeHtml(form.action)}">`,
      `<input type="hidden" name="manifest" value="${escapeHtml(form.manifest)}">`,
      "<p>Sending the App manifest to GitHub. If nothing happens, press the button.</p>",
      '<button type="submit">Create the GitHub App on GitHub</button>',
      "</form>",
      '<script>document.getElementById("manifest").submit();</script>',
    ].join("\n"),
  );
}

function send(res: ServerResponse, status: number, html: string): undefined {
  // The callback URL carries the code: keep it out of caches and referrers.
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
  });
  res.end(html);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Starts the page on 127.0.0.1 (a free port); it waits for one good callback. */
export async function startManifestPageServer(
  options: ManifestPageOptions,
): Promise<ManifestPageServer> {
  const log = options.logger.child({ component: "app-create" });
  let form: ManifestForm | undefined;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveCode: (code: string) => void = () => {};
  let rejectCode: (error: Error) => void = () => {};
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  // Nobody may be waiting yet when the time runs out; `code()` still reports it.
  code.catch(() => {});

  function handle(req: IncomingMessage, res: ServerResponse): undefined {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET") return send(res, 405, page("Not allowed", "<p>Not allowed.</p>"));
    if (url.pathname === "/" && form !== undefined) return send(res, 200, formPage(form));
    if (url.pathname !== "/callback") return send(res, 404, page("Not found", "<p>Not found.</p>"));
    const given = url.searchParams.get("code");
    if (settled || given === null || given === "") {
      return send(res, 400, page("Nothing to do", "<p>This callback is not expected.</p>"));
    }
    if (!sameText(url.searchParams.get("state") ?? "", options.state)) {
      log.warn("manifest callback refused: its state is not this run's");
      return send(
        res,
        400,
        page(
          "Wrong state",
          "<p>This link does not belong to this <code>mayfly app create</code>.</p>",
        ),
      );
    }
    settled = true;
    clearTimeout(timer);
    // The server closes once the code is out: let the page reach the browser first.
    res.once("close", () => resolveCode(given));
    send(
      res,
      200,
      page(
        "App created",
        "<p>GitHub App created. You can close this tab and return to mayfly.</p>",
      ),
    );
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const callbackUrl = `${base}/callback`;
  try {
    form = options.form(callbackUrl);
  } catch (error) {
    server.close();
    throw error;
  }
  timer = setTimeout(() => {
    settled = true;
    const seconds = Math.round(options.timeoutMs / 1000);
    const waited = seconds < 120 ? `${seconds} seconds` : `${Math.round(seconds / 60)} minutes`;
    rejectCode(
      new GitHubError(
        undefined,
        `GitHub did not send the browser back to ${callbackUrl} within ${waited}; ` +
          "run mayfly app create again (and delete the App on GitHub if it was created)",
      ),
    );
  }, options.timeoutMs);

  return {
    url: `${base}/`,
    callbackUrl,
    code: () => code,
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearTimeout(timer);
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
