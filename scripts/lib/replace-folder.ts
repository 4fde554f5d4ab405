import * as fs from "node:fs";

/**
 * Puts the folder `fresh` in the place of `target` (a folder, a symbolic link to one, or
 * nothing) by renaming, so that `target` is never half filled, then removes what was
 * there. A symbolic link is removed as a link: the folder it points to (another
 * checkout's, say) is never touched. A broker running from the old files keeps them
 * open until it stops.
 */
export function replaceFolder(target: string, fresh: string): void {
  const old = `${target}.old-${process.pid}`;
  let hadOld = true;
  try {
    fs.renameSync(target, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    hadOld = false;
  }
  fs.renameSync(fresh, target);
  if (!hadOld) return;
  if (fs.lstatSync(old).isSymbolicLink()) fs.unlinkSync(old);
  else fs.rmSync(old, { recursive: true, force: true });
}
