// Certificates for tests, made on the spot with openssl the way components/certificates.ts has @pulumi/tls make
// them (lib/tls.ts: ECDSA P-256, a CA, one server certificate per node naming its addresses, one client
// certificate), and the client-side stores the README tells users to build from the stack's outputs.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { NodeCertificate } from "../../lib/facts";
import { subjectAlternativeNames } from "../../lib/tls";

export interface TestPki {
  readonly caCertificate: string;
  readonly caKey: string;
  /** Each node's certificate chain (its certificate, then the CA's) and key, as the stack hands them over. */
  readonly nodes: readonly NodeCertificate[];
  /** What the stack outputs as clientCertificate and clientKey. */
  readonly client: { readonly certificate: string; readonly key: string };
}

const openssl = (dir: string, ...args: string[]) =>
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });

function newKey(dir: string, name: string): string {
  openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  return `${name}.key`;
}

/** Signs a certificate for `name` with the CA in `dir`, with the given extensions (openssl's x509v3 syntax). */
function signed(dir: string, name: string, subject: string, extensions: string[]): void {
  const key = newKey(dir, name);
  openssl(dir, "req", "-new", "-key", key, "-subj", subject, "-out", `${name}.csr`);
  writeFileSync(path.join(dir, `${name}.ext`), `${extensions.join("\n")}\n`);
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "30",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  );
}

/** How node certificates may be used: as servers, and (`bridgeClient`) as clients of the bridges between groups. */
export interface NodeCertificateUse {
  /** As components/certificates.ts with groups > 1: the brokers' bridges present them to the other groups. */
  readonly bridgeClient?: boolean;
}

/** A CA in `dir` (emptied first), a certificate per node for its addresses, and a client certificate. */
export function makeTestPki(
  dir: string,
  nodes: readonly { readonly index: number; readonly privateIp: string; readonly publicIp?: string }[],
  name = "e2e",
  use: NodeCertificateUse = {},
): TestPki {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  newKey(dir, "ca");
  openssl(
    dir,
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    `/O=activemq-ha/CN=${name} ActiveMQ CA`,
    "-days",
    "30",
    "-sha256",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    "ca.crt",
  );
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  const ca = read("ca.crt");
  const nodeCertificates = issueNodeCertificates(dir, nodes, name, use);
  signed(dir, "client", `/O=activemq-ha/CN=${name}-client`, [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=clientAuth",
  ]);
  return {
    caCertificate: ca,
    caKey: read("ca.key"),
    nodes: nodeCertificates,
    client: { certificate: read("client.crt"), key: read("client.key") },
  };
}

/**
 * Server certificates for `nodes`, signed by the CA in `dir` (made by makeTestPki): each names its addresses, as
 * the stack's do. Called again, it issues new certificates and keys under the same CA, as a renewal does.
 */
export function issueNodeCertificates(
  dir: string,
  nodes: readonly { readonly index: number; readonly privateIp: string; readonly publicIp?: string }[],
  name: string,
  use: NodeCertificateUse = {},
): NodeCertificate[] {
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  const ca = read("ca.crt");
  return nodes.map((node) => {
    const san = subjectAlternativeNames(node);
    const names = [...san.ipAddresses.map((ip) => `IP:${ip}`), ...san.dnsNames.map((d) => `DNS:${d}`)];
    const id = `node-${node.index}`;
    signed(dir, id, `/O=activemq-ha/CN=${name}-${id}`, [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${use.bridgeClient ? "serverAuth,clientAuth" : "serverAuth"}`,
      `subjectAltName=${names.join(",")}`,
    ]);
    return {
      index: node.index,
      certificate: `${read(`${id}.crt`).trimEnd()}\n${ca}`,
      privateKey: read(`${id}.key`),
    };
  });
}

/** The JVM options that make a Java client trust `caCertificate` and, when given, present `client`. */
export interface JavaClientTls {
  readonly jvmOptions: readonly string[];
}

/**
 * A Java client's trust store (and key store), built in `dir` with the very commands the README gives users for the
 * stack's outputs: keytool for the CA, openssl for the client's key and certificate.
 */
export function javaClientTls(
  dir: string,
  caCertificate: string,
  client?: { readonly certificate: string; readonly key: string },
): JavaClientTls {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = "changeit-e2e";
  writeFileSync(path.join(dir, "ca.pem"), caCertificate);
  const run = (command: string, args: string[]) =>
    execFileSync(command, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  run("keytool", [
    "-importcert",
    "-noprompt",
    "-alias",
    "activemq-ca",
    "-file",
    "ca.pem",
    "-keystore",
    "truststore.p12",
    "-storetype",
    "PKCS12",
    "-storepass",
    password,
  ]);
  const options = [
    `-Djavax.net.ssl.trustStore=${path.join(dir, "truststore.p12")}`,
    `-Djavax.net.ssl.trustStorePassword=${password}`,
    "-Djavax.net.ssl.trustStoreType=PKCS12",
  ];
  if (client) {
    writeFileSync(path.join(dir, "client.crt"), client.certificate);
    writeFileSync(path.join(dir, "client.key"), client.key, { mode: 0o600 });
    run("openssl", [
      "pkcs12",
      "-export",
      "-in",
      "client.crt",
      "-inkey",
      "client.key",
      "-name",
      "activemq-client",
      "-out",
      "client.p12",
      "-passout",
      `pass:${password}`,
    ]);
    options.push(
      `-Djavax.net.ssl.keyStore=${path.join(dir, "client.p12")}`,
      `-Djavax.net.ssl.keyStorePassword=${password}`,
      "-Djavax.net.ssl.keyStoreType=PKCS12",
    );
  }
  return { jvmOptions: options };
}
