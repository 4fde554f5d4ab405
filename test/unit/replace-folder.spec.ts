import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { replaceFolder } from "../../scripts/lib/replace-folder";

describe("replacing .kafka/libs with freshly fetched jars", () => {
  let dir: string;
  let fresh: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "replace-folder-"));
    fresh = path.join(dir, "fetched");
    fs.mkdirSync(fresh);
    fs.writeFileSync(path.join(fresh, "new.jar"), "new");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("replaces a symbolic link with a folder of its own and leaves the linked folder as it was", () => {
    const elsewhere = path.join(dir, "other-checkout-libs");
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, "old.jar"), "old");
    const target = path.join(dir, "libs");
    fs.symlinkSync(elsewhere, target, "dir");

    replaceFolder(target, fresh);

    assert.equal(fs.lstatSync(target).isSymbolicLink(), false);
    assert.deepEqual(fs.readdirSync(target), ["new.jar"]);
    assert.deepEqual(fs.readdirSync(elsewhere), ["old.jar"]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["libs", "other-checkout-libs"]);
  });

  it("replaces a folder, removing the old one", () => {
    const target = path.join(dir, "libs");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "old.jar"), "old");
    replaceFolder(target, fresh);
    assert.deepEqual(fs.readdirSync(target), ["new.jar"]);
    assert.deepEqual(fs.readdirSync(dir), ["libs"]);
  });

  it("puts the folder in place where there was none", () => {
    const target = path.join(dir, "libs");
    replaceFolder(target, fresh);
    assert.deepEqual(fs.readdirSync(target), ["new.jar"]);
  });
});
