// The whole stack under Pulumi's mocks: every resource is recorded, every invoke the program makes must be
// mocked (an unmocked one throws), and the assertions are on exact resources and inputs.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  AZS,
  byJson,
  mockPem,
  ofType,
  PASSWORDS,
  Recorded,
  runStack,
  StackRun,
  unwrapSecret,
} from "../support/mocks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { makeTestPki } from "../support/certificates";
import { requireTool } from "../support/tools";

describe("stack (mocked): replicated-leveldb, defaults", () => {
  let run: StackRun;
  let resources: Recorded[];
  before(async () => {
    run = await runStack({});
    resources = run.resources;
  });

  it("creates a VPC, three subnets in three distinct zones, an internet gateway and a default route", () => {
    const vpcs = ofType(resources, "aws:ec2/vpc:Vpc");
    assert.equal(vpcs.length, 1);
    assert.equal(vpcs[0]?.inputs.cidrBlock, "10.0.0.0/16");
    const subnets = ofType(resources, "aws:ec2/subnet:Subnet");
    assert.deepEqual(
      subnets.map((s) => [s.inputs.cidrBlock, s.inputs.availabilityZone]),
      [
        ["10.0.0.0/18", "eu-west-1a"],
        ["10.0.64.0/18", "eu-west-1b"],
        ["10.0.128.0/18", "eu-west-1c"],
      ],
    );
    assert.equal(ofType(resources, "aws:ec2/internetGateway:InternetGateway").length, 1);
    const tables = ofType(resources, "aws:ec2/routeTable:RouteTable");
    assert.deepEqual(tables[0]?.inputs.routes, [{ cidrBlock: "0.0.0.0/0", gatewayId: "amq-igw-id" }]);
    assert.equal(ofType(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation").length, 3);
  });

  it("creates three instances, each on its own network interface in a distinct subnet, IMDSv2 and encrypted gp3", () => {
    const instances = ofType(resources, "aws:ec2/instance:Instance");
    assert.equal(instances.length, 3);
    const nics = ofType(resources, "aws:ec2/networkInterface:NetworkInterface");
    assert.deepEqual(
      nics.map((n) => n.inputs.subnetId),
      ["amq-public-1-id", "amq-public-2-id", "amq-public-3-id"],
    );
    instances.forEach((instance, i) => {
      assert.equal(instance.name, `amq-node-${i + 1}`);
      assert.equal(instance.inputs.instanceType, "t3.medium");
      assert.equal(instance.inputs.ami, "ami-0123456789abcdef0");
      assert.deepEqual(instance.inputs.primaryNetworkInterface, {
        networkInterfaceId: `amq-node-${i + 1}-id`,
      });
      assert.deepEqual(instance.inputs.metadataOptions, {
        httpTokens: "required",
        httpEndpoint: "enabled",
        httpPutResponseHopLimit: 1,
      });
      const root = instance.inputs.rootBlockDevice as Record<string, unknown>;
      assert.equal(root.volumeType, "gp3");
      assert.equal(root.encrypted, true);
      assert.equal(root.volumeSize, 20);
      const tags = instance.inputs.tags as Record<string, string>;
      assert.equal(tags.Name, `amq-node-${i + 1}`);
      assert.equal(tags.node, String(i + 1));
      assert.equal(tags.role, "activemq-zookeeper");
      assert.equal(tags.stack, "test");
    });
    assert.equal(ofType(resources, "aws:ec2/eip:Eip").length, 3);
  });

  it("opens exactly the expected ports, to exactly the expected sources", () => {
    // Registration order is not deterministic; the set of rules is.
    const rules = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .map((r) => [
        r.inputs.fromPort,
        r.inputs.toPort,
        r.inputs.ipProtocol,
        r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6,
      ])
      .sort(byJson);
    const cluster = "amq-cluster-id";
    assert.deepEqual(
      rules,
      [
        [2181, 2181, "tcp", cluster],
        [2888, 2888, "tcp", cluster],
        [3888, 3888, "tcp", cluster],
        [61619, 61619, "tcp", cluster],
        [61617, 61617, "tcp", cluster],
        [61617, 61617, "tcp", "10.0.0.0/16"],
        [22, 22, "tcp", "198.51.100.7/32"],
        // The host monitors ask each other who is master; nobody else reaches them without monitoringCidrs.
        [9404, 9404, "tcp", cluster],
      ].sort(byJson),
    );
    for (const r of ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
      assert.ok(typeof r.inputs.description === "string" && (r.inputs.description as string).length > 5);
      assert.notEqual(r.inputs.cidrIpv4, "0.0.0.0/0", `${r.name} must not be open to the Internet`);
      assert.notEqual(r.inputs.cidrIpv6, "::/0", `${r.name} must not be open to the Internet`);
    }
    const egress = ofType(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    assert.deepEqual(
      egress.map((e) => [e.inputs.ipProtocol, e.inputs.cidrIpv4 ?? e.inputs.cidrIpv6]),
      [
        ["-1", "0.0.0.0/0"],
        ["-1", "::/0"],
      ],
    );
  });

  it("exports the exact failoverUrl, publicFailoverUrl and zookeeperConnect for the hosts' addresses", async () => {
    const ips = ["10.0.0.11", "10.0.64.12", "10.0.128.13"];
    assert.equal(
      run.outputs.failoverUrl,
      `failover:(${ips.map((ip) => `ssl://${ip}:61617`).join(",")})?randomize=false&initialReconnectDelay=10&maxReconnectDelay=100&nested.connectionTimeout=1000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000`,
    );
    assert.equal(
      run.outputs.publicFailoverUrl,
      "failover:(ssl://203.0.113.1:61617,ssl://203.0.113.2:61617,ssl://203.0.113.3:61617)?randomize=false&initialReconnectDelay=10&maxReconnectDelay=100&nested.connectionTimeout=1000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000",
    );
    assert.equal(run.outputs.zookeeperConnect, ips.map((ip) => `${ip}:2181`).join(","));
    assert.deepEqual(
      run.outputs.nodes.map((n) => [n.index, n.availabilityZone, n.privateIp, n.publicIp, n.instanceId]),
      ips.map((ip, i) => [i + 1, AZS[i], ip, `203.0.113.${i + 1}`, `amq-node-${i + 1}-id`]),
    );
    // Each node's host key, as the hosts present it (not secret): what users put in known_hosts.
    assert.deepEqual(
      run.outputs.nodes.map((n) => n.hostKey),
      ips.map((_, i) => `ssh-ed25519 AAAA${Buffer.from(`amq-node-${i + 1}-host-key`).toString("base64")}`),
    );
    assert.equal(await pulumi.isSecret(run.cluster.nodes), false, "the nodes output stays readable");
  });

  it("keeps passwords and the SSH key secret", async () => {
    assert.equal(await pulumi.isSecret(run.cluster.brokerPassword), true);
    assert.equal(await pulumi.isSecret(run.cluster.consolePassword), true);
    assert.equal(await pulumi.isSecret(run.cluster.sshPrivateKey), true);
    assert.equal(await pulumi.isSecret(run.cluster.failoverUrl), false, "the URL carries no password");
  });

  it("turns every plan step into one remote.Command, with the plan's dependencies, payload and triggers", async () => {
    const { buildPlan } = await import("../../lib/plan");
    const { renderPayload, sha256, REMOTE_COMMAND } = await import("../../lib/payload");
    const plan = buildPlan(run.settings);
    // The hosts' rejoin steps are the hosts component's (test/unit/replacement.test.ts); the rest is the plan.
    const commands = ofType(resources, "command:remote:Command").filter(
      (c) => !c.name.endsWith("-host-rejoin"),
    );
    assert.deepEqual(commands.map((c) => c.name).sort(), plan.map((s) => `amq-${s.id}`).sort());
    const facts = {
      nodes: ["10.0.0.11", "10.0.64.12", "10.0.128.13"].map((privateIp, i) => ({ index: i + 1, privateIp })),
      secrets: {
        brokerPassword: PASSWORDS["amq-broker-password"] as string,
        consolePassword: PASSWORDS["amq-console-password"] as string,
        replicationToken: PASSWORDS["amq-replication-token"] as string,
      },
      // What the mocked tls provider answers (test/support/mocks.ts): PEM stand-ins named after each resource.
      tls: {
        nodes: [1, 2, 3].map((n) => ({
          index: n,
          certificate: `${mockPem("CERTIFICATE", `amq-node-${n}-tls`)}${mockPem("CERTIFICATE", "amq-ca")}`,
          privateKey: mockPem("PRIVATE KEY", `amq-node-${n}-tls`),
        })),
        trustedCaCertificates: mockPem("CERTIFICATE", "amq-ca"),
        keystorePassword: PASSWORDS["amq-keystore-password"] as string,
      },
    };
    const payloadOf = new Map(plan.map((s) => [s.id, renderPayload(s, facts)]));
    for (const step of plan) {
      const c = commands.find((x) => x.name === `amq-${step.id}`) as Recorded;
      assert.equal(c.inputs.create, REMOTE_COMMAND);
      const stdin = unwrapSecret(c.inputs.stdin);
      assert.equal(stdin.value, payloadOf.get(step.id), `${step.id} payload`);
      assert.equal(stdin.secret, true, `${step.id}: the payload carries passwords, so it must be a secret`);
      const triggers = unwrapSecret(c.inputs.triggers).value as unknown[];
      assert.deepEqual(
        triggers.map((t) => unwrapSecret(t).value),
        [
          ...step.rerunWith.map((id) => sha256(payloadOf.get(id) as string)),
          ...step.hostTriggers.map((n) => `node ${n}: amq-node-${n}-id on amq-node-${n}-id`),
        ],
      );
      const wrapped = unwrapSecret(c.inputs.connection);
      assert.equal(wrapped.secret, true, "the connection holds the private key");
      const connection = wrapped.value as Record<string, unknown>;
      assert.equal(
        connection.privateKey,
        "-----BEGIN OPENSSH PRIVATE KEY-----\namq-ssh\n-----END OPENSSH PRIVATE KEY-----\n",
      );
      assert.equal(connection.host, `203.0.113.${step.node}`);
      assert.equal(connection.user, "admin");
      assert.equal(
        connection.hostKey,
        `ssh-ed25519 AAAA${Buffer.from(`amq-node-${step.node}-host-key`).toString("base64")}`,
        `${step.id} verifies its own node's host key`,
      );
      assert.deepEqual(
        [connection.dialErrorLimit, connection.perDialTimeout],
        step.action === "host-ready" ? [12, 15] : [3, 10],
        `${step.id}: only the first step of a host waits for it to boot`,
      );
      const deps = run.dependencies.get(`amq-${step.id}`) ?? [];
      if (step.dependsOn.length > 0) {
        assert.deepEqual(
          deps,
          step.dependsOn.map((id) => `amq-${id}`),
          `${step.id} dependencies`,
        );
      } else {
        // Its own rejoin step only, never the hosts component: a replaced host is rebuilt by that step alone
        // (lib/rollout.ts), and the next node's instance waits for it.
        assert.deepEqual(
          deps,
          [`amq-n${step.node}-host-rejoin`],
          `${step.id} waits for its node's rejoin step`,
        );
      }
    }
  });

  it("makes no invoke it did not mock", () => {
    assert.deepEqual([...new Set(run.calls)].sort(), [
      "aws:ec2/getAmi:getAmi",
      "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings",
      "aws:index/getAvailabilityZones:getAvailabilityZones",
      "aws:index/getRegion:getRegion",
    ]);
  });

  it("creates no EFS in replicated-leveldb mode", () => {
    assert.equal(ofType(resources, "aws:efs/fileSystem:FileSystem").length, 0);
  });
});

describe("stack (mocked): TLS certificates", () => {
  const certs = (resources: Recorded[], type: string) =>
    ofType(resources, `tls:index/${type}`).map((r) => r.name);

  it("defaults: the stack's CA, a server certificate per node naming its addresses and DNS names, a client certificate", async () => {
    const { resources, cluster } = await runStack({});
    assert.deepEqual(certs(resources, "selfSignedCert:SelfSignedCert"), ["amq-ca"]);
    const ca = ofType(resources, "tls:index/selfSignedCert:SelfSignedCert")[0] as Recorded;
    assert.equal(ca.inputs.isCaCertificate, true);
    assert.deepEqual(ca.inputs.allowedUses, ["cert_signing", "crl_signing"]);
    assert.equal(ca.inputs.validityPeriodHours, 87600);
    assert.deepEqual(certs(resources, "locallySignedCert:LocallySignedCert").sort(), [
      "amq-client-tls",
      "amq-node-1-tls",
      "amq-node-2-tls",
      "amq-node-3-tls",
    ]);
    const requests = ofType(resources, "tls:index/certRequest:CertRequest");
    for (const n of [1, 2, 3]) {
      const request = requests.find((r) => r.name === `amq-node-${n}-tls`) as Recorded;
      const privateIp = `10.0.${(n - 1) * 64}.${10 + n}`;
      assert.deepEqual(request.inputs.ipAddresses, [privateIp, `203.0.113.${n}`]);
      assert.deepEqual(request.inputs.dnsNames, [
        `ec2-203-0-113-${n}.eu-west-1.compute.amazonaws.com`,
        `ip-${privateIp.replace(/\./g, "-")}.eu-west-1.compute.internal`,
      ]);
      const cert = ofType(resources, "tls:index/locallySignedCert:LocallySignedCert").find(
        (r) => r.name === `amq-node-${n}-tls`,
      ) as Recorded;
      assert.deepEqual(cert.inputs.allowedUses, ["digital_signature", "key_encipherment", "server_auth"]);
      assert.equal(cert.inputs.validityPeriodHours, 365 * 24);
      assert.equal(cert.inputs.earlyRenewalHours, 30 * 24);
      assert.equal(unwrapSecret(cert.inputs.caPrivateKeyPem).secret, true, "the CA key is a secret");
    }
    const client = ofType(resources, "tls:index/locallySignedCert:LocallySignedCert").find(
      (r) => r.name === "amq-client-tls",
    ) as Recorded;
    assert.deepEqual(client.inputs.allowedUses, ["digital_signature", "key_encipherment", "client_auth"]);
    for (const key of ofType(resources, "tls:index/privateKey:PrivateKey").filter((k) =>
      k.name.endsWith("tls"),
    )) {
      assert.deepEqual([key.inputs.algorithm, key.inputs.ecdsaCurve], ["ECDSA", "P256"], key.name);
    }
    assert.ok(cluster.tls?.client, "a client certificate is output");
    assert.equal(await pulumi.isSecret(cluster.tls.client.key), true, "clientKey is a secret");
    assert.equal(await pulumi.isSecret(cluster.tls.client.certificate), false);
    assert.equal(await pulumi.isSecret(cluster.tls.caCertificate), false);
    assert.equal(cluster.tls.tcpFailoverUrl, undefined, "no plain URL with clientTransport tls");
  });

  it("tls+tcp: the plain URL for clients not moved yet; shared-kahadb (off): no client certificate", async () => {
    const { cluster, resources } = await runStack({ haMode: "shared-kahadb", clientTransport: "tls+tcp" });
    assert.equal(cluster.tls?.client, undefined);
    assert.ok(!certs(resources, "locallySignedCert:LocallySignedCert").includes("amq-client-tls"));
    const url = await new Promise<string>((resolve) => cluster.tls?.tcpFailoverUrl?.apply(resolve));
    assert.match(
      url,
      /^failover:\(tcp:\/\/10\.0\.0\.11:61616,tcp:\/\/10\.0\.64\.12:61616,tcp:\/\/10\.0\.128\.13:61616\)\?/,
    );
  });

  it(
    "a brought CA signs the nodes' certificates with its key (a secret); the stack makes no CA",
    { skip: requireTool("openssl", "openssl") },
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "amq-stack-ca-"));
      try {
        const pki = makeTestPki(dir, [{ index: 1, privateIp: "10.0.0.11" }], "brought");
        const { cluster, resources } = await runStack(
          { tlsCaCertificate: pki.caCertificate, tlsCaKey: pki.caKey },
          undefined,
          { tlsCaKey: pki.caKey },
        );
        assert.deepEqual(certs(resources, "selfSignedCert:SelfSignedCert"), []);
        for (const cert of ofType(resources, "tls:index/locallySignedCert:LocallySignedCert")) {
          assert.equal(cert.inputs.caCertPem, pki.caCertificate, cert.name);
          const key = unwrapSecret(cert.inputs.caPrivateKeyPem);
          assert.deepEqual(key, { secret: true, value: pki.caKey }, cert.name);
        }
        const ca = await new Promise<string>((resolve) => cluster.tls?.caCertificate.apply(resolve));
        assert.equal(ca, pki.caCertificate);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    "brought node certificates are sent as they are, with their keys (secret); the stack makes and renews none",
    { skip: requireTool("openssl", "openssl") },
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "amq-stack-nodes-"));
      try {
        const nodes = [1, 2, 3].map((index) => ({
          index,
          privateIp: `10.0.${(index - 1) * 64}.${10 + index}`,
          publicIp: `203.0.113.${index}`,
        }));
        const pki = makeTestPki(dir, nodes, "brought");
        const leaves = pki.nodes.map(
          (n) => n.certificate.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n",
        );
        const keys = JSON.stringify(pki.nodes.map((n) => n.privateKey));
        const { cluster, resources } = await runStack(
          {
            tlsCaCertificate: pki.caCertificate,
            tlsNodeCertificates: JSON.stringify(leaves),
            tlsNodeKeys: keys,
          },
          undefined,
          { tlsNodeKeys: keys },
        );
        assert.deepEqual(
          resources
            .filter((r) => r.type.startsWith("tls:") && !/host-key|ssh/.test(r.name))
            .map((r) => r.name),
          [],
        );
        assert.equal(
          cluster.tls?.client,
          undefined,
          "without the CA's key the stack makes no client certificate",
        );
        const commands = ofType(resources, "command:remote:Command").filter((c) =>
          c.name.endsWith("-activemq-configure"),
        );
        assert.equal(commands.length, 3);
        for (const c of commands) {
          assert.equal(unwrapSecret(c.inputs.stdin).secret, true, `${c.name} carries a node key`);
        }
        const ca = await new Promise<string>((resolve) => cluster.tls?.caCertificate.apply(resolve));
        assert.equal(ca, pki.caCertificate);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("clientTransport tcp: no certificate at all, and no TLS output", async () => {
    const { cluster, resources } = await runStack({ clientTransport: "tcp" });
    assert.equal(cluster.tls, undefined);
    assert.deepEqual(
      resources.filter((r) => r.type.startsWith("tls:") && !/host-key|ssh/.test(r.name)).map((r) => r.name),
      [],
    );
  });
});

describe("stack (mocked): shared-kahadb", () => {
  let run: StackRun;
  let resources: Recorded[];
  before(async () => {
    run = await runStack({ haMode: "shared-kahadb", clientCidrs: "172.16.0.0/12" });
    resources = run.resources;
  });

  it("adds an encrypted EFS with a mount target per subnet, NFS only from the cluster", () => {
    const fs = ofType(resources, "aws:efs/fileSystem:FileSystem");
    assert.equal(fs.length, 1);
    assert.equal(fs[0]?.inputs.encrypted, true);
    assert.deepEqual(
      ofType(resources, "aws:efs/mountTarget:MountTarget").map((m) => m.inputs.subnetId),
      ["amq-public-1-id", "amq-public-2-id", "amq-public-3-id"],
    );
    const nfs = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
      (r) => r.inputs.fromPort === 2049,
    );
    assert.deepEqual(
      nfs.map((r) => [r.inputs.securityGroupId, r.inputs.referencedSecurityGroupId, r.inputs.cidrIpv4]),
      [["amq-nfs-id", "amq-cluster-id", undefined]],
    );
  });

  it("opens no ZooKeeper or replication port and deploys no ZooKeeper", () => {
    const ports = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map(
      (r) => r.inputs.fromPort,
    );
    for (const p of [2181, 2888, 3888, 61619]) {
      assert.ok(!ports.includes(p), `port ${p} must stay closed`);
    }
    assert.deepEqual(
      ofType(resources, "command:remote:Command").filter((c) => c.name.includes("zookeeper")),
      [],
    );
    assert.equal(run.outputs.zookeeperConnect, "");
  });

  it("mounts the shared store on every host before any broker is configured", () => {
    for (const n of [1, 2, 3]) {
      const deps = run.dependencies.get(`amq-n${n}-activemq-configure`) ?? [];
      assert.ok(deps.includes(`amq-n${n}-shared-mount`), `node ${n}: ${deps.join(", ")}`);
    }
  });

  it("uses the given client block instead of the VPC's", () => {
    const openwire = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
      (r) => r.inputs.fromPort === 61617 && r.inputs.cidrIpv4 !== undefined,
    );
    assert.deepEqual(
      openwire.map((r) => r.inputs.cidrIpv4),
      ["172.16.0.0/12"],
    );
  });
});

describe("stack (mocked): zones that offer the instance type", () => {
  it("places no subnet and no host in a zone that does not offer the type", async () => {
    const run = await runStack({}, undefined, { zonesLacking: ["eu-west-1b"] });
    const subnetZones = ofType(run.resources, "aws:ec2/subnet:Subnet").map((r) => r.inputs.availabilityZone);
    assert.deepEqual(subnetZones, ["eu-west-1a", "eu-west-1c", "eu-west-1d"]);
    assert.deepEqual(
      run.outputs.nodes.map((n) => n.availabilityZone),
      ["eu-west-1a", "eu-west-1c", "eu-west-1d"],
    );
  });

  it("keeps a subnet in its zone when the choice of zones changes (a new type must not replace it)", async () => {
    const run = await runStack({});
    for (const n of [1, 2, 3]) {
      assert.deepEqual(run.options.get(`aws:ec2/subnet:Subnet::amq-public-${n}`), {
        ignoreChanges: ["availabilityZone"],
      });
    }
  });
});
