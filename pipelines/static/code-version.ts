/**
 * Code-aware cache keys. A stage's code version is a sha256 over the normalised source of its activity function and
 * of every function, constant, class and module of this repository it reaches, transitively (identifiers followed
 * to their declarations with the type checker, across files and re-exports), plus `name@version` (from
 * package-lock.json) of every package it imports. Normalised: comments, whitespace, semicolons that end a statement,
 * trailing commas and string quote style do not count, so reformatting or editing a comment changes no key; editing
 * a helper two calls away changes exactly the keys of the stages that reach it.
 *
 * Units of code are top-level statements: a function, a class, a `const` statement, a module's top-level side
 * effects; an inline activity in the pipeline's `activities:` object is its own unit (the rest of the pipeline file
 * is configuration, hashed separately by the engine). Types (interfaces, type aliases, annotations) are not followed:
 * they do not run.
 */
import { createHash } from 'node:crypto';
import { isBuiltin } from 'node:module';
import { relative } from 'node:path';
import { ts, type Node as MorphNode } from 'ts-morph';
import { stageIds } from '../compile.ts';
import { exportedActivities, findActivity } from './activities.ts';
import { extractPipeline, type StaticPipeline } from './extract.ts';
import { findRepoRoot, isExternal, lockedVersion, projectFor, trackLoadedFiles } from './project.ts';

const VERSION = 'broadloom-code-v1';

export interface StageCodeInfo {
  /** sha256 hex of everything below. */
  codeVersion: string;
  activity: string;
  /** Where the activity was found; `unresolved` when nowhere (the key then only names the activity). */
  from: 'pipeline' | 'repository' | 'unresolved';
  /** The units of code hashed, as `path#name`, sorted. */
  units: string[];
  /** `name@version` of the packages the code imports (`node:fs` for built-ins), sorted. */
  packages: string[];
}

export interface CodeVersionOptions {
  /** Repository root; by default the nearest directory above the pipeline file with a package.json. */
  root?: string;
}

/** Each stage's code version, by stage id. Fill `StageSpec.codeVersion` with these before starting a run. */
export function stageCodeVersions(pipelineFile: string, opts: CodeVersionOptions = {}): Record<string, string> {
  const details = stageCodeDetails(pipelineFile, opts);
  return Object.fromEntries(Object.entries(details).map(([id, d]) => [id, d.codeVersion]));
}

/** Like stageCodeVersions, with what went into each hash (for `--explain` output and tests). */
export function stageCodeDetails(pipelineFile: string, opts: CodeVersionOptions = {}): Record<string, StageCodeInfo> {
  const root = opts.root ?? findRepoRoot(pipelineFile);
  const p = extractPipeline(pipelineFile, root, 'code');
  const out = codeDetailsOf(p);
  trackLoadedFiles(root, 'code');
  return out;
}

export function codeDetailsOf(p: StaticPipeline): Record<string, StageCodeInfo> {
  // Find every root first: finding them may add files to the project, which replaces its program.
  const exported = exportedActivities(p.root, p.kind);
  const labelers = [...p.labelers.values()].map((e) => e.value);
  const plan = p.stages.map((s) => {
    const impl = findActivity(p, s.activity, exported);
    const roots: MorphNode[] = impl ? [impl.node] : [];
    // The label stage runs the pipeline's labelling functions: they are its code too.
    if (s.activity === 'label' && s.project !== undefined && s.id === stageIds.label(s.project)) roots.push(...labelers);
    return { s, from: impl ? impl.from : ('unresolved' as const), roots };
  });
  const program = projectFor(p.root, p.kind).getProgram().compilerObject;
  const hasher = new Hasher(p.root, program);
  const out: Record<string, StageCodeInfo> = {};
  for (const { s, from, roots } of plan) out[s.id] = hasher.version(s.activity, from, roots.map((r) => r.compilerNode));
  return out;
}

type Unit = ts.Node;

/** Program-scoped caches (symbol resolution depends on the whole program); text hashes survive while nodes do. */
const textHashes = new WeakMap<ts.Node, string>();
const depsByProgram = new WeakMap<ts.Program, WeakMap<ts.Node, Deps>>();

interface Deps {
  units: Set<Unit>;
  packages: Set<string>;
}

class Hasher {
  private readonly checker: ts.TypeChecker;
  private readonly deps: WeakMap<ts.Node, Deps>;

  constructor(private readonly root: string, private readonly program: ts.Program) {
    this.checker = program.getTypeChecker();
    let d = depsByProgram.get(program);
    if (!d) { d = new WeakMap(); depsByProgram.set(program, d); }
    this.deps = d;
  }

