import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { ArtifactRef } from '../schemas/artifact.ts';
import type { ArtifactKind, ColumnRef } from '../schemas/artifact.ts';
import { broadloomHome } from './home.ts';
import { atomicWrite, tmpNameFor } from './atomic.ts';
import type { WriteHook } from './atomic.ts';
import { canonicalJson, sha256Hex } from './hash.ts';

export const ARTIFACT_URI_PREFIX = 'artifact://sha256/';
const URI_RE = /^artifact:\/\/sha256\/([0-9a-f]{64})$/;
const SHA_RE = /^[0-9a-f]{64}$/;

/** A reference is malformed or unsafe (bad uri, traversal in a name, NUL byte, sha/uri disagreement). */
export class ArtifactRefError extends Error {
  override name = 'ArtifactRefError';
}
/** The artifact's file is not in the store. Not retryable: restore it or re-run the producing stage. */
export class ArtifactMissingError extends Error {
  override name = 'ArtifactMissingError';
  constructor(message: string, readonly sha256: string, readonly path: string) {
    super(message);
  }
}
/** The artifact's bytes do not hash to its sha256. */
export class ArtifactCorruptError extends Error {
  override name = 'ArtifactCorruptError';
  constructor(message: string, readonly sha256: string, readonly path: string) {
    super(message);
  }
}

export interface PutMeta {
  kind: ArtifactKind;
  name?: string | undefined;
  rows?: number | undefined;
  columns?: ColumnRef[] | undefined;
}

export interface ArtifactStoreOptions {
  /** Store root; default `$BROADLOOM_HOME/artifacts` or `<cwd>/.broadloom/artifacts`. */
  root?: string;
  /** Injected into every write (tests use it to simulate a crash mid-write). */
  writeHook?: WriteHook;
}

/** Human names are labels, never paths, but we still refuse anything that looks like a path trick. */
export function validateArtifactName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new ArtifactRefError('artifact name must be a non-empty string');
  if (name.length > 256) throw new ArtifactRefError(`artifact name is too long (${name.length} > 256 characters)`);
  if (name.includes('\0')) throw new ArtifactRefError(`artifact name ${JSON.stringify(name)} contains a NUL byte`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new ArtifactRefError(`artifact name ${JSON.stringify(name)} contains control characters`);
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name))
    throw new ArtifactRefError(`artifact name ${JSON.stringify(name)} looks like an absolute path`);
  if (name.split(/[\\/]/).some((seg) => seg === '..' || seg === '.'))
    throw new ArtifactRefError(`artifact name ${JSON.stringify(name)} contains a path traversal segment`);
  return name;
}

/** Parse `artifact://sha256/<hex>`; throws ArtifactRefError on anything else. */
export function parseArtifactUri(uri: string): string {
  if (typeof uri !== 'string') throw new ArtifactRefError('artifact uri must be a string');
  if (uri.includes('\0')) throw new ArtifactRefError('artifact uri contains a NUL byte');
  const m = URI_RE.exec(uri);
  if (!m) throw new ArtifactRefError(`invalid artifact uri ${JSON.stringify(uri.slice(0, 200))}: expected ${ARTIFACT_URI_PREFIX}<64 hex>`);
  return m[1]!;
}

export function artifactUri(sha256: string): string {
  return ARTIFACT_URI_PREFIX + sha256;
}

function arrowColumns(table: arrow.Table): ColumnRef[] {
  return table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
}

/**
 * Content-addressed artifact store. Files live at `<root>/<sha[0:2]>/<sha>`; identity is the sha256 of the bytes.
 * Writes are atomic and idempotent; reads verify the hash.
 */
export class ArtifactStore {
  readonly root: string;
  private readonly writeHook: WriteHook | undefined;

  constructor(opts: ArtifactStoreOptions = {}) {
    const root = opts.root ?? path.join(broadloomHome(), 'artifacts');
    if (root.includes('\0')) throw new ArtifactRefError('store root contains a NUL byte');
    this.root = path.resolve(root);
    this.writeHook = opts.writeHook;
  }

