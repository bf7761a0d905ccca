/**
 * `broadloom check`: problems found by reading the code, before anything runs.
 *   Pipeline files (any file with a `definePipeline({...})` call):
 *     duplicate-stage, unknown-project, unknown-stage (at the `after` element), cycle (at an `after` element on the
 *     cycle), unknown-activity (neither in the pipeline's `activities:` nor exported by activities/index.ts),
 *     schema-mismatch (a producer's declared `output` does not satisfy a consumer's declared `input`, see
 *     define-activity.ts), and `unresolved` warnings for parts that cannot be read statically.
 *   Workflow files (under `workflows/`): nondeterministic (Math.random, crypto, process.env, performance.now,
 *     require/dynamic import: errors; Date.now, new Date(), Date(), timers: warnings, because Temporal's sandbox
 *     makes them replay-safe, errors with `strict`) and workflow-import (value imports of anything but
 *     `@temporalio/workflow`, `@temporalio/common` and files inside workflows/ or schemas/).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Node, SyntaxKind, type SourceFile, type Type } from 'ts-morph';
import { BUILTIN_ACTIVITIES } from '../compile.ts';
import { findCycle } from '../graph.ts';
import { declaredSchemas, exportedActivities, findActivity } from './activities.ts';
import { extractPipelines, type StaticPipeline, type StaticStage } from './extract.ts';
import { diagnosticAt, findRepoRoot, formatDiagnostic, projectFor, sourceFile, type Diagnostic } from './project.ts';
import type { Output } from './graph.ts';

export type { Diagnostic } from './project.ts';

export interface CheckOptions {
  /** Repository root; by default the nearest directory above each file with a package.json. */
  root?: string;
  /** Extra module specifiers (exact, or prefixes ending in `/`) workflow code may import. */
  allowWorkflowImports?: string[];
  /**
   * Temporal's workflow sandbox replaces `Date` (workflow-task time) and the timers (durable timers), so inside a
   * workflow they replay deterministically; by default they are warnings. `strict: true` makes them errors too.
   */
  strict?: boolean;
}

/** Expands directories to the `.ts` files below them (skipping node_modules and dot-directories). */
function expand(files: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e !== 'node_modules' && !e.startsWith('.')) walk(join(p, e));
    } else if (/\.(c|m)?tsx?$/.test(p) && !p.endsWith('.d.ts')) out.push(resolve(p));
  };
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`no such file: ${f}`);
    const st = statSync(f);
    if (st.isDirectory()) walk(f);
    else out.push(resolve(f));
  }
  return [...new Set(out)];
}

const order = (a: Diagnostic, b: Diagnostic) =>
  a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);

