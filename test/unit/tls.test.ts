// lib/tls.ts and the TLS settings: ports per clientTransport, the rendered connector and SSL context, the
// certificates' names, and the checks on a brought CA (with real certificates made by openssl at test time).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { parseSettings, RawSettings, SettingsError, StackSettings } from "../../lib/settings";
import {
  caProblem,
  clientPorts,
  masterPort,
  pemCertificates,
  renderSslContext,
  renderTransportConnectors,
  subjectAlternativeNames,
  TLS_CIPHER_SUITES,
  unnamedAddresses,
} from "../../lib/tls";
import { makeTestPki, TestPki } from "../support/certificates";
import { requireTool } from "../support/tools";
import { attributesOf } from "./helpers";

const DIGESTS = { activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128) };
const settingsOf = (raw: RawSettings): StackSettings => parseSettings({ ...DIGESTS, ...raw });

function problemsOf(raw: RawSettings): string[] {
  try {
    settingsOf(raw);
  } catch (e) {
    if (e instanceof SettingsError) {
      return [...e.problems];
    }
    throw e;
  }
  return [];
}

/** The attributes of every transportConnector in the rendered text. */
function connectors(text: string): Record<string, string>[] {
  return [...text.matchAll(/<transportConnector\b([^>]*)\/>/g)].map((m) => attributesOf(m[1] as string));
}

void describe("lib/tls: client ports per clientTransport", () => {
  void it("tls (the default): only the TLS port, which is also the port a master is told by", () => {
    const s = settingsOf({});
    assert.deepEqual(clientPorts(s), [{ scheme: "ssl", port: 61617 }]);
    assert.equal(masterPort(s), 61617);
  });

  void it("tls+tcp: both, TLS first; tcp: the plain port alone", () => {
    const both = settingsOf({ clientTransport: "tls+tcp", openwirePort: "41616", openwireTlsPort: "41617" });
    assert.deepEqual(clientPorts(both), [
      { scheme: "ssl", port: 41617 },
      { scheme: "tcp", port: 41616 },
    ]);
    assert.equal(masterPort(both), 41617);
    const plain = settingsOf({ clientTransport: "tcp" });
    assert.deepEqual(clientPorts(plain), [{ scheme: "tcp", port: 61616 }]);
    assert.equal(masterPort(plain), 61616);
  });
});

void describe("lib/tls: the broker's connectors and SSL context", () => {
  void it("the TLS connector: TLS 1.2 and 1.3, forward-secret AEAD suites, client authentication per setting", () => {
    for (const [mode, auth] of [
      ["required", "transport.needClientAuth=true"],
      ["optional", "transport.wantClientAuth=true"],
      ["off", undefined],
    ] as const) {
      const [tls, ...rest] = connectors(renderTransportConnectors(settingsOf({ clientCertificates: mode })));
      assert.equal(rest.length, 0);
      assert.equal(tls?.name, "openwire-tls");
      const [base, query] = (tls?.uri as string).split("?") as [string, string];
      assert.equal(base, "ssl://0.0.0.0:61617");
      const options = query.split("&amp;");
      assert.deepEqual(options.slice(0, 4), [
        "maximumConnections=1000",
        "wireFormat.maxFrameSize=104857600",
        "transport.enabledProtocols=TLSv1.3,TLSv1.2",
        `transport.enabledCipherSuites=${TLS_CIPHER_SUITES.join(",")}`,
      ]);
      assert.deepEqual(options.slice(4), auth ? [auth] : []);
    }
    for (const suite of TLS_CIPHER_SUITES) {
      assert.match(
        suite,
        /^TLS_(AES|CHACHA20)|^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/,
      );
    }
  });

  void it("tls+tcp renders both connectors; tcp only the plain one and no SSL context", () => {
    assert.deepEqual(
      connectors(renderTransportConnectors(settingsOf({ clientTransport: "tls+tcp" }))).map((c) => c.name),
      ["openwire-tls", "openwire"],
    );
    const plain = settingsOf({ clientTransport: "tcp" });
    assert.deepEqual(
      connectors(renderTransportConnectors(plain)).map((c) => c.uri),
      ["tcp://0.0.0.0:61616?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600"],
    );
    assert.equal(renderSslContext(plain), "");
  });

  void it("with several groups the connector the bridges dial allows link stealing in its URI, and no other does", () => {
    // The URI option is what the server socket reads; a <transportConnector allowLinkStealing> attribute is not.
    const stealing = (raw: RawSettings) =>
      connectors(renderTransportConnectors(settingsOf(raw))).map((c) => [
        c.name,
        (c.uri as string).split("?")[1]?.split("&amp;").includes("allowLinkStealing=true"),
        c.allowLinkStealing,
      ]);
    assert.deepEqual(
      stealing({}),
      [["openwire-tls", false, undefined]],
      "one group: no bridges, nothing changes",
    );
    assert.deepEqual(stealing({ groups: "2" }), [["openwire-tls", true, undefined]]);
    assert.deepEqual(stealing({ groups: "3", clientTransport: "tls+tcp" }), [
      ["openwire-tls", true, undefined],
      ["openwire", false, undefined],
    ]);
    assert.deepEqual(stealing({ groups: "2", clientTransport: "tcp" }), [["openwire", true, undefined]]);
  });

  void it("the SSL context reads the stores the host builds, and a trust store only with client certificates", () => {
    const attrs = (raw: RawSettings) => {
      const m = /<sslContext\s+([^>]*)\/>/.exec(renderSslContext(settingsOf(raw)));
      assert.ok(m, "no nested sslContext");
      return attributesOf(m[1] as string);
    };
    assert.deepEqual(attrs({}), {
      keyStore: "file:/etc/activemq/tls/broker.p12",
      keyStorePassword: "${activemq.keystorePassword}",
      keyStoreType: "PKCS12",
      trustStore: "file:/etc/activemq/tls/client-trust.p12",
      trustStorePassword: "${activemq.keystorePassword}",
      trustStoreType: "PKCS12",
    });
    assert.deepEqual(Object.keys(attrs({ haMode: "shared-kahadb" })), [
      "keyStore",
      "keyStorePassword",
      "keyStoreType",
    ]);
  });
});

