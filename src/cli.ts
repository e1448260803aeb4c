#!/usr/bin/env node
import { parseArgs } from "node:util";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { runBench } from "./bench/run-bench.js";
import { type DoctorCheck, doctorPassed, formatDoctor, runDoctor } from "./cloud/ec2/doctor.js";
import { createEc2Client } from "./cloud/ec2/ec2-client.js";
import { type FleetConfig, fleetJsonSchema, repositoryLimitsOf } from "./config/fleet-schema.js";
import { loadConfig, loadFleetFromEnv } from "./config/load-config.js";
import { readDatabaseSettings, readGithubSettings } from "./config/settings.js";
import { hasOwnRunnerGroup } from "./core/runner-group.js";
import { runDemo } from "./demo/run-demo.js";
import { CloudSetupError, ConfigError, exitCodeOf, MayflyError, UsageError } from "./errors.js";
import { formatReconcileReport } from "./fleet/reconcile-report.js";
import { createAppFromManifest } from "./github/create-app.js";
import { OctokitGitHub } from "./github/octokit-github.js";
import { checkRunnerGroups } from "./github/pool-runner-groups.js";
import { createLogger } from "./log/logger.js";
import { openConfiguredLedger, reconcileFromCli, serve } from "./main.js";
import { jobsReportText, usageReportText } from "./reports/report-command.js";
import { apiSource, ledgerSource, type ReportSource } from "./reports/report-source.js";

const USAGE = `usage: mayfly <command> [options]

commands:
  serve [--config FILE]          migrate the ledger, then answer webhooks
  migrate                        apply ledger migrations and exit
  demo [--ec2-endpoint URL]      run the whole system here: simulated GitHub and EC2, ~100 jobs
                                 (EC2 at URL instead, e.g. moto_server, when given)
  config schema                  print the JSON Schema of the fleet file
  config check [--config FILE]   validate the environment and the fleet file
  bench [--quick] [--json] [--check]
                                 measure mayfly against the simulators' limits (docs/BENCHMARKS.md);
                                 --check: exit 1 when a count (calls, VMs, lost jobs) misses its target
  doctor [--config FILE] [--json]
                                 check the AWS permissions and resources the fleet file needs
  reconcile [--dry-run] [--json] [--config FILE]
                                 one reconcile pass now (--dry-run: say what it would do)
  app create --webhook-url URL (--out FILE | --print) [--org ORG] [--name NAME]
             [--github-url URL] [--api-url URL] [--repo-runners]
                                 register the GitHub App from app-manifest.json: open the page
                                 it prints, confirm on GitHub; the App ID, private key and
                                 webhook secret go to FILE (mode 0600) or stdout, once
  usage [--since WHEN] [--until WHEN] [--by DIMS] [--json | --csv] [--url URL]
                                 usage and cost, EC2 beside GitHub-hosted; WHEN: 2026-11-01,
                                 30d or month (default); DIMS: comma list of org, repo,
                                 workflow, pool, type, market, zone, day, month, job, or total
  jobs [--state STATES] [--repo R] [--org O] [--pool P] [--since WHEN] [--limit N] [--json] [--url URL]
                                 jobs in flight and recent, with wait and VM (STATES: live,
                                 waiting, queued, in_progress, completed); with the fleet file,
                                 the jobs each pool's maxRunnersPerRepository holds back

usage and jobs read DATABASE_URL (or the embedded database when no controller has it open),
or with --url a running controller's /api with MAYFLY_ADMIN_TOKEN.

The fleet file comes from --config or MAYFLY_CONFIG. See README.md for every setting.`;

type Out = { out: (text: string) => void; err: (text: string) => void };

/** What a command may be handed instead of building it; tests pass an EC2 client here. */
export interface CliDeps {
  readonly ec2?: EC2Client;
}

