// TLS on the client port: which ports clients reach, the broker's TLS connector and SSL context, and the
// certificates' policy (algorithm, lifetime, names). Pure: components/certificates.ts makes the certificates,
// lib/render/activemq.ts renders the broker's side, the e2e's test/support/certificates.ts mirrors the policy.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { ACTIVEMQ_TLS } from "./layout";

/** What clients connect with: TLS only (the default), both (while clients move to TLS), or plain TCP only. */
export type ClientTransport = "tls" | "tls+tcp" | "tcp";
export const CLIENT_TRANSPORTS: readonly ClientTransport[] = ["tls", "tls+tcp", "tcp"];

/** Whether the brokers ask clients for a certificate signed by a trusted client CA (mutual TLS). */
export type ClientCertificates = "off" | "optional" | "required";
export const CLIENT_CERTIFICATE_MODES: readonly ClientCertificates[] = ["off", "optional", "required"];

export interface TlsSettings {
  readonly transport: ClientTransport;
  readonly clientCertificates: ClientCertificates;
  /** The user's CA (PEM), which signs the brokers' certificates with the secret tlsCaKey; else the stack's own. */
  readonly caCertificate?: string;
  /**
   * The user's CA for client certificates (PEM, one or more). With it the stack makes no client certificate;
   * without it the brokers trust client certificates of the CA that signs their own.
   */
  readonly clientCaCertificate?: string;
  /**
   * The user's certificate chain for each node (PEM, node order), issued by caCertificate, with their keys in the
   * secret tlsNodeKeys. With them the stack makes no certificate and renews none.
   */
  readonly nodeCertificates?: readonly string[];
  /** Lifetime of a broker's (and the client's) certificate. */
  readonly certificateValidityDays: number;
  /** A certificate this close to its end is renewed by the next `pulumi up`, node by node. */
  readonly renewBeforeDays: number;
}

/** The settings the transport follows (StackSettings has them). */
export interface TransportSettings {
  readonly ports: { readonly openwire: number; readonly openwireTls: number };
  readonly tls: TlsSettings;
  /** HA groups: with more than one, brokers dial each other's client port (lib/render/network.ts). */
  readonly groups: number;
}

export const tlsOn = (s: TransportSettings) => s.tls.transport !== "tcp";
export const tcpOn = (s: TransportSettings) => s.tls.transport !== "tls";

/**
 * Whether the broker has a trust store: to check client certificates, and with several groups to check the
 * certificate of the group its bridge dials (without one the JVM's default CAs would be asked, and refuse ours).
 */
export const trustStoreOn = (s: TransportSettings) =>
  tlsOn(s) && (s.tls.clientCertificates !== "off" || s.groups > 1);

/** The client ports that are on, TLS first. */
export function clientPorts(
  s: TransportSettings,
): { readonly scheme: "ssl" | "tcp"; readonly port: number }[] {
  return [
    ...(tlsOn(s) ? [{ scheme: "ssl" as const, port: s.ports.openwireTls }] : []),
    ...(tcpOn(s) ? [{ scheme: "tcp" as const, port: s.ports.openwire }] : []),
  ];
}

/**
 * The port only a master listens on, which the host scripts and gates probe to tell a broker's role: the TLS port
 * when TLS is on (a bare TCP connect to it is enough), else the plain one.
 */
export function masterPort(s: TransportSettings): number {
  return tlsOn(s) ? s.ports.openwireTls : s.ports.openwire;
}

/** TLS 1.2 and 1.3 only: JDK 17 still accepts 1.0 and 1.1 when they are asked for, and nothing here needs them. */
export const TLS_PROTOCOLS = ["TLSv1.3", "TLSv1.2"] as const;

/**
 * Forward-secret AEAD suites only, ECDSA and RSA keys both (a brought certificate may be either): the TLS 1.3
 * suites and ECDHE with AES-GCM or ChaCha20-Poly1305 for 1.2, as in Mozilla's "intermediate" profile. The JDK
 * skips a named suite it lacks, and refuses to start the connector only when none is left.
 */
export const TLS_CIPHER_SUITES = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
] as const;