  version(activity: string, from: StageCodeInfo['from'], roots: ts.Node[]): StageCodeInfo {
    const units = new Set<Unit>();
    const packages = new Set<string>();
    const queue: Unit[] = [];
    const add = (u: Unit) => { if (!units.has(u)) { units.add(u); queue.push(u); } };
    for (const r of roots) add(rootUnit(r));
    while (queue.length) {
      const u = queue.pop()!;
      const d = this.depsOf(u);
      d.packages.forEach((x) => packages.add(x));
      d.units.forEach(add);
    }
    const lines = [...units].map((u) => `${this.unitName(u)}\u0000${this.textHash(u)}`).sort();
    const pk = [...packages].sort();
    const codeVersion = createHash('sha256')
      .update([VERSION, `activity:${activity}`, ...(from === 'unresolved' ? ['unresolved'] : []), ...lines, ...pk.map((x) => `package:${x}`)].join('\n'))
      .digest('hex');
    return { codeVersion, activity, from, units: [...units].map((u) => this.unitName(u)).sort(), packages: pk };
  }

  private unitName(u: Unit): string {
    const sf = u.getSourceFile();
    const rel = relative(this.root, sf.fileName);
    if (ts.isSourceFile(u)) return `${rel}#*`;
    const names = declaredNames(u);
    return `${rel}#${names.length ? names.join(',') : `${ts.SyntaxKind[u.kind]}@${textHashOf(u).slice(0, 8)}`}`;
  }

  private textHash(u: Unit): string {
    return textHashOf(u);
  }

  private depsOf(u: Unit): Deps {
    const cached = this.deps.get(u);
    if (cached) return cached;
    const d: Deps = { units: new Set(), packages: new Set() };
    this.deps.set(u, d);
    const sf = u.getSourceFile();
    const visit = (n: ts.Node): void => {
      if (skipNode(n)) return;
      if (ts.isIdentifier(n)) { this.resolveIdentifier(n, u, d); return; }
      if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = n.arguments[0];
        if (arg && ts.isStringLiteralLike(arg)) this.resolveModule(arg.text, sf, d);
      }
      ts.forEachChild(n, visit);
    };
    if (ts.isSourceFile(u)) u.statements.forEach(visit);
    else visit(u);
    // A file reached for the first time brings its top-level side effects along.
    for (const s of sf.statements) {
      if (ts.isImportDeclaration(s) && !s.importClause && ts.isStringLiteral(s.moduleSpecifier)) this.resolveModule(s.moduleSpecifier.text, sf, d);
      else if (isSideEffect(s) && s !== u) d.units.add(s);
    }
    return d;
  }

  private resolveModule(spec: string, from: ts.SourceFile, d: Deps): void {
    if (!spec.startsWith('.') && !spec.startsWith('/')) { d.packages.add(this.packageOf(spec)); return; }
    const resolved = ts.resolveModuleName(spec, from.fileName, this.program.getCompilerOptions(), ts.sys).resolvedModule;
    const target = resolved && this.program.getSourceFile(resolved.resolvedFileName);
    if (target && !isExternal(target.fileName) && !target.isDeclarationFile) d.units.add(target);
  }

  private packageOf(spec: string): string {
    if (spec.startsWith('node:') || isBuiltin(spec)) return spec.startsWith('node:') ? spec : `node:${spec}`;
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    return `${name}@${lockedVersion(this.root, name) ?? 'unknown'}`;
  }

  private resolveIdentifier(id: ts.Identifier, from: Unit, d: Deps): void {
    const parent = id.parent;
    let sym = parent && ts.isShorthandPropertyAssignment(parent) && parent.name === id
      ? this.checker.getShorthandAssignmentValueSymbol(parent)
      : this.checker.getSymbolAtLocation(id);
    if (!sym) return;
    if (sym.flags & ts.SymbolFlags.Alias) {
      const decl = sym.declarations?.[0];
      const spec = decl && importSpecifierOf(decl);
      if (spec !== undefined && !spec.startsWith('.') && !spec.startsWith('/')) { d.packages.add(this.packageOf(spec)); return; }
      sym = this.checker.getAliasedSymbol(sym);
    }
    for (const decl of sym.declarations ?? []) {
      const sf = decl.getSourceFile();
      if (sf.isDeclarationFile || this.program.isSourceFileDefaultLibrary(sf)) continue;
      if (isExternal(sf.fileName)) continue;
      if (ts.isSourceFile(decl)) { if (decl !== from) d.units.add(decl); continue; }
      if (ts.isModuleDeclaration(decl)) continue;
      const unit = unitOf(decl);
      if (unit === from || isTypeOnlyUnit(unit) || containsNode(from, unit)) continue;
      // The statement around an inline activity is the pipeline's configuration (hashed separately), not its code.
      if (containsNode(unit, from)) continue;
      // A parameter or local of an enclosing unit we are already hashing: nothing new.
      if (!ts.isSourceFile(from) && containsNode(from, decl)) continue;
      d.units.add(unit);
    }
  }
}

