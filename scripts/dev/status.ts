// npm run status [-- --json] [-- --watch] [-- --private]: who is master in each group and how each host is,
// from the stack's outputs and one read-only question per host over SSH (scripts/host-status.sh), every host's key
// verified against the stack's own (output nodes[].hostKey). Exit status: 0 healthy, 1 a group has a problem
// (listed on stderr), 2 no deployed stack (one line saying so).
// ACTIVEMQ_HA_OUTPUTS=<file> reads the outputs from a file of `pulumi stack output --json --show-secrets`.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { renderStepPayload, REMOTE_COMMAND } from "../../lib/payload";
import { knownHostsLine, pinnedHostOptions } from "../../lib/ssh";
import {
  groupProblems,
  hostStatusStep,
  NoDeployedStack,
  parseHostStatus,
  renderStatusTable,
  StatusRow,
  StatusTarget,
  statusTargets,
} from "../../lib/status";

const SSH_TIMEOUT_S = 20;
const WATCH_INTERVAL_MS = 5000;

function readOutputs(): Record<string, unknown> {
  const file = process.env.ACTIVEMQ_HA_OUTPUTS;
  if (file) {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  }
  try {
    const text = execFileSync("pulumi", ["stack", "output", "--json", "--show-secrets"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    const error = e as { code?: string; stderr?: string };
    if (error.code === "ENOENT") {
      throw new NoDeployedStack(
        "the Pulumi CLI is not installed, so no stack can be read (see README, Prerequisites)",
      );
    }
    const first = (error.stderr ?? String(e)).trim().split("\n")[0];
    throw new NoDeployedStack(
      `no deployed stack here (pulumi stack output: ${first}): run \`npm run deploy\` first`,
    );
  }
}

/** Runs the status question on one host; undefined when the host gave no answer. */
function askHost(
  target: StatusTarget,
  node: StatusTarget["nodes"][number],
  address: string,
  login: { user: string; keyFile: string; scratch: string },
): Promise<string | undefined> {
  const { step, input } = hostStatusStep(target, node.index);
  const knownHosts = path.join(login.scratch, `known_hosts-${target.name}-${node.index}`);
  writeFileSync(knownHosts, knownHostsLine(address, node.hostKey));
  const options = pinnedHostOptions({
    knownHostsFile: knownHosts,
    hostKey: node.hostKey,
    connectTimeoutS: 5,
  });
  return new Promise((resolve) => {
    const child = spawn(
      "ssh",
      [...options, "-i", login.keyFile, `${login.user}@${address}`, REMOTE_COMMAND],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), SSH_TIMEOUT_S * 1000);
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? stdout : undefined);
    });
    child.stdin.end(renderStepPayload(step, input));
  });
}

interface Report {
  readonly rows: StatusRow[];
  readonly problems: string[];
}

async function survey(outputs: Record<string, unknown>, usePrivate: boolean): Promise<Report> {
  const targets = statusTargets(outputs);
  const scratch = mkdtempSync(path.join(tmpdir(), "activemq-ha-status-"));
  try {
    const keyFile = path.join(scratch, "key");
    writeFileSync(keyFile, String(outputs.sshPrivateKey ?? ""), { mode: 0o600 });
    const login = { user: String(outputs.sshUser ?? "admin"), keyFile, scratch };
    const rows: StatusRow[] = [];
    const problems: string[] = [];
    for (const target of targets) {
      const answers = await Promise.all(
        target.nodes.map((n) => askHost(target, n, usePrivate ? n.privateIp : n.publicIp, login)),
      );
      const hosts = answers.map(parseHostStatus);
      hosts.forEach((status, i) => {
        const n = target.nodes[i] as StatusTarget["nodes"][number];
        rows.push({
          group: target.name,
          node: n.index,
          availabilityZone: n.availabilityZone,
          address: usePrivate ? n.privateIp : n.publicIp,
          status,
        });
      });
      problems.push(...groupProblems(target, hosts));
    }
    return { rows, problems };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = new Set(process.argv.slice(2));
  let outputs: Record<string, unknown>;
  try {
    outputs = readOutputs();
    statusTargets(outputs);
  } catch (e) {
    if (e instanceof NoDeployedStack) {
      console.error(`npm run status: ${e.message}`);
      return 2;
    }
    throw e;
  }
  for (;;) {
    const report = await survey(outputs, args.has("--private"));
    if (args.has("--json")) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      if (args.has("--watch")) {
        process.stdout.write("\x1b[2J\x1b[H");
      }
      console.log(renderStatusTable(report.rows));
    }
    report.problems.forEach((p) => console.error(`problem: ${p}`));
    if (!args.has("--watch")) {
      return report.problems.length > 0 ? 1 : 0;
    }
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`npm run status: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
