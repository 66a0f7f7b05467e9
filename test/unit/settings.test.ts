import { describe, it } from "node:test";
import assert from "node:assert/strict";
import YAML from "yaml";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parseSettings, RawSettings, SETTING_NAMES, SettingsError, StackSettings } from "../../lib/settings";

/** Parses and expects a SettingsError; returns its problem lines. */
function problemsOf(raw: RawSettings): readonly string[] {
  try {
    parseSettings(raw);
  } catch (e) {
    assert.ok(e instanceof SettingsError, `expected a SettingsError, got ${String(e)}`);
    // Every problem line is in the message the user sees.
    for (const p of e.problems) {
      assert.ok(e.message.includes(p), `message lacks problem line: ${p}`);
    }
    return e.problems;
  }
  assert.fail(`parseSettings(${JSON.stringify(raw)}) was accepted`);
}

/**
 * Asserts one problem line names the setting and the given value (`key: got "value"; allowed: …`), and that
 * its allowed part contains every fragment.
 */
function assertRefused(raw: RawSettings, key: string, given: string, ...allowed: string[]): string {
  const problems = problemsOf(raw);
  const prefix = `${key}: got "${given}"; allowed: `;
  const line = problems.find((p) => p.startsWith(prefix));
  assert.ok(line, `no problem starting with ${JSON.stringify(prefix)} in:\n${problems.join("\n")}`);
  for (const fragment of allowed) {
    assert.ok(line.includes(fragment), `${JSON.stringify(line)} should mention ${JSON.stringify(fragment)}`);
  }
  return line;
}

function accepted(raw: RawSettings): StackSettings {
  return parseSettings(raw);
}

