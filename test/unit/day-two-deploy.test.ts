// scripts/dev/deploy.sh on a stack that has a deployment: it previews first, and approves the update by itself
// only when no host, network interface, address, volume or file system would be deleted or replaced. The JSON
// is read by scripts/dev/preview-guard.ts (pure functions tested here), and the script itself runs against a
// stand-in `pulumi` that answers with the fixtures below and logs how it was called.
//
// The fixtures have the shape `pulumi preview --json` prints: the CLI serialises a PreviewDigest
// (pulumi/pulumi sdk/go/common/display/json.go):
//
//   type PreviewDigest struct {
//     Config        map[string]string   `json:"config,omitempty"`
//     Steps         []*PreviewStep      `json:"steps,omitempty"`
//     Diagnostics   []PreviewDiagnostic `json:"diagnostics,omitempty"`
//     Duration      time.Duration       `json:"duration,omitempty"`
//     ChangeSummary ResourceChanges     `json:"changeSummary,omitempty"`
//     MaybeCorrupt  bool                `json:"maybeCorrupt,omitempty"`
//   }
//   type PreviewStep struct {
//     Op             StepOp                  `json:"op"`
//     URN            resource.URN            `json:"urn"`
//     Provider       string                  `json:"provider,omitempty"`
//     OldState       *apitype.ResourceV3     `json:"oldState,omitempty"`
//     NewState       *apitype.ResourceV3     `json:"newState,omitempty"`
//     DiffReasons    []resource.PropertyKey  `json:"diffReasons,omitempty"`
//     ReplaceReasons []resource.PropertyKey  `json:"replaceReasons,omitempty"`
//     DetailedDiff   map[string]PropertyDiff `json:"detailedDiff"`
//   }
//   type PreviewDiagnostic struct {
//     URN resource.URN `json:"urn,omitempty"`; Prefix string `json:"prefix,omitempty"`
//     Message string `json:"message,omitempty"`; Severity diag.Severity `json:"severity,omitempty"`
//   }
//
// and the step ops are the engine's StepOp labels: same, create, update, delete, replace, create-replacement,
// delete-replaced, read, read-replacement, refresh, discard, discard-replaced, import, import-replacement.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  rmSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { requireTool } from "../support/tools";
import {
  guardedChanges,
  hasDeployment,
  previewErrors,
  refusal,
  typeOfUrn,
} from "../../scripts/dev/preview-guard";

const ROOT = path.resolve(__dirname, "../..");
const PREFIX = "urn:pulumi:dev::activemq-ha::";
const CLUSTER = "activemq-ha:cluster:ActiveMqCluster";
const HOSTS = `${CLUSTER}$activemq-ha:hosts:ClusterHosts`;
const PROVIDER = `${PREFIX}pulumi:providers:aws::default_7_47_0::04da6b54-80e4-46f7-96ec-b56ff0331ba9`;
const urn = (chain: string, type: string, name: string) => `${PREFIX}${chain}$${type}::${name}`;
const INSTANCE_1 = urn(HOSTS, "aws:ec2/instance:Instance", "dev-node-1");
const NIC_2 = urn(HOSTS, "aws:ec2/networkInterface:NetworkInterface", "dev-node-2");
const EIP_3 = urn(HOSTS, "aws:ec2/eip:Eip", "dev-node-3");
const RULE = urn(
  `${CLUSTER}$activemq-ha:security:ClusterSecurity`,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "dev-openwire-clients",
);
const COMMAND = urn(
  `${CLUSTER}$activemq-ha:provisioning:ClusterProvisioning`,
  "command:remote:Command",
  "dev-n1-activemq-configure",
);
const STACK = `${PREFIX}pulumi:pulumi:Stack::activemq-ha-dev`;

function state(u: string, id: string, inputs: Record<string, unknown>) {
  const type = typeOfUrn(u);
  return { urn: u, custom: true, id, type, inputs, outputs: { ...inputs, id }, provider: `${PROVIDER}` };
}