function importSpecifierOf(decl: ts.Declaration): string | undefined {
  let n: ts.Node | undefined = decl;
  while (n && !ts.isImportDeclaration(n) && !ts.isExportDeclaration(n) && !ts.isSourceFile(n)) n = n.parent;
  if (n && (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) return n.moduleSpecifier.text;
  return undefined;
}

function containsNode(outer: ts.Node, inner: ts.Node): boolean {
  if (outer.getSourceFile() !== inner.getSourceFile()) return false;
  return inner.pos >= outer.pos && inner.end <= outer.end;
}

/** The top-level statement a declaration belongs to (the whole file for a module). */
function unitOf(n: ts.Node): Unit {
  let cur = n;
  while (cur.parent && !ts.isSourceFile(cur.parent)) cur = cur.parent;
  return cur;
}

/** An inline activity (arrow, function, `defineActivity(...)`, method) is a unit of its own; a declaration, its statement. */
function rootUnit(n: ts.Node): Unit {
  if (ts.isVariableDeclaration(n) || ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isSourceFile(n)) return ts.isSourceFile(n) ? n : unitOf(n);
  return n;
}

function isTypeOnlyUnit(u: ts.Node): boolean {
  return ts.isInterfaceDeclaration(u) || ts.isTypeAliasDeclaration(u)
    || (ts.isImportDeclaration(u) && !!u.importClause?.isTypeOnly);
}

function isSideEffect(s: ts.Statement): boolean {
  return !(ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isVariableStatement(s) || ts.isInterfaceDeclaration(s)
    || ts.isTypeAliasDeclaration(s) || ts.isImportDeclaration(s) || ts.isExportDeclaration(s) || ts.isEnumDeclaration(s)
    || ts.isModuleDeclaration(s) || ts.isExportAssignment(s) || ts.isEmptyStatement(s) || ts.isImportEqualsDeclaration(s));
}

/** Type positions are not followed (they do not run), except a class's `extends` expression. */
function skipNode(n: ts.Node): boolean {
  if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) return true;
  if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return true;
  if (ts.isExpressionWithTypeArguments(n)) {
    const clause = n.parent;
    return !(ts.isHeritageClause(clause) && clause.token === ts.SyntaxKind.ExtendsKeyword && ts.isClassLike(clause.parent));
  }
  return ts.isTypeNode(n);
}

function declaredNames(u: ts.Node): string[] {
  if (ts.isVariableStatement(u)) return u.declarationList.declarations.map((d) => d.name.getText());
  const name = (u as { name?: ts.Node }).name;
  if (name && (ts.isIdentifier(name) || ts.isStringLiteral(name))) return [name.text];
  if (ts.isExportAssignment(u)) return ['default'];
  return [];
}

/** sha256 of the unit's token stream: no trivia, no optional punctuation, normalised string quotes. */
function textHashOf(u: ts.Node): string {
  const cached = textHashes.get(u);
  if (cached) return cached;
  const sf = u.getSourceFile();
  const out: string[] = [];
  const emit = (n: ts.Node, parent: ts.Node | undefined, isLast: boolean): void => {
    if (n.kind >= ts.SyntaxKind.FirstJSDocNode && n.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = n.getChildren(sf);
    if (!children.length) {
      if (n.kind === ts.SyntaxKind.EndOfFileToken) return;
      // Statement-ending semicolons and trailing commas are formatting; the structure markers keep the rest unambiguous.
      if (n.kind === ts.SyntaxKind.SemicolonToken && isLast) return;
      if (n.kind === ts.SyntaxKind.CommaToken && isLast && parent?.kind === ts.SyntaxKind.SyntaxList) return;
      if (ts.isStringLiteral(n)) { out.push(JSON.stringify(n.text)); return; }
      out.push(n.getText(sf));
      return;
    }
    out.push(`(${n.kind}`);
    children.forEach((c, i) => emit(c, n, i === children.length - 1));
    out.push(')');
  };
  emit(u, undefined, true);
  const h = createHash('sha256').update(out.join(' ')).digest('hex');
  textHashes.set(u, h);
  return h;
}

