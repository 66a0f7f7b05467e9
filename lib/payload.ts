// Turns a plan step into the exact program a host runs: `sudo bash -s` reads it on standard input. The step's
// script, the shared library and every managed file travel inside it as base64 (so no content is ever
// interpreted by a shell), and the arguments are single-quoted. Secrets ride only here: never on a command line,
// never echoed. Deterministic, so an unchanged step has an unchanged payload and Pulumi runs nothing.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ClusterFacts } from "./facts";
import { PlanStep, StepInput } from "./steps/types";

export const SCRIPTS_DIR = path.resolve(__dirname, "..", "scripts");
export const COMMON_LIBRARY = "lib/common.sh";

/** What runs the payload on a host, for Pulumi and the test harness alike. */
export const REMOTE_COMMAND = "sudo bash -s";

const scriptCache = new Map<string, string>();

export function readScript(name: string): string {
  let text = scriptCache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
    scriptCache.set(name, text);
  }
  return text;
}

/** POSIX shell single-quoting: safe for any byte string. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function base64Block(target: string, content: string): string {
  const encoded = Buffer.from(content, "utf8")
    .toString("base64")
    .replace(/(.{76})/g, "$1\n");
  return `base64 -d > ${target} <<'PAYLOAD_EOF'\n${encoded}\nPAYLOAD_EOF\n`;
}

export function renderPayload(step: PlanStep, facts: ClusterFacts): string {
  return renderStepPayload(step, step.input(facts));
}

/** The payload of a step whose input is already known (a step that needs no facts, such as host-rejoin). */
export function renderStepPayload(step: PlanStep, input: StepInput): string {
  const manifest = input.files
    .map((f, i) => [String(i), f.path, f.owner, f.group, f.mode].join("\t"))
    .join("\n");
  const parts = [
    "#!/usr/bin/env bash\n",
    `# step ${step.id}: ${step.description}\n`,
    "set -euo pipefail\n",
    "umask 077\n",
    'work="$(mktemp -d /tmp/amq-step.XXXXXX)"\n',
    "trap 'rm -rf \"$work\"' EXIT\n",
    'mkdir -p "$work/lib" "$work/files"\n',
    base64Block('"$work/lib/common.sh"', readScript(COMMON_LIBRARY)),
    base64Block('"$work/step.sh"', readScript(step.script)),
    ...input.files.map((f, i) => base64Block(`"$work/files/${i}"`, f.content)),
    base64Block('"$work/files/MANIFEST"', manifest === "" ? "" : manifest + "\n"),
    // Bounded on the host: a hung download or wait ends the step, and the error names the step and the host.
    // Its standard input is not the payload's: nothing it runs can swallow the lines after it.
    // The step's named inputs travel as its environment, each value single-quoted.
    `rc=0\nSTEP_ID=${shellQuote(step.id)} STEP_FILES="$work/files"${inputAssignments(step, input)} ` +
      `timeout --kill-after=30 ${step.timeoutMinutes * 60} bash "$work/step.sh" </dev/null || rc=$?\n`,
    `if ((rc == 124 || rc == 137)); then\n` +
      `  printf '[%s] ERROR: gave up after ${step.timeoutMinutes} minutes\\n' ${shellQuote(step.id)} >&2\n` +
      `fi\n`,
    `if ((rc != 0)); then\n` +
      `  printf '[%s] FAILED on %s (exit %s); its output is above\\n' ${shellQuote(step.id)} "$(hostname)" "$rc" >&2\n` +
      `  exit "$rc"\n` +
      `fi\n`,
  ];
  return parts.join("");
}

/** Names a step input may not take: the payload's own, and those the shell or the loader give a meaning. */
const RESERVED_INPUT_NAMES = new Set([
  "STEP_ID",
  "STEP_FILES",
  "PATH",
  "HOME",
  "IFS",
  "SHELL",
  "USER",
  "ENV",
  "BASH_ENV",
  "SHELLOPTS",
  "BASHOPTS",
  "PS4",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
]);

/** ` NAME='value'` for every input, in the plan's order; a name that is not a plain shell name is a plan bug. */
function inputAssignments(step: PlanStep, input: StepInput): string {
  return Object.entries(input.inputs)
    .map(([name, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(name) || RESERVED_INPUT_NAMES.has(name)) {
        throw new Error(`step ${step.id}: "${name}" cannot name a step input`);
      }
      return ` ${name}=${shellQuote(value)}`;
    })
    .join("");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
