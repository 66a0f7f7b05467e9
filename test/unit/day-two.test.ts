// lib/dayTwo.ts: which setting changes a running stack refuses, with what message, and what it lets through.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  checkChange,
  DeployedSettings,
  deployedSettingsRecord,
  nodeInstanceUrn,
  parseDeployedSettings,
  previousDeployment,
  deployedGroupCount,
  selfStackReferenceName,
  sshKeyFingerprint,
} from "../../lib/dayTwo";
import { parseSettings, RawSettings } from "../../lib/settings";

/** Digests are required by the settings; they play no part in day-2 checks. */
const BASE: RawSettings = { activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128) };
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyAKeyAKeyAKeyAKeyAKeyAKeyAKeyAKeyAKeyA ops@a";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyBKeyBKeyBKeyBKeyBKeyBKeyBKeyBKeyBKeyB ops@b";
const PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----x";
const EXISTING = {
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: "subnet-0aaaaaaaa,subnet-0bbbbbbbb,subnet-0cccccccc",
};

function record(raw: RawSettings, clusterName = "dev"): DeployedSettings {
  return deployedSettingsRecord(parseSettings({ ...BASE, ...raw }), { clusterName });
}

/** The problems of deploying `before` and then `after`. */
function problems(before: RawSettings, after: RawSettings): string[] {
  return checkChange(record(before), record(after));
}

/** Exactly one problem, for `setting`, in the style of lib/settings.ts. */
function assertRefused(before: RawSettings, after: RawSettings, setting: string, old: string, got: string) {
  const found = problems(before, after);
  assert.equal(found.length, 1, found.join("\n"));
  const prefix = `${setting}: deployed "${old}", got "${got}"; allowed: `;
  assert.ok(found[0]?.startsWith(prefix), `expected "${prefix}…", got:\n${found[0]}`);
  return found[0] as string;
}

