// What the box checks of the client port's TLS, with node's own TLS client as a stranger would connect: who is let
// as far as the broker's first OpenWire frame, and who is refused before it.
import assert from "node:assert/strict";
import * as tls from "node:tls";
import { StackSettings } from "../../../lib/settings";
import { masterPort, tcpOn } from "../../../lib/tls";
import { TestPki } from "../../support/certificates";
import { boxPki, portOpen, strangerPki, theMaster } from "./cluster-box";
import { BoxCluster } from "./executor";

export type TlsAttempt =
  | { readonly reached: "openwire"; readonly protocol: string }
  | { readonly reached: "refused"; readonly error: string };

/**
 * Dials host:port over TLS with `options` and reports whether the broker's WireFormatInfo arrived (the broker
 * speaks first on a connection it accepts: its frame carries the magic "ActiveMQ") or why the connection ended.
 */
export function tlsAttempt(
  host: string,
  port: number,
  options: { ca: string; cert?: string; key?: string },
  timeoutMs = 10_000,
): Promise<TlsAttempt> {
  return new Promise((resolve) => {
    let answer = Buffer.alloc(0);
    const socket = tls.connect({ host, port, ...options });
    const done = (attempt: TlsAttempt) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(attempt);
    };
    const timer = setTimeout(() => done({ reached: "refused", error: "no answer" }), timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      if (answer.includes("ActiveMQ")) {
        done({ reached: "openwire", protocol: socket.getProtocol() ?? "?" });
      }
    });
    socket.once("error", (e: NodeJS.ErrnoException) =>
      done({ reached: "refused", error: e.code ?? e.message }),
    );
    socket.once("close", () => done({ reached: "refused", error: "closed before any OpenWire frame" }));
  });
}

/** What one policy check saw, for the run's summary. */
export interface TlsPolicySeen {
  readonly withStackCertificate: TlsAttempt;
  readonly withoutCertificate: TlsAttempt;
  readonly trustingAnotherCa: TlsAttempt;
  readonly plainTcpOpen: boolean;
}

/**
 * On the master (`address`): a client that trusts the stack's CA and, where the brokers ask for one, presents the
 * stack's client certificate reaches OpenWire (which also proves the certificate names the address dialled); one
 * that trusts another CA is refused; with clientCertificates required one without a certificate is refused; and
 * the plain port is closed unless clientTransport keeps it.
 */
export async function assertTlsPolicy(
  settings: StackSettings,
  address: string,
  pki: TestPki,
  otherCa: TestPki,
): Promise<TlsPolicySeen> {
  const port = settings.ports.openwireTls;
  const required = settings.tls.clientCertificates === "required";
  const withCert = { ca: pki.caCertificate, cert: pki.client.certificate, key: pki.client.key };
  const seen: TlsPolicySeen = {
    withStackCertificate: await tlsAttempt(address, port, withCert),
    withoutCertificate: await tlsAttempt(address, port, { ca: pki.caCertificate }),
    trustingAnotherCa: await tlsAttempt(address, port, { ...withCert, ca: otherCa.caCertificate }),
    plainTcpOpen: await portOpen(address, settings.ports.openwire),
  };
  assert.equal(seen.withStackCertificate.reached, "openwire", JSON.stringify(seen.withStackCertificate));
  assert.match(
    seen.withStackCertificate.reached === "openwire" ? seen.withStackCertificate.protocol : "",
    /^TLSv1\.[23]$/,
  );
  assert.equal(seen.trustingAnotherCa.reached, "refused", "a client that trusts another CA is refused");
  assert.equal(
    seen.withoutCertificate.reached,
    required ? "refused" : "openwire",
    `clientCertificates ${settings.tls.clientCertificates}: a client without a certificate`,
  );
  assert.equal(seen.plainTcpOpen, tcpOn(settings), `clientTransport ${settings.tls.transport}: plain TCP`);
  return seen;
}

/**
 * The TLS policy on the group's current master, with the box's CA and a stranger's (assertTlsPolicy). Returns the
 * figure line: the settings, the master and what each client met.
 */
export async function assertTlsOnMaster(cluster: BoxCluster, settings: StackSettings): Promise<string> {
  const info = cluster.info;
  const master = await theMaster(info, masterPort(settings));
  const seen = await assertTlsPolicy(settings, cluster.address(master), boxPki(info), strangerPki(info));
  return (
    `TLS (clientTransport ${settings.tls.transport}, clientCertificates ${settings.tls.clientCertificates}), ` +
    `master node ${master}: ${describeTlsPolicy(seen)}`
  );
}

/** One line per check, for the figures. */
export function describeTlsPolicy(seen: TlsPolicySeen): string {
  const show = (a: TlsAttempt) =>
    a.reached === "openwire" ? `served (${a.protocol})` : `refused (${a.error})`;
  return (
    `with the stack's client certificate: ${show(seen.withStackCertificate)}; without a certificate: ` +
    `${show(seen.withoutCertificate)}; trusting another CA: ${show(seen.trustingAnotherCa)}; plain TCP port: ` +
    `${seen.plainTcpOpen ? "open" : "refused"}`
  );
}
