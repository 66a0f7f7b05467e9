// What `pulumi up` does with each kind of resource the box stands in for, as the providers' sources say. The box's
// executor (executor.ts) decides from these rules alone what runs and what happens to a host; each is pinned by
// test/unit/provider-rules.test.ts. Pure.

/** What the engine does with one resource on `pulumi up`. */
export type Operation = "create" | "replace" | "update" | "same";

/** A remote.Command's inputs, as far as the provider's decisions go (stdin and connection as digests or text). */
export interface CommandInputs {
  readonly create?: string;
  readonly update?: string;
  readonly stdin: string;
  readonly triggers: readonly string[];
  readonly connection: string;
}

/**
 * pulumi-command 1.2.1: `triggers` is tagged `provider:"replaceOnChanges"` (provider/pkg/provider/common/inputs.go),
 * so a changed trigger replaces the Command (the Node SDK adds `replaceOnChanges: ["triggers[*]"]` too). Any other
 * changed input (stdin, connection, the commands) is an update. Nothing changed: nothing happens.
 */
export function commandOperation(previous: CommandInputs | undefined, next: CommandInputs): Operation {
  if (previous === undefined) {
    return "create";
  }
  if (JSON.stringify(previous.triggers) !== JSON.stringify(next.triggers)) {
    return "replace";
  }
  const rest = (c: CommandInputs) => JSON.stringify([c.create, c.update, c.stdin, c.connection]);
  return rest(previous) === rest(next) ? "same" : "update";
}

/**
 * The command the provider runs (provider/pkg/provider/remote/commandController.go): Create runs `create`, or
 * nothing when it is absent, and a replacement is a Create of the new resource (the old one's Delete runs `delete`,
 * which these steps do not have); Update runs `update`, or `create` when `update` is absent.
 */
export function commandRuns(operation: Operation, next: CommandInputs): string | undefined {
  switch (operation) {
    case "create":
    case "replace":
      return next.create;
    case "update":
      return next.update ?? next.create;
    case "same":
      return undefined;
  }
}

/** An aws.ec2.Instance's inputs that the stack sets and that decide what AWS does to the host. */
export interface InstanceInputs {
  readonly instanceType: string;
  readonly userData: string;
  /** Fields that force a new instance (terraform-provider-aws: ForceNew), such as key_name and the interface. */
  readonly forceNew: Readonly<Record<string, string>>;
}

/** What happens to the host: nothing, a new blank host, or stop–modify–start once per attribute changed. */
export type InstanceAction =
  | { readonly kind: "create" | "same" }
  | { readonly kind: "replace" }
  | { readonly kind: "stop-start"; readonly attributes: readonly ("instanceType" | "userData")[] };

/**
 * terraform-provider-aws internal/service/ec2/ec2_instance.go, which pulumi-aws wraps:
 * - `instance_type` and `user_data` are updatable in place; resourceInstanceUpdate changes each through
 *   modifyInstanceAttributeWithStopStart (stop, wait until stopped, modify, start, wait until running), one cycle
 *   per attribute, and the update is done when the instance runs, not when its services do (user_data_replace_on_
 *   change, which would replace instead, is not set by the stack);
 * - a ForceNew field (key_name, the primary network interface, …) or `pulumi up --replace` replaces the instance;
 *   components/hosts.ts sets deleteBeforeReplace, so the old instance is deleted (TerminateInstances, which shuts
 *   its OS down as a stop does) before a blank one boots.
 * `ami` is not compared: the stack sets ignoreChanges on it.
 */
export function instanceAction(
  previous: InstanceInputs | undefined,
  next: InstanceInputs,
  replaceRequested: boolean,
): InstanceAction {
  if (previous === undefined) {
    return { kind: "create" };
  }
  if (replaceRequested || JSON.stringify(previous.forceNew) !== JSON.stringify(next.forceNew)) {
    return { kind: "replace" };
  }
  const attributes = (["instanceType", "userData"] as const).filter((a) => previous[a] !== next[a]);
  return attributes.length > 0 ? { kind: "stop-start", attributes } : { kind: "same" };
}
