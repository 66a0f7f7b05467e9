// The cluster-in-a-box from TypeScript: test/e2e/box/box.sh does the work (hosts, bridge, mirror); this
// wraps it and runs commands on the hosts over SSH, exactly as remote.Command would.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { knownHostsLine, pinnedHostOptions } from "../../../lib/ssh";

export const BOX_SCRIPT = path.resolve(__dirname, "..", "box", "box.sh");

export interface BoxHost {
  readonly index: number;
  readonly address: string;
  readonly name: string;
}

export interface BoxInfo {
  readonly hosts: BoxHost[];
  readonly sshUser: string;
  readonly sshKey: string;
  readonly bridgeAddress: string;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs box.sh with the given arguments; progress goes to this process's stderr. */
export function box(...args: string[]): string {
  const result = spawnSync("bash", [BOX_SCRIPT, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`box.sh ${args.join(" ")} failed with status ${result.status}`);
  }
  return result.stdout;
}

export function boxUp(count: number): BoxInfo {
  return JSON.parse(box("up", String(count))) as BoxInfo;
}

/** The box's own record of its hosts' keys (box.sh writes it from each host's disk at `up` and `replace`). */
export const BOX_KNOWN_HOSTS = path.join(process.env.BOX_DIR ?? "/var/tmp/amq-box", "known_hosts");

/**
 * Runs `command` on a host over SSH, feeding `stdin`; never throws on a non-zero exit. With `hostKey`, the host
 * must present exactly that key.
 */
export function sshRun(
  info: BoxInfo,
  address: string,
  command: string,
  stdin = "",
  hostKey?: string,
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let knownHosts = BOX_KNOWN_HOSTS;
    let scratch: string | undefined;
    if (hostKey !== undefined) {
      scratch = mkdtempSync(path.join(tmpdir(), "amq-known-hosts-"));
      knownHosts = path.join(scratch, "known_hosts");
      writeFileSync(knownHosts, knownHostsLine(address, hostKey));
    }
    // Verified against `hostKey` when given, otherwise against the box's own record: a host presenting another key
    // is refused before authentication, so nothing reaches it.
    const options = pinnedHostOptions({ knownHostsFile: knownHosts, hostKey, connectTimeoutS: 10 });
    const child = spawn("ssh", [...options, "-i", info.sshKey, `${info.sshUser}@${address}`, command], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (scratch !== undefined) {
        rmSync(scratch, { recursive: true, force: true });
      }
      resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
    child.stdin.end(stdin);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `intervalMs` until it returns a value, or returns undefined after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() >= deadline) {
      return undefined;
    }
    await sleep(intervalMs);
  }
}
