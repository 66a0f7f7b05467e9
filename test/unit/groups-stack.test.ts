// A network of HA groups under Pulumi's mocks: the resources of each group, the firewall between groups, the
// outputs, the bridges in each group's payloads, and a one-group stack's URNs kept through the new group level.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { groupResourceName, settingsForGroup } from "../../lib/groups";
import { renderPayload } from "../../lib/payload";
import { buildPlan } from "../../lib/plan";
import { mockPem, ofType, PASSWORDS, Recorded, runStack, StackRun, unwrapSecret } from "../support/mocks";

const GROUP = "activemq-ha:cluster:HaGroup";
const GROUP_CERTIFICATES = "activemq-ha:tls:GroupCertificates";

/** The URN a resource had before the group level existed: no HaGroup in its type chain, its certificates in the cluster's. */
const formerUrn = (urn: string) =>
  urn.replace(`$${GROUP}`, "").replace(GROUP_CERTIFICATES, "activemq-ha:tls:ClusterCertificates");

const named = (rs: Recorded[], type: string) =>
  ofType(rs, type)
    .map((r) => r.name)
    .sort();

void describe("groups (mocked stack): one group keeps every URN", () => {
  for (const raw of [{}, { haMode: "shared-kahadb" }, { clientTransport: "tcp", nodeCount: "5" }]) {
    void it(`every resource answers to the URN it had before groups existed: ${JSON.stringify(raw)}`, async () => {
      const run = await runStack(raw);
      const added = run.registrations.filter(
        (r) => r.urn.endsWith(`${GROUP}::amq`) || r.urn.endsWith(`${GROUP_CERTIFICATES}::amq`),
      );
      // The only new resources: the group component (and its certificates component when TLS is on).
      assert.equal(added.length, raw.clientTransport === "tcp" ? 1 : 2);
      for (const r of run.registrations.filter((x) => !added.includes(x))) {
        const former = formerUrn(r.urn);
        assert.ok(
          r.urn === former || r.aliases.includes(former),
          `${r.urn} does not answer to ${former} (its aliases: ${r.aliases.join(", ") || "none"})`,
        );
      }
      // Names are the cluster's, with no group marker: the URNs above keep them.
      for (const r of run.resources) {
        assert.match(r.name, /^amq(-|$)/, r.name);
        assert.doesNotMatch(r.name, /-g\d/, r.name);
      }
    });
  }
});

