/** What a browser saw while walking the manifest flow. */
export interface BrowserVisit {
  /** The form's action: GitHub's new-App URL with `state`. */
  action: string;
  /** The manifest the page posts, parsed. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read the manifest loosely
  manifest: any;
  /** Where GitHub sent the browser: the local callback with `code` and `state`. */
  location: string;
  /** The callback page's status and text. */
  callback: { status: number; text: string };
}

const unescapeHtml = (text: string): string =>
  text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name] as string,
  );

/** Reads the form of the local page as a browser would. */
export async function readForm(pageUrl: string): Promise<{ action: string; manifest: string }> {
  const html = await (await fetch(pageUrl)).text();
  const action = /<form[^>]*\baction="([^"]*)"/.exec(html)?.[1];
  const manifest = /<input[^>]*\bname="manifest"[^>]*\bvalue="([^"]*)"/.exec(html)?.[1];
  if (action === undefined || manifest === undefined) throw new Error(`no manifest form: ${html}`);
  return { action: unescapeHtml(action), manifest: unescapeHtml(manifest) };
}

/** Posts the form to (the simulated) GitHub and returns where GitHub redirects. */
export async function postForm(form: { action: string; manifest: string }): Promise<string> {
  const response = await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams({ manifest: form.manifest }),
    redirect: "manual",
  });
  const location = response.headers.get("location");
  if (response.status !== 302 || location === null) {
    throw new Error(`GitHub answered ${response.status}: ${await response.text()}`);
  }
  return location;
}

/**
 * Walks the whole flow like the operator's browser: open the page, submit its form to
 * GitHub, follow GitHub's redirect to the local callback. `beforeCallback` runs in between.
 */
export async function browse(
  pageUrl: string,
  beforeCallback: (location: string) => Promise<void> | void = () => {},
): Promise<BrowserVisit> {
  const form = await readForm(pageUrl);
  const location = await postForm(form);
  await beforeCallback(location);
  const answer = await fetch(location);
  return {
    action: form.action,
    manifest: JSON.parse(form.manifest),
    location,
    callback: { status: answer.status, text: await answer.text() },
  };
}
