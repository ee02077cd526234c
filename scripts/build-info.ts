// Part of `npm run build`: records the git commit the build comes from in build-info.json beside
// the compiled code (dist/, or the directory given), for `aviary version`. AVIARY_GIT_COMMIT wins
// (the image build passes it, having no .git); outside a git checkout no commit is recorded.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

function gitCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf8",
    }).trim();
  } catch {
    return undefined;
  }
}

const outDir = process.argv[2] ?? fileURLToPath(new URL("../dist", import.meta.url));
const fromEnv = process.env.AVIARY_GIT_COMMIT;
const commit = fromEnv !== undefined && fromEnv !== "" ? fromEnv : gitCommit();
writeFileSync(
  join(outDir, "build-info.json"),
  `${JSON.stringify(commit === undefined ? {} : { commit })}\n`,
);
