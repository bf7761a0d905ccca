import fs from 'node:fs/promises';
import path from 'node:path';
import { ModelManifest } from '../schemas/model.ts';
import { Slug } from '../schemas/project.ts';
import { broadloomHome } from './home.ts';
import { atomicWrite } from './atomic.ts';
import { canonicalJson } from './hash.ts';

export type VersionStatus = 'challenger' | 'champion' | 'retired' | 'rejected';

/** Why a version was promoted; free-form facts (metrics, gate results) ride along. */
export interface PromotionDecision {
  reason: string;
  [fact: string]: unknown;
}

export interface VersionState {
  version: string;
  status: VersionStatus;
  /** Reason of the last status change (promotion decision reason, rejection reason, `superseded by vNNNN`). */
  reason: string;
  registeredAt: string;
  promotedAt?: string;
  retiredAt?: string;
  rejectedAt?: string;
  decision?: PromotionDecision;
}

export interface RegistryEntry extends VersionState {
  manifest: ModelManifest;
}

export const VERSION_RE = /^v\d{4,}$/;

export function formatVersion(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error(`version number must be a positive integer, got ${n}`);
  return `v${String(n).padStart(4, '0')}`;
}

function checkVersion(version: string): string {
  if (typeof version !== 'string' || !VERSION_RE.test(version)) throw new Error(`invalid model version ${JSON.stringify(version)}: expected v0001-style ids`);
  return version;
}

/**
 * Model versions of one pipeline under `<home>/registry/<pipeline>/`: `versions/<v>.json` (ModelManifest, written
 * once), `status/<v>.json` (VersionState) and `champion` (JSON `{version, promotedAt}`). All writes are atomic.
 */
export class ModelRegistry {
  readonly dir: string;
  constructor(
    readonly pipeline: string,
    opts: { home?: string } = {},
  ) {
    const p = Slug.safeParse(pipeline);
    if (!p.success) throw new Error(`invalid pipeline name ${JSON.stringify(pipeline)}: ${p.error.issues[0]?.message}`);
    this.dir = path.join(path.resolve(opts.home ?? broadloomHome()), 'registry', pipeline);
  }

  private manifestPath(v: string) {
    return path.join(this.dir, 'versions', `${checkVersion(v)}.json`);
  }
  private statusPath(v: string) {
    return path.join(this.dir, 'status', `${checkVersion(v)}.json`);
  }
  private get championPath() {
    return path.join(this.dir, 'champion');
  }