/** The options both connectors share: a bound on connections and on one frame's size. */
const CONNECTOR_LIMITS = ["maximumConnections=1000", "wireFormat.maxFrameSize=104857600"];
/** A connector URI's query, as it stands in an XML attribute. */
const query = (options: readonly string[]) => options.join("&amp;");

/**
 * The broker's transport connectors: OpenWire only (the other protocols carry advisories 5.16.x does not fix).
 * On the TLS connector `transport.*` options reach the server socket (TcpTransportServer.configureServerSocket in
 * 5.16.8): the protocols and suites, and needClientAuth or wantClientAuth. The plain connector's line is the one
 * rendered before TLS existed, so a stack that keeps clientTransport tcp keeps its activemq.xml.
 *
 * With several groups the connector the bridges dial (the master port) allows link stealing (AMQ-8060): when another
 * group's master dies silently, the bridge its successor opens carries the same client ID as the dead one, which
 * this broker still holds until it drops the dead connection; without stealing the new bridge is refused
 * (`InvalidClientIDException … already connected`), and in the box the groups stopped delivering to each other for
 * more than a minute. It is an option of the URI: the server socket reads it (TcpTransportFactory.doBind sets the
 * URI's options on TcpTransportServer, whose flag ConnectionContext asks); the `<transportConnector>` attribute of
 * the same name is kept by TransportConnector and read by nothing, in 5.16.8 and 5.17.2 alike. Clients get the same:
 * a reconnecting client with a fixed client ID takes over the connection a dead one left.
 */
export function renderTransportConnectors(s: TransportSettings): string {
  const connectors: string[] = [];
  const stealing = (port: number) =>
    s.groups > 1 && port === masterPort(s) ? ["allowLinkStealing=true"] : [];
  if (tlsOn(s)) {
    const clientAuth =
      s.tls.clientCertificates === "required"
        ? ["transport.needClientAuth=true"]
        : s.tls.clientCertificates === "optional"
          ? ["transport.wantClientAuth=true"]
          : [];
    const options = query([
      ...CONNECTOR_LIMITS,
      `transport.enabledProtocols=${TLS_PROTOCOLS.join(",")}`,
      `transport.enabledCipherSuites=${TLS_CIPHER_SUITES.join(",")}`,
      ...clientAuth,
      ...stealing(s.ports.openwireTls),
    ]);
    connectors.push(
      `      <transportConnector name="openwire-tls" uri="ssl://0.0.0.0:${s.ports.openwireTls}?${options}"/>\n`,
    );
  }
  if (tcpOn(s)) {
    connectors.push(
      `      <transportConnector name="openwire" uri="tcp://0.0.0.0:${s.ports.openwire}?${query([...CONNECTOR_LIMITS, ...stealing(s.ports.openwire)])}"/>\n`,
    );
  }
  return `    <transportConnectors>\n${connectors.join("")}    </transportConnectors>\n`;
}

/**
 * The broker's SSL context: its key and certificate, and with client certificates the CAs it trusts for them. The
 * stores are PKCS#12 files that activemq-configure.sh builds on the host from the PEM files the plan sends; their
 * password is read from credentials.properties. Empty when TLS is off.
 */
export function renderSslContext(s: TransportSettings): string {
  if (!tlsOn(s)) {
    return "";
  }
  const trust = !trustStoreOn(s)
    ? ""
    : `\n        trustStore="file:${ACTIVEMQ_TLS.trustStore}"` +
      `\n        trustStorePassword="\${activemq.keystorePassword}"\n        trustStoreType="PKCS12"`;
  return (
    `    <sslContext>\n      <sslContext\n` +
    `        keyStore="file:${ACTIVEMQ_TLS.keyStore}"\n` +
    `        keyStorePassword="\${activemq.keystorePassword}"\n        keyStoreType="PKCS12"${trust}/>\n` +
    `    </sslContext>\n`
  );
}

/** The certificates' key: ECDSA P-256, which every TLS 1.2 client has and which makes handshakes cheap. */
export const CERTIFICATE_KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;
/** The stack's CA lives 10 years and is never renewed by `pulumi up`: every client trusts it (README, TLS). */
export const CA_VALIDITY_HOURS = 10 * 365 * 24;

