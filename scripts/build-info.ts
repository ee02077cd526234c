// Part of `npm run build`: records the git commit the build comes from in dist/build-info.json,
// for `aviary version`. AVIARY_GIT_COMMIT wins (the image build passes it, having no .git);
// outside a git checkout the commit is simply not recorded.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

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

const fromEnv = process.env.AVIARY_GIT_COMMIT;
const commit = fromEnv !== undefined && fromEnv !== "" ? fromEnv : gitCommit();
writeFileSync(
  new URL("../dist/build-info.json", import.meta.url),
  `${JSON.stringify(commit === undefined ? {} : { commit })}\n`,
);