  private async readJson<T>(p: string): Promise<T | null> {
    try {
      return JSON.parse(await fs.readFile(p, 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`registry file ${p} is unreadable: ${(e as Error).message}`);
    }
  }

  /** Versions, sorted ascending. */
  async versions(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(path.join(this.dir, 'versions'));
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json') && VERSION_RE.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5))
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  }

  /** The next free version id (`v0001` for an empty registry). */
  async nextVersion(): Promise<string> {
    const vs = await this.versions();
    const last = vs[vs.length - 1];
    return formatVersion(last ? Number(last.slice(1)) + 1 : 1);
  }

  /**
   * Register a new version as `challenger`. Re-registering an identical manifest is a no-op; a different manifest
   * under an existing version is refused. Its parent (if any) must be registered; its pipeline must match.
   */
  async register(manifestInput: ModelManifest): Promise<RegistryEntry> {
    const manifest = ModelManifest.parse(manifestInput);
    checkVersion(manifest.version);
    if (manifest.pipeline !== this.pipeline) throw new Error(`manifest is for pipeline "${manifest.pipeline}", not "${this.pipeline}"`);
    if (manifest.parent !== null) {
      checkVersion(manifest.parent);
      if (!(await this.readJson(this.manifestPath(manifest.parent)))) throw new Error(`parent version ${manifest.parent} of ${manifest.version} is not registered`);
    }
    const written = await atomicWrite(this.manifestPath(manifest.version), JSON.stringify(manifest, null, 2) + '\n', { exclusive: true });
    if (!written) {
      const existing = await this.readJson<ModelManifest>(this.manifestPath(manifest.version));
      if (canonicalJson(existing) !== canonicalJson(manifest)) throw new Error(`version ${manifest.version} is already registered with a different manifest`);
      return this.entry(manifest.version);
    }
    const state: VersionState = { version: manifest.version, status: 'challenger', reason: 'registered', registeredAt: new Date().toISOString() };
    await atomicWrite(this.statusPath(manifest.version), JSON.stringify(state, null, 2) + '\n', { exclusive: true });
    return { ...state, manifest };
  }

  async get(version: string): Promise<ModelManifest | null> {
    const m = await this.readJson<unknown>(this.manifestPath(version));
    return m === null ? null : ModelManifest.parse(m);
  }

  async status(version: string): Promise<VersionState | null> {
    const s = await this.readJson<VersionState>(this.statusPath(version));
    if (s) return s;
    return (await this.get(version)) ? { version, status: 'challenger', reason: 'registered', registeredAt: '' } : null;
  }

  private async entry(version: string): Promise<RegistryEntry> {
    const manifest = await this.get(version);
    if (!manifest) throw new Error(`model version ${version} of pipeline ${this.pipeline} is not registered`);
    const st = (await this.status(version))!;
    return { ...st, manifest };
  }

  /** Every version with its status, ascending. */
  async list(): Promise<RegistryEntry[]> {
    const out: RegistryEntry[] = [];
    for (const v of await this.versions()) out.push(await this.entry(v));
    return out;
  }

  /** The current champion's manifest, or null. */
  async champion(): Promise<ModelManifest | null> {
    const p = await this.readJson<{ version: string }>(this.championPath);
    return p ? this.get(checkVersion(p.version)) : null;
  }

  /**
   * Make `version` the champion (a challenger, or a retired version for a rollback; never a rejected one). The old
   * champion becomes `retired` with reason `superseded by <version>`.
   */
  async promote(version: string, decision: PromotionDecision): Promise<RegistryEntry> {
    if (!decision || typeof decision.reason !== 'string' || decision.reason.trim() === '') throw new Error('promote needs a decision with a non-empty reason');
    const cur = await this.entry(version);
    if (cur.status === 'rejected') throw new Error(`version ${version} was rejected (${cur.reason}) and cannot be promoted`);
    if (cur.status === 'champion') return cur;
    const now = new Date().toISOString();
    const old = await this.champion();
    const next: VersionState = { ...stateOf(cur), status: 'champion', reason: decision.reason, promotedAt: now, decision };
    delete next.retiredAt;
    await atomicWrite(this.statusPath(version), JSON.stringify(next, null, 2) + '\n');
    await atomicWrite(this.championPath, JSON.stringify({ version, promotedAt: now }) + '\n');
    if (old && old.version !== version) {
      const os = (await this.status(old.version))!;
      await atomicWrite(this.statusPath(old.version), JSON.stringify({ ...os, status: 'retired', reason: `superseded by ${version}`, retiredAt: now }, null, 2) + '\n');
    }
    return { ...next, manifest: cur.manifest };
  }

  /** Mark a challenger as rejected (the champion cannot be rejected: promote another version first). */
  async reject(version: string, reason: string): Promise<RegistryEntry> {
    if (typeof reason !== 'string' || reason.trim() === '') throw new Error('reject needs a non-empty reason');
    const cur = await this.entry(version);
    if (cur.status === 'champion') throw new Error(`version ${version} is the champion; promote another version before rejecting it`);
    const next: VersionState = { ...stateOf(cur), status: 'rejected', reason, rejectedAt: new Date().toISOString() };
    await atomicWrite(this.statusPath(version), JSON.stringify(next, null, 2) + '\n');
    return { ...next, manifest: cur.manifest };
  }

  /** `version`, its parent, its parent's parent… (manifests, newest first). Detects cycles and missing parents. */
  async lineage(version: string): Promise<ModelManifest[]> {
    const out: ModelManifest[] = [];
    const seen = new Set<string>();
    let v: string | null = version;
    while (v !== null) {
      if (seen.has(v)) throw new Error(`lineage of ${version} has a cycle at ${v}`);
      seen.add(v);
      const m = await this.get(v);
      if (!m) throw new Error(`lineage of ${version}: version ${v} is not registered`);
      out.push(m);
      v = m.parent;
    }
    return out;
  }
}

function stateOf(e: RegistryEntry): VersionState {
  const { manifest: _m, ...s } = e;
  return s;
}
