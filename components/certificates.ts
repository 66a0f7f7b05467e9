import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { NodeCertificate } from "../lib/facts";
import {
  CA_VALIDITY_HOURS,
  CERTIFICATE_KEY,
  subjectAlternativeNames,
  TlsSettings,
  unnamedAddresses,
} from "../lib/tls";

/** The names one node's certificate must carry. */
export interface CertificateNode {
  readonly index: number;
  readonly privateIp: pulumi.Input<string>;
  readonly publicIp: pulumi.Input<string>;
  /** The node's DNS names (public and private), "" where there is none. */
  readonly dnsNames: pulumi.Input<pulumi.Input<string>[]>;
}

export interface ClusterCertificatesArgs {
  /** Validated TLS settings (lib/tls.ts). */
  readonly tls: TlsSettings;
  readonly nodes: readonly CertificateNode[];
  /** The private key of the user's CA (tlsCaKey), when tls.caCertificate is given without node certificates. */
  readonly caKey?: pulumi.Input<string>;
  /** The keys of the user's node certificates (tlsNodeKeys: a JSON list), when tls.nodeCertificates is given. */
  readonly nodeKeys?: pulumi.Input<string>;
}

/**
 * The TLS identities of a group. Brought node certificates (tlsNodeCertificates) are used as they are, with the
 * CA that issued them; otherwise: the CA (the stack's own unless the user brings one), one server certificate per
 * node whose names are the node's addresses, and, when brokers ask for client certificates and the user brings no
 * client CA, one client certificate signed by the same CA. A certificate within tlsRenewBeforeDays of its end is
 * replaced by the next `pulumi up`, and the provisioning rolls the new one out node by node, the master last.
 */
export class ClusterCertificates extends pulumi.ComponentResource {
  /** PEM: what clients trust. */
  public readonly caCertificate: pulumi.Output<string>;
  /** Every node's certificate chain and key (secret). */
  public readonly nodeCertificates: pulumi.Output<NodeCertificate[]>;
  /** PEM: the CAs the brokers accept client certificates from; "" when clientCertificates is off. */
  public readonly clientCaCertificates: pulumi.Output<string>;
  /** The stack's client certificate and key (secret), when it makes one. */
  public readonly client?: {
    readonly certificate: pulumi.Output<string>;
    readonly key: pulumi.Output<string>;
  };