void describe("groups (mocked stack): 2 groups over TLS", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack({ groups: "2" });
  });

  void it("two whole groups: hosts, provisioning and certificates each; one network, CA and set of logins", () => {
    const r = run.resources;
    assert.deepEqual(named(r, GROUP), ["amq", "amq-g2"]);
    assert.deepEqual(named(r, "activemq-ha:hosts:ClusterHosts"), ["amq", "amq-g2"]);
    assert.deepEqual(named(r, "activemq-ha:provisioning:ClusterProvisioning"), ["amq", "amq-g2"]);
    assert.deepEqual(named(r, GROUP_CERTIFICATES), ["amq", "amq-g2"]);
    assert.deepEqual(named(r, "aws:ec2/instance:Instance"), [
      ...["amq-g2-node-1", "amq-g2-node-2", "amq-g2-node-3"],
      ...["amq-node-1", "amq-node-2", "amq-node-3"],
    ]);
    assert.equal(ofType(r, "aws:ec2/vpc:Vpc").length, 1);
    assert.deepEqual(named(r, "tls:index/selfSignedCert:SelfSignedCert"), ["amq-ca"]);
    assert.deepEqual(named(r, "random:index/randomPassword:RandomPassword"), [
      "amq-broker-password",
      "amq-console-password",
      "amq-keystore-password",
      "amq-replication-token",
    ]);
    // One SSH key for the stack: group 2's key pair takes group 1's public key.
    const pairs = ofType(r, "aws:ec2/keyPair:KeyPair");
    assert.deepEqual(pairs.map((p) => p.name).sort(), ["amq-g2-ssh", "amq-ssh"]);
    assert.equal(pairs[0]?.inputs.publicKey, pairs[1]?.inputs.publicKey);
    assert.deepEqual(
      named(r, "tls:index/privateKey:PrivateKey").filter((n) => n.endsWith("-ssh")),
      ["amq-ssh"],
    );
    // Each group's commands are its own plan's steps.
    const commands = ofType(r, "command:remote:Command").filter((c) => !c.name.endsWith("-host-rejoin"));
    const plan = buildPlan(settingsForGroup(run.settings, 2));
    assert.deepEqual(
      commands.map((c) => c.name).sort(),
      [1, 2].flatMap((g) => plan.map((s) => `${groupResourceName("amq", g)}-${s.id}`)).sort(),
    );
  });

  void it("node certificates serve the bridges too: server and client authentication", () => {
    const certs = ofType(run.resources, "tls:index/locallySignedCert:LocallySignedCert").filter((c) =>
      c.name.includes("-node-"),
    );
    assert.equal(certs.length, 6);
    for (const c of certs) {
      assert.deepEqual(c.inputs.allowedUses, [
        "digital_signature",
        "key_encipherment",
        "server_auth",
        "client_auth",
      ]);
    }
  });

  void it("between groups only the master's client port is open, from the groups' shared security group", () => {
    const groupsSg = ofType(run.resources, "aws:ec2/securityGroup:SecurityGroup").filter(
      (g) => g.name === "amq-groups",
    );
    assert.equal(groupsSg.length, 1);
    const rules = ofType(run.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const fromGroups = rules.filter((x) => x.inputs.referencedSecurityGroupId === "amq-groups-id");
    assert.deepEqual(
      fromGroups.map((x) => [x.name, x.inputs.securityGroupId, x.inputs.fromPort, x.inputs.toPort]).sort(),
      [
        ["amq-g2-openwire-tls-from-groups", "amq-g2-cluster-id", 61617, 61617],
        ["amq-openwire-tls-from-groups", "amq-cluster-id", 61617, 61617],
      ],
    );
    // ZooKeeper and replication stay within each group: their rules name the group's own security group only.
    for (const x of rules.filter((x) => [2181, 2888, 3888, 61619].includes(x.inputs.fromPort as number))) {
      assert.equal(x.inputs.referencedSecurityGroupId, x.inputs.securityGroupId, x.name);
    }
    // Every host carries its group's security group and the groups' one.
    for (const nic of ofType(run.resources, "aws:ec2/networkInterface:NetworkInterface")) {
      const own = nic.name.startsWith("amq-g2-") ? "amq-g2-cluster-id" : "amq-cluster-id";
      assert.deepEqual(nic.inputs.securityGroups, [own, "amq-groups-id"], nic.name);
    }
  });

  void it("outputs: each group's name, URLs, nodes and ZooKeeper; failoverUrl is group 1's", () => {
    const groups = run.outputs.groups;
    assert.deepEqual(
      groups.map((g) => [g.name, g.nodes.map((n) => n.privateIp), g.zookeeperConnect]),
      [
        [
          "amq-ha",
          ["10.0.0.11", "10.0.64.12", "10.0.128.13"],
          "10.0.0.11:2181,10.0.64.12:2181,10.0.128.13:2181",
        ],
        [
          "amq-ha-2",
          ["10.0.0.21", "10.0.64.22", "10.0.128.23"],
          "10.0.0.21:2181,10.0.64.22:2181,10.0.128.23:2181",
        ],
      ],
    );
    assert.match(
      groups[1]!.failoverUrl,
      /^failover:\(ssl:\/\/10\.0\.0\.21:61617,ssl:\/\/10\.0\.64\.22:61617,ssl:\/\/10\.0\.128\.23:61617\)\?/,
    );
    assert.equal(run.outputs.failoverUrl, groups[0]!.failoverUrl);
    assert.match(groups[1]!.publicFailoverUrl, /^failover:\(ssl:\/\/203\.0\.113\.11:61617,/);
  });

  void it("each group's brokers are sent the bridges to the other group, and a trust store holding the CA", () => {
    const ips = {
      1: ["10.0.0.11", "10.0.64.12", "10.0.128.13"],
      2: ["10.0.0.21", "10.0.64.22", "10.0.128.23"],
    };
    const commands = ofType(run.resources, "command:remote:Command");
    for (const g of [1, 2] as const) {
      const other = g === 1 ? 2 : 1;
      const prefix = groupResourceName("amq", g);
      const settings = settingsForGroup(run.settings, g);
      const facts = {
        nodes: ips[g].map((privateIp, i) => ({ index: i + 1, privateIp })),
        peers: [{ brokerName: other === 1 ? "amq-ha" : "amq-ha-2", addresses: ips[other] }],
        secrets: {
          brokerPassword: PASSWORDS["amq-broker-password"] as string,
          consolePassword: PASSWORDS["amq-console-password"] as string,
          replicationToken: PASSWORDS["amq-replication-token"] as string,
        },
        tls: {
          nodes: [1, 2, 3].map((n) => ({
            index: n,
            certificate: `${mockPem("CERTIFICATE", `${prefix}-node-${n}-tls`)}${mockPem("CERTIFICATE", "amq-ca")}`,
            privateKey: mockPem("PRIVATE KEY", `${prefix}-node-${n}-tls`),
          })),
          // Client certificates come from the stack's CA, which also signs the nodes: one CA in the store.
          trustedCaCertificates: mockPem("CERTIFICATE", "amq-ca"),
          keystorePassword: PASSWORDS["amq-keystore-password"] as string,
        },
      };
      for (const step of buildPlan(settings).filter((s) => s.action === "activemq-configure")) {
        const c = commands.find((x) => x.name === `${prefix}-${step.id}`) as Recorded;
        const payload = unwrapSecret(c.inputs.stdin).value as string;
        assert.equal(payload, renderPayload(step, facts), `${prefix}-${step.id}`);
        // What that payload carries: an activemq.xml whose bridges dial the other group, and its CA to trust.
        const files = step.input(facts).files;
        const xml = files.find((f) => f.path.endsWith("/activemq.xml"))?.content ?? "";
        assert.ok(xml.includes(`failover:(ssl://${ips[other][0]}:61617,`), `${prefix}-${step.id}: no bridge`);
        assert.ok(
          files.some((f) => f.path.endsWith("/client-ca.pem")),
          `${prefix}-${step.id}: no trust store`,
        );
      }
    }
  });
});

