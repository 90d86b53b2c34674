/**
 * Loads the JSON test vectors (firmware-protocol/vectors/). The files are the contract that C
 * firmware authors test against too, so the tests read them exactly as a C harness would.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

/** Every vector carries these two; the rest depends on the file. */
export interface NamedVector {
  name: string;
  why: string;
}

/** Parses one vector file and returns its top-level object. */
export function loadFile(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(VECTORS_DIR + file, 'utf8')) as Record<string, unknown>;
}

/** The `vectors` array of a file (or another named array, e.g. `parse` in topics.json). */
export function loadVectors<T extends NamedVector>(file: string, key = 'vectors'): T[] {
  const list = loadFile(file)[key];
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${file}: "${key}" is not a non-empty array`);
  return list as T[];
}

export function vectorFiles(): string[] {
  return readdirSync(VECTORS_DIR).filter((f) => f.endsWith('.json')).sort();
}

/** A vector string as bytes: each char U+0000..U+00FF is one byte (latin1), as the files say. */
export function latin1Bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