/** A heap change: the broker's configure step re-runs, the firewall and hosts stay as they are. */
const ROLLING_PREVIEW = {
  config: { "aws:region": "us-east-1", "activemq-ha:brokerHeapMb": "1536" },
  steps: [
    { op: "same", urn: STACK, oldState: { urn: STACK, type: "pulumi:pulumi:Stack" }, detailedDiff: null },
    {
      op: "same",
      urn: INSTANCE_1,
      provider: PROVIDER,
      oldState: state(INSTANCE_1, "i-0a1b2c3d4e5f60718", { instanceType: "t3.medium" }),
      newState: state(INSTANCE_1, "i-0a1b2c3d4e5f60718", { instanceType: "t3.medium" }),
      detailedDiff: null,
    },
    {
      op: "update",
      urn: COMMAND,
      provider: `${PREFIX}pulumi:providers:command::default_1_2_1::5d0e7a1c-3f7b-4c49-9a55-0c8f2f5d9a10`,
      oldState: state(COMMAND, "dev-n1-activemq-configure-1a2b3c", { triggers: ["[secret]"] }),
      newState: state(COMMAND, "dev-n1-activemq-configure-1a2b3c", { triggers: ["[secret]"] }),
      diffReasons: ["stdin", "triggers"],
      detailedDiff: {
        stdin: { kind: "update", inputDiff: true },
        triggers: { kind: "update", inputDiff: true },
      },
    },
    {
      op: "replace",
      urn: RULE,
      replaceReasons: ["fromPort"],
      detailedDiff: { fromPort: { kind: "update-replace", inputDiff: true } },
    },
    { op: "create-replacement", urn: RULE, detailedDiff: null },
    { op: "delete-replaced", urn: RULE, detailedDiff: null },
  ],
  duration: 4_318_000_000,
  changeSummary: { same: 96, update: 3, replace: 1 },
};

/** New userData on node 1 (replaced, delete first), node 2's interface and node 3's address deleted. */
const DESTRUCTIVE_PREVIEW = {
  config: { "aws:region": "us-east-1" },
  steps: [
    { op: "same", urn: STACK, detailedDiff: null },
    {
      op: "delete-replaced",
      urn: INSTANCE_1,
      provider: PROVIDER,
      oldState: state(INSTANCE_1, "i-0a1b2c3d4e5f60718", { userData: "[secret]" }),
      detailedDiff: null,
    },
    {
      op: "replace",
      urn: INSTANCE_1,
      provider: PROVIDER,
      oldState: state(INSTANCE_1, "i-0a1b2c3d4e5f60718", { userData: "[secret]" }),
      newState: state(INSTANCE_1, "", { userData: "[secret]" }),
      diffReasons: ["userData"],
      replaceReasons: ["userData"],
      detailedDiff: { userData: { kind: "update-replace", inputDiff: true } },
    },
    {
      op: "create-replacement",
      urn: INSTANCE_1,
      provider: PROVIDER,
      newState: state(INSTANCE_1, "", { userData: "[secret]" }),
      detailedDiff: null,
    },
    {
      op: "delete",
      urn: NIC_2,
      provider: PROVIDER,
      oldState: state(NIC_2, "eni-0123456789abcdef0", {}),
      detailedDiff: null,
    },
    {
      op: "delete",
      urn: EIP_3,
      provider: PROVIDER,
      oldState: state(EIP_3, "eipalloc-0123456789abcdef0", {}),
      detailedDiff: null,
    },
    { op: "delete", urn: RULE, detailedDiff: null },
  ],
  changeSummary: { same: 90, replace: 1, delete: 3 },
};

/** The day-2 check refusing a change: the preview fails, and says why in its diagnostics. */
const REFUSED_PREVIEW = {
  config: { "aws:region": "us-east-1", "activemq-ha:nodeCount": "5" },
  diagnostics: [
    {
      urn: STACK,
      prefix: "error: ",
      message:
        "Invalid stack configuration (nothing was created):\n" +
        '  - nodeCount: deployed "3", got "5"; allowed: 3 on this stack (…)\n' +
        "Set values with: pulumi config set <setting> <value>\n",
      severity: "error",
    },
    { urn: STACK, prefix: "warning: ", message: "something minor\n", severity: "warning" },
  ],
  changeSummary: {},
};

