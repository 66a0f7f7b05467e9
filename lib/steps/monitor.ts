// The operator's view on each host: the host monitor (health and metrics, scripts/host/HostMonitor.java) and,
// where monitoringCidrs are set, Debian's node exporter. Neither touches the broker or ZooKeeper, so every host
// configures them at once once its broker is configured. Pure.
import { HOST_MONITOR, NODE_EXPORTER } from "../layout";
import { readScript } from "../payload";
import { renderMonitorUnit, renderNodeExporterDropIn } from "../render/services";
import { StackSettings } from "../settings";
import { managed, nodeList, PlanContext, step, stepId } from "./context";
import { PlanStep } from "./types";

/** The node exporter runs where someone may scrape it. */
export const nodeExporterOn = (settings: StackSettings) => settings.monitoringCidrs.length > 0;

export function monitorSteps(ctx: PlanContext): PlanStep[] {
  const s = ctx.settings;
  const exporter = nodeExporterOn(s);
  return ctx.nodes.map((n) =>
    step({
      id: stepId(n, "monitor-configure"),
      node: n,
      action: "monitor-configure",
      script: "monitor-configure.sh",
      description: exporter
        ? "install the host monitor (health, metrics) and the node exporter; restart them if changed"
        : "install the host monitor (health, metrics); restart it if changed; no node exporter",
      // The monitor runs as the broker's user, which the broker's steps create.
      dependsOn: [stepId(n, "activemq-configure")],
      rerunWith: [],
      timeoutMinutes: 15,
      input: (facts) => ({
        inputs: {
          MONITOR_PORT: String(s.ports.monitor),
          MONITOR_UNIT: HOST_MONITOR.unit,
          NODE_EXPORTER_PACKAGE: exporter ? NODE_EXPORTER.package : "",
          NODE_EXPORTER_UNIT: NODE_EXPORTER.unit,
          NODE_EXPORTER_PORT: exporter ? String(s.ports.nodeExporter) : "",
        },
        files: [
          managed(HOST_MONITOR.source, readScript("host/HostMonitor.java"), "root", "root", "0644"),
          managed(
            `/etc/systemd/system/${HOST_MONITOR.unit}`,
            renderMonitorUnit(s, { selfIndex: n, nodes: nodeList(facts) }),
            "root",
            "root",
            "0644",
          ),
          ...(exporter
            ? [managed(NODE_EXPORTER.dropIn, renderNodeExporterDropIn(s), "root", "root", "0644")]
            : []),
        ],
      }),
    }),
  );
}