void describe("lib/tls subjectAlternativeNames", () => {
  void it("names the private address, the public one and the DNS names, each once, empty names dropped", () => {
    assert.deepEqual(
      subjectAlternativeNames({
        privateIp: "10.0.0.11",
        publicIp: "203.0.113.1",
        dnsNames: ["ec2-203-0-113-1.compute.amazonaws.com", "", "ip-10-0-0-11.ec2.internal"],
      }),
      {
        ipAddresses: ["10.0.0.11", "203.0.113.1"],
        dnsNames: ["ec2-203-0-113-1.compute.amazonaws.com", "ip-10-0-0-11.ec2.internal"],
      },
    );
  });

  void it("always names every address it is given, and nothing else (property)", () => {
    const ip = fc.ipV4();
    fc.assert(
      fc.property(
        ip,
        fc.option(ip, { nil: undefined }),
        fc.array(fc.domain(), { maxLength: 3 }),
        (p, q, dns) => {
          const san = subjectAlternativeNames({ privateIp: p, ...(q ? { publicIp: q } : {}), dnsNames: dns });
          assert.deepEqual(new Set(san.ipAddresses), new Set([p, ...(q ? [q] : [])]));
          assert.deepEqual(new Set(san.dnsNames), new Set(dns));
        },
      ),
    );
  });
});

