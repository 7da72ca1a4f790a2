/**
 * A small synchronous, incremental SHA-256 (FIPS 180-4) for runtimes without
 * `node:crypto` (browsers): WebCrypto's `digest` is asynchronous, and
 * `AuditedStorage` folds each record before its operation runs. Where
 * `node:crypto` is there (Deno, Bun, Node), {@linkcode createSha256} uses it.
 *
 * @module
 */

/** What the auditor needs of a hash: feed bytes, then take the 32-byte digest once. */
export interface Sha256Hash {
  /** Feeds `data`; returns the hash, for chaining. */
  update(data: Uint8Array): Sha256Hash;
  /** The digest; the hash is finished afterwards. */
  digest(): Uint8Array;
}

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

const IV = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/** The message schedule, shared: compression is synchronous and never re-entered. */
const W = new Int32Array(64);

/** The pure-JavaScript SHA-256. */
export class Sha256 implements Sha256Hash {
  readonly #h = Int32Array.from(IV);
  readonly #block = new Uint8Array(64);
  readonly #view = new DataView(this.#block.buffer);
  #filled = 0;
  /** Bytes fed so far (a double: exact up to 2^53). */
  #length = 0;
  #done = false;

  update(data: Uint8Array): this {
    if (this.#done) throw new Error("SHA-256: update after digest");
    this.#length += data.length;
    let i = 0;
    if (this.#filled > 0) {
      const take = Math.min(64 - this.#filled, data.length);
      this.#block.set(data.subarray(0, take), this.#filled);
      this.#filled += take;
      i = take;
      if (this.#filled < 64) return this;
      this.#compress(this.#view, 0);
      this.#filled = 0;
    }
    if (data.length - i >= 64) {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (; data.length - i >= 64; i += 64) this.#compress(view, i);
    }
    if (i < data.length) {
      this.#block.set(data.subarray(i), 0);
      this.#filled = data.length - i;
    }
    return this;
  }

  digest(): Uint8Array<ArrayBuffer> {
    if (this.#done) throw new Error("SHA-256: digest called twice");
    this.#done = true;
    const bits = this.#length * 8;
    const block = this.#block;
    block[this.#filled++] = 0x80;
    if (this.#filled > 56) {
      block.fill(0, this.#filled);
      this.#compress(this.#view, 0);
      this.#filled = 0;
    }
    block.fill(0, this.#filled);
    this.#view.setUint32(56, Math.floor(bits / 0x1_0000_0000));
    this.#view.setUint32(60, bits >>> 0);
    this.#compress(this.#view, 0);
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let j = 0; j < 8; j++) view.setInt32(j * 4, this.#h[j]!);
    return out;
  }

  #compress(view: DataView, at: number): void {
    const w = W;
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(at + t * 4);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15]!;
      const b = w[t - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
    }
    const h = this.#h;
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + K[t]! + w[t]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  }
}

/** The slice of `node:crypto` used. */
interface NodeCrypto {
  createHash(algorithm: "sha256"): Sha256Hash;
}

/**
 * `node:crypto`, where the runtime has it, found without importing it: through
 * `process.getBuiltinModule` (Node ≥ 20.16, Deno 2, Bun), so that a browser
 * bundle has no `node:*` import and browsers get `undefined`.
 */
const nodeCrypto: NodeCrypto | undefined = (() => {
  try {
    const process = (globalThis as {
      process?: { getBuiltinModule?: (id: string) => unknown };
    }).process;
    const mod = process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
    return typeof mod?.createHash === "function" ? mod : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * A new SHA-256 hash: `node:crypto`'s where the runtime has it (native, fastest),
 * else {@linkcode Sha256}.
 *
 * @param native Use `node:crypto` when there is one (default); `false` forces the
 * JavaScript implementation (for tests and benchmarks).
 * @returns The hash.
 */
export function createSha256(native = true): Sha256Hash {
  return native && nodeCrypto !== undefined ? nodeCrypto.createHash("sha256") : new Sha256();
}

/** Whether {@linkcode createSha256} uses `node:crypto` here. */
export const NATIVE_SHA256: boolean = nodeCrypto !== undefined;
