// What a check needs from the machine beyond Node and npm: system tools (xmllint, gpg, ZooKeeper, apt-get, ...) and
// files that are not part of the repository. One rule for all of them, used by every such test and by the shellcheck
// step of `npm run check` (scripts/dev/shellcheck-all.sh, through the command line below):
//
//   - present: the check runs;
//   - missing on a developer's machine: the check is skipped, with ONE line naming what is missing, its Debian
//     package and the command that installs it;
//   - missing under CI (CI set, and not "false" or "0"): an error, never a skip, since CI must run every check.
//
// In a test file:  void describe("...", { skip: requireTool("xmllint", "libxml2-utils") }, () => { ... });
// Called at the top level of the file, so under CI a missing tool fails that file at once with the message.
//
// Command line:    node --import tsx test/support/tools.ts COMMAND PACKAGE [COMMAND PACKAGE ...]
//   exit 0, silent: all present; exit 3: missing, the skip line on stdout; exit 1: missing under CI, the message
//   on stderr; exit 2: wrong usage.
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** What `skip` of node:test takes: false to run, or the reason it is skipped. */
export type Skip = false | string;

type Env = NodeJS.ProcessEnv;

/** True under CI: CI is set to anything but "", "0" or "false" (CI=true is what CI runners set). */
export function isCi(env: Env = process.env): boolean {
  const value = (env.CI ?? "").trim().toLowerCase();
  return value !== "" && value !== "0" && value !== "false";
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return isFile(file);
  } catch {
    return false;
  }
}

/**
 * What `command` names: given as a path (it contains a slash), that file if it exists, as for a jar or a schema;
 * given as a name, the first executable of that name on PATH.
 */
export function findCommand(command: string, env: Env = process.env): string | undefined {
  if (command.includes("/")) {
    return isFile(command) ? command : undefined;
  }
  return (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => path.join(dir, command))
    .find(isExecutable);
}

/**
 * The outcome for a missing prerequisite: the skip reason, or under CI an Error saying that CI needs it.
 * `what` names what is missing, `remedy` how to get it; both are one line.
 */
export function missing(what: string, remedy: string, env: Env = process.env): string {
  const line = `${what}: ${remedy}`;
  if (isCi(env)) {
    const sentence = remedy.charAt(0).toUpperCase() + remedy.slice(1);
    throw new Error(
      `CI=${env.CI ?? ""}: ${what}, and CI must run every check instead of skipping it. ${sentence}`,
    );
  }
  return line;
}

/** `apt-get install -y` for the given Debian packages, each named once. */
export function aptInstall(packages: readonly string[]): string {
  return `apt-get install -y ${[...new Set(packages)].join(" ")}`;
}

/**
 * Every [command or path, Debian package] pair present: false. Otherwise one line naming what is missing, its
 * packages and the command that installs them; under CI, an Error instead.
 */
export function requireTools(tools: ReadonlyArray<readonly [string, string]>, env: Env = process.env): Skip {
  const absent = tools.filter(([command]) => findCommand(command, env) === undefined);
  if (absent.length === 0) {
    return false;
  }
  const names = absent.map(([command, pkg]) => `${command} (Debian package ${pkg})`).join(", ");
  return missing(
    `${names} ${absent.length === 1 ? "is" : "are"} not installed`,
    `install with: ${aptInstall(absent.map(([, pkg]) => pkg))}`,
    env,
  );
}

/** `command` (a name on PATH, or a path) present: false; otherwise the skip line, or under CI an Error. */
export function requireTool(command: string, debianPackage: string, env: Env = process.env): Skip {
  return requireTools([[command, debianPackage]], env);
}

/**
 * A file that is not in the repository (a schema that may not be copied into it): present, false; otherwise the
 * skip line naming the file, what it is and how to provide it; under CI an Error.
 */
export function requireFile(file: string, what: string, remedy: string, env: Env = process.env): Skip {
  return existsSync(file) ? false : missing(`${what} is not at ${file}`, remedy, env);
}

/**
 * A PATH like `env.PATH` without `commands`: a new directory of links to every other executable on it. For tests of
 * the "missing tool" paths on a machine that has the tool. `remove()` deletes the directory.
 */
export function pathWithout(
  commands: readonly string[],
  env: Env = process.env,
): { path: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "path-without-"));
  const hidden = new Set(commands);
  const seen = new Set<string>();
  for (const entry of (env.PATH ?? "").split(path.delimiter)) {
    let names: string[];
    try {
      names = readdirSync(entry);
    } catch {
      continue;
    }
    for (const name of names) {
      if (hidden.has(name) || seen.has(name) || !isExecutable(path.join(entry, name))) {
        continue;
      }
      seen.add(name);
      symlinkSync(path.join(entry, name), path.join(dir, name));
    }
  }
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The command line (see the top of the file). */
function main(args: string[]): number {
  if (args.length === 0 || args.length % 2 !== 0) {
    process.stderr.write("usage: tools.ts COMMAND DEBIAN-PACKAGE [COMMAND DEBIAN-PACKAGE ...]\n");
    return 2;
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) {
    pairs.push([args[i] as string, args[i + 1] as string]);
  }
  try {
    const skip = requireTools(pairs);
    if (skip === false) {
      return 0;
    }
    process.stdout.write(`${skip}\n`);
    return 3;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
