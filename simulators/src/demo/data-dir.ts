/**
 * The demo starts from a clean data folder each run, but it must never delete a folder it did
 * not make: `--data-dir .` or `--data-dir ~` would otherwise wipe a checkout or a home folder.
 * It wipes only an empty folder or one holding the marker file it wrote itself.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEMO_MARKER = '.kentongan-demo';

export class DemoDataDirError extends Error {
  readonly code = 'DEMO_DATA_DIR_FOREIGN';
}

export async function prepareDemoDataDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
    throw new DemoDataDirError(
      `folder ${dir} is not empty and was not made by the demo; choose another --data-dir ` +
        `/ folder ini tidak kosong dan bukan buatan demo; pilih --data-dir lain`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, DEMO_MARKER), 'Made by `npm run demo`; wiped at its next start.\n');
}
