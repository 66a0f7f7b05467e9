// The cluster-in-a-box from TypeScript: test/e2e/box/box.sh does the work (hosts, bridge, mirror); this
// wraps it and runs commands on the hosts over SSH, exactly as remote.Command would.
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";

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

const SSH_OPTIONS = [
  "-o",
  "BatchMode=yes",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
  "-o",
  "ConnectTimeout=10",
];

/** Runs `command` on a host over SSH, feeding `stdin`; never throws on a non-zero exit. */
export function sshRun(info: BoxInfo, address: string, command: string, stdin = ""): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [...SSH_OPTIONS, "-i", info.sshKey, `${info.sshUser}@${address}`, command], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - started) / 1000 }),
    );
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
