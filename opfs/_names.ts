/**
 * The physical names in an OPFS partition directory: a blob's file of
 * generation 0 is its lowercase hex (the commonware layout), later
 * generations are `<hex>.<g>`, a tombstone `<hex>.<g>.removed`, and
 * `.partition.removed` marks a removed partition, and `.blobrt-opfs-owned`
 * lists which of those entries this driver made (see `opfs/_port.ts`).
 *
 * @module
 */

/** Suffix of a tombstone: `<hex>.<generation>.removed`. */
const TOMBSTONE = ".removed";
/** The partition marker: the partition is removed, its open files wait to close. */
export const PARTITION_REMOVED = ".partition.removed";

/**
 * The ledger of a partition directory: the generations, tombstones and marker
 * that this driver created there (written before it creates them). Any such
 * name that it does not list is a foreign entry, never deleted or renamed.
 */
export const LEDGER = ".blobrt-opfs-owned";
/** The ledger's first line; a file of that name that does not start so is foreign. */
const LEDGER_MAGIC = "blobrt-opfs owned entries v1";

/**
 * The ledger's bytes for the names in `owned`.
 *
 * @param owned The entry names this driver made.
 * @returns The file's contents.
 */
export function ledgerBytes(owned: Iterable<string>): Uint8Array {
  return new TextEncoder().encode([LEDGER_MAGIC, ...[...owned].sort()].join("\n") + "\n");
}

/**
 * The names a ledger file lists, or `undefined` when it is not a ledger.
 *
 * @param text The file's contents.
 * @returns The names.
 */
export function parseLedger(text: string): Set<string> | undefined {
  const lines = text.split("\n");
  if (lines[0] !== LEDGER_MAGIC) return undefined;
  return new Set(lines.slice(1).filter((l) => parsePhysical(l).kind !== "foreign"));
}

/** Whether `name` is a generation ≥ 1, a tombstone or the marker: an entry only this driver makes. */
export function isSpecial(name: string): boolean {
  const p = parsePhysical(name);
  return p.kind === "tombstone" || p.kind === "marker" || (p.kind === "file" && p.gen > 0);
}

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
