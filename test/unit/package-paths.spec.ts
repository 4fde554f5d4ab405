import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT, PathNotFoundError, resolveUserPath } from "../../src/package-paths";

describe("resolveUserPath", () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "user-dir-"));
  after(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it("takes a relative path from the user directory first, then from the package", () => {
    assert.equal(resolveUserPath("models/iris/iris_mlp.keras", userDir), path.join(PACKAGE_ROOT, "models/iris/iris_mlp.keras"));
    fs.mkdirSync(path.join(userDir, "models/iris"), { recursive: true });
    fs.writeFileSync(path.join(userDir, "models/iris/iris_mlp.keras"), "");
    assert.equal(resolveUserPath("models/iris/iris_mlp.keras", userDir), path.join(userDir, "models/iris/iris_mlp.keras"));
  });

  it("names every place it looked for a relative path found in none", () => {
    assert.throws(
      () => resolveUserPath("models/missing.keras", userDir),
      (error: unknown) => {
        assert.ok(error instanceof PathNotFoundError);
        assert.deepEqual(error.lookedIn, [path.join(userDir, "models/missing.keras"), path.join(PACKAGE_ROOT, "models/missing.keras")]);
        assert.equal(error.message, `models/missing.keras not found (looked in ${error.lookedIn.join(", ")})`);
        return true;
      },
    );
  });

  it("leaves an absolute path as it is", () => {
    assert.equal(resolveUserPath("/nowhere/model.keras", userDir), "/nowhere/model.keras");
  });
});
