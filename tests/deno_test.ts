import { DenoStorage } from "../drivers/deno.ts";
import { fsFixture } from "./fs_fixture.ts";
import { runConformance } from "./conformance.ts";

runConformance("DenoStorage", () => fsFixture((directory) => new DenoStorage({ directory })), {
  skip: "Deno" in globalThis ? false : "DenoStorage needs Deno.FsFile; it runs under deno test",
});