describe("dayTwo checkChange: refused on a running stack", () => {
  it("haMode, whichever way (a rolling change runs two masters and abandons the store)", () => {
    const p = assertRefused({}, { haMode: "shared-kahadb" }, "haMode", "replicated-leveldb", "shared-kahadb");
    assert.match(p, /create a new stack with the new value, move the clients to its failoverUrl/);
    assertRefused({ haMode: "shared-kahadb" }, {}, "haMode", "shared-kahadb", "replicated-leveldb");
  });

  it("os (every step would log in as the other image's user)", () => {
    const p = assertRefused({}, { os: "ubuntu-24.04" }, "os", "debian-12", "ubuntu-24.04");
    assert.match(p, /log in as ubuntu instead of admin/);
  });

  it("vpcCidr of the stack's own VPC", () => {
    assertRefused({}, { vpcCidr: "10.1.0.0/16" }, "vpcCidr", "10.0.0.0/16", "10.1.0.0/16");
  });

  it("moving between its own VPC and an existing one, both ways", () => {
    assertRefused({}, EXISTING, "vpcId", "(unset: a VPC of its own, 10.0.0.0/16)", EXISTING.vpcId);
    assertRefused(EXISTING, {}, "vpcId", EXISTING.vpcId, "(unset: a VPC of its own, 10.0.0.0/16)");
  });

  it("another existing VPC (and so its subnets), or the same subnets in another order", () => {
    const other = {
      vpcId: "vpc-0fedcba9876543210",
      subnetIds: "subnet-0dddddddd,subnet-0eeeeeeee,subnet-0ffffffff",
    };
    assert.deepEqual(
      problems(EXISTING, other).map((p) => p.slice(0, p.indexOf(":"))),
      ["vpcId", "subnetIds"],
    );
    const reordered = { ...EXISTING, subnetIds: "subnet-0bbbbbbbb,subnet-0aaaaaaaa,subnet-0cccccccc" };
    assertRefused(EXISTING, reordered, "subnetIds", EXISTING.subnetIds, reordered.subnetIds);
  });

  it("nodeCount, up or down, in either mode", () => {
    const p = assertRefused({}, { nodeCount: "5" }, "nodeCount", "3", "5");
    assert.match(p, /ZooKeeper ensemble and replicated LevelDB's replicas quorum/);
    assertRefused({ nodeCount: "5" }, {}, "nodeCount", "5", "3");
    assertRefused(
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", nodeCount: "5" },
      "nodeCount",
      "3",
      "5",
    );
  });

  it("sshPublicKey: generated to own, own to generated, one key to another (shown as hashes only)", () => {
    const a = sshKeyFingerprint(KEY_A);
    const b = sshKeyFingerprint(KEY_B);
    assert.match(a, /^sha256:[0-9a-f]{16}$/);
    assert.notEqual(a, b);
    const own = (key: string) => ({ sshPublicKey: key, sshPrivateKey: PRIVATE });
    const p = assertRefused({}, own(KEY_A), "sshPublicKey", "generated", a);
    assert.ok(!p.includes("AAAAC3Nza"), "the key itself is never repeated");
    assertRefused(own(KEY_A), {}, "sshPublicKey", a, "generated");
    assertRefused(own(KEY_A), own(KEY_B), "sshPublicKey", a, b);
    assert.deepEqual(problems(own(KEY_A), own(KEY_A)), [], "the same key again");
  });

  it("brokerName and zkPath in replicated-leveldb (two groups would each elect a master)", () => {
    assertRefused({}, { brokerName: "orders" }, "brokerName", "amq-ha", "orders");
    assertRefused(
      {},
      { zkPath: "/activemq/orders" },
      "zkPath",
      "/activemq/leveldb-stores",
      "/activemq/orders",
    );
  });

  it("the ports peers use, where they are used: replication and the three ZooKeeper ports", () => {
    assertRefused({}, { replicationPort: "61620" }, "replicationPort", "61619", "61620");
    assertRefused({}, { zookeeperClientPort: "2182" }, "zookeeperClientPort", "2181", "2182");
    assertRefused({}, { zookeeperPeerPort: "2889" }, "zookeeperPeerPort", "2888", "2889");
    const p = assertRefused({}, { zookeeperElectionPort: "3889" }, "zookeeperElectionPort", "3888", "3889");
    assert.match(p, /loses quorum mid-way/);
    const kahaWithZk = { haMode: "shared-kahadb", zookeeperDeploy: "true" };
    assertRefused(
      kahaWithZk,
      { ...kahaWithZk, zookeeperPeerPort: "2889" },
      "zookeeperPeerPort",
      "2888",
      "2889",
    );
  });

  it("rootVolumeSizeGiB smaller (AWS cannot shrink a volume), but not bigger", () => {
    assertRefused({ rootVolumeSizeGiB: "40" }, { rootVolumeSizeGiB: "20" }, "rootVolumeSizeGiB", "40", "20");
    assert.deepEqual(problems({ rootVolumeSizeGiB: "20" }, { rootVolumeSizeGiB: "40" }), []);
  });

  it("a renamed stack (every resource is named after it)", () => {
    const found = checkChange(record({}, "dev"), record({}, "prod"));
    assert.equal(found.length, 1);
    assert.ok(found[0]?.startsWith('stack name: deployed "dev", got "prod"; allowed: '), found[0]);
    assert.match(found[0] ?? "", /pulumi stack rename dev/);
  });

  it("clientTransport tcp to tls or back in one step (the port every client uses closes at once)", () => {
    const p = assertRefused({ clientTransport: "tcp" }, {}, "clientTransport", "tcp", "tls");
    assert.match(p, /"tls\+tcp" first .*close the port every client uses, tcp:\/\/, while opening ssl:\/\//);
    assertRefused({ clientCertificates: "off" }, { clientTransport: "tcp" }, "clientTransport", "tls", "tcp");
  });

  it("a record from before TLS existed counts as tcp: the new default tls is refused, tls+tcp is the way", () => {
    const legacy: Record<string, unknown> = { ...record({ clientTransport: "tcp" }) };
    delete legacy.clientTransport;
    delete legacy.clientCertificates;
    const old = parseDeployedSettings(legacy);
    assert.ok(!("unreadable" in old), "an old record still reads");
    const refused = checkChange(old, record({}));
    assert.equal(refused.length, 1, refused.join("\n"));
    assert.match(
      refused[0] as string,
      /^clientTransport: deployed "tcp", got "tls"; allowed: "tls\+tcp" first/,
    );
    assert.deepEqual(checkChange(old, record({ clientTransport: "tls+tcp" })), []);
    assert.deepEqual(checkChange(old, record({ clientTransport: "tcp" })), []);
  });

  it("clientCertificates off to required on a TLS port clients already use (they would be refused at once)", () => {
    for (const transport of ["tls", "tls+tcp"]) {
      const p = assertRefused(
        { clientTransport: transport, clientCertificates: "off" },
        { clientTransport: transport, clientCertificates: "required" },
        "clientCertificates",
        "off",
        "required",
      );
      assert.match(p, /"optional" first/);
    }
  });

  it("lists every problem of one update at once", () => {
    const found = problems(
      {},
      { os: "ubuntu-24.04", nodeCount: "5", brokerName: "x", rootVolumeSizeGiB: "10" },
    );
    assert.deepEqual(
      found.map((p) => p.slice(0, p.indexOf(":"))),
      ["os", "nodeCount", "rootVolumeSizeGiB", "brokerName"],
    );
  });
});

describe("dayTwo checkChange: allowed (rolls one host at a time, or changes in place)", () => {
  const samples: [string, RawSettings, RawSettings][] = [
    ["brokerHeapMb", {}, { brokerHeapMb: "1536" }],
    ["zookeeperHeapMb", {}, { zookeeperHeapMb: "384" }],
    ["activemqVersion within replicated-leveldb", {}, { activemqVersion: "5.16.7" }],
    ["zookeeperVersion", {}, { zookeeperVersion: "3.9.6" }],
    [
      "zookeeperTickTimeMs, initLimit, syncLimit",
      {},
      { zookeeperTickTimeMs: "500", zookeeperInitLimit: "20", zookeeperSyncLimit: "10" },
    ],
    ["zkSessionTimeoutMs", {}, { zkSessionTimeoutMs: "4000" }],
    ["brokerRestartDelaySeconds", {}, { brokerRestartDelaySeconds: "30" }],
    ["replicationSync", {}, { replicationSync: "quorum_disk" }],
    ["brokerUser, consoleUser", {}, { brokerUser: "orders", consoleUser: "ops" }],
    [
      "failover URL options",
      {},
      {
        failoverInitialReconnectDelayMs: "50",
        failoverMaxReconnectDelayMs: "500",
        failoverConnectionTimeoutMs: "2000",
      },
    ],
    ["tags", {}, { tags: '{"team":"messaging"}' }],
    [
      "clientCidrs, sshCidrs, consoleCidrs",
      {},
      { clientCidrs: "172.16.0.0/12", sshCidrs: "198.51.100.7/32", consoleCidrs: "10.0.0.0/16" },
    ],
    ["clientSecurityGroupIds", {}, { clientSecurityGroupIds: "sg-0123456789abcdef0" }],
    ["webConsole", {}, { webConsole: "false" }],
    [
      "openwirePort, consolePort",
      {},
      { openwirePort: "61626", openwireTlsPort: "61627", consolePort: "8162" },
    ],
    [
      "artifactBaseUrl, mavenBaseUrl",
      {},
      { artifactBaseUrl: "https://mirror.example/apache", mavenBaseUrl: "https://mirror.example/maven2" },
    ],
    ["amiId (ignored by running instances)", {}, { amiId: "ami-0123456789abcdef0" }],
    ["instanceType (the hosts component rolls it one node at a time)", {}, { instanceType: "m6i.large" }],
    [
      "activemqVersion within shared-kahadb",
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", activemqVersion: "5.19.12" },
    ],
    [
      "lockKeepAlivePeriodMs",
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", lockKeepAlivePeriodMs: "5000" },
    ],
    [
      "zookeeperDeploy on or off in shared-kahadb",
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", zookeeperDeploy: "true" },
    ],
    [
      "brokerName in shared-kahadb (the store's lock decides the master)",
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", brokerName: "orders" },
    ],
    [
      "zkPath and replicationPort in shared-kahadb (unused)",
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", zkPath: "/x", replicationPort: "61620" },
    ],
    [
      "ZooKeeper ports in shared-kahadb without ZooKeeper",
      { haMode: "shared-kahadb" },
      { haMode: "shared-kahadb", zookeeperClientPort: "2182", zookeeperPeerPort: "2889" },
    ],
    ["nothing at all", {}, {}],
  ];
  for (const [name, before, after] of samples) {
    it(name, () => {
      assert.deepEqual(problems(before, after), []);
      assert.deepEqual(problems(after, before), [], "and back");
    });
  }

  it("the TLS moves that keep clients connected: through tls+tcp, through optional, a new TLS port required", () => {
    const allowed: [RawSettings, RawSettings][] = [
      [{ clientTransport: "tcp" }, { clientTransport: "tls+tcp" }],
      [{ clientTransport: "tls+tcp" }, {}],
      [{ clientTransport: "tls+tcp" }, { clientTransport: "tcp" }],
      [{}, { clientTransport: "tls+tcp" }],
      [{ clientCertificates: "off" }, { clientCertificates: "optional" }],
      [{ clientCertificates: "optional" }, {}],
      [{}, { clientCertificates: "off" }],
      // Nobody uses a TLS port that did not exist: it may require certificates from its first day.
      [{ clientTransport: "tcp" }, { clientTransport: "tls+tcp", clientCertificates: "required" }],
    ];
    for (const [before, after] of allowed) {
      assert.deepEqual(problems(before, after), [], `${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
    }
  });

  it("a new stack (no previous record): nothing is refused", () => {
    assert.deepEqual(checkChange(undefined, record({ haMode: "shared-kahadb", nodeCount: "7" })), []);
  });
});

describe("dayTwo record", () => {
  it("is plain JSON that reads back to itself, with no key material in it", () => {
    const r = record({ sshPublicKey: KEY_A, sshPrivateKey: PRIVATE, ...EXISTING });
    const text = JSON.stringify(r);
    assert.deepEqual(parseDeployedSettings(JSON.parse(text)), r);
    assert.ok(!text.includes("AAAAC3Nza") && !text.includes("PRIVATE"), text);
    assert.deepEqual(r.subnetIds, EXISTING.subnetIds.split(","));
    assert.equal(r.vpcCidr, "");
  });

  it("holds the values the checks compare", () => {
    assert.deepEqual(record({}), {
      format: 1,
      clusterName: "dev",
      haMode: "replicated-leveldb",
      nodeCount: 3,
      vpcCidr: "10.0.0.0/16",
      vpcId: "",
      subnetIds: [],
      os: "debian-12",
      instanceType: "t3.medium",
      rootVolumeSizeGiB: 20,
      sshKey: "generated",
      brokerName: "amq-ha",
      zkPath: "/activemq/leveldb-stores",
      zookeeperDeploy: true,
      replicationPort: 61619,
      zookeeperClientPort: 2181,
      zookeeperPeerPort: 2888,
      zookeeperElectionPort: 3888,
      clientTransport: "tls",
      clientCertificates: "required",
      groups: 1,
      allowGroupRemoval: false,
      monitorPort: 9404,
    });
  });

  it("an unreadable record says why", () => {
    const good = record({});
    for (const [value, why] of [
      ["text", /not an object/],
      [{ ...good, format: 2 }, /format is 2/],
      [{ ...good, nodeCount: "3" }, /nodeCount/],
      [{ ...good, haMode: "active-active" }, /haMode/],
      [{ ...good, os: "centos" }, /os/],
      [{ ...good, subnetIds: "subnet-1" }, /subnetIds/],
      [{ ...good, clientTransport: "quic" }, /clientTransport/],
      [{ ...good, clientCertificates: "maybe" }, /clientCertificates/],
    ] as const) {
      const parsed = parseDeployedSettings(value);
      assert.ok("unreadable" in parsed, JSON.stringify(value));
      assert.match(parsed.unreadable, why);
    }
  });
});

describe("dayTwo deployedGroupCount: which groups serve already", () => {
  it("none on a new stack; the record's count, 1 before groups existed; every group when the record is unknown", () => {
    const record = deployedSettingsRecord(parseSettings({ groups: "2" }), { clusterName: "dev" });
    assert.equal(deployedGroupCount({ kind: "none" }, 3), 0);
    assert.equal(deployedGroupCount({ kind: "recorded", record }, 3), 2);
    const { groups: _dropped, ...beforeGroups } = record;
    void _dropped;
    assert.equal(deployedGroupCount({ kind: "recorded", record: beforeGroups }, 3), 1);
    assert.equal(deployedGroupCount({ kind: "unknown", reason: "unreadable" }, 3), 3);
  });
});

describe("dayTwo previousDeployment", () => {
  it("no outputs at all: a new stack", () => {
    assert.deepEqual(previousDeployment(undefined, false), { kind: "none" });
  });
  it("outputs without the record: a deployment that predates it", () => {
    assert.deepEqual(previousDeployment(undefined, true), {
      kind: "unknown",
      reason: "its last deployment predates the deployedSettings output",
    });
  });
  it("a record: compared against", () => {
    const r = record({});
    assert.deepEqual(previousDeployment(JSON.parse(JSON.stringify(r)), true), {
      kind: "recorded",
      record: r,
    });
  });
  it("an unreadable record: unknown, with the reason", () => {
    const p = previousDeployment({ format: 9 }, true);
    assert.equal(p.kind, "unknown");
    assert.match((p as { reason: string }).reason, /unreadable \(its format is 9/);
  });
});

describe("dayTwo names", () => {
  it("the StackReference to the stack itself", () => {
    assert.equal(selfStackReferenceName("acme", "activemq-ha", "prod"), "acme/activemq-ha/prod");
    // DIY backends: the organization is always `organization`, and a bare name is this project's stack.
    assert.equal(selfStackReferenceName("organization", "activemq-ha", "dev"), "dev");
    assert.equal(selfStackReferenceName(undefined, "activemq-ha", "test"), "test");
  });

  it("node N's instance URN matches the SDK's own URN rule for a child of ClusterHosts in a group", async () => {
    for (const [group, hosts] of [
      [1, "dev"],
      [2, "dev-g2"],
    ] as const) {
      const groupUrn = `urn:pulumi:dev::activemq-ha::activemq-ha:cluster:ActiveMqCluster$activemq-ha:cluster:HaGroup::${hosts}`;
      const hostsUrn = await new Promise<string>((done) =>
        pulumi.createUrn(hosts, "activemq-ha:hosts:ClusterHosts", groupUrn).apply(done),
      );
      const sdk = await new Promise<string>((done) =>
        pulumi.createUrn(`${hosts}-node-2`, "aws:ec2/instance:Instance", hostsUrn).apply(done),
      );
      assert.equal(nodeInstanceUrn("dev", "activemq-ha", "dev", 2, group), sdk);
    }
  });
});

describe("dayTwo groups", () => {
  it("more groups: allowed; a record from before groups counts as one group", () => {
    assert.deepEqual(problems({}, { groups: "3" }), []);
    const old = { ...record({}) } as Record<string, unknown>;
    delete old.groups;
    delete old.allowGroupRemoval;
    assert.deepEqual(checkChange(old as unknown as DeployedSettings, record({ groups: "2" })), []);
    assert.equal(parseDeployedSettings(old).hasOwnProperty("unreadable"), false);
  });

  it("fewer groups: refused with the drain procedure, unless allowGroupRemoval is set for that run", () => {
    assertRefused({ groups: "3" }, { groups: "1" }, "groups", "3", "1");
    const [message] = problems({ groups: "3" }, { groups: "1" });
    assert.match(message as string, /delete group 2, 3 with every message in its store/);
    assert.match(message as string, /allowGroupRemoval true/);
    assert.deepEqual(problems({ groups: "3" }, { groups: "2", allowGroupRemoval: "true" }), []);
  });

  it("an unreadable groups count makes the record unreadable", () => {
    const bad = { ...record({}), groups: 0 };
    assert.match((parseDeployedSettings(bad) as { unreadable: string }).unreadable, /groups/);
  });
});