/** Every problem in `files` (files or directories), sorted by file and position. */
export function checkFiles(files: string[], opts: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const file of expand(files)) {
    const root = opts.root ? resolve(opts.root) : findRepoRoot(file);
    const rel = relative(root, file).split(sep);
    try {
      if (rel[0] === 'workflows') out.push(...checkWorkflowFile(file, root, opts));
      const sf = sourceFile(root, file);
      if (sf.getFullText().includes('definePipeline')) {
        for (const p of extractPipelines(file, root)) out.push(...checkPipeline(p));
      }
    } catch (e) {
      // A bug or an unexpected construct in one file must not hide the other files' results.
      out.push({ file, line: 1, column: 1, code: 'internal', severity: 'error',
        message: `the static reader failed on this file: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  const seen = new Set<string>();
  return out.filter((d) => { const k = JSON.stringify(d); if (seen.has(k)) return false; seen.add(k); return true; }).sort(order);
}

/** `broadloom check <files...>`: prints one line per problem and a summary; returns 1 if there is any error. */
export function runCheck(files: string[], out: Output = process.stdout, opts: CheckOptions = {}): number {
  let diags: Diagnostic[];
  try {
    diags = checkFiles(files, opts);
  } catch (e) {
    out.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  for (const d of diags) out.write(`${formatDiagnostic(d)}\n`);
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.length - errors;
  out.write(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  return errors ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Pipelines

export function checkPipeline(p: StaticPipeline): Diagnostic[] {
  const out: Diagnostic[] = [...p.problems];
  const custom = p.stages.filter((s) => !s.builtin);
  const at = (s: StaticStage) => s.node ?? p.call;

  // Duplicate ids (a custom stage may collide with a generated one, or with another custom stage).
  const seen = new Set<string>();
  for (const s of p.stages) {
    if (seen.has(s.id)) out.push(diagnosticAt(s.idNode ?? at(s), 'duplicate-stage', `duplicate stage id "${s.id}"`));
    seen.add(s.id);
  }

  const projects = new Set(p.projects.map((x) => x.name));
  for (const s of custom) {
    if (s.project !== undefined && !projects.has(s.project))
      out.push(diagnosticAt(s.projectNode ?? at(s), 'unknown-project', `stage "${s.id}" belongs to unknown project "${s.project}"`));
  }

  // Unknown references, at the offending `after` element.
  const ids = new Set(p.stages.map((s) => s.id));
  for (const s of custom) {
    s.after.forEach((dep, j) => {
      if (!ids.has(dep)) {
        const near = [...ids].find((id) => id.toLowerCase() === dep.toLowerCase() || id.endsWith(`.${dep}`));
        out.push(diagnosticAt(s.afterNodes?.[j] ?? at(s), 'unknown-stage',
          `stage "${s.id}" runs after unknown stage "${dep}"${near ? ` (did you mean "${near}"?)` : ''}`));
      }
    });
  }

  // Cycles: report each at the `after` element that closes it: preferably a reference to a stage declared at or
  // after its consumer (the edge a reader sees as going "backwards"), else any edge of the cycle in a custom stage.
  const index = new Map(p.stages.map((s, i) => [s.id, i]));
  const remaining = p.stages.map((s) => ({ id: s.id, after: [...s.after] }));
  for (let guard = 0; guard < 20; guard++) {
    const cycle = findCycle(remaining);
    if (!cycle) break;
    // cycle is in run order: cycle[i + 1].after contains cycle[i].
    const edges: Array<{ consumer: StaticStage; j: number; dep: string }> = [];
    for (let i = 0; i + 1 < cycle.length; i++) {
      const consumer = custom.find((s) => s.id === cycle[i + 1]);
      const j = consumer?.after.indexOf(cycle[i]!) ?? -1;
      if (consumer && j >= 0) edges.push({ consumer, j, dep: cycle[i]! });
    }
    const back = edges.find((e) => (index.get(e.dep) ?? -1) >= (index.get(e.consumer.id) ?? 0)) ?? edges[0];
    if (!back) { out.push(diagnosticAt(p.call, 'cycle', `cycle: ${cycle.join(' → ')}`)); break; }
    out.push(diagnosticAt(back.consumer.afterNodes?.[back.j] ?? at(back.consumer), 'cycle', `cycle: ${cycle.join(' → ')}`));
    // Break this edge and look for further cycles.
    const r = remaining.find((x) => x.id === back.consumer.id)!;
    r.after = r.after.filter((d) => d !== back.dep);
  }

  // Activities of custom stages must be registered somewhere.
  const exported = exportedActivities(p.root, p.kind);
  for (const s of custom) {
    if (s.activity === '(unknown)') continue;
    if (findActivity(p, s.activity, exported)) continue;
    if (!exported && (BUILTIN_ACTIVITIES as readonly string[]).includes(s.activity)) continue;
    if (!p.activitiesComplete) {
      out.push(diagnosticAt(s.activityNode ?? at(s), 'unknown-activity',
        `activity "${s.activity}" of stage "${s.id}" was not found (the pipeline's \`activities\` could not be read completely)`, 'warning'));
      continue;
    }
    const names = [...p.activities.keys(), ...(exported?.keys() ?? [])];
    const near = names.find((n) => n.toLowerCase() === s.activity.toLowerCase());
    out.push(diagnosticAt(s.activityNode ?? at(s), 'unknown-activity',
      `stage "${s.id}" uses activity "${s.activity}", which is neither in the pipeline's \`activities\` nor exported by activities/index.ts${near ? ` (did you mean "${near}"?)` : ''}`));
  }

  // Generated stages need the built-in activities; while activities/index.ts lacks one, say so (a warning).
  if (exported) {
    for (const a of new Set(p.stages.filter((s) => s.builtin).map((s) => s.activity))) {
      if (exported.has(a) || p.activities.has(a)) continue;
      const first = p.stages.find((s) => s.builtin && s.activity === a)!;
      const proj = p.projects.find((x) => x.name === first.project) ?? p.projects[0];
      out.push(diagnosticAt(proj?.node ?? p.call, 'unknown-activity',
        `built-in activity "${a}" (stage "${first.id}") is not exported by activities/index.ts`, 'warning'));
    }
  }

  out.push(...checkSchemas(p, exported));
  return out;
}

/** The `z.output` (or `z.input`) type of a zod schema expression, or undefined if it is not a zod schema. */
function zodSide(node: Node, side: 'input' | 'output'): Type | undefined {
  const t = node.getType();
  const internals = t.getProperty('_zod');
  if (internals) {
    const it = internals.getTypeAtLocation(node);
    const s = it.getProperty(side);
    if (s) return s.getTypeAtLocation(node);
  }
  const legacy = t.getProperty(side === 'output' ? '_output' : '_input');
  return legacy?.getTypeAtLocation(node);
}

function typeText(t: Type, at: Node): string {
  const s = t.getText(at);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

/** Why `source` is not assignable to `target`, property by property when both are object types. */
function explain(source: Type, target: Type, at: Node, assignable: (a: Type, b: Type) => boolean): string {
  if (!target.isObject() || !source.isObject()) return `${typeText(source, at)} is not assignable to ${typeText(target, at)}`;
  const reasons: string[] = [];
  for (const prop of target.getProperties()) {
    const name = prop.getName();
    const tp = prop.getTypeAtLocation(at);
    const sp = source.getProperty(name);
    const optional = prop.isOptional();
    if (!sp) { if (!optional) reasons.push(`missing "${name}"`); continue; }
    const st = sp.getTypeAtLocation(at);
    if (!assignable(st, tp)) reasons.push(`"${name}": ${typeText(st, at)} is not assignable to ${typeText(tp, at)}`);
  }
  return reasons.length ? reasons.join('; ') : `${typeText(source, at)} is not assignable to ${typeText(target, at)}`;
}

function checkSchemas(p: StaticPipeline, exported: Map<string, Node> | null): Diagnostic[] {
  const out: Diagnostic[] = [];
  const schemas = new Map(p.stages.map((s) => [s.id, declaredSchemas(findActivity(p, s.activity, exported))]));
  if (![...schemas.values()].some((s) => s.input)) return out;
  const checker = projectFor(p.root, p.kind).getTypeChecker().compilerObject;
  const assignable = (a: Type, b: Type) => checker.isTypeAssignableTo(a.compilerType, b.compilerType);
  for (const consumer of p.stages) {
    const input = schemas.get(consumer.id)?.input;
    if (!input) continue;
    const want = zodSide(input, 'input');
    if (!want) {
      out.push(diagnosticAt(input, 'schema-mismatch', `the input schema of activity "${consumer.activity}" is not a zod schema`, 'warning'));
      continue;
    }
    consumer.after.forEach((dep, j) => {
      const output = schemas.get(dep)?.output;
      if (!output) return;
      const have = zodSide(output, 'output');
      if (!have) return;
      if (assignable(have, want)) return;
      const where = consumer.afterNodes?.[j] ?? consumer.node ?? input;
      const producer = p.stages.find((s) => s.id === dep)!;
      out.push(diagnosticAt(where, 'schema-mismatch',
        `stage "${dep}" (activity "${producer.activity}") produces facts that do not satisfy the input of stage "${consumer.id}" (activity "${consumer.activity}"): ${explain(have, want, where, assignable)}`));
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Workflows

const TIMERS = new Set(['setTimeout', 'setInterval', 'setImmediate']);
const IO_MODULES = new Set(['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'tls',
  'crypto', 'os', 'worker_threads', 'cluster', 'readline', 'process', 'perf_hooks', 'timers', 'timers/promises']);

/**
 * Packages workflow code may import as values: the workflow SDK and @temporalio/common (pure helpers and types that
 * @temporalio/workflow itself bundles into the sandbox, e.g. `@temporalio/common/lib/time.js`).
 */
export const WORKFLOW_SAFE_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

function workflowImportProblem(spec: string, file: string, root: string, allow: string[]): string | null {
  if (WORKFLOW_SAFE_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) return null;
  if (allow.some((a) => (a.endsWith('/') ? spec.startsWith(a) : spec === a))) return null;
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = resolve(dirname(file), spec);
    const rel = relative(root, target).split(sep);
    if (rel[0] === 'workflows' || rel[0] === 'schemas') return null;
    return `workflow code imports "${spec}", which is outside workflows/ and schemas/; activity and worker code may do I/O and is not bundled for the workflow sandbox (use \`import type\`, or call it through an activity)`;
  }
  const bare = spec.replace(/^node:/, '');
  if (spec.startsWith('node:') || IO_MODULES.has(bare))
    return `workflow code imports "${spec}" (Node built-in I/O/nondeterminism); move this into an activity`;
  return `workflow code imports "${spec}"; only ${WORKFLOW_SAFE_PACKAGES.map((p) => `\`${p}\``).join(', ')} and files inside workflows/ and schemas/ may be imported as values (or pass allowWorkflowImports)`;
}

/** Determinism problems of one file under workflows/. Purely syntactic: no type checking needed. */
export function checkWorkflowFile(file: string, root = findRepoRoot(file), opts: CheckOptions = {}): Diagnostic[] {
  const sf: SourceFile = sourceFile(root, file);
  const out: Diagnostic[] = [];
  const allow = opts.allowWorkflowImports ?? [];
  const bad = (n: Node, message: string) => out.push(diagnosticAt(n, 'nondeterministic', message));
  const sandboxed = (n: Node, message: string) => out.push(diagnosticAt(n, 'nondeterministic', message, opts.strict ? 'error' : 'warning'));
  const clock = (what: string) => `${what} in workflow code: Temporal's sandbox makes it replay-safe by returning the current workflow task's start time, not the wall clock`;
  const badImport = (n: Node, spec: string) => {
    const why = workflowImportProblem(spec, sf.getFilePath(), root, allow);
    if (why) out.push(diagnosticAt(n, 'workflow-import', why));
  };

  for (const imp of sf.getImportDeclarations()) {
    if (imp.isTypeOnly()) continue;
    const named = imp.getNamedImports();
    const valueImport = imp.getDefaultImport() || imp.getNamespaceImport() || named.length === 0 || named.some((n) => !n.isTypeOnly());
    const spec = imp.getModuleSpecifierValue();
    if (!valueImport) {
      // verbatimModuleSyntax keeps `import { type A } from 'x'` as `import {} from 'x'`: the module still loads.
      if (workflowImportProblem(spec, sf.getFilePath(), root, allow))
        out.push(diagnosticAt(imp.getModuleSpecifier(), 'workflow-import',
          `\`import { type ... } from "${spec}"\` still loads "${spec}" at run time (verbatimModuleSyntax); write \`import type { ... }\``));
      continue;
    }
    badImport(imp.getModuleSpecifier(), spec);
  }
  for (const exp of sf.getExportDeclarations()) {
    const spec = exp.getModuleSpecifierValue();
    if (spec === undefined || exp.isTypeOnly()) continue;
    const named = exp.getNamedExports();
    if (named.length && named.every((n) => n.isTypeOnly())) continue;
    badImport(exp.getModuleSpecifier()!, spec);
  }

  sf.forEachDescendant((node) => {
    if (Node.isCallExpression(node)) {
      const callee = node.getExpression();
      if (callee.getKind() === SyntaxKind.ImportKeyword) {
        const arg = node.getArguments()[0];
        if (arg && Node.isStringLiteral(arg)) badImport(arg, arg.getLiteralValue());
        else bad(node, 'dynamic `import()` of a computed module in workflow code');
      } else if (Node.isIdentifier(callee)) {
        const name = callee.getText();
        if (TIMERS.has(name)) sandboxed(callee, `\`${name}\` in workflow code becomes a durable timer in Temporal's sandbox; say so with \`sleep()\`/\`condition()\` from @temporalio/workflow`);
        else if (name === 'Date') sandboxed(callee, clock('`Date()`'));
        else if (name === 'require') {
          const arg = node.getArguments()[0];
          if (arg && Node.isStringLiteral(arg)) badImport(arg, arg.getLiteralValue());
          else bad(callee, '`require` in workflow code');
        }
      }
      return;
    }
    if (Node.isNewExpression(node)) {
      if (node.getExpression().getText() === 'Date' && node.getArguments().length === 0)
        sandboxed(node, clock('`new Date()`'));
      return;
    }
    if (Node.isPropertyAccessExpression(node)) {
      const obj = node.getExpression();
      const name = node.getName();
      const objText = Node.isIdentifier(obj) ? obj.getText() : obj.getText().replace(/\s+/g, '');
      if (objText === 'Date' && name === 'now') sandboxed(node, clock('`Date.now()`'));
      else if (objText === 'Math' && name === 'random') bad(node, '`Math.random()` is nondeterministic in workflow code: derive randomness from the workflow input (or use `uuid4()` from @temporalio/workflow)');
      else if (objText === 'performance' && name === 'now') bad(node, '`performance.now()` is nondeterministic in workflow code');
      else if (objText === 'crypto' || objText === 'globalThis.crypto')
        bad(node, `\`crypto.${name}\` in workflow code: nondeterministic/unavailable in the workflow sandbox`);
      else if (objText === 'process' && name === 'env') bad(node, '`process.env` in workflow code: configuration must come from the workflow input');
      else if ((objText === 'globalThis' || objText === 'window') && TIMERS.has(name)) sandboxed(node, `\`${name}\` in workflow code: use \`sleep()\` from @temporalio/workflow`);
    }
  });
  return out;
}
