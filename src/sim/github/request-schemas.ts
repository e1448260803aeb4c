import type { JsonSchema } from "./schema-problems.js";

// The org and repository routes document the same body.
const JIT_CONFIG_BODY: JsonSchema = {
  type: "object",
  required: ["name", "runner_group_id", "labels"],
  properties: {
    name: {
      type: "string",
    },
    runner_group_id: {
      type: "integer",
    },
    labels: {
      type: "array",
      items: {
        type: "string",
      },
      minItems: 1,
      maxItems: 100,
    },
    work_folder: {
      type: "string",
    },
  },
};

/**
 * The request bodies GitHub documents for the operations the sim takes a body on, keyed
 * "METHOD /openapi/path": the validation keywords of @octokit/openapi's dereferenced
 * description (test/sim/sim-github-request-schemas.test.ts fails when they drift from it, and
 * prints what to paste here).
 */
export const REQUEST_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  "POST /app/installations/{installation_id}/access_tokens": {
    type: "object",
    properties: {
      repositories: {
        type: "array",
        items: {
          type: "string",
        },
      },
      repository_ids: {
        type: "array",
        items: {
          type: "integer",
        },
      },
      permissions: {
        type: "object",
        properties: {
          actions: {
            type: "string",
            enum: ["read", "write"],
          },
          administration: {
            type: "string",
            enum: ["read", "write"],
          },
          artifact_metadata: {
            type: "string",
            enum: ["read", "write"],
          },
          attestations: {
            type: "string",
            enum: ["read", "write"],
          },
          checks: {
            type: "string",
            enum: ["read", "write"],
          },
          code_quality: {
            type: "string",
            enum: ["read", "write"],
          },
          codespaces: {
            type: "string",
            enum: ["read", "write"],
          },
          contents: {
            type: "string",
            enum: ["read", "write"],
          },
          dependabot_secrets: {
            type: "string",
            enum: ["read", "write"],
          },
          deployments: {
            type: "string",
            enum: ["read", "write"],
          },
          discussions: {
            type: "string",
            enum: ["read", "write"],
          },
          environments: {
            type: "string",
            enum: ["read", "write"],
          },
          issues: {
            type: "string",
            enum: ["read", "write"],
          },
          merge_queues: {
            type: "string",
            enum: ["read", "write"],
          },
          metadata: {
            type: "string",
            enum: ["read", "write"],
          },
          packages: {
            type: "string",
            enum: ["read", "write"],
          },
          pages: {
            type: "string",
            enum: ["read", "write"],
          },
          pull_requests: {
            type: "string",
            enum: ["read", "write"],
          },
          repository_custom_properties: {
            type: "string",
            enum: ["read", "write"],
          },
          repository_hooks: {
            type: "string",
            enum: ["read", "write"],
          },
          repository_projects: {
            type: "string",
            enum: ["read", "write", "admin"],
          },
          secret_scanning_alerts: {
            type: "string",
            enum: ["read", "write"],
          },
          secrets: {
            type: "string",
            enum: ["read", "write"],
          },
          security_events: {
            type: "string",
            enum: ["read", "write"],
          },
          single_file: {
            type: "string",
            enum: ["read", "write"],
          },
          statuses: {
            type: "string",
            enum: ["read", "write"],
          },
          vulnerability_alerts: {
            type: "string",
            enum: ["read", "write"],
          },
          workflows: {
            type: "string",
            enum: ["write"],
          },
          custom_properties_for_organizations: {
            type: "string",
            enum: ["read", "write"],
          },
          members: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_administration: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_custom_roles: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_custom_org_roles: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_custom_properties: {
            type: "string",
            enum: ["read", "write", "admin"],
          },
          organization_copilot_seat_management: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_copilot_agent_settings: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_announcement_banners: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_events: {
            type: "string",
            enum: ["read"],
          },
          organization_hooks: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_personal_access_tokens: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_personal_access_token_requests: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_plan: {
            type: "string",
            enum: ["read"],
          },
          organization_projects: {
            type: "string",
            enum: ["read", "write", "admin"],
          },
          organization_packages: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_secrets: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_self_hosted_runners: {
            type: "string",
            enum: ["read", "write"],
          },
          organization_user_blocking: {
            type: "string",
            enum: ["read", "write"],
          },
          email_addresses: {
            type: "string",
            enum: ["read", "write"],
          },
          followers: {
            type: "string",
            enum: ["read", "write"],
          },
          git_ssh_keys: {
            type: "string",
            enum: ["read", "write"],
          },
          gpg_keys: {
            type: "string",
            enum: ["read", "write"],
          },
          interaction_limits: {
            type: "string",
            enum: ["read", "write"],
          },
          profile: {
            type: "string",
            enum: ["write"],
          },
          starring: {
            type: "string",
            enum: ["read", "write"],
          },
          enterprise_custom_properties_for_organizations: {
            type: "string",
            enum: ["read", "write", "admin"],
          },
        },
      },
    },
  },
  "POST /orgs/{org}/actions/runners/generate-jitconfig": JIT_CONFIG_BODY,
  "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig": JIT_CONFIG_BODY,
  "PATCH /orgs/{org}/actions/runner-groups/{runner_group_id}": {
    type: "object",
    required: ["name"],
    properties: {
      name: {
        type: "string",
      },
      visibility: {
        type: "string",
        enum: ["selected", "all", "private"],
      },
      allows_public_repositories: {
        type: "boolean",
      },
      restricted_to_workflows: {
        type: "boolean",
      },
      selected_workflows: {
        type: "array",
        items: {
          type: "string",
        },
      },
      network_configuration_id: {
        type: "string",
        nullable: true,
      },
    },
  },
  "POST /orgs/{org}/actions/runner-groups": {
    type: "object",
    required: ["name"],
    properties: {
      name: {
        type: "string",
      },
      visibility: {
        type: "string",
        enum: ["selected", "all", "private"],
      },
      selected_repository_ids: {
        type: "array",
        items: {
          type: "integer",
        },
      },
      runners: {
        type: "array",
        items: {
          type: "integer",
        },
      },
      allows_public_repositories: {
        type: "boolean",
      },
      restricted_to_workflows: {
        type: "boolean",
      },
      selected_workflows: {
        type: "array",
        items: {
          type: "string",
        },
      },
      network_configuration_id: {
        type: "string",
      },
    },
  },
  "PUT /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories": {
    type: "object",
    required: ["selected_repository_ids"],
    properties: {
      selected_repository_ids: {
        type: "array",
        items: {
          type: "integer",
        },
      },
    },
  },
};
