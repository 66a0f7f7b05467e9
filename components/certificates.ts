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
  /** The private key of the user's CA (tlsCaKey), when tls.caCertificate is given without node certificates. */
  readonly caKey?: pulumi.Input<string>;
}

/** A CA that signs the nodes' certificates: its certificate and its private key (secret). */
export interface SigningCa {
  readonly certificate: pulumi.Output<string>;
  readonly key: pulumi.Output<string>;
}

/**
 * The stack's TLS trust, shared by every HA group: the CA (the stack's own unless the user brings one, or the one that
 * issued brought node certificates), and, when brokers ask for client certificates and the user brings no client CA,
 * one client certificate signed by the same CA. Each group's node certificates come from GroupCertificates.
 */
export class ClusterCertificates extends pulumi.ComponentResource {
  /** PEM: what clients trust. */
  public readonly caCertificate: pulumi.Output<string>;
  /** The CA that signs node certificates; absent when the user brings the node certificates. */
  public readonly signingCa?: SigningCa;
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

    if (t.nodeCertificates !== undefined) {
      // The user's node certificates (GroupCertificates checks them): nothing to make, nothing to renew.
      const ca = t.caCertificate;
      if (ca === undefined) {
        throw new Error("tlsNodeCertificates is set but tlsCaCertificate is not");
      }
      this.caCertificate = pulumi.output(ca);
      this.clientCaCertificates = pulumi.output(
        t.clientCertificates === "off" ? "" : (t.clientCaCertificate ?? ca),
      );
      this.registerOutputs({ caCertificate: this.caCertificate });
      return;
    }

    let ca: SigningCa;
    if (t.caCertificate !== undefined) {
      if (args.caKey === undefined) {
        throw new Error("tlsCaCertificate is set but tlsCaKey is not");
      }
      ca = { certificate: pulumi.output(t.caCertificate), key: pulumi.secret(args.caKey) };
    } else {
      const caKey = new tls.PrivateKey(`${name}-ca`, { ...CERTIFICATE_KEY }, parent);
      const caCert = new tls.SelfSignedCert(
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
      ca = { certificate: caCert.certPem, key: pulumi.secret(caKey.privateKeyPem) };
    }
    this.signingCa = ca;
    this.caCertificate = ca.certificate;

    if (t.clientCertificates === "off") {
      this.clientCaCertificates = pulumi.output("");
    } else if (t.clientCaCertificate !== undefined) {
      this.clientCaCertificates = pulumi.output(t.clientCaCertificate);
    } else {
      this.client = signCertificate(
        `${name}-client-tls`,
        `${name}-client`,
        { ipAddresses: [], dnsNames: [] },
        ["client_auth"],
        ca,
        t,
        parent,
      );
      this.clientCaCertificates = ca.certificate;
    }

    this.registerOutputs({ caCertificate: this.caCertificate });
  }
}

/** One key, request and CA-signed certificate, renewed by `pulumi up` within tlsRenewBeforeDays of its end. */
function signCertificate(
  resourceName: string,
  commonName: string,
  names: pulumi.Input<{ ipAddresses: string[]; dnsNames: string[] }>,
  uses: readonly ("server_auth" | "client_auth")[],
  ca: SigningCa,
  t: TlsSettings,
  opts: pulumi.CustomResourceOptions,
): { certificate: pulumi.Output<string>; key: pulumi.Output<string> } {
  const key = new tls.PrivateKey(resourceName, { ...CERTIFICATE_KEY }, opts);
  const request = new tls.CertRequest(
    resourceName,
    {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName, organization: "activemq-ha" },
      ipAddresses: pulumi.output(names).apply((n) => n.ipAddresses),
      dnsNames: pulumi.output(names).apply((n) => n.dnsNames),
    },
    opts,
  );
  const cert = new tls.LocallySignedCert(
    resourceName,
    {
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: ca.key,
      caCertPem: ca.certificate,
      validityPeriodHours: t.certificateValidityDays * 24,
      earlyRenewalHours: t.renewBeforeDays * 24,
      allowedUses: ["digital_signature", "key_encipherment", ...uses],
    },
    opts,
  );
  return { certificate: cert.certPem, key: pulumi.secret(key.privateKeyPem) };
}

