/** Runs the real validator (Debian libxml2-utils `xmllint`) on a document. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CAP_XSD = fileURLToPath(new URL('../../src/cap/CAP-v1.2.xsd', import.meta.url));

/** `schema` null = well-formedness only. */
export function xmllint(xml: string, schema: string | null = CAP_XSD): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kentongan-cap-'));
  try {
    const file = join(dir, 'doc.xml');
    writeFileSync(file, xml);
    const args = schema ? ['--noout', '--nonet', '--schema', schema, file] : ['--noout', '--nonet', file];
    const res = spawnSync('xmllint', args, { encoding: 'utf8' });
    if (res.error) throw res.error;
    return { ok: res.status === 0, output: `${res.stdout}${res.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
