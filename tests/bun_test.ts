import { BunStorage } from "../drivers/bun.ts";
import { fsFixture } from "./fs_fixture.ts";
import { runConformance } from "./conformance.ts";

// BunStorage only uses node:fs, but its choices are made and measured for Bun.
runConformance("BunStorage", () => fsFixture((directory) => new BunStorage({ directory })), {
  skip: "Bun" in globalThis ? false : "BunStorage is tuned for Bun; it runs under bun test",
});
