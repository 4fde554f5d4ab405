import { aptInstall, onPath, whyNotInstalled } from "./apt";
import { step } from "./project";

/**
 * Installs Debian's kcat, the librdkafka client the interop tests use as an
 * independent Kafka peer. Only the tests need it, so a failure is reported, not fatal:
 * the demo runs without it.
 */
export async function installKcat(): Promise<void> {
  if (onPath("kcat")) {
    step("kcat: present");
    return;
  }
  step("kcat: installing the Debian package");
  try {
    await aptInstall(["kcat"]);
  } catch (error) {
    step(`kcat: could not be installed${whyNotInstalled(error as Error)}; run \`apt-get install kcat\` as root, or the kcat interop tests fail`);
  }
}
