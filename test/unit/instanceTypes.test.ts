import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { IMAGE_ARCHITECTURE, IMAGES } from "../../lib/images";
import {
  INSTANCE_FAMILIES,
  isGravitonFamily,
  largestHeapsMiB,
  lookupInstanceType,
  memoryNeededMiB,
} from "../../lib/instanceTypes";

/** vCPUs of a size name, as AWS sizes its m, c and r families: medium 1, large 2, xlarge 4, Nxlarge 4N. */
function vcpus(size: string): number | undefined {
  const sized = /^(?:metal-)?(\d*)xl(?:arge)?$/.exec(size);
  if (sized) {
    return 4 * Number(sized[1] === "" ? 1 : sized[1]);
  }
  return { medium: 1, large: 2 }[size];
}

const x86Families = Object.entries(INSTANCE_FAMILIES).flatMap(([name, f]) =>
  f.architecture === "x86_64" ? [{ name, memoryGiB: f.memoryGiB }] : [],
);

void describe("lib/instanceTypes", () => {
  void it("covers the common current x86_64 families", () => {
    for (const family of [
      "t3",
      "t3a",
      "m5",
      "m5a",
      "m6i",
      "m6a",
      "m7i",
      "m7a",
      "c5",
      "c6i",
      "c6a",
      "c7i",
      "r5",
      "r6i",
      "r6a",
      "r7i",
    ]) {
      assert.equal(INSTANCE_FAMILIES[family]?.architecture, "x86_64", family);
    }
  });

  void it("gives m 4, c 2 and r 8 GiB a vCPU, and a plain metal the memory of the family's largest size", () => {
    const perVcpu: Record<string, number> = { m: 4, c: 2, r: 8 };
    for (const { name, memoryGiB } of x86Families.filter((f) => !f.name.startsWith("t"))) {
      const ratio = perVcpu[name[0] as string];
      assert.ok(ratio !== undefined, name);
      const largest = Math.max(...Object.values(memoryGiB));
      for (const [size, gib] of Object.entries(memoryGiB)) {
        const expected = size === "metal" ? largest : ratio * (vcpus(size) ?? NaN);
        assert.equal(gib, expected, `${name}.${size}`);
      }
    }
  });

  void it("gives t3 and t3a AWS's burstable memory", () => {
    const burstable = { nano: 0.5, micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };
    for (const family of ["t3", "t3a"]) {
      const f = INSTANCE_FAMILIES[family];
      assert.deepStrictEqual(f?.architecture === "x86_64" ? f.memoryGiB : undefined, burstable);
    }
  });

  void it("tells Graviton families by AWS's naming rule, agreeing with the table", () => {
    for (const [name, f] of Object.entries(INSTANCE_FAMILIES)) {
      assert.equal(isGravitonFamily(name), f.architecture === "arm64", name);
    }
    for (const arm of [
      "a1",
      "t4g",
      "m6g",
      "m7gd",
      "c7gn",
      "r8g",
      "im4gn",
      "is4gen",
      "i8g",
      "g5g",
      "hpc7g",
      "x8g",
    ]) {
      assert.equal(isGravitonFamily(arm), true, arm);
    }
    for (const x86 of [
      "t3",
      "t2",
      "m5dn",
      "m5zn",
      "g4dn",
      "g4ad",
      "c6in",
      "x2iedn",
      "m7i-flex",
      "inf2",
      "p5",
      "u7i",
    ]) {
      assert.equal(isGravitonFamily(x86), false, x86);
    }
  });

  void it("looks up types, refusing to guess at unknown ones", () => {
    assert.deepStrictEqual(lookupInstanceType("t3.medium"), { kind: "x86_64", family: "t3", memoryGiB: 4 });
    assert.deepStrictEqual(lookupInstanceType("m7i.metal-48xl"), {
      kind: "x86_64",
      family: "m7i",
      memoryGiB: 768,
    });
    assert.deepStrictEqual(lookupInstanceType("m7g.large"), { kind: "arm64", family: "m7g" });
    assert.deepStrictEqual(lookupInstanceType("i8g.large"), { kind: "arm64", family: "i8g" });
    assert.deepStrictEqual(lookupInstanceType("z1d.large"), { kind: "unknown-family", family: "z1d" });
    assert.equal(lookupInstanceType("t3.huge").kind, "unknown-size");
    // Names of Object.prototype are not families or sizes.
    assert.equal(lookupInstanceType("constructor.large").kind, "unknown-family");
    assert.equal(lookupInstanceType("t3.toString").kind, "unknown-size");
  });

  void it("reserves 768 MiB and 25% of the heaps: the defaults need 2688 MiB", () => {
    assert.equal(memoryNeededMiB([1024, 512]), 1024 + 512 + 384 + 768);
    assert.equal(memoryNeededMiB([1025]), 1025 + 257 + 768);
    assert.equal(largestHeapsMiB(4096), 2662);
  });

  void it("largestHeapsMiB is the largest total of heaps that fits (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: 2_000_000 }), (memory) => {
        const largest = largestHeapsMiB(memory);
        assert.ok(memoryNeededMiB([largest]) <= memory, `${largest} does not fit ${memory}`);
        assert.ok(memoryNeededMiB([largest + 1]) > memory, `${largest + 1} fits ${memory} too`);
      }),
    );
  });

  void it("matches the images: every image is amd64, so only x86_64 types are allowed", () => {
    assert.equal(IMAGE_ARCHITECTURE, "x86_64");
    for (const image of Object.values(IMAGES)) {
      assert.match(image.namePattern, /amd64/);
    }
  });
});
