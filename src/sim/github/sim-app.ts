import type { KeyObject } from "node:crypto";

/** A GitHub App the simulated GitHub knows: the configured one, or one made from a manifest. */
export interface SimApp {
  id: number;
  slug: string;
  name: string;
  clientId: string;
  description: string | null;
  externalUrl: string;
  owner: { login: string; type: "Organization" | "User" };
  /** Verifies the App's JWTs. */
  publicKey: KeyObject;
  permissions: Record<string, string>;
  events: string[];
  createdAt: Date;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** The `integration` object GitHub answers with for an App. https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app */
export function integrationBody(baseUrl: string, app: SimApp): Record<string, unknown> {
  const login = app.owner.login;
  const user = `${baseUrl}/users/${login}`;
  return {
    id: app.id,
    slug: app.slug,
    node_id: `A_${app.id}`,
    client_id: app.clientId,
    owner: {
      login,
      id: 5000 + app.id,
      node_id: `U_${app.id}`,
      avatar_url: `${baseUrl}/avatars/${login}`,
      gravatar_id: "",
      url: user,
      html_url: `${baseUrl}/${login}`,
      followers_url: `${user}/followers`,
      following_url: `${user}/following{/other_user}`,
      gists_url: `${user}/gists{/gist_id}`,
      starred_url: `${user}/starred{/owner}{/repo}`,
      subscriptions_url: `${user}/subscriptions`,
      organizations_url: `${user}/orgs`,
      repos_url: `${user}/repos`,
      events_url: `${user}/events{/privacy}`,
      received_events_url: `${user}/received_events`,
      type: app.owner.type,
      site_admin: false,
    },
    name: app.name,
    description: app.description,
    external_url: app.externalUrl,
    html_url: `${baseUrl}/apps/${app.slug}`,
    created_at: iso(app.createdAt),
    updated_at: iso(app.createdAt),
    permissions: app.permissions,
    events: app.events,
  };
}