export interface GroupCertificatesArgs {
  /** Validated TLS settings (lib/tls.ts). */
  readonly tls: TlsSettings;
  readonly nodes: readonly CertificateNode[];
  /** The cluster's CA (ClusterCertificates): signs the nodes' certificates unless the user brings them. */
  readonly ca: ClusterCertificates;
  /** The keys of the user's node certificates (tlsNodeKeys: a JSON list), when tls.nodeCertificates is given. */
  readonly nodeKeys?: pulumi.Input<string>;
  /**
   * With several groups a broker's certificate is also its bridge's client certificate to the other groups, so it
   * may serve for client authentication too.
   */
  readonly bridgeClient: boolean;
  /** Group 1 of a stack made before groups existed: where its certificates were (they keep their URNs). */
  readonly formerParent?: pulumi.Resource;
}

/**
 * One HA group's node certificates. Brought node certificates (tlsNodeCertificates) are used as they are;
 * otherwise one certificate per node, signed by the cluster's CA, whose names are the node's addresses. A
 * certificate within tlsRenewBeforeDays of its end is replaced by the next `pulumi up`, and the provisioning rolls
 * the new one out node by node, the master last.
 */
export class GroupCertificates extends pulumi.ComponentResource {
  /** Every node's certificate chain and key (secret). */
  public readonly nodeCertificates: pulumi.Output<NodeCertificate[]>;

  constructor(name: string, args: GroupCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:tls:GroupCertificates", name, {}, opts);
    const t = args.tls;
    const ca = args.ca.signingCa;
    if (ca === undefined) {
      this.nodeCertificates = broughtNodeCertificates(t, args.nodes, args.nodeKeys);
      this.registerOutputs({});
      return;
    }
    const opts_: pulumi.CustomResourceOptions = {
      parent: this,
      ...(args.formerParent ? { aliases: [{ parent: args.formerParent }] } : {}),
    };
    const uses = args.bridgeClient ? (["server_auth", "client_auth"] as const) : (["server_auth"] as const);
    const nodes = args.nodes.map((node) => {
      const names = pulumi
        .all([node.privateIp, node.publicIp, node.dnsNames])
        .apply(([privateIp, publicIp, dnsNames]) =>
          subjectAlternativeNames({ privateIp, publicIp, dnsNames }),
        );
      const nodeName = `${name}-node-${node.index}`;
      const { certificate, key } = signCertificate(`${nodeName}-tls`, nodeName, names, uses, ca, t, opts_);
      return pulumi.all([certificate, ca.certificate, key]).apply(([cert, caPem, privateKey]) => ({
        index: node.index,
        certificate: `${cert.trimEnd()}\n${caPem.trimEnd()}\n`,
        privateKey,
      }));
    });
    this.nodeCertificates = pulumi.secret(pulumi.all(nodes));
    this.registerOutputs({});
  }
}

/** The user's node certificates with the CA that issued them, once each is seen to name its node's addresses. */
function broughtNodeCertificates(
  t: TlsSettings,
  nodes: readonly CertificateNode[],
  nodeKeys: pulumi.Input<string> | undefined,
): pulumi.Output<NodeCertificate[]> {
  const brought = t.nodeCertificates;
  const ca = t.caCertificate;
  if (brought === undefined || nodeKeys === undefined || ca === undefined) {
    throw new Error("tlsNodeCertificates is set but tlsNodeKeys or tlsCaCertificate is not");
  }
  const keys = pulumi.secret(nodeKeys).apply((text) => JSON.parse(text) as string[]);
  return pulumi.secret(
    pulumi.all([keys, ...nodes.map((n) => pulumi.all([n.privateIp, n.publicIp]))]).apply(([k, ...ips]) =>
      nodes.map((node, i) => {
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
}
