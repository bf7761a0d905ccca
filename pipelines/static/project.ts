/**
 * Shared plumbing of the static reader: one cached ts-morph Project per repository root (files refreshed from disk on
 * every use, so edits between calls are seen), repository-root discovery and the Diagnostic type.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Project, ts, type Node, type SourceFile } from 'ts-morph';

export type Severity = 'error' | 'warning';

/** One problem found before anything runs; `line` and `column` are 1-based. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
  severity: Severity;
}

/** The nearest directory at or above `from` that holds a package.json (the file's own directory if none does). */
export function findRepoRoot(from: string): string {
  const start = resolve(from);
  let dir = existsSync(start) && statSync(start).isDirectory() ? start : dirname(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return existsSync(start) && statSync(start).isDirectory() ? start : dirname(start);
    dir = up;
  }
}

const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  strict: true,
  allowImportingTsExtensions: true,
  noEmit: true,
  skipLibCheck: true,
  resolveJsonModule: true,
  esModuleInterop: true,
};

/**
 * `full`: modules resolve like tsc's (package types included), for type questions (schema assignability).
 * `code`: only relative imports resolve; packages stay opaque. Code versions need nothing more (a package counts by
 * its locked version) and the program is a fraction of the size, so the cold start is much faster.
 */
export type ProjectKind = 'full' | 'code';

interface Cached {
  project: Project;
  /** Files of the repository the project has read, with the size+mtime they had when last checked. */
  stamps: Map<string, string>;
  checkedAt: number;
}
const projects = new Map<string, Cached>();
const roots = new WeakMap<Project, string>();

function stamp(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

/** True for paths outside the repository's own code (dependencies, TypeScript's lib files). */
export function isExternal(path: string): boolean {
  return path.includes(`${sep}node_modules${sep}`) || path.includes('/node_modules/');
}

/**
 * The cached Project for `root`. Repository files it already holds are re-read when their size or mtime changed (or
 * they were deleted), so the answer always reflects the files on disk.
 */
export function projectFor(root: string, kind: ProjectKind = 'full'): Project {
  const dir = resolve(root);
  const key = `${kind}:${dir}`;
  let cached = projects.get(key);
  if (!cached) {
    const tsconfig = join(dir, 'tsconfig.json');
    const resolutionHost = kind === 'code' ? relativeOnly : undefined;
    const project = existsSync(tsconfig)
      // No ambient `types`: @types/node is the bulk of a program and nothing here needs Node's globals' types.
      ? new Project({ tsConfigFilePath: tsconfig, compilerOptions: { types: [] }, skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true, ...(resolutionHost ? { resolutionHost } : {}) })
      : new Project({ compilerOptions: DEFAULT_OPTIONS, skipFileDependencyResolution: true, ...(resolutionHost ? { resolutionHost } : {}) });
    cached = { project, stamps: new Map(), checkedAt: Date.now() };
    projects.set(key, cached);
    roots.set(project, key);
    return project;
  }
  refresh(cached);
  return cached.project;
}

const relativeOnly = (host: ts.ModuleResolutionHost, options: () => ts.CompilerOptions) => ({
  resolveModuleNames(names: string[], containingFile: string): (ts.ResolvedModuleFull | undefined)[] {
    return names.map((n) => (n.startsWith('.') || n.startsWith('/') ? ts.resolveModuleName(n, containingFile, options(), host).resolvedModule : undefined));
  },
});

function refresh(cached: Cached): void {
  const checkedAt = cached.checkedAt;
  cached.checkedAt = Date.now();
  for (const [path, before] of [...cached.stamps]) {
    const now = stamp(path);
    // A file written within the timestamp granularity of the last check may have changed without a new stamp.
    if (now === before && !(now && Math.abs(Number(now.split(':')[1]) - checkedAt) < 2000)) continue;
    const sf = cached.project.getSourceFile(path);
    if (now === null) {
      if (sf) cached.project.removeSourceFile(sf);
      cached.stamps.delete(path);
      continue;
    }
    sf?.refreshFromFileSystemSync();
    cached.stamps.set(path, now);
  }
}

/** Adds (or returns) a repository file of `root`'s project, remembering its stamp. */
export function sourceFile(root: string, file: string, kind: ProjectKind = 'full'): SourceFile {
  const project = projectFor(root, kind);
  const abs = resolve(file);
  let sf = project.getSourceFile(abs);
  if (!sf) {
    sf = project.addSourceFileAtPath(abs);
    const s = stamp(abs);
    if (s) projects.get(`${kind}:${resolve(root)}`)!.stamps.set(sf.getFilePath(), s);
  }
  return sf;
}

/** Adds a file to the same project as `near` (import resolution without the type checker); undefined if missing. */
export function siblingFile(near: Node, path: string): SourceFile | undefined {
  const project = near.getProject();
  const root = roots.get(project);
  const abs = resolve(path);
  const existing = project.getSourceFile(abs);
  if (existing) return existing;
  if (!existsSync(abs) || !statSync(abs).isFile()) return undefined;
  const sf = project.addSourceFileAtPath(abs);
  const s = stamp(abs);
  if (root && s) projects.get(root)?.stamps.set(sf.getFilePath(), s);
  return sf;
}

/**
 * Makes every repository file the program has loaded (through imports) part of the project, so later calls check
 * them for changes too. Cheap after the first time.
 */
export function trackLoadedFiles(root: string, kind: ProjectKind = 'full'): void {
  const cached = projects.get(`${kind}:${resolve(root)}`);
  if (!cached) return;
  const program = cached.project.getProgram().compilerObject;
  for (const f of program.getSourceFiles()) {
    if (f.isDeclarationFile || isExternal(f.fileName)) continue;
    const sf = cached.project.addSourceFileAtPathIfExists(f.fileName);
    if (!sf || cached.stamps.has(sf.getFilePath())) continue;
    const s = stamp(sf.getFilePath());
    if (s) cached.stamps.set(sf.getFilePath(), s);
  }
}

/** Forget every cached project (tests, long-running processes that want memory back). */
export function clearProjectCache(): void {
  projects.clear();
}

/** A diagnostic located at `node`. */
export function diagnosticAt(node: Node, code: string, message: string, severity: Severity = 'error'): Diagnostic {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  return { file: sf.getFilePath(), line, column, code, message, severity };
}

/** `file:line:column: severity code: message`, the path relative to `cwd` when it lies below it. */
export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const rel = relative(cwd, d.file);
  const shown = rel && !rel.startsWith('..') ? rel : d.file;
  return `${shown}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`;
}

/** The repository's package-lock.json, read once per root: package path → version. */
const locks = new Map<string, Map<string, string>>();
export function lockedVersion(root: string, pkg: string): string | undefined {
  let lock = locks.get(root);
  if (!lock) {
    lock = new Map();
    const path = join(root, 'package-lock.json');
    if (existsSync(path)) {
      try {
        const json = JSON.parse(readFileSync(path, 'utf8')) as { packages?: Record<string, { version?: string }> };
        for (const [k, v] of Object.entries(json.packages ?? {})) if (v.version) lock.set(k, v.version);
      } catch {
        /* an unreadable lockfile versions nothing */
      }
    }
    locks.set(root, lock);
  }
  const fromLock = lock.get(`node_modules/${pkg}`);
  if (fromLock) return fromLock;
  try {
    const pj = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version?: string };
    return pj.version;
  } catch {
    return undefined;
  }
}