/** Runs one command; resolves to the process exit code. `serve` resolves when it stops. */
export async function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: Out,
  deps: CliDeps = {},
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        config: { type: "string" },
        json: { type: "boolean" },
        "ec2-endpoint": { type: "string" },
        "dry-run": { type: "boolean" },
        csv: { type: "boolean" },
        url: { type: "string" },
        since: { type: "string" },
        until: { type: "string" },
        by: { type: "string" },
        state: { type: "string" },
        org: { type: "string" },
        repo: { type: "string" },
        pool: { type: "string" },
        limit: { type: "string" },
        "webhook-url": { type: "string" },
        "github-url": { type: "string" },
        "api-url": { type: "string" },
        name: { type: "string" },
        out: { type: "string" },
        print: { type: "boolean" },
        "repo-runners": { type: "boolean" },
        quick: { type: "boolean" },
        check: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
    const [command, sub, ...rest] = positionals;
    if (values.help || command === undefined) {
      io.out(USAGE);
      return command === undefined && !values.help ? 64 : 0;
    }
    if (command === "config" && sub === "schema" && rest.length === 0) {
      io.out(JSON.stringify(fleetJsonSchema(), null, 2));
      return 0;
    }
    if (command === "config" && sub === "check" && rest.length === 0) {
      const config = loadConfig(env, values.config);
      io.out(`${config.fleetPath}: ok (${config.fleet.pools.length} pools); environment: ok`);
      return 0;
    }
    if (command === "migrate" && sub === undefined) {
      const ledger = await openConfiguredLedger(readDatabaseSettings(env));
      try {
        await ledger.migrate();
      } finally {
        await ledger.close();
      }
      io.out("ledger migrated");
      return 0;
    }
    if (command === "reconcile" && sub === undefined) {
      const config = loadConfig(env, values.config);
      // The report goes to stdout; the log lines of the pass to stderr.
      const logger = createLogger({ level: config.settings.logLevel, destination: process.stderr });
      const report = await reconcileFromCli(config, values["dry-run"] === true, logger, deps.ec2);
      if (report === undefined) {
        io.err("mayfly: reconcile: another replica is reconciling now; nothing done");
        return 75; // EX_TEMPFAIL
      }
      io.out(values.json ? JSON.stringify(report, null, 2) : formatReconcileReport(report));
      // The phases that did not fail ran in full; the exit code still says one failed.
      return report.failed.length > 0 ? 1 : 0;
    }
    if ((command === "usage" || command === "jobs") && sub === undefined) {
      const { since, until, by, state, org, repo, pool, limit } = values;
      if (command === "usage") {
        if (values.json && values.csv) throw new UsageError("give --json or --csv, not both");
        const format = values.csv ? "csv" : values.json ? "json" : "table";
        io.out(
          await withReportSource(env, values.url, values.config, (source) =>
            usageReportText(source, { since, until, by }, format, new Date()),
          ),
        );
      } else {
        const params = { state, org, repo, pool, since, limit };
        io.out(
          await withReportSource(env, values.url, values.config, (source) =>
            jobsReportText(source, params, values.json ? "json" : "table", new Date()),
          ),
        );
      }
      return 0;
    }
    if (command === "app" && sub === "create" && rest.length === 0) {
      const webhookUrl = values["webhook-url"];
      if (webhookUrl === undefined) throw new UsageError("app create: --webhook-url is required");
      if ((values.out === undefined) === (values.print !== true))
        throw new UsageError("app create: give --out FILE or --print, one of them");
      const apiUrl = values["api-url"] ?? env.GITHUB_API_URL?.trim();
      const app = await createAppFromManifest(
        {
          webhookUrl,
          output: values.out === undefined ? "print" : { file: values.out },
          ...(values.org === undefined ? {} : { org: values.org }),
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(values["github-url"] === undefined ? {} : { webUrl: values["github-url"] }),
          ...(apiUrl ? { apiUrl } : {}),
          repositoryRunners: values["repo-runners"] === true,
        },
        {
          logger: createLogger({ level: "warn", destination: process.stderr }),
          onUrl: (url) => io.err(`Open ${url} in a browser on this machine to create the App.`),
          out: io.out,
        },
      );
      io.err(
        `App ${app.slug} (ID ${app.appId}) created; credentials written to ${app.writtenTo}.\nInstall it on the organisation: ${app.installUrl}`,
      );
      return 0;
    }
    if (command === "bench" && sub === undefined) {
      return await runBench(
        { quick: values.quick === true, json: values.json === true, check: values.check === true },
        io,
      );
    }
    if (command === "demo" && sub === undefined) {
      const endpoint = values["ec2-endpoint"];
      if (endpoint !== undefined && !isWebUrl(endpoint))
        throw new UsageError(`--ec2-endpoint: not an http(s) URL: ${endpoint}`);
      let shown = 0;
      return await runDemo(
        {
          out: io.out,
          // A line every two seconds: readable on a terminal and in a CI log alike.
          progress: (line) => {
            if (Date.now() - shown < 2000) return;
            shown = Date.now();
            io.err(line);
          },
        },
        endpoint === undefined ? {} : { ec2Endpoint: endpoint },
      );
    }
    if (command === "doctor" && sub === undefined) {
      return await doctor(env, values.config, values.json === true, io, deps);
    }
    if (command === "serve" && sub === undefined) {
      return await serveUntilSignal(env, values.config);
    }
    throw new UsageError(`unknown command: ${positionals.join(" ")}`);
  } catch (error) {
    const code = exitCodeOf(error);
    if (error instanceof MayflyError) io.err(`mayfly: ${error.message}`);
    else if (
      error instanceof Error &&
      "code" in error &&
      String(error.code).startsWith("ERR_PARSE_ARGS")
    ) {
      io.err(`mayfly: ${error.message}\n\n${USAGE}`);
      return 64;
    } else
      io.err(`mayfly: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof UsageError) io.err(`\n${USAGE}`);
    return code;
  }
}

/**
 * Needs the fleet file, and the App's credentials for the pools' runner groups. The EC2
 * client reads region, credentials and AWS_ENDPOINT_URL_EC2 the SDK's usual way.
 */
async function doctor(
  env: NodeJS.ProcessEnv,
  configFlag: string | undefined,
  json: boolean,
  io: Out,
  deps: CliDeps,
): Promise<number> {
  const { fleet } = loadFleetFromEnv(env, configFlag);
  const checks = await runDoctor(deps.ec2 ?? createEc2Client(), fleet);
  checks.push(...(await doctorGitHub(env, fleet)));
  io.out(json ? JSON.stringify(checks, null, 2) : formatDoctor(checks));
  const missing = checks.filter((check) => check.status === "missing").length;
  if (!doctorPassed(checks)) throw new CloudSetupError(`doctor: ${missing} checks missing`);
  return 0;
}

/**
 * The pools' own runner groups on GitHub, with the App's credentials when the environment
 * has them; without, a warning says they were not looked at.
 */
async function doctorGitHub(env: NodeJS.ProcessEnv, fleet: FleetConfig): Promise<DoctorCheck[]> {
  const pools = fleet.pools.filter(hasOwnRunnerGroup);
  if (pools.length === 0) return [];
  const { githubApp, githubApiUrl } = readGithubSettings(env);
  if (githubApp === undefined) {
    return [
      {
        status: "warn",
        check: `runner groups of ${pools.map((p) => p.name).join(", ")}`,
        detail: "not looked at: GITHUB_APP_ID and its private key are not set",
      },
    ];
  }
  const github = new OctokitGitHub({
    appId: githubApp.appId,
    privateKey: githubApp.privateKey,
    baseUrl: githubApiUrl,
    logger: createLogger({ level: "warn", destination: process.stderr }),
  });
  return checkRunnerGroups(github, fleet);
}

/**
 * Runs a report against a controller's API (--url) or the ledger the environment names; the
 * fleet file, when one is named (--config, MAYFLY_CONFIG or MAYFLY_CONFIG_YAML), tells the
 * ledger's jobs report the pools' per-repository caps (a controller's API knows its own).
 */
async function withReportSource(
  env: NodeJS.ProcessEnv,
  url: string | undefined,
  configFlag: string | undefined,
  report: (source: ReportSource) => Promise<string>,
): Promise<string> {
  if (url !== undefined) {
    if (!isWebUrl(url)) throw new UsageError(`--url: not an http(s) URL: ${url}`);
    const token = env.MAYFLY_ADMIN_TOKEN?.trim();
    if (!token) throw new ConfigError(["MAYFLY_ADMIN_TOKEN: required with --url"]);
    return report(apiSource(url, token));
  }
  const named = configFlag ?? (env.MAYFLY_CONFIG?.trim() || env.MAYFLY_CONFIG_YAML?.trim());
  const limits = named ? repositoryLimitsOf(loadFleetFromEnv(env, configFlag).fleet) : undefined;
  const ledger = await openConfiguredLedger(readDatabaseSettings(env));
  try {
    return await report(ledgerSource(ledger, () => new Date(), limits));
  } finally {
    await ledger.close();
  }
}

/** An absolute http(s) URL with a host, as an EC2 endpoint must be. */
function isWebUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "";
}

async function serveUntilSignal(
  env: NodeJS.ProcessEnv,
  configFlag: string | undefined,
): Promise<number> {
  const config = loadConfig(env, configFlag);
  const logger = createLogger({ level: config.settings.logLevel });
  const running = await serve(config, { logger });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "mayfly stopping");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await running.stop();
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/mayfly")) {
  run(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