const EXPORT_NEW = {
  version: 3,
  deployment: { manifest: { time: "2026-12-01T10:00:00Z", magic: "", version: "v3.200.0" } },
};
const EXPORT_EXISTING = {
  version: 3,
  deployment: {
    manifest: { time: "2026-12-01T10:00:00Z", magic: "", version: "v3.200.0" },
    secrets_providers: { type: "passphrase", state: { salt: "v1:abc" } },
    resources: [
      { urn: STACK, custom: false, type: "pulumi:pulumi:Stack", outputs: { haMode: "replicated-leveldb" } },
      { urn: INSTANCE_1, custom: true, id: "i-0a1b2c3d4e5f60718", type: "aws:ec2/instance:Instance" },
    ],
  },
};

describe("preview-guard: pulumi preview --json", () => {
  it("finds nothing guarded in a rolling change (a firewall rule may be replaced, an instance stay the same)", () => {
    assert.deepEqual(guardedChanges(JSON.stringify(ROLLING_PREVIEW)), []);
  });

  it("lists each replaced or deleted host, interface and address once, with all its ops", () => {
    assert.deepEqual(guardedChanges(JSON.stringify(DESTRUCTIVE_PREVIEW)), [
      {
        urn: INSTANCE_1,
        type: "aws:ec2/instance:Instance",
        ops: ["delete-replaced", "replace", "create-replacement"],
      },
      { urn: NIC_2, type: "aws:ec2/networkInterface:NetworkInterface", ops: ["delete"] },
      { urn: EIP_3, type: "aws:ec2/eip:Eip", ops: ["delete"] },
    ]);
  });

  it("guards EBS volumes, the EFS file system and its mount targets, and discards of them too", () => {
    const efs = `${PREFIX}${CLUSTER}$activemq-ha:storage:SharedStorage$aws:efs/fileSystem:FileSystem::dev-shared`;
    const mount = `${PREFIX}${CLUSTER}$activemq-ha:storage:SharedStorage$aws:efs/mountTarget:MountTarget::dev-shared-1`;
    const volume = `${PREFIX}aws:ebs/volume:Volume::data`;
    const preview = {
      steps: [
        { op: "delete", urn: efs },
        { op: "replace", urn: mount },
        { op: "discard", urn: volume },
        { op: "create", urn: `${PREFIX}aws:ebs/volume:Volume::new` },
        { op: "update", urn: efs },
      ],
    };
    assert.deepEqual(
      guardedChanges(JSON.stringify(preview)).map((c) => [c.type, c.ops]),
      [
        ["aws:efs/fileSystem:FileSystem", ["delete"]],
        ["aws:efs/mountTarget:MountTarget", ["replace"]],
        ["aws:ebs/volume:Volume", ["discard"]],
      ],
    );
  });

  it("reads a preview with no steps (nothing to do) and refuses text that is not JSON", () => {
    assert.deepEqual(guardedChanges(JSON.stringify({ changeSummary: { same: 97 } })), []);
    assert.throws(() => guardedChanges(""), SyntaxError);
    assert.throws(() => guardedChanges("[]"), /other than a JSON object/);
  });

  it("takes the type from the end of the URN's parent chain", () => {
    assert.equal(typeOfUrn(INSTANCE_1), "aws:ec2/instance:Instance");
    assert.equal(typeOfUrn(STACK), "pulumi:pulumi:Stack");
  });

  it("pulls the error diagnostics out of a failed preview", () => {
    assert.deepEqual(previewErrors(JSON.stringify(REFUSED_PREVIEW)), [
      REFUSED_PREVIEW.diagnostics[0]?.message.trim(),
    ]);
    assert.deepEqual(previewErrors("not json"), []);
  });

  it("says what would be lost and how to go on by hand", () => {
    const text = refusal(guardedChanges(JSON.stringify(DESTRUCTIVE_PREVIEW)), "dev");
    assert.ok(text.includes(`delete-replaced,replace,create-replacement  ${INSTANCE_1}`), text);
    assert.ok(text.includes("  pulumi preview --diff --stack dev"), text);
    assert.ok(text.includes("  pulumi up --stack dev"), text);
  });
});

