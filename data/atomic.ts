import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Test/diagnostic hook: called after each chunk is written to the temp file (and once more before the rename with
 * `phase: 'beforeRename'`). Throwing from it simulates a crash half-way through a write.
 */
export type WriteHook = (info: { tmpPath: string; finalPath: string; written: number; phase: 'chunk' | 'beforeRename' }) => void | Promise<void>;

export interface AtomicWriteOptions {
  hook?: WriteHook | undefined;
  /** Refuse to replace an existing file (the write still succeeds atomically or not at all). Default false. */
  exclusive?: boolean;
  chunkBytes?: number;
}

export function tmpNameFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.tmp-${path.basename(finalPath)}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

async function fsyncDir(dir: string): Promise<void> {
  let h: fs.FileHandle | undefined;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch {
    // Directory fsync is best-effort (not supported on every platform/filesystem).
  } finally {
    await h?.close().catch(() => {});
  }
}

/**
 * Write `data` to `finalPath` atomically: temp file in the same directory, fsync, rename (or link for `exclusive`),
 * fsync the directory. On any failure the temp file is removed and no file appears under `finalPath`.
 * Returns false when `exclusive` and the file already existed.
 */
export async function atomicWrite(
  finalPath: string,
  data: Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: AtomicWriteOptions = {},
): Promise<boolean> {
  const dir = path.dirname(finalPath);
  await fs.mkdir(dir, { recursive: true });
  const tmp = tmpNameFor(finalPath);
  const chunkBytes = opts.chunkBytes ?? 1 << 20;
  let handle: fs.FileHandle | undefined;
  let created = false;
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    created = true;
    let written = 0;
    const writeChunk = async (c: Uint8Array) => {
      let off = 0;
      while (off < c.byteLength) {
        const n = Math.min(chunkBytes, c.byteLength - off);
        const { bytesWritten } = await handle!.write(c, off, n);
        off += bytesWritten;
        written += bytesWritten;
        await opts.hook?.({ tmpPath: tmp, finalPath, written, phase: 'chunk' });
      }
    };
    if (typeof data === 'string') await writeChunk(Buffer.from(data, 'utf8'));
    else if (data instanceof Uint8Array) await writeChunk(data);
    else if (Symbol.asyncIterator in data) for await (const c of data as AsyncIterable<Uint8Array>) await writeChunk(c);
    else for (const c of data as Iterable<Uint8Array>) await writeChunk(c);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await opts.hook?.({ tmpPath: tmp, finalPath, written, phase: 'beforeRename' });
    if (opts.exclusive) {
      try {
        await fs.link(tmp, finalPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      } finally {
        await fs.rm(tmp, { force: true });
        created = false;
      }
    } else {
      await fs.rename(tmp, finalPath);
      created = false;
    }
    await fsyncDir(dir);
    return true;
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    throw e;
  } finally {
    if (created) await fs.rm(tmp, { force: true }).catch(() => {});
  }
}