  /** Validate a ref (shape, uri ↔ sha agreement, name) and return its sha256. */
  private checkRef(ref: ArtifactRef): string {
    if (ref === null || typeof ref !== 'object') throw new ArtifactRefError('artifact ref must be an object');
    const parsed = ArtifactRef.safeParse(ref);
    if (!parsed.success) throw new ArtifactRefError(`invalid artifact ref: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const sha = parseArtifactUri(ref.uri);
    if (sha !== ref.sha256) throw new ArtifactRefError(`artifact ref disagrees with itself: uri ${ref.uri} but sha256 ${ref.sha256}`);
    if (ref.name !== undefined) validateArtifactName(ref.name);
    return sha;
  }

  private pathForSha(sha: string): string {
    if (!SHA_RE.test(sha)) throw new ArtifactRefError(`invalid sha256 ${JSON.stringify(sha)}`);
    return path.join(this.root, sha.slice(0, 2), sha);
  }

  /** Absolute path of the artifact's file (whether or not it exists). */
  pathOf(ref: ArtifactRef | string): string {
    const sha = typeof ref === 'string' ? (ref.startsWith(ARTIFACT_URI_PREFIX) ? parseArtifactUri(ref) : ref) : this.checkRef(ref);
    return this.pathForSha(sha);
  }

  private makeRef(sha: string, bytes: number, meta: PutMeta): ArtifactRef {
    const ref: ArtifactRef = { uri: artifactUri(sha), sha256: sha, kind: meta.kind, bytes };
    if (meta.rows !== undefined) ref.rows = meta.rows;
    if (meta.columns !== undefined) ref.columns = meta.columns;
    if (meta.name !== undefined) ref.name = meta.name;
    return ArtifactRef.parse(ref);
  }

  private checkMeta(meta: PutMeta): void {
    if (meta.name !== undefined) validateArtifactName(meta.name);
    ArtifactRef.shape.kind.parse(meta.kind);
  }

  /** True when the file exists with the right size and (only with `verify`) the right hash. */
  private async existingOk(p: string, sha: string, size: number, verify: boolean): Promise<boolean> {
    try {
      const st = await fs.stat(p);
      if (!st.isFile() || st.size !== size) return false;
      if (!verify) return true;
      return sha256Hex(await fs.readFile(p)) === sha;
    } catch {
      return false;
    }
  }

  async putBytes(bytes: Uint8Array, meta: PutMeta): Promise<ArtifactRef> {
    this.checkMeta(meta);
    const sha = sha256Hex(bytes);
    const p = this.pathForSha(sha);
    // Idempotent: an intact copy is already there. A damaged one is replaced atomically.
    if (!(await this.existingOk(p, sha, bytes.byteLength, true))) {
      const opts = this.writeHook ? { hook: this.writeHook } : {};
      await atomicWrite(p, bytes, opts);
    }
    return this.makeRef(sha, bytes.byteLength, meta);
  }

  /**
   * Stream bytes into the store without holding them all in memory. The chunks go to a temp file under
   * `<root>/tmp` (same filesystem), hashed on the way; then the file is renamed into place. If the stream throws,
   * the temp file is removed and nothing is stored.
   */
  async putStream(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, meta: PutMeta): Promise<ArtifactRef> {
    this.checkMeta(meta);
    const hash = createHash('sha256');
    let size = 0;
    const tee = async function* (src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
      for await (const c of src as AsyncIterable<Uint8Array>) {
        hash.update(c);
        size += c.byteLength;
        yield c;
      }
    };
    const staging = path.join(this.root, 'tmp', `stream-${process.pid}-${Date.now()}`);
    const stagingFile = tmpNameFor(staging);
    const opts = this.writeHook ? { hook: this.writeHook } : {};
    await atomicWrite(stagingFile, tee(chunks), opts);
    try {
      const sha = hash.digest('hex');
      const p = this.pathForSha(sha);
      await fs.mkdir(path.dirname(p), { recursive: true });
      if (await this.existingOk(p, sha, size, true)) await fs.rm(stagingFile, { force: true });
      else await fs.rename(stagingFile, p);
      return this.makeRef(sha, size, meta);
    } finally {
      await fs.rm(stagingFile, { force: true }).catch(() => {});
    }
  }

  /** Store a JSON value (canonical encoding, so equal values give equal refs). */
  async putJson(value: unknown, meta: PutMeta): Promise<ArtifactRef> {
    return this.putBytes(Buffer.from(canonicalJson(value), 'utf8'), meta);
  }

  /** Store an Arrow table as an Arrow IPC *file*; `rows` and `columns` are filled from the table. */
  async putTable(table: arrow.Table, meta: PutMeta): Promise<ArtifactRef> {
    const bytes = arrow.tableToIPC(table, 'file');
    return this.putBytes(bytes, { ...meta, rows: table.numRows, columns: arrowColumns(table) });
  }

  /** Read and verify an artifact. Throws ArtifactMissingError / ArtifactCorruptError with a message saying what to do. */
  async getBytes(ref: ArtifactRef): Promise<Uint8Array> {
    const sha = this.checkRef(ref);
    const p = this.pathForSha(sha);
    const label = ref.name ?? ref.kind;
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        throw new ArtifactMissingError(
          `artifact ${label} (${sha}) is missing from the store at ${p}: restore it or re-run the stage that produced it`,
          sha,
          p,
        );
      throw e;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha)
      throw new ArtifactCorruptError(
        `artifact ${label} (${sha}) is corrupt: sha256 mismatch (file at ${p} hashes to ${actual}); delete it and re-run the stage that produced it`,
        sha,
        p,
      );
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async getTable(ref: ArtifactRef): Promise<arrow.Table> {
    const bytes = await this.getBytes(ref);
    try {
      return arrow.tableFromIPC(bytes);
    } catch (e) {
      throw new Error(`artifact ${ref.name ?? ref.kind} (${ref.sha256}) is not an Arrow IPC table: ${(e as Error).message}`);
    }
  }

  async getJson<T = unknown>(ref: ArtifactRef): Promise<T> {
    const bytes = await this.getBytes(ref);
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as T;
  }

  /** Cheap presence check (file exists with the recorded size); `verify: true` also re-hashes. */
  async has(ref: ArtifactRef, opts: { verify?: boolean } = {}): Promise<boolean> {
    const sha = this.checkRef(ref);
    return this.existingOk(this.pathForSha(sha), sha, ref.bytes, opts.verify ?? false);
  }
}
