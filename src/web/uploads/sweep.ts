// Files in UPLOADS_DIR that no attachment row points to, left by a crash between writing a file
// and committing its row.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Removes files in `dir` that no attachment row points to and that were last written before
 * `olderThan` (so uploads in flight are left alone). A crash between writing a file and committing
 * its row leaves such a file; this runs once after start.
 */
export async function removeOrphanUploads(dir: string, isReferenced: (storageName: string) => boolean, olderThan: number): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const file = path.join(dir, name);
    try {
      const stat = await fs.promises.stat(file);
      if (!stat.isFile() || stat.mtimeMs >= olderThan || isReferenced(name)) continue;
      await fs.promises.rm(file, { force: true });
      removed.push(name);
    } catch {
      // gone already, or unreadable: not ours to worry about
    }
  }
  return removed;
}
