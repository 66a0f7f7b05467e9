// The tags every resource gets, under Pulumi's mocks: the program's own keys are exactly PROGRAM_TAG_KEYS, so the
// settings' limit (50 minus those) and their refusal of those keys hold for what is really created.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PROGRAM_TAG_KEYS } from "../../lib/settings";
import { Recorded, runStack } from "../support/mocks";

/** Digests for the tarballs: KNOWN_SHA512 is empty, and a release without a digest is refused. */
const DIGESTS = { activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128) };

/** As many user tags as the settings allow: 50 minus the program's own. */
const USER_TAGS = Object.fromEntries(
  Array.from({ length: 50 - PROGRAM_TAG_KEYS.length }, (_, i) => [`user-tag-${i}`, `value ${i}`]),
);

/** Every tag map of a resource: its own and nested ones (an instance's root volume). */
function tagMaps(resource: Recorded): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  const visit = (value: unknown, key: string) => {
    if (value && typeof value === "object") {
      if (key === "tags" && !Array.isArray(value)) {
        found.push(value as Record<string, string>);
      }
      for (const [k, v] of Object.entries(value)) {
        visit(v, k);
      }
    }
  };
  visit(resource.inputs, "");
  return found;
}

for (const haMode of ["replicated-leveldb", "shared-kahadb"]) {
  void describe(`tags on every resource (mocked stack, ${haMode})`, () => {
    void it("keeps the user's tags, adds only PROGRAM_TAG_KEYS, and stays within AWS's 50", async () => {
      const run = await runStack({ ...DIGESTS, haMode, tags: JSON.stringify(USER_TAGS) });
      const tagged = run.resources.filter((r) => r.type.startsWith("aws:") && tagMaps(r).length > 0);
      assert.ok(tagged.length > 10, `only ${tagged.length} tagged resources`);
      const added = new Set<string>();
      for (const resource of tagged) {
        for (const tags of tagMaps(resource)) {
          assert.ok(Object.keys(tags).length <= 50, `${resource.name}: ${Object.keys(tags).length} tags`);
          for (const [key, value] of Object.entries(USER_TAGS)) {
            assert.equal(tags[key], value, `${resource.name} lost or changed the user's tag ${key}`);
          }
          for (const key of Object.keys(tags).filter((k) => !(k in USER_TAGS))) {
            added.add(key);
          }
        }
      }
      assert.deepStrictEqual([...added].sort(), [...PROGRAM_TAG_KEYS].sort());
    });
  });
}