void describe("lib/settings parseSettings", () => {
  void it("fills every default for an empty configuration", () => {
    const expected: StackSettings = {
      haMode: "replicated-leveldb",
      nodeCount: 3,
      network: { kind: "create", vpcCidr: "10.0.0.0/16" },
      os: "debian-12",
      instanceType: "t3.medium",
      rootVolumeSizeGiB: 20,
      clientSecurityGroupIds: [],
      consoleCidrs: [],
      webConsole: true,
      ports: {
        openwire: 61616,
        replication: 61619,
        zookeeperClient: 2181,
        zookeeperPeer: 2888,
        zookeeperElection: 3888,
        console: 8161,
      },
      artifactBaseUrl: "https://archive.apache.org/dist",
      mavenBaseUrl: "https://repo1.maven.org/maven2",
      zookeeper: {
        deploy: true,
        version: "3.8.6",
        heapMb: 512,
        tickTimeMs: 1000,
        initLimitTicks: 10,
        syncLimitTicks: 5,
      },
      activemq: {
        version: "5.16.8",
        brokerName: "amq-ha",
        heapMb: 1024,
        brokerUser: "app",
        consoleUser: "admin",
        replicationSync: "quorum_mem",
        zkPath: "/activemq/leveldb-stores",
        zkSessionTimeoutMs: 2000,
        // Pulumi.yaml: 2 x zkSessionTimeoutMs + 1 s = 2 × 2 s + 1 s.
        restartDelaySeconds: 5,
        lockKeepAlivePeriodMs: 2000,
      },
      failover: { initialReconnectDelayMs: 10, maxReconnectDelayMs: 100, connectionTimeoutMs: 1000 },
      testOnlyAllowUnsupportedActiveMq: false,
      tags: {},
    };
    // deepStrictEqual also proves the optional settings (clientCidrs, sshCidrs, amiId, sshPublicKey, sha512s) are
    // absent rather than present and undefined.
    assert.deepStrictEqual(parseSettings({}), expected);
  });

  void it("treats empty and blank values as unset", () => {
    assert.deepStrictEqual(
      parseSettings({ nodeCount: "", instanceType: "  ", vpcCidr: undefined }),
      parseSettings({}),
    );
  });

  void it("defaults shared-kahadb to a supported ActiveMQ and no ZooKeeper", () => {
    const s = accepted({ haMode: "shared-kahadb" });
    assert.equal(s.activemq.version, "5.19.9");
    assert.equal(s.zookeeper.deploy, false);
  });

  void it("derives the default restart delay from the session: 2 × session + 1 s, always longer than the session", () => {
    for (const [sessionMs, tickMs] of [
      [2000, 1000],
      [3000, 1000],
      [5000, 1000],
      [60000, 3000],
    ] as const) {
      const s = accepted({ zkSessionTimeoutMs: String(sessionMs), zookeeperTickTimeMs: String(tickMs) });
      assert.equal(s.activemq.restartDelaySeconds, Math.ceil((2 * sessionMs) / 1000) + 1);
      assert.ok(s.activemq.restartDelaySeconds * 1000 > sessionMs);
    }
  });

  void describe("nodeCount", () => {
    for (const bad of ["4", "2", "9", "x", "1", "3.0", "-3"]) {
      void it(`refuses ${JSON.stringify(bad)}`, () => {
        assertRefused({ nodeCount: bad }, "nodeCount", bad, "an odd number from 3 to 7");
      });
    }

    void it("accepts any odd n in 3..7 (property)", () => {
      fc.assert(
        fc.property(fc.constantFrom(3, 5, 7), (n) => {
          assert.equal(accepted({ nodeCount: String(n) }).nodeCount, n);
        }),
      );
    });

    void it("refuses any other integer (property)", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((n) => !(n >= 3 && n <= 7 && n % 2 === 1)),
          (n) => {
            assertRefused({ nodeCount: String(n) }, "nodeCount", String(n), "an odd number from 3 to 7");
          },
        ),
      );
    });
  });

  void describe("network blocks", () => {
    void it("refuses a VPC block with host bits set and suggests the network", () => {
      assertRefused({ vpcCidr: "10.0.0.1/16" }, "vpcCidr", "10.0.0.1/16", "host bits", "10.0.0.0/16");
    });

    for (const bad of ["10.0.0.0/8", "10.0.0.0/28", "10.0.0.0/15", "10.0.0.0/25"]) {
      void it(`refuses vpcCidr ${bad} (outside /16../24)`, () => {
        assertRefused({ vpcCidr: bad }, "vpcCidr", bad, "an IPv4 block from /16 to /24");
      });
    }

    void it("refuses an IPv6 VPC block", () => {
      assertRefused({ vpcCidr: "2001:db8::/56" }, "vpcCidr", "2001:db8::/56", "an IPv4 block");
    });

    void it("accepts the edges /16 and /24", () => {
      assert.deepStrictEqual(accepted({ vpcCidr: "172.16.0.0/16" }).network, {
        kind: "create",
        vpcCidr: "172.16.0.0/16",
      });
      assert.deepStrictEqual(accepted({ vpcCidr: "192.168.7.0/24" }).network, {
        kind: "create",
        vpcCidr: "192.168.7.0/24",
      });
    });

    void it("refuses garbage as a CIDR block", () => {
      assertRefused({ vpcCidr: "ten.0.0.0/16" }, "vpcCidr", "ten.0.0.0/16", "not a CIDR block");
      assertRefused({ clientCidrs: "10.1.0.0/16,nonsense" }, "clientCidrs", "nonsense", "not a CIDR block");
    });

    void it("refuses a client block with host bits set", () => {
      assertRefused({ sshCidrs: "203.0.113.7/24" }, "sshCidrs", "203.0.113.7/24", "203.0.113.0/24");
    });

    for (const key of ["clientCidrs", "consoleCidrs"]) {
      for (const internet of ["0.0.0.0/0", "::/0"]) {
        void it(`refuses ${internet} in ${key}`, () => {
          assertRefused(
            { [key]: `10.1.0.0/16,${internet}` },
            key,
            internet,
            "narrower than the whole Internet",
          );
        });
      }
    }

    void it("reads lists as JSON arrays and as comma-separated text, canonicalising each block", () => {
      const fromJson = accepted({ clientCidrs: '["10.1.0.0/16", "2001:DB8::/32"]' });
      const fromText = accepted({ clientCidrs: " 10.1.0.0/16 , 2001:db8::/32 ," });
      const expected = [
        { family: "ipv4", text: "10.1.0.0/16", prefix: 16 },
        { family: "ipv6", text: "2001:db8::/32", prefix: 32 },
      ];
      assert.deepStrictEqual(fromJson.clientCidrs, expected);
      assert.deepStrictEqual(fromText.clientCidrs, expected);
      assert.deepStrictEqual(accepted({ sshCidrs: '["198.51.100.7/32"]' }).sshCidrs, [
        { family: "ipv4", text: "198.51.100.7/32", prefix: 32 },
      ]);
      assert.deepStrictEqual(
        accepted({ clientSecurityGroupIds: "sg-0123456789abcdef0, sg-89abcdef" }).clientSecurityGroupIds,
        ["sg-0123456789abcdef0", "sg-89abcdef"],
      );
    });

    void it("refuses a list that is neither a JSON array of strings nor comma text", () => {
      assertRefused({ clientCidrs: "[1,2]" }, "clientCidrs", "[1,2]", "a list of strings");
      assertRefused({ clientCidrs: '["10.1.0.0/16"' }, "clientCidrs", '["10.1.0.0/16"', "a list of strings");
    });

    void it("refuses malformed security group ids", () => {
      assertRefused(
        { clientSecurityGroupIds: '["sg-0123456789abcdef0","sg-xyz"]' },
        "clientSecurityGroupIds",
        "sg-xyz",
        "sg-",
      );
    });

    void it("refuses (or merges) a block listed twice, which would give two ingress rules of one name", () => {
      const raw = { clientCidrs: "10.1.0.0/16,10.1.0.0/16" };
      let settings: StackSettings | undefined;
      try {
        settings = parseSettings(raw);
      } catch (e) {
        assert.ok(e instanceof SettingsError);
        assert.ok(
          e.problems.some((p) => p.startsWith('clientCidrs: got "10.1.0.0/16"')),
          e.message,
        );
        return;
      }
      assert.deepStrictEqual(
        settings.clientCidrs?.map((c) => c.text),
        ["10.1.0.0/16"],
        "kept both copies",
      );
    });
  });

  void describe("existing network", () => {
    void it("accepts vpcId with three subnets", () => {
      assert.deepStrictEqual(
        accepted({
          vpcId: "vpc-0a1b2c3d",
          subnetIds: '["subnet-0000000a","subnet-0000000b","subnet-0000000c"]',
        }).network,
        {
          kind: "existing",
          vpcId: "vpc-0a1b2c3d",
          subnetIds: ["subnet-0000000a", "subnet-0000000b", "subnet-0000000c"],
        },
      );
    });

    void it("refuses vpcId without subnetIds", () => {
      assertRefused(
        { vpcId: "vpc-0abc1234" },
        "vpcId/subnetIds",
        "vpc-0abc1234 / (unset)",
        "both set together",
        "at least 3",
      );
    });

    void it("refuses subnetIds without vpcId, and fewer than three subnets", () => {
      assertRefused(
        { subnetIds: "subnet-0000000a,subnet-0000000b,subnet-0000000c" },
        "vpcId/subnetIds",
        "(unset) / subnet-0000000a,subnet-0000000b,subnet-0000000c",
      );
      assertRefused(
        { vpcId: "vpc-0a1b2c3d", subnetIds: "subnet-0000000a,subnet-0000000b" },
        "vpcId/subnetIds",
        "vpc-0a1b2c3d / subnet-0000000a,subnet-0000000b",
      );
    });

    void it("refuses vpcCidr together with vpcId", () => {
      assertRefused(
        {
          vpcId: "vpc-0a1b2c3d",
          subnetIds: "subnet-0000000a,subnet-0000000b,subnet-0000000c",
          vpcCidr: "10.0.0.0/16",
        },
        "vpcCidr",
        "10.0.0.0/16",
        "empty when vpcId is given",
      );
    });
  });

  void describe("ports", () => {
    for (const bad of ["80", "1023", "65536", "70000", "0", "http", "61616.5"]) {
      void it(`refuses openwirePort ${JSON.stringify(bad)}`, () => {
        assertRefused({ openwirePort: bad }, "openwirePort", bad, "a whole number from 1024 to 65535");
      });
    }

    void it("reads every port setting into its field", () => {
      const s = accepted({
        openwirePort: "1024",
        replicationPort: "1025",
        zookeeperClientPort: "1026",
        zookeeperPeerPort: "1027",
        zookeeperElectionPort: "1028",
        consolePort: "65535",
      });
      assert.deepStrictEqual(s.ports, {
        openwire: 1024,
        replication: 1025,
        zookeeperClient: 1026,
        zookeeperPeer: 1027,
        zookeeperElection: 1028,
        console: 65535,
      });
    });

    void it("refuses two services on one port, naming both settings", () => {
      const problems = problemsOf({ consolePort: "61616" });
      const line = problems.find((p) => /^(openwirePort|consolePort): got "61616"; allowed: /.test(p));
      assert.ok(line, problems.join("\n"));
      assert.match(line, /different from (openwirePort|consolePort) \(61616\)/);
      assert.ok(line.includes("openwirePort") && line.includes("consolePort"), line);
    });

    void it("refuses a ZooKeeper port equal to the default of another ZooKeeper port", () => {
      const problems = problemsOf({ zookeeperPeerPort: "3888" });
      assert.ok(
        problems.some(
          (p) =>
            p.includes('got "3888"') &&
            p.includes("zookeeperPeerPort") &&
            p.includes("zookeeperElectionPort"),
        ),
        problems.join("\n"),
      );
    });
  });

  void describe("hosts", () => {
    for (const small of ["t3.micro", "t3.small", "t4g.nano"]) {
      void it(`refuses instanceType ${small}`, () => {
        assertRefused({ instanceType: small }, "instanceType", small, "at least 4 GiB", "t3.medium");
      });
    }

    void it("refuses a malformed instance type and AMI id", () => {
      assertRefused({ instanceType: "T3 Large" }, "instanceType", "T3 Large", "an EC2 instance type");
      assertRefused({ amiId: "ami-XYZ" }, "amiId", "ami-XYZ", "ami-0123456789abcdef0");
    });

    void it("refuses an unknown os", () => {
      assertRefused({ os: "centos-7" }, "os", "centos-7", "debian-12", "ubuntu-24.04");
    });
  });

  void describe("ActiveMQ and ZooKeeper versions", () => {
    for (const bad of ["5.16.6", "5.17.0", "5.19.9", "6.2.4"]) {
      void it(`refuses activemqVersion ${bad} in replicated-leveldb`, () => {
        assertRefused(
          { activemqVersion: bad },
          "activemqVersion",
          bad,
          "replicated-leveldb",
          "5.16.7 or 5.16.8",
        );
      });
    }

    for (const good of ["5.16.7", "5.16.8"]) {
      void it(`accepts activemqVersion ${good} in replicated-leveldb`, () => {
        assert.equal(accepted({ activemqVersion: good }).activemq.version, good);
      });
    }

    for (const good of ["5.19.4", "5.19.9", "6.2.4", "6.3.0"]) {
      void it(`accepts activemqVersion ${good} in shared-kahadb`, () => {
        assert.equal(accepted({ haMode: "shared-kahadb", activemqVersion: good }).activemq.version, good);
      });
    }

    for (const bad of ["5.19.3", "6.2.3", "5.18.6", "5.16.8", "6.2", "latest"]) {
      void it(`refuses activemqVersion ${bad} in shared-kahadb`, () => {
        assertRefused(
          { haMode: "shared-kahadb", activemqVersion: bad },
          "activemqVersion",
          bad,
          "shared-kahadb",
          "5.19.x from 5.19.4",
          "6.x from 6.2.4",
        );
      });
    }

    void it("testOnlyAllowUnsupportedActiveMq admits 5.17.2 in shared-kahadb", () => {
      const s = accepted({
        haMode: "shared-kahadb",
        activemqVersion: "5.17.2",
        testOnlyAllowUnsupportedActiveMq: "true",
      });
      assert.equal(s.activemq.version, "5.17.2");
      assert.equal(s.testOnlyAllowUnsupportedActiveMq, true);
    });

    void it("testOnlyAllowUnsupportedActiveMq is refused in replicated-leveldb", () => {
      assertRefused(
        { activemqVersion: "5.17.2", testOnlyAllowUnsupportedActiveMq: "true" },
        "testOnlyAllowUnsupportedActiveMq",
        "true",
        "false in haMode replicated-leveldb",
      );
    });

    void it("refuses zookeeperVersion 3.7.2 and accepts 3.9.5", () => {
      assertRefused({ zookeeperVersion: "3.7.2" }, "zookeeperVersion", "3.7.2", "3.8.x or 3.9.x");
      assertRefused({ zookeeperVersion: "3.10.0" }, "zookeeperVersion", "3.10.0", "3.8.x or 3.9.x");
      assert.equal(accepted({ zookeeperVersion: "3.9.5" }).zookeeper.version, "3.9.5");
    });
  });

  void describe("ZooKeeper session and broker restart", () => {
    void it("refuses a session below 2 × tickTime, naming the floor", () => {
      assertRefused(
        { zkSessionTimeoutMs: "2000", zookeeperTickTimeMs: "1500" },
        "zkSessionTimeoutMs",
        "2000",
        "at least 2 × zookeeperTickTimeMs (3000)",
      );
    });

    void it("refuses a session that is not whole seconds (the store's Timespan parser knows no ms)", () => {
      assertRefused(
        { zkSessionTimeoutMs: "2500" },
        "zkSessionTimeoutMs",
        "2500",
        "a whole number of seconds",
      );
    });

    void it("refuses a restart delay not longer than the session", () => {
      assertRefused(
        { brokerRestartDelaySeconds: "2" },
        "brokerRestartDelaySeconds",
        "2",
        "more than zkSessionTimeoutMs (2000 ms)",
      );
      assertRefused(
        { zkSessionTimeoutMs: "5000", brokerRestartDelaySeconds: "5" },
        "brokerRestartDelaySeconds",
        "5",
        "(5000 ms)",
      );
      assert.equal(accepted({ brokerRestartDelaySeconds: "3" }).activemq.restartDelaySeconds, 3);
    });

    void it("always deploys ZooKeeper in replicated-leveldb; in shared-kahadb only when zookeeperDeploy=true", () => {
      assert.equal(accepted({ zookeeperDeploy: "false" }).zookeeper.deploy, true);
      assert.equal(accepted({ haMode: "shared-kahadb", zookeeperDeploy: "false" }).zookeeper.deploy, false);
      assert.equal(accepted({ haMode: "shared-kahadb", zookeeperDeploy: "true" }).zookeeper.deploy, true);
      assertRefused({ zookeeperDeploy: "yes" }, "zookeeperDeploy", "yes", "true or false");
    });

    void it("refuses a failover max delay below the initial delay", () => {
      assertRefused(
        { failoverInitialReconnectDelayMs: "500", failoverMaxReconnectDelayMs: "100" },
        "failoverMaxReconnectDelayMs",
        "100",
        "at least failoverInitialReconnectDelayMs (500)",
      );
    });
  });

  void describe("keys, credentials and tags", () => {
    void it("refuses sshPublicKey without sshPrivateKey, and the reverse", () => {
      assertRefused(
        { sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" },
        "sshPublicKey/sshPrivateKey",
        "only sshPublicKey set",
        "both",
        "or neither",
      );
      assertRefused(
        { sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" },
        "sshPublicKey/sshPrivateKey",
        "only sshPrivateKey set",
      );
      const s = accepted({
        sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI me@host",
        sshPrivateKey: "k",
      });
      assert.equal(s.sshPublicKey, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI me@host");
    });

    void it("refuses a typo of a known key without repeating its value (it may be a secret)", () => {
      const problems = problemsOf({ sshPrivatekey: "-----BEGIN OPENSSH PRIVATE KEY----- s3cr3t" });
      const line = problems.find((p) => p.startsWith("sshPrivatekey: not a setting of this stack"));
      assert.ok(line, problems.join("\n"));
      // The list of known settings in the message shows the right spelling.
      assert.ok(line.includes("sshPrivateKey"), line);
      assert.ok(!problems.join("\n").includes("s3cr3t"), "the value must not be echoed");
    });

    void it("reads tags from JSON and refuses anything but a map of strings", () => {
      assert.deepStrictEqual(accepted({ tags: '{"team":"messaging","env":"dev"}' }).tags, {
        team: "messaging",
        env: "dev",
      });
      for (const bad of ['["a"]', '{"a":1}', "team=messaging", "null"]) {
        assertRefused({ tags: bad }, "tags", bad, "a map of string tags");
      }
    });

    void it("refuses a non-http artifact URL and strips a trailing slash from a good one", () => {
      assertRefused(
        { artifactBaseUrl: "ftp://mirror/dist" },
        "artifactBaseUrl",
        "ftp://mirror/dist",
        "http(s) URL",
      );
      assert.equal(
        accepted({ artifactBaseUrl: "https://mirror.example/dist/" }).artifactBaseUrl,
        "https://mirror.example/dist",
      );
    });
  });

  void it("reports several bad values in one error", () => {
    const raw = {
      nodeCount: "4",
      vpcCidr: "10.0.0.1/16",
      instanceType: "t3.micro",
      openwirePort: "80",
      zookeeperVersion: "3.7.2",
    };
    const problems = problemsOf(raw);
    for (const [key, value] of Object.entries(raw)) {
      assert.ok(
        problems.some((p) => p.startsWith(`${key}: got "${value}"`)),
        `missing ${key} in:\n${problems.join("\n")}`,
      );
    }
    assert.equal(problems.length, Object.keys(raw).length);
  });

  void it("knows exactly the settings Pulumi.yaml documents, and Pulumi.yaml's defaults are the code's", () => {
    const project = YAML.parse(readFileSync(path.resolve(__dirname, "../../Pulumi.yaml"), "utf8")) as {
      config: Record<string, { type: string; default?: unknown; description?: string }>;
    };
    const declared = Object.keys(project.config);
    // sshPrivateKey is a secret: Pulumi would require a value for a typed key without a default, and a secret
    // has no plain-text default, so it is read but not declared.
    assert.deepStrictEqual([...declared].sort(), SETTING_NAMES.filter((k) => k !== "sshPrivateKey").sort());
    const raw: Record<string, string> = {};
    for (const [key, spec] of Object.entries(project.config)) {
      assert.ok(spec.default !== undefined, `${key} needs a default, or Pulumi makes it required`);
      assert.ok((spec.description ?? "").length > 20, `${key} needs a description`);
      // What the Pulumi engine hands the program: strings as they are, everything else as JSON.
      raw[key] = typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default);
    }
    assert.deepStrictEqual(parseSettings(raw), parseSettings({}));
    assert.deepStrictEqual(
      parseSettings({ ...raw, haMode: "shared-kahadb" }),
      parseSettings({ haMode: "shared-kahadb" }),
    );
  });
});