void describe("groups (mocked stack): 3 groups, plain TCP and shared-kahadb", () => {
  void it("a store, a firewall and bridges per group; the bridges' rule is on the plain port", async () => {
    const run = await runStack({ groups: "3", haMode: "shared-kahadb", clientTransport: "tcp" });
    assert.deepEqual(named(run.resources, "aws:efs/fileSystem:FileSystem"), [
      "amq-efs",
      "amq-g2-efs",
      "amq-g3-efs",
    ]);
    const rules = ofType(run.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    assert.deepEqual(
      rules
        .filter((x) => x.inputs.referencedSecurityGroupId === "amq-groups-id")
        .map((x) => [x.name, x.inputs.fromPort])
        .sort(),
      [
        ["amq-g2-openwire-from-groups", 61616],
        ["amq-g3-openwire-from-groups", 61616],
        ["amq-openwire-from-groups", 61616],
      ],
    );
    assert.deepEqual(
      run.outputs.groups.map((g) => g.name),
      ["amq-ha", "amq-ha-2", "amq-ha-3"],
    );
    assert.equal(ofType(run.resources, "tls:index/locallySignedCert:LocallySignedCert").length, 0);
  });
});

void describe("first deployment (mocked stack): what serves nothing yet configures at once", () => {
  const waitsForPrevious = (run: StackRun, group: string, n: number) =>
    (run.dependencies.get(`${group}-n${n}-activemq-configure`) ?? []).includes(
      `${group}-n${n - 1}-activemq-configure`,
    );

  void it("a new stack: no broker or ZooKeeper step of a node waits for the previous node's", async () => {
    const run = await runStack({}, undefined, { deployedGroups: 0 });
    for (const action of [
      "zookeeper-configure",
      "zookeeper-settle",
      "activemq-configure",
      "activemq-settle",
    ]) {
      const deps = run.dependencies.get(`amq-n2-${action}`);
      assert.ok(deps !== undefined, `amq-n2-${action} is a remote command`);
      assert.ok(!deps.includes(`amq-n1-${action}`), `${action}: ${JSON.stringify(deps)}`);
    }
    assert.ok(
      (run.dependencies.get("amq-n3-activemq-settle") ?? []).includes("amq-n1-activemq-configure"),
      "still after every broker's configuration",
    );
  });

  void it("a group added to a running stack configures at once; the running group still rolls", async () => {
    const run = await runStack({ groups: "2" }, undefined, { deployedGroups: 1 });
    assert.ok(waitsForPrevious(run, "amq", 2), "group 1 (deployed) rolls");
    assert.ok(!waitsForPrevious(run, groupResourceName("amq", 2), 2), "group 2 (new) configures at once");
    const defaults = await runStack({ groups: "2" });
    assert.ok(
      waitsForPrevious(defaults, "amq", 2) && waitsForPrevious(defaults, groupResourceName("amq", 2), 2),
      "without word of what was deployed, every group rolls",
    );
  });
});
