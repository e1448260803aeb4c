import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../errors.js";

// The fields GitHub reads from a manifest.
// https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest#github-app-manifest-parameters
const manifestShape = {
  // GitHub App names are unique across GitHub and at most 34 characters long.
  name: z.string().min(1).max(34),
  url: z.string(),
  description: z.string().optional(),
  hook_attributes: z.object({ url: z.string(), active: z.boolean() }).strict(),
  redirect_url: z.string(),
  public: z.boolean(),
  default_permissions: z.record(z.string(), z.enum(["read", "write"])),
  default_events: z.array(z.string()).min(1),
};

/** The template in `app-manifest.json`: URLs are left empty and filled at run time. */
const templateSchema = z.object(manifestShape).strict();

/** A manifest ready to post to GitHub. */
export const appManifestSchema = z
  .object({
    ...manifestShape,
    url: z.url(),
    hook_attributes: z.object({ url: z.url(), active: z.boolean() }).strict(),
    redirect_url: z.url(),
  })
  .strict();

export type AppManifest = z.infer<typeof appManifestSchema>;

/** What `fillAppManifest` puts into the template. */
export interface ManifestValues {
  name: string;
  /** Where GitHub sends webhooks: the controller's `/webhook`. */
  webhookUrl: string;
  /** Where GitHub sends the browser back with the code: the local `/callback`. */
  redirectUrl: string;
  /** Pools with `registration: repo` need repository "Administration: write" as well. */
  repositoryRunners?: boolean;
}

// dist/github/ and src/github/ both sit two levels below the package root.
const TEMPLATE_URL = new URL("../../app-manifest.json", import.meta.url);

/** Reads and checks the manifest template (default: `app-manifest.json` of this package). */
export function loadManifestTemplate(path: string | URL = TEMPLATE_URL): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError([`${String(path)}: cannot read the App manifest template`], {
      cause: error,
    });
  }
}

/** The template with this App's name and URLs; the homepage is the controller's origin. */
export function fillAppManifest(template: unknown, values: ManifestValues): AppManifest {
  const base = parse(templateSchema, template, "the App manifest template");
  const permissions: Record<string, "read" | "write"> = { ...base.default_permissions };
  // https://docs.github.com/en/rest/actions/self-hosted-runners#create-configuration-for-a-just-in-time-runner-for-a-repository
  if (values.repositoryRunners) permissions.administration = "write";
  return parse(
    appManifestSchema,
    {
      ...base,
      name: values.name,
      url: URL.canParse(values.webhookUrl) ? new URL(values.webhookUrl).origin : values.webhookUrl,
      hook_attributes: { ...base.hook_attributes, url: values.webhookUrl },
      redirect_url: values.redirectUrl,
      default_permissions: permissions,
    },
    "the App manifest",
  );
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => `${what}: ${i.path.join(".") || "(root)"}: ${i.message}`),
  );
}