describe("preview-guard: pulumi stack export", () => {
  it("a stack just created with pulumi stack init has no deployment", () => {
    assert.equal(hasDeployment(JSON.stringify(EXPORT_NEW)), false);
    assert.equal(hasDeployment(JSON.stringify({ version: 3, deployment: { resources: [] } })), false);
    const onlyStack = {
      version: 3,
      deployment: { resources: [{ urn: STACK, type: "pulumi:pulumi:Stack" }] },
    };
    assert.equal(hasDeployment(JSON.stringify(onlyStack)), false);
  });
  it("a stack with resources has one", () => {
    assert.equal(hasDeployment(JSON.stringify(EXPORT_EXISTING)), true);
  });
});

/** A copy of the script's corner of the tree, with a stand-in `pulumi` first on the PATH. */
function sandbox() {
  const dir = mkdtempSync(path.join(tmpdir(), "deploy-sh-"));
  mkdirSync(path.join(dir, "scripts/dev"), { recursive: true });
  mkdirSync(path.join(dir, "bin"));
  for (const f of [
    "scripts/dev/deploy.sh",
    "scripts/dev/ensure-deps.mjs",
    "scripts/dev/preview-guard.ts",
    "package.json",
  ]) {
    copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  // Older than node_modules: the script must not run npm ci.
  writeFileSync(path.join(dir, "package-lock.json"), "{}");
  utimesSync(path.join(dir, "package-lock.json"), new Date(0), new Date(0));
  const fake = [
    "#!/usr/bin/env bash",
    'printf "%s\\n" "$*" >> "$FAKE_DIR/calls"',
    'case "$1 $2" in',
    '  "stack select") [[ ! -e "$FAKE_DIR/no-stack" ]] ;;',
    '  "stack init")',
    '    echo "backend=${PULUMI_BACKEND_URL:-unset} passphrase=${PULUMI_CONFIG_PASSPHRASE:-unset}" >> "$FAKE_DIR/calls" ;;',
    '  "whoami --non-interactive")',
    '    echo "cwd=$PWD" >> "$FAKE_DIR/calls"',
    '    if [[ -e "$FAKE_DIR/logged-in" ]]; then echo alice; else echo "not logged in" >&2; exit 255; fi ;;',
    '  "stack export") cat "$FAKE_DIR/export.json" ;;',
    '  "preview --json")',
    '    echo "streaming=${PULUMI_ENABLE_STREAMING_JSON_PREVIEW:-unset}" >> "$FAKE_DIR/calls"',
    '    cat "$FAKE_DIR/preview.json"; exit "$(cat "$FAKE_DIR/preview.status")" ;;',
    '  "up --yes") echo "${PULUMI_CONFIG_PASSPHRASE:-unset}" > "$FAKE_DIR/up-passphrase"; echo "updated" ;;',
    '  *) echo "unexpected pulumi $*" >&2; exit 99 ;;',
    "esac",
  ].join("\n");
  writeFileSync(path.join(dir, "bin/pulumi"), `${fake}\n`);
  chmodSync(path.join(dir, "bin/pulumi"), 0o755);
  return dir;
}

interface DeployOptions {
  /** PULUMI_BACKEND_URL; undefined: unset, so Pulumi.yaml's backend.url applies. Default: a file backend. */
  backendUrl?: string | undefined;
  /** PULUMI_CONFIG_PASSPHRASE; undefined: unset. Default: one is given. */
  passphrase?: string | undefined;
  /** The stack does not exist yet: `pulumi stack select` fails. */
  newStack?: boolean;
  /** `pulumi whoami` outside the project succeeds: the CLI is logged in to a backend. */
  loggedIn?: boolean;
  /** Run on a terminal (util-linux `script`) that is typed this. */
  typed?: string;
}

function deploy(
  exported: unknown,
  preview: unknown,
  previewStatus = 0,
  args: string[] = [],
  options: DeployOptions = {},
) {
  const dir = sandbox();
  writeFileSync(path.join(dir, "export.json"), JSON.stringify(exported));
  writeFileSync(path.join(dir, "preview.json"), JSON.stringify(preview, null, 4));
  writeFileSync(path.join(dir, "preview.status"), String(previewStatus));
  if (options.newStack) {
    writeFileSync(path.join(dir, "no-stack"), "");
  }
  if (options.loggedIn) {
    writeFileSync(path.join(dir, "logged-in"), "");
  }
  const { backendUrl, passphrase } = {
    backendUrl: `file://${dir}/state`,
    passphrase: "unit-test-passphrase",
    ...options,
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`,
    FAKE_DIR: dir,
    PULUMI_BACKEND_URL: backendUrl,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "1",
    STACK: "dev",
  };
  for (const name of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) {
    if (env[name] === undefined) {
      delete env[name];
    }
  }
  const command = ["bash", path.join(dir, "scripts/dev/deploy.sh"), ...args];
  const run =
    options.typed === undefined
      ? spawnSync(command[0] as string, command.slice(1), {
          encoding: "utf8",
          env,
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawnSync("script", ["-qec", command.join(" "), "/dev/null"], {
          encoding: "utf8",
          env,
          input: options.typed,
        });
  const calls = existsSync(path.join(dir, "calls"))
    ? readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n")
    : [];
  const stateDir = existsSync(path.join(dir, ".pulumi-state"));
  const upPassphrase = existsSync(path.join(dir, "up-passphrase"))
    ? readFileSync(path.join(dir, "up-passphrase"), "utf8").trim()
    : undefined;
  rmSync(dir, { recursive: true, force: true }); // (removes the node_modules link, not what it points to)
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls, stateDir, upPassphrase };
}

describe("scripts/dev/deploy.sh with a stand-in pulumi", () => {
  it("a new stack: no preview, pulumi up --yes", () => {
    const run = deploy(EXPORT_NEW, {});
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.calls, ["stack select dev", "stack export --stack dev", "up --yes --stack dev"]);
  });

  it("an existing stack and a rolling change: previews, then pulumi up --yes with the same arguments", () => {
    const run = deploy(EXPORT_EXISTING, ROLLING_PREVIEW, 0, ["--diff"]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.calls, [
      "stack select dev",
      "stack export --stack dev",
      "preview --json --stack dev --diff",
      "streaming=unset",
      "up --yes --stack dev --diff",
    ]);
  });

  it("an existing stack and a replaced host: stops with exit 3 before pulumi up, naming what and how", () => {
    const run = deploy(EXPORT_EXISTING, DESTRUCTIVE_PREVIEW);
    assert.equal(run.status, 3, run.stderr);
    assert.ok(!run.calls.some((c) => c.startsWith("up")), run.calls.join("\n"));
    for (const u of [INSTANCE_1, NIC_2, EIP_3]) {
      assert.ok(run.stderr.includes(u), run.stderr);
    }
    assert.ok(!run.stderr.includes(RULE), "a firewall rule is not a host");
    assert.match(run.stderr, /pulumi preview --diff --stack dev/);
    assert.match(run.stderr, /pulumi up --stack dev\b/);
  });

  it("a failed preview (a refused setting): stops with exit 2 and shows the preview's error", () => {
    const run = deploy(EXPORT_EXISTING, REFUSED_PREVIEW, 255);
    assert.equal(run.status, 2, run.stderr);
    assert.ok(!run.calls.some((c) => c.startsWith("up")));
    assert.match(run.stderr, /pulumi preview failed \(exit 255\); nothing was changed/);
    assert.match(run.stderr, /nodeCount: deployed "3", got "5"/);
  });
});

describe("scripts/dev/deploy.sh: state a new shell finds", () => {
  it("Pulumi.yaml keeps the state in .pulumi-state/, which git ignores and deploy.sh names", () => {
    const project = YAML.parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
      backend?: { url?: string };
    };
    assert.equal(project.backend?.url, "file://./.pulumi-state");
    assert.ok(readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n").includes(".pulumi-state/"));
    assert.ok(
      readFileSync(path.join(ROOT, "scripts/dev/deploy.sh"), "utf8").includes(
        'project_state="file://./.pulumi-state"',
      ),
    );
  });

  it("without PULUMI_BACKEND_URL: the project's state, its directory made in the project", () => {
    const run = deploy(EXPORT_NEW, {}, 0, [], { backendUrl: undefined });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^State: file:\/\/\.\/\.pulumi-state \(Pulumi\.yaml backend\.url\)$/m);
    assert.ok(run.stateDir, "no .pulumi-state/ made");
    assert.deepEqual(run.calls, ["stack select dev", "stack export --stack dev", "up --yes --stack dev"]);
  });

  it("local state without a passphrase and no terminal to ask on: stops before any pulumi command", () => {
    const run = deploy(EXPORT_NEW, {}, 0, [], { backendUrl: undefined, passphrase: undefined });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /set PULUMI_CONFIG_PASSPHRASE/);
    assert.deepEqual(run.calls, []);
  });

  it("a new stack, the CLI logged in nowhere: created in .pulumi-state/ and deployed", () => {
    const run = deploy(EXPORT_NEW, {}, 0, [], { backendUrl: undefined, newStack: true });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.calls, [
      "stack select dev",
      "whoami --non-interactive",
      "cwd=/",
      "stack init dev",
      "backend=unset passphrase=unit-test-passphrase",
      "stack export --stack dev",
      "up --yes --stack dev",
    ]);
  });

  it("a new stack while the CLI is logged in: stops with exit 4, nothing created, both ways on named", () => {
    const run = deploy(EXPORT_NEW, {}, 0, [], { backendUrl: undefined, newStack: true, loggedIn: true });
    assert.equal(run.status, 4, run.stderr);
    assert.deepEqual(run.calls, ["stack select dev", "whoami --non-interactive", "cwd=/"]);
    assert.match(run.stderr, /logged in \(as alice\)/);
    assert.match(run.stderr, /PULUMI_BACKEND_URL=<that URL> npm run deploy/);
    assert.match(run.stderr, /PULUMI_BACKEND_URL=file:\/\/\.\/\.pulumi-state npm run deploy/);
    assert.match(run.stderr, /Nothing was created\./);
  });

  it("a new stack with PULUMI_BACKEND_URL given: created there without asking", () => {
    const run = deploy(EXPORT_NEW, {}, 0, [], {
      backendUrl: "file://./.pulumi-state",
      newStack: true,
      loggedIn: true,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^State: file:\/\/\.\/\.pulumi-state \(PULUMI_BACKEND_URL\)$/m);
    assert.deepEqual(run.calls, [
      "stack select dev",
      "stack init dev",
      "backend=file://./.pulumi-state passphrase=unit-test-passphrase",
      "stack export --stack dev",
      "up --yes --stack dev",
    ]);
  });

  describe("no passphrase given, on a terminal", { skip: requireTool("script", "bsdutils") }, () => {
    const local = { backendUrl: undefined, passphrase: undefined };

    it("a new stack: asks twice, and every pulumi command gets it", () => {
      const run = deploy(EXPORT_NEW, {}, 0, [], {
        ...local,
        newStack: true,
        typed: "s3cret-pw\ns3cret-pw\n",
      });
      assert.equal(run.status, 0, run.stdout);
      assert.match(run.stdout, /Passphrase for the secrets of stack dev \(PULUMI_CONFIG_PASSPHRASE\): /);
      assert.match(run.stdout, /The same passphrase again: /);
      assert.ok(run.calls.includes("backend=unset passphrase=s3cret-pw"), run.calls.join("\n"));
      assert.equal(run.upPassphrase, "s3cret-pw");
    });

    it("a new stack and two different answers: stops, nothing created", () => {
      const run = deploy(EXPORT_NEW, {}, 0, [], { ...local, newStack: true, typed: "one\ntwo\n" });
      assert.equal(run.status, 1, run.stdout);
      assert.match(run.stdout, /The passphrases differ; nothing was done\./);
      assert.deepEqual(run.calls, ["stack select dev", "whoami --non-interactive", "cwd=/"]);
    });

    it("a new stack while the CLI is logged in: stops (exit 4) before asking", () => {
      const run = deploy(EXPORT_NEW, {}, 0, [], {
        ...local,
        newStack: true,
        loggedIn: true,
        typed: "pw\npw\n",
      });
      assert.equal(run.status, 4, run.stdout);
      assert.match(run.stdout, /Nothing was created\./);
      assert.ok(!run.stdout.includes("Passphrase for the secrets"), run.stdout);
    });

    it("an existing stack: asks once", () => {
      const run = deploy(EXPORT_NEW, {}, 0, [], { ...local, typed: "s3cret-pw\n" });
      assert.equal(run.status, 0, run.stdout);
      assert.ok(!run.stdout.includes("The same passphrase again"), run.stdout);
      assert.equal(run.upPassphrase, "s3cret-pw");
    });
  });
});