  constructor(name: string, args: ClusterCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:tls:ClusterCertificates", name, {}, opts);
    const parent = { parent: this };
    const t = args.tls;
    const hours = t.certificateValidityDays * 24;
    const earlyRenewalHours = t.renewBeforeDays * 24;

    const brought = t.nodeCertificates;
    if (brought !== undefined) {
      // The user's certificates: nothing to make, nothing to renew; their names are checked against the addresses.
      if (args.nodeKeys === undefined || t.caCertificate === undefined) {
        throw new Error("tlsNodeCertificates is set but tlsNodeKeys or tlsCaCertificate is not");
      }
      const ca = t.caCertificate;
      const keys = pulumi.secret(args.nodeKeys).apply((text) => JSON.parse(text) as string[]);
      this.nodeCertificates = pulumi.secret(
        pulumi
          .all([keys, ...args.nodes.map((n) => pulumi.all([n.privateIp, n.publicIp]))])
          .apply(([k, ...ips]) =>
            args.nodes.map((node, i) => {
              const certificate = brought[i] as string;
              const missing = unnamedAddresses(certificate, ips[i] as string[]);
              if (missing.length > 0) {
                throw new Error(
                  `tlsNodeCertificates[${i}]: node ${node.index}'s certificate does not name ${missing.join(", ")}; ` +
                    `allowed: a certificate whose subject alternative names include the node's private and public ` +
                    `addresses (pulumi stack output nodes), or no tlsNodeCertificates (the stack makes them)`,
                );
              }
              return {
                index: node.index,
                certificate: `${certificate.trimEnd()}\n${ca.trimEnd()}\n`,
                privateKey: k[i] as string,
              };
            }),
          ),
      );
      this.caCertificate = pulumi.output(ca);
      this.clientCaCertificates = pulumi.output(
        t.clientCertificates === "off" ? "" : (t.clientCaCertificate ?? ca),
      );
      this.registerOutputs({ caCertificate: this.caCertificate });
      return;
    }

    let caCertPem: pulumi.Output<string>;
    let caKeyPem: pulumi.Output<string>;
    if (t.caCertificate !== undefined) {
      if (args.caKey === undefined) {
        throw new Error("tlsCaCertificate is set but tlsCaKey is not");
      }
      caCertPem = pulumi.output(t.caCertificate);
      caKeyPem = pulumi.secret(args.caKey);
    } else {
      const caKey = new tls.PrivateKey(`${name}-ca`, { ...CERTIFICATE_KEY }, parent);
      const ca = new tls.SelfSignedCert(
        `${name}-ca`,
        {
          privateKeyPem: caKey.privateKeyPem,
          subject: { commonName: `${name} ActiveMQ CA`, organization: "activemq-ha" },
          isCaCertificate: true,
          validityPeriodHours: CA_VALIDITY_HOURS,
          allowedUses: ["cert_signing", "crl_signing"],
        },
        parent,
      );
      caCertPem = ca.certPem;
      caKeyPem = pulumi.secret(caKey.privateKeyPem);
    }

    const signed = (
      resourceName: string,
      commonName: string,
      names: pulumi.Input<{ ipAddresses: string[]; dnsNames: string[] }>,
      use: "server_auth" | "client_auth",
    ) => {
      const key = new tls.PrivateKey(resourceName, { ...CERTIFICATE_KEY }, parent);
      const request = new tls.CertRequest(
        resourceName,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName, organization: "activemq-ha" },
          ipAddresses: pulumi.output(names).apply((n) => n.ipAddresses),
          dnsNames: pulumi.output(names).apply((n) => n.dnsNames),
        },
        parent,
      );
      const cert = new tls.LocallySignedCert(
        resourceName,
        {
          certRequestPem: request.certRequestPem,
          caPrivateKeyPem: caKeyPem,
          caCertPem,
          validityPeriodHours: hours,
          earlyRenewalHours,
          allowedUses: ["digital_signature", "key_encipherment", use],
        },
        parent,
      );
      return { certificate: cert.certPem, key: pulumi.secret(key.privateKeyPem) };
    };

    const nodes = args.nodes.map((node) => {
      const names = pulumi
        .all([node.privateIp, node.publicIp, node.dnsNames])
        .apply(([privateIp, publicIp, dnsNames]) =>
          subjectAlternativeNames({ privateIp, publicIp, dnsNames }),
        );
      const nodeName = `${name}-node-${node.index}`;
      const { certificate, key } = signed(`${nodeName}-tls`, nodeName, names, "server_auth");
      return pulumi.all([certificate, caCertPem, key]).apply(([cert, ca, privateKey]) => ({
        index: node.index,
        certificate: `${cert.trimEnd()}\n${ca.trimEnd()}\n`,
        privateKey,
      }));
    });
    this.nodeCertificates = pulumi.secret(pulumi.all(nodes));
    this.caCertificate = caCertPem;

    if (t.clientCertificates === "off") {
      this.clientCaCertificates = pulumi.output("");
    } else if (t.clientCaCertificate !== undefined) {
      this.clientCaCertificates = pulumi.output(t.clientCaCertificate);
    } else {
      this.client = signed(
        `${name}-client-tls`,
        `${name}-client`,
        { ipAddresses: [], dnsNames: [] },
        "client_auth",
      );
      this.clientCaCertificates = caCertPem;
    }

    this.registerOutputs({ caCertificate: this.caCertificate });
  }
}
