import { NodeStorage } from "../drivers/node.ts";
import { fsFixture } from "./fs_fixture.ts";
import { runConformance } from "./conformance.ts";

runConformance("NodeStorage", () => fsFixture((directory) => new NodeStorage({ directory })));
