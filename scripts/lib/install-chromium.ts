import * as fs from "node:fs";
import { aptInstall, whyNotInstalled } from "./apt";
import { step } from "./project";

/** Where Debian's package puts the browser; the browser tests launch exactly this one. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Installs Debian's chromium for the browser tests of the editor. Playwright's own
 * browser downloads are not used: they need hosts this project cannot count on. Only
 * the tests need it, so a failure is reported, not fatal: the demo runs without it.
 */
export async function installChromium(): Promise<void> {
  if (fs.existsSync(CHROMIUM)) {
    step("chromium: present");
    return;
  }
  step("chromium: installing the Debian package (first time: a minute)");
  try {
    await aptInstall(["chromium"]);
  } catch (error) {
    step(`chromium: could not be installed${whyNotInstalled(error as Error)}; run \`apt-get install chromium\` as root, or the browser tests fail`);
  }
}
