import fs from 'node:fs';
import path from 'node:path';

/** The largest file Keel reads for an agent in one request. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

const { O_RDONLY, O_WRONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Reads a regular file for an agent without ever blocking the host: non-blocking open (a FIFO
 * would otherwise hang the event loop), no following a final symlink swapped in after the
 * check, and anything but a regular file of reasonable size refused.
 */
export async function readRegularFile(file: string): Promise<string> {
  const handle = await fs.promises.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file.`);
    if (stat.size > MAX_READ_BYTES) throw new Error(`${file} is larger than ${MAX_READ_BYTES} bytes.`);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}

/** Writes a regular file for an agent, with the same guards; says whether it was created. */
export async function writeRegularFile(file: string, content: string): Promise<{ created: boolean }> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const created = fs.lstatSync(file, { throwIfNoEntry: false }) === undefined;
  const handle = await fs.promises.open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file.`);
    await handle.truncate(0);
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  return { created };
}

/** Lines `line` (1-based) to `line + limit - 1` of a text, as ACP's fs/read_text_file asks. */
export function readLines(content: string, line?: number, limit?: number): string {
  if (line === undefined && limit === undefined) return content;
  const lines = content.split('\n');
  const start = Math.max(0, (line ?? 1) - 1);
  return lines.slice(start, limit === undefined ? undefined : start + limit).join('\n');
}
