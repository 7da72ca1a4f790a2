/**
 * The physical names in an OPFS partition directory: a blob's file of
 * generation 0 is its lowercase hex (the commonware layout), later
 * generations are `<hex>.<g>`, a tombstone `<hex>.<g>.removed`, and
 * `.partition.removed` marks a removed partition (see `opfs/_port.ts`).
 *
 * @module
 */

/** Suffix of a tombstone: `<hex>.<generation>.removed`. */
const TOMBSTONE = ".removed";
/** The partition marker: the partition is removed, its open files wait to close. */
export const PARTITION_REMOVED = ".partition.removed";

/** What a physical name in a partition directory is. */
export type Physical =
  | { kind: "file"; hex: string; gen: number }
  | { kind: "tombstone"; hex: string; gen: number }
  | { kind: "marker" }
  | { kind: "foreign" };

const HEX = /^[0-9a-f]+$/;
const GENERATION = /^([0-9a-f]+)\.([1-9][0-9]{0,14})$/;
const TOMBSTONE_NAME = /^([0-9a-f]+)\.(0|[1-9][0-9]{0,14})\.removed$/;

/** Parses a physical name of a partition directory. */
export function parsePhysical(name: string): Physical {
  if (HEX.test(name)) return { kind: "file", hex: name, gen: 0 };
  if (name === PARTITION_REMOVED) return { kind: "marker" };
  let m = GENERATION.exec(name);
  if (m !== null) return { kind: "file", hex: m[1]!, gen: Number(m[2]) };
  m = TOMBSTONE_NAME.exec(name);
  if (m !== null) return { kind: "tombstone", hex: m[1]!, gen: Number(m[2]) };
  return { kind: "foreign" };
}

/** The physical name of generation `gen` of `hex`. */
export function fileName(hex: string, gen: number): string {
  return gen === 0 ? hex : `${hex}.${gen}`;
}

/** The tombstone's name for generation `gen` of `hex`. */
export function tombstoneName(hex: string, gen: number): string {
  return `${hex}.${gen}${TOMBSTONE}`;
}
