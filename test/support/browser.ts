import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM } from "../../scripts/lib/install-chromium";

/**
 * Flags for a headless Chromium on these machines: the sandbox needs privileges root
 * lacks in a container, and with no outside network every background service
 * (updates, sync, QUIC probes) only fails and retries.
 */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** README screenshots are taken at this size so that they read on a laptop screen. */
export const VIEWPORT = { width: 1280, height: 800 };

export interface Browser {
  page: Page;
  close(): Promise<void>;
}

/**
 * Debian's chromium driven by playwright-core, with a profile of its own that is
 * deleted on close. Playwright's downloaded browsers are never used.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: \`npm run setup\` installs Debian's chromium (apt-get, as root)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: VIEWPORT });
  } catch (error) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
