// `npm start`: the controller from src/, configured by the environment only (src/main.ts).
// Its own file, so that importing main.ts (a bundle does, whatever its entry) never starts one.
import { runController } from "./main.ts";

await runController();