void describe(
  "lib/tls caProblem and the TLS settings, with real certificates",
  { skip: requireTool("openssl", "openssl") },
  () => {
    let dir = "";
    let pki: TestPki;
    let other: TestPki;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "amq-tls-"));
      pki = makeTestPki(path.join(dir, "a"), [{ index: 1, privateIp: "10.0.0.11" }]);
      other = makeTestPki(path.join(dir, "b"), [{ index: 1, privateIp: "10.0.0.11" }]);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    void it("accepts a CA with its key, and a bundle of CAs", () => {
      assert.equal(caProblem(pki.caCertificate, pki.caKey), undefined);
      assert.equal(caProblem(`${pki.caCertificate}${other.caCertificate}`), undefined);
      assert.equal(pemCertificates(`${pki.caCertificate}${other.caCertificate}`).length, 2);
    });

    void it("refuses a leaf certificate, another CA's key, a CA that expired, and text that is no certificate", () => {
      const leaf = pemCertificates(pki.nodes[0]?.certificate as string)[0] as string;
      assert.match(caProblem(leaf) ?? "", /certificate 1 \(.*node-1.*\) is not a CA/);
      assert.equal(
        caProblem(pki.caCertificate, other.caKey),
        "tlsCaKey is not the private key of the first certificate",
      );
      assert.equal(caProblem(pki.caCertificate, "not a key"), "tlsCaKey is not a PEM private key");
      assert.match(
        caProblem(pki.caCertificate, pki.caKey, new Date(Date.now() + 60 * 86400_000)) ?? "",
        /valid only from/,
      );
      assert.equal(caProblem("hello"), "no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    });

    void it("the settings take a brought CA with its key, and name the setting when it is wrong, never the key", () => {
      const s = settingsOf({ tlsCaCertificate: pki.caCertificate, tlsCaKey: pki.caKey });
      assert.equal(s.tls.caCertificate, pki.caCertificate);
      assert.ok(
        !JSON.stringify(s).includes(pki.caKey.split("\n")[1] as string),
        "the CA key stays out of the settings",
      );
      const wrongKey = problemsOf({ tlsCaCertificate: pki.caCertificate, tlsCaKey: other.caKey });
      assert.equal(wrongKey.length, 1, wrongKey.join("\n"));
      assert.match(
        wrongKey[0] as string,
        /^tlsCaCertificate: got "-----BEGIN CERTIFICATE-----.*"; allowed: a PEM CA certificate valid now with its key: tlsCaKey is not the private key/s,
      );
      assert.ok(!(wrongKey[0] as string).includes(other.caKey.split("\n")[1] as string));
      assert.deepEqual(problemsOf({ tlsCaCertificate: pki.caCertificate }), [
        'tlsCaCertificate/tlsCaKey: got "only tlsCaCertificate set"; allowed: both (your CA\'s certificate, and its key ' +
          "with `pulumi config set --secret tlsCaKey < ca.key`) or neither (the stack makes its own CA)",
      ]);
    });

    void it("a client CA needs client certificates on, and must be a CA", () => {
      assert.equal(
        settingsOf({ clientCaCertificate: other.caCertificate }).tls.clientCaCertificate,
        other.caCertificate,
      );
      const off = problemsOf({ clientCaCertificate: other.caCertificate, clientCertificates: "off" });
      assert.match(off[0] as string, /^clientCaCertificate: .*clientCertificates is off$/s);
      const leaf = readFileSync(path.join(dir, "a", "client.crt"), "utf8");
      assert.match(problemsOf({ clientCaCertificate: leaf })[0] as string, /is not a CA/);
    });
  },
);

void describe(
  "brought node certificates (tlsNodeCertificates, tlsNodeKeys)",
  { skip: requireTool("openssl", "openssl") },
  () => {
    let dir = "";
    let pki: TestPki;
    let other: TestPki;
    const NODES = [1, 2, 3].map((index) => ({
      index,
      privateIp: `10.0.${(index - 1) * 64}.${10 + index}`,
      publicIp: `203.0.113.${index}`,
    }));
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "amq-node-certs-"));
      pki = makeTestPki(path.join(dir, "a"), NODES);
      other = makeTestPki(path.join(dir, "b"), NODES);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const leaf = (p: TestPki, i: number) => pemCertificates(p.nodes[i]?.certificate as string)[0] as string;
    const raw = (certs: string[], keys: string[], extra: RawSettings = {}): RawSettings => ({
      tlsCaCertificate: pki.caCertificate,
      tlsNodeCertificates: JSON.stringify(certs),
      tlsNodeKeys: JSON.stringify(keys),
      ...extra,
    });

    void it("takes one certificate and key per node, issued by tlsCaCertificate, given without its key", () => {
      const s = settingsOf(
        raw(
          [0, 1, 2].map((i) => leaf(pki, i)),
          pki.nodes.map((n) => n.privateKey),
        ),
      );
      assert.deepEqual(
        s.tls.nodeCertificates,
        [0, 1, 2].map((i) => `${leaf(pki, i)}\n`),
      );
      assert.ok(!JSON.stringify(s).includes("PRIVATE KEY"), "no key in the settings");
    });

    void it("names the node whose certificate is wrong, and never a key", () => {
      const keys = pki.nodes.map((n) => n.privateKey);
      const swapped = problemsOf(
        raw([leaf(pki, 0), leaf(pki, 1), leaf(pki, 2)], [keys[0], keys[2], keys[1]] as string[]),
      );
      assert.deepEqual(
        swapped.map((p) => p.replace(/got ".*?"; /s, "got …; ")),
        [
          "tlsNodeCertificates[1]: got …; allowed: node 2's certificate: its key in tlsNodeKeys is another certificate's",
          "tlsNodeCertificates[2]: got …; allowed: node 3's certificate: its key in tlsNodeKeys is another certificate's",
        ],
      );
      const foreign = problemsOf(
        raw(
          [leaf(other, 0), leaf(pki, 1), leaf(pki, 2)],
          [other.nodes[0]?.privateKey as string, keys[1] as string, keys[2] as string],
        ),
      );
      assert.match(
        foreign.join("\n"),
        /^tlsNodeCertificates\[0\]: .*node 1's certificate: it is not issued by tlsCaCertificate$/s,
      );
      const ca = problemsOf(
        raw(
          [pki.caCertificate, leaf(pki, 1), leaf(pki, 2)],
          [pki.caKey, keys[1] as string, keys[2] as string],
        ),
      );
      assert.match(ca.join("\n"), /node 1's certificate: it is a CA certificate, not a broker's/);
      for (const p of [...swapped, ...foreign, ...ca]) {
        for (const key of [...keys, pki.caKey, other.nodes[0]?.privateKey as string]) {
          assert.ok(!p.includes(key.split("\n")[1] as string), "a key is repeated");
        }
      }
    });

    void it("refuses a list of the wrong length, certificates without keys, and a CA key beside them", () => {
      const certs = [0, 1, 2].map((i) => leaf(pki, i));
      const keys = pki.nodes.map((n) => n.privateKey);
      assert.match(
        problemsOf(raw(certs.slice(0, 2), keys.slice(0, 2)))[0] as string,
        /^tlsNodeCertificates\/tlsNodeKeys: got "2 entries \/ 2 entries"; allowed: .*a JSON list of 3 PEM texts/,
      );
      assert.match(
        problemsOf({
          tlsCaCertificate: pki.caCertificate,
          tlsNodeCertificates: JSON.stringify(certs),
        })[0] as string,
        /^tlsNodeCertificates\/tlsNodeKeys: got "3 entries \/ unset"/,
      );
      assert.deepEqual(
        problemsOf(raw(certs, keys, { tlsCaKey: pki.caKey })).map((p) => p.split(";")[0]),
        ['tlsNodeCertificates: got "given with tlsCaKey"'],
      );
      assert.deepEqual(
        settingsOf({ tlsNodeCertificates: "[]" }).tls.nodeCertificates,
        undefined,
        "an empty list is unset",
      );
    });

    void it("tells which of a node's addresses its certificate does not name", () => {
      assert.deepEqual(unnamedAddresses(leaf(pki, 0), ["10.0.0.11", "203.0.113.1"]), []);
      assert.deepEqual(unnamedAddresses(leaf(pki, 0), ["10.0.64.12", "203.0.113.1"]), ["10.0.64.12"]);
    });
  },
);

