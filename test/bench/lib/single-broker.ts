// The benchmark's baseline: one broker alone on one box host, KahaDB on the host's own disk, nothing replicated or
// shared. It runs the ActiveMQ the stack installed there (same version, same JDK, same heap), from a directory of
// its own under a transient systemd unit, on a port the stack does not use; `stop` removes every trace of it.
import { ACTIVEMQ } from "../../../lib/layout";
import { StackSettings } from "../../../lib/settings";
import { BoxInfo, sshRun, waitFor } from "../../e2e/lib/box";
import { portOpen } from "../../e2e/lib/cluster-box";

export const SINGLE_BROKER = {
  unit: "bench-single-kahadb.service",
  dir: "/var/tmp/bench-single-kahadb",
  port: 61700,
} as const;

/** A plain broker definition: a KahaDB store on local disk and one OpenWire connector, nothing else. */
export function singleBrokerXml(dir: string, port: number): string {
  return `<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
                           http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="bench-single" dataDirectory="${dir}/data"
          useJmx="false" schedulerSupport="false">
    <persistenceAdapter>
      <kahaDB directory="${dir}/data/kahadb"/>
    </persistenceAdapter>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://0.0.0.0:${port}"/>
    </transportConnectors>
  </broker>
</beans>
`;
}

/** The host-side script: a fresh directory, the stack's logging configuration, the broker under systemd-run. */
function startScript(settings: StackSettings): string {
  const s = SINGLE_BROKER;
  return `set -euo pipefail
dir=${JSON.stringify(s.dir)}
unit=${JSON.stringify(s.unit)}
home=${JSON.stringify(ACTIVEMQ.link)}
systemctl stop "$unit" 2>/dev/null || true
rm -rf -- "$dir"
mkdir -p -- "$dir/conf" "$dir/data" "$dir/tmp"
cp -a -- ${JSON.stringify(ACTIVEMQ.confDir)}/. "$dir/conf/"
cat >"$dir/conf/activemq.xml" <<'XML'
${singleBrokerXml(s.dir, s.port)}XML
chown -R ${JSON.stringify(ACTIVEMQ.user)}: -- "$dir"
systemd-run --quiet --unit="$unit" --property=User=${JSON.stringify(ACTIVEMQ.user)} --working-directory="$dir" \\
  /usr/bin/java -Xms${settings.activemq.heapMb}M -Xmx${settings.activemq.heapMb}M \\
  "-Dactivemq.home=$home" "-Dactivemq.base=$dir" "-Dactivemq.conf=$dir/conf" "-Dactivemq.data=$dir/data" \\
  "-Djava.io.tmpdir=$dir/tmp" -jar "$home/bin/activemq.jar" start "xbean:file:$dir/conf/activemq.xml"
`;
}

/** Starts the baseline broker on `address`; resolves with its URL once it accepts clients (within 90 s). */
export async function startSingleBroker(
  info: BoxInfo,
  address: string,
  settings: StackSettings,
): Promise<string> {
  const started = await sshRun(info, address, "sudo bash -s", startScript(settings));
  if (started.code !== 0) {
    throw new Error(`the single KahaDB broker did not start on ${address}:\n${started.stderr}`);
  }
  const listening = await waitFor(
    async () => ((await portOpen(address, SINGLE_BROKER.port)) ? true : undefined),
    90_000,
    500,
  );
  if (!listening) {
    const log = await sshRun(info, address, `sudo journalctl -u ${SINGLE_BROKER.unit} -n 40 --no-pager`);
    throw new Error(`the single KahaDB broker on ${address} did not listen within 90 s:\n${log.stdout}`);
  }
  return `tcp://${address}:${SINGLE_BROKER.port}`;
}

export async function stopSingleBroker(info: BoxInfo, address: string): Promise<void> {
  await sshRun(
    info,
    address,
    `sudo systemctl stop ${SINGLE_BROKER.unit} 2>/dev/null; sudo rm -rf -- ${SINGLE_BROKER.dir}`,
  );
}
