import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageRecipe } from "../../test/harness/production-layout.ts";

function recipeOf(dockerfile: string): ReturnType<typeof imageRecipe> {
  const path = join(mkdtempSync(join(tmpdir(), "aviary-recipe-")), "Dockerfile");
  writeFileSync(path, dockerfile);
  return imageRecipe(path);
}

test("the final stage's ENV reaches the recipe in every form Docker accepts", () => {
  const recipe = recipeOf(
    [
      "FROM node:24 AS build",
      "ENV BUILD_ONLY=1",
      "FROM node:24",
      "ENV NODE_ENV=production",
      "# a comment",
      'ENV A=1 B="two words" \\',
      "    # a comment inside the continued instruction",
      "    C=3",
      "ENV LEGACY some value",
      'ENTRYPOINT ["node", "--flag", "main.js", "controller"]',
    ].join("\n"),
  );
  assert.deepEqual(recipe.env, {
    NODE_ENV: "production",
    A: "1",
    B: "two words",
    C: "3",
    LEGACY: "some value",
  });
  assert.deepEqual(recipe.entrypoint, ["node", "--flag", "main.js", "controller"]);
});

test("the repository's image sets glibc's malloc tunables, which bench:scale then runs with", () => {
  const { env } = imageRecipe();
  assert.equal(env.NODE_ENV, "production");
  for (const key of ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
    assert.match(env[key] ?? "", /^\d+$/, `${key} in the Dockerfile's final stage`);
});