void describe("lib/settings: TLS defaults and rules", () => {
  void it("mutual TLS by default where the broker is 5.16.x, TLS with passwords in shared-kahadb", () => {
    assert.equal(settingsOf({}).tls.clientCertificates, "required");
    assert.equal(settingsOf({ haMode: "shared-kahadb" }).tls.clientCertificates, "off");
    assert.equal(settingsOf({ clientTransport: "tcp" }).tls.clientCertificates, "off");
    assert.equal(settingsOf({ clientTransport: "tls+tcp" }).tls.clientCertificates, "required");
  });

  void it("refuses client certificates without TLS, unknown values, a port clash and renewal past half the life", () => {
    assert.deepEqual(problemsOf({ clientTransport: "tcp", clientCertificates: "required" }), [
      'clientCertificates: got "required"; allowed: off when clientTransport is tcp (client certificates need ' +
        "TLS: set clientTransport to tls or tls+tcp)",
    ]);
    assert.deepEqual(problemsOf({ clientTransport: "ssl" }), [
      'clientTransport: got "ssl"; allowed: one of tls, tls+tcp, tcp',
    ]);
    assert.deepEqual(problemsOf({ clientCertificates: "yes" }), [
      'clientCertificates: got "yes"; allowed: one of off, optional, required',
    ]);
    assert.match(
      problemsOf({ openwireTlsPort: "61616" })[0] as string,
      /a port different from openwirePort \(61616\)/,
    );
    assert.deepEqual(problemsOf({ tlsCertificateValidityDays: "60", tlsRenewBeforeDays: "31" }), [
      'tlsRenewBeforeDays: got "31"; allowed: at most half of tlsCertificateValidityDays (60), or every update would renew',
    ]);
  });
});
