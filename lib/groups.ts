// A network of HA groups (settings.groups): what each group is called and the settings its plan is built with.
// Each group is a whole HA group of its own (hosts, ZooKeeper ensemble, store, master election); the groups are
// linked only by network connectors (lib/render/network.ts). Pure.

interface Named {
  readonly activemq: { readonly brokerName: string };
}

/** 1 … groups. */
export const groupIndexes = (settings: { readonly groups: number }): number[] =>
  Array.from({ length: settings.groups }, (_, i) => i + 1);

/**
 * Group 1 keeps the stack's brokerName, so a stack that grows from one group keeps its store, its ZooKeeper path and
 * its clients' view of it; group g is brokerName-g. Network connectors tell brokers apart by name, so they differ.
 */
export function groupBrokerName(settings: Named, group: number): string {
  return group === 1 ? settings.activemq.brokerName : `${settings.activemq.brokerName}-${group}`;
}

/**
 * The prefix of a group's resource names: the cluster's own name for group 1, so a one-group stack's resources
 * keep their names (components/group.ts adds the aliases that keep their URNs); `<cluster>-g<g>` after.
 */
export function groupResourceName(clusterName: string, group: number): string {
  return group === 1 ? clusterName : `${clusterName}-g${group}`;
}

/** The settings a group's plan and renders use: the stack's, with the group's brokerName. */
export function settingsForGroup<S extends Named>(settings: S, group: number): S {
  return { ...settings, activemq: { ...settings.activemq, brokerName: groupBrokerName(settings, group) } };
}