/** What a broker's certificate names: every address and DNS name a client may dial. */
export interface NodeNames {
  readonly privateIp: string;
  readonly publicIp?: string;
  readonly dnsNames?: readonly string[];
}

/** A broker certificate's subject alternative names (clients verify the address they dialled against them). */
export function subjectAlternativeNames(node: NodeNames): { ipAddresses: string[]; dnsNames: string[] } {
  const ipAddresses = [node.privateIp, ...(node.publicIp ? [node.publicIp] : [])];
  const dnsNames = (node.dnsNames ?? []).filter((name) => name !== "");
  return { ipAddresses: [...new Set(ipAddresses)], dnsNames: [...new Set(dnsNames)] };
}

/**
 * Why a brought node certificate cannot serve, or undefined when it can: its first certificate is a server
 * certificate (no CA) valid now, issued and signed by the CA (`caPem`'s first certificate), and `key` is its key.
 * Its names are checked once the node's addresses are known (components/certificates.ts).
 */
export function nodeCertificateProblem(
  pem: string,
  key: string,
  caPem: string,
  now: Date = new Date(),
): string | undefined {
  const [first] = pemCertificates(pem);
  const [ca] = pemCertificates(caPem);
  if (first === undefined || ca === undefined) {
    return "no PEM certificate (-----BEGIN CERTIFICATE-----) in it";
  }
  let cert: X509Certificate;
  let issuer: X509Certificate;
  try {
    cert = new X509Certificate(first);
    issuer = new X509Certificate(ca);
  } catch (e) {
    return `it does not parse (${(e as Error).message})`;
  }
  if (cert.ca) {
    return "it is a CA certificate, not a broker's";
  }
  const validity = validityProblem(cert, now);
  if (validity !== undefined) {
    return `it ${validity}`;
  }
  if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
    return "it is not issued by tlsCaCertificate";
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(key))) {
      return "its key in tlsNodeKeys is another certificate's";
    }
  } catch {
    return "its key in tlsNodeKeys is not a PEM private key";
  }
  return undefined;
}

/** The addresses a brought node certificate does not name (clients would refuse it for those). */
export function unnamedAddresses(pem: string, addresses: readonly string[]): string[] {
  const [first] = pemCertificates(pem);
  const cert = new X509Certificate(first as string);
  return addresses.filter((a) => cert.checkIP(a) === undefined);
}

/** "is valid only from … to …" when `now` is outside the certificate's validity, else undefined. */
function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  return new Date(cert.validTo) <= now || new Date(cert.validFrom) > now
    ? `is valid only from ${cert.validFrom} to ${cert.validTo}`
    : undefined;
}

/** The certificates found in a PEM text, each as its own PEM block. */
export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Why a PEM text cannot serve as a CA here, or undefined when it can: every block must parse as an X.509
 * certificate that is a CA and is valid now. `key`, when given, must be the first certificate's private key.
 */
export function caProblem(pem: string, key?: string, now: Date = new Date()): string | undefined {
  const blocks = pemCertificates(pem);
  if (blocks.length === 0) {
    return "no PEM certificate (-----BEGIN CERTIFICATE-----) in it";
  }
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (e) {
      return `certificate ${i + 1} does not parse (${(e as Error).message})`;
    }
    if (!cert.ca) {
      return `certificate ${i + 1} (${cert.subject.replace(/\n/g, ", ")}) is not a CA (basicConstraints CA:FALSE)`;
    }
    const validity = validityProblem(cert, now);
    if (validity !== undefined) {
      return `certificate ${i + 1} ${validity}`;
    }
  }
  if (key !== undefined) {
    try {
      if (!new X509Certificate(blocks[0] as string).checkPrivateKey(createPrivateKey(key))) {
        return "tlsCaKey is not the private key of the first certificate";
      }
    } catch {
      // The key's text is never repeated: it is a secret.
      return "tlsCaKey is not a PEM private key";
    }
  }
  return undefined;
}
