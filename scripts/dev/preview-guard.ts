// What scripts/dev/deploy.sh asks before it approves an update by itself: does the stack have a deployment
// (`pulumi stack export`), and would the update replace or delete a host, its network interface or address, a
// volume or the shared file system (`pulumi preview --json`)? Pure functions, and a small CLI for the script:
//
//   pulumi stack export --stack dev | npx tsx scripts/dev/preview-guard.ts deployed   -> prints existing | new
//   pulumi preview --json --stack dev | npx tsx scripts/dev/preview-guard.ts check <preview exit code> <stack>
//     exit 0: nothing guarded would be replaced or deleted; 3: it would (the steps are printed);
//     2: the preview failed or printed no JSON (its errors are printed).
import { readFileSync } from "node:fs";

/** The resources whose loss takes a host, its addresses or the store with it. */
export const GUARDED_TYPES: readonly string[] = [
  "aws:ec2/instance:Instance",
  "aws:ec2/networkInterface:NetworkInterface",
  "aws:ec2/eip:Eip",
  "aws:ebs/volume:Volume",
  "aws:ec2/volumeAttachment:VolumeAttachment",
  "aws:efs/fileSystem:FileSystem",
  "aws:efs/mountTarget:MountTarget",
];

/**
 * The step operations that delete or replace a resource (the engine's StepOp labels, as `pulumi preview --json`
 * writes them). A replacement shows as create-replacement, replace and delete-replaced for one URN.
 */
export const DESTRUCTIVE_OPS: readonly string[] = [
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "discard",
  "discard-replaced",
  "import-replacement",
];

export interface GuardedChange {
  readonly urn: string;
  readonly type: string;
  /** Every destructive op the preview lists for the URN, in order. */
  readonly ops: readonly string[];
}

/** The resource type in a URN: the last element of its `$`-separated type chain. */
export function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? "";
}

interface PreviewDigest {
  readonly steps?: readonly { readonly op?: unknown; readonly urn?: unknown }[];
  readonly diagnostics?: readonly { readonly severity?: unknown; readonly message?: unknown }[];
}

function parseDigest(previewJson: string): PreviewDigest {
  const value: unknown = JSON.parse(previewJson);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("pulumi preview --json printed something other than a JSON object");
  }
  return value as PreviewDigest;
}

/** The guarded resources the preview would delete or replace, one entry per URN. Throws on invalid JSON. */
export function guardedChanges(previewJson: string): GuardedChange[] {
  const byUrn = new Map<string, string[]>();
  for (const step of parseDigest(previewJson).steps ?? []) {
    if (typeof step.op !== "string" || typeof step.urn !== "string") {
      continue;
    }
    if (DESTRUCTIVE_OPS.includes(step.op) && GUARDED_TYPES.includes(typeOfUrn(step.urn))) {
      byUrn.set(step.urn, [...(byUrn.get(step.urn) ?? []), step.op]);
    }
  }
  return [...byUrn].map(([urn, ops]) => ({ urn, type: typeOfUrn(urn), ops }));
}

/** The preview's error diagnostics (a refused setting, a failed invoke…), as the CLI would have shown them. */
export function previewErrors(previewJson: string): string[] {
  try {
    return (parseDigest(previewJson).diagnostics ?? [])
      .filter((d) => d.severity === "error" && typeof d.message === "string")
      .map((d) => (d.message as string).trim());
  } catch {
    return [];
  }
}

/** Whether `pulumi stack export` shows a deployment: any resource besides the root stack. */
export function hasDeployment(stackExportJson: string): boolean {
  const value = JSON.parse(stackExportJson) as { deployment?: { resources?: { type?: unknown }[] } };
  return (value.deployment?.resources ?? []).some((r) => r.type !== "pulumi:pulumi:Stack");
}

/** What deploy.sh prints when it stops: the steps, and how to go on by hand. */
export function refusal(changes: readonly GuardedChange[], stack: string): string {
  const width = Math.max(...changes.map((c) => c.ops.join(",").length));
  return [
    `deploy: on stack ${stack}, this update would delete or replace ${changes.length} resource(s) that hold a ` +
      `host, its addresses or the store:`,
    ...changes.map((c) => `  ${c.ops.join(",").padEnd(width)}  ${c.urn}`),
    "Nothing was changed, and deploy does not approve this by itself. Review it with:",
    `  pulumi preview --diff --stack ${stack}`,
    "and if it is what you intend, run the update by hand and approve it at its prompt:",
    `  pulumi up --stack ${stack}`,
  ].join("\n");
}

function main(argv: readonly string[]): number {
  const [command, ...rest] = argv;
  const input = readFileSync(0, "utf8");
  if (command === "deployed") {
    console.log(hasDeployment(input) ? "existing" : "new");
    return 0;
  }
  if (command === "check") {
    const [exitCode = "0", stack = "<stack>"] = rest;
    let changes: GuardedChange[];
    try {
      changes = guardedChanges(input);
    } catch (e) {
      console.error(
        `deploy: pulumi preview (exit ${exitCode}) printed no readable JSON: ${(e as Error).message}`,
      );
      return 2;
    }
    if (exitCode !== "0") {
      const errors = previewErrors(input);
      console.error(
        [`deploy: pulumi preview failed (exit ${exitCode}); nothing was changed.`, ...errors].join("\n"),
      );
      return 2;
    }
    if (changes.length > 0) {
      console.error(refusal(changes, stack));
      return 3;
    }
    console.log(
      `deploy: the preview deletes or replaces no host, address, volume or file system of ${stack}.`,
    );
    return 0;
  }
  console.error(
    "usage: preview-guard.ts deployed < stack-export.json | check <exit code> <stack> < preview.json",
  );
  return 64;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
