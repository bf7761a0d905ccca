/**
 * Reads a pipeline definition out of its source file without executing it: finds `definePipeline({...})`, follows
 * identifiers to `const` initialisers (in the file and across imports), spreads, `as const`/`satisfies`, the DSL's
 * identity helpers (`project`, `stage`) and `task.*` calls, and expands projects with compile.ts's own
 * `projectStages`, so the static DAG is the runtime DAG. Whatever cannot be resolved is reported, never guessed.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { Node, SyntaxKind, type CallExpression, type ObjectLiteralExpression, type SourceFile } from 'ts-morph';
import { DATA_QUEUE, projectStages, stageIds } from '../compile.ts';
import type { ProjectSpec } from '../../schemas/index.ts';
import { diagnosticAt, findRepoRoot, siblingFile, sourceFile, type Diagnostic, type ProjectKind } from './project.ts';

export const UNKNOWN: unique symbol = Symbol('unknown');
type Value = unknown;

const MAX_DEPTH = 40;

/**
 * Parameters of the function that wraps `definePipeline` (a pipeline factory), bound to the argument expressions of
 * the call that makes the module's pipeline (`export default broadPipeline('small')`), or to their defaults.
 */
const bindings = new Map<Node, Node>();

/** Peels parentheses, `as`, `satisfies`, `!`, identity helpers, and follows identifiers to `const` initialisers. */
export function resolveExpr(node: Node, depth = 0): Node {
  if (depth > MAX_DEPTH) return node;
  if (Node.isParenthesizedExpression(node) || Node.isAsExpression(node) || Node.isSatisfiesExpression(node)
    || Node.isNonNullExpression(node) || Node.isTypeAssertion(node)) return resolveExpr(node.getExpression(), depth + 1);
  if (Node.isIdentifier(node) || Node.isShorthandPropertyAssignment(node)) {
    const decl = Node.isIdentifier(node) ? declarationOf(node) : lookup(node, node.getName(), depth + 1);
    if (decl && Node.isVariableDeclaration(decl) && isConst(decl)) {
      const init = decl.getInitializer();
      if (init) return resolveExpr(init, depth + 1);
    }
    if (decl && Node.isParameterDeclaration(decl)) {
      const bound = bindings.get(decl);
      if (bound) return resolveExpr(bound, depth + 1);
    }
    return node;
  }
  if (Node.isCallExpression(node)) {
    const name = calleeName(node);
    const args = node.getArguments();
    if ((name === 'project' || name === 'stage') && args.length === 1 && args[0]) return resolveExpr(args[0], depth + 1);
  }
  return node;
}

function isConst(decl: Node): boolean {
  const list = decl.getParent();
  return Node.isVariableDeclarationList(list) && (list.getFlags() & 2 /* NodeFlags.Const */) !== 0;
}

/**
 * The declaration an identifier refers to, found syntactically (no type checker: reading a pipeline must stay fast):
 * the nearest enclosing block or the file declaring the name, through `import`s of relative modules and their
 * `export ... from` chains.
 */
export function declarationOf(id: Node): Node | undefined {
  return lookup(id, id.getText(), 0);
}

function lookup(at: Node, name: string, depth: number): Node | undefined {
  if (depth > MAX_DEPTH) return undefined;
  for (let scope: Node | undefined = at.getParent(); scope; scope = scope.getParent()) {
    if (Node.isFunctionDeclaration(scope) || Node.isArrowFunction(scope) || Node.isFunctionExpression(scope) || Node.isMethodDeclaration(scope)) {
      const param = scope.getParameters().find((p) => p.getName() === name);
      if (param) return param;
      continue;
    }
    if (!(Node.isBlock(scope) || Node.isSourceFile(scope) || Node.isModuleBlock(scope))) continue;
    for (const st of scope.getStatements()) {
      const d = declaredIn(st, name, depth);
      if (d) return d;
    }
  }
  return undefined;
}

/** What statement `st` declares under `name` (imports resolved to the exporting module's declaration). */
function declaredIn(st: Node, name: string, depth: number): Node | undefined {
  if (Node.isVariableStatement(st)) return st.getDeclarations().find((d) => d.getName() === name);
  if ((Node.isFunctionDeclaration(st) || Node.isClassDeclaration(st) || Node.isEnumDeclaration(st)) && st.getName() === name) return st;
  if (Node.isImportDeclaration(st) && !st.isTypeOnly()) {
    const spec = st.getModuleSpecifierValue();
    const target = () => resolveRelative(st, spec);
    if (st.getDefaultImport()?.getText() === name) { const t = target(); return t && exportOf(t, 'default', depth + 1); }
    if (st.getNamespaceImport()?.getText() === name) return target();
    const named = st.getNamedImports().find((n) => (n.getAliasNode()?.getText() ?? n.getName()) === name);
    if (named) { const t = target(); return t && exportOf(t, named.getName(), depth + 1); }
  }
  return undefined;
}

/** A relative import's file (`./x.ts`, `./x.js` → `./x.ts`, `./x` → `./x.ts` or `./x/index.ts`). */
function resolveRelative(from: Node, spec: string): SourceFile | undefined {
  if (!spec.startsWith('.') && !spec.startsWith('/')) return undefined;
  const base = resolvePath(dirname(from.getSourceFile().getFilePath()), spec);
  const candidates = [base, base.replace(/\.(m|c)?js$/, '.$1ts'), `${base}.ts`, `${base}/index.ts`];
  for (const c of candidates) {
    const sf = siblingFile(from, c);
    if (sf) return sf;
  }
  return undefined;
}

/** The declaration module `sf` exports as `name`, through re-exports. */
export function exportOf(sf: SourceFile, name: string, depth = 0): Node | undefined {
  return moduleExports(sf, depth, name).get(name);
}

/** Everything a module exports, by name, found syntactically (`only`: stop at that name). */
export function moduleExports(sf: SourceFile, depth = 0, only?: string): Map<string, Node> {
  const out = new Map<string, Node>();
  if (depth > MAX_DEPTH) return out;
  const want = (n: string) => only === undefined || only === n;
  for (const st of sf.getStatements()) {
    if (Node.isVariableStatement(st) && st.hasExportKeyword()) {
      for (const d of st.getDeclarations()) if (want(d.getName())) out.set(d.getName(), d);
    } else if ((Node.isFunctionDeclaration(st) || Node.isClassDeclaration(st) || Node.isEnumDeclaration(st)) && st.hasExportKeyword()) {
      const n = st.hasDefaultKeyword() ? 'default' : st.getName();
      if (n && want(n)) out.set(n, st);
    } else if (Node.isExportAssignment(st) && !st.isExportEquals() && want('default')) {
      out.set('default', st.getExpression());
    } else if (Node.isExportDeclaration(st) && !st.isTypeOnly()) {
      const spec = st.getModuleSpecifierValue();
      const target = spec !== undefined ? resolveRelative(st, spec) : undefined;
      if (st.isNamespaceExport() || !st.hasNamedExports()) {
        const ns = st.getNamespaceExport();
        if (ns && target && want(ns.getName())) out.set(ns.getName(), target);
        else if (!ns && target) for (const [k, v] of moduleExports(target, depth + 1, only)) if (k !== 'default' && !out.has(k)) out.set(k, v);
        continue;
      }
      for (const ne of st.getNamedExports()) {
        if (ne.isTypeOnly()) continue;
        const exported = ne.getAliasNode()?.getText() ?? ne.getName();
        if (!want(exported)) continue;
        const d = target ? exportOf(target, ne.getName(), depth + 1) : lookup(ne, ne.getName(), depth + 1) ?? declaredInFile(sf, ne.getName(), depth);
        if (d) out.set(exported, d);
      }
    }
  }
  return out;
}

function declaredInFile(sf: SourceFile, name: string, depth: number): Node | undefined {
  for (const st of sf.getStatements()) {
    const d = declaredIn(st, name, depth + 1);
    if (d) return d;
  }
  return undefined;
}

/** `definePipeline`, `task.sequence` → `sequence`, `a.b.c` → `c`. */
export function calleeName(call: CallExpression): string | undefined {
  const callee = call.getExpression();
  if (Node.isIdentifier(callee)) return callee.getText();
  if (Node.isPropertyAccessExpression(callee)) return callee.getName();
  return undefined;
}

function propertyName(prop: Node): string | typeof UNKNOWN {
  const name = (prop as unknown as { getNameNode?: () => Node }).getNameNode?.();
  if (!name) return UNKNOWN;
  if (Node.isIdentifier(name) || Node.isPrivateIdentifier(name)) return name.getText();
  if (Node.isStringLiteral(name) || Node.isNoSubstitutionTemplateLiteral(name) || Node.isNumericLiteral(name)) return String(name.getLiteralValue());
  if (Node.isComputedPropertyName(name)) {
    const v = evalValue(name.getExpression());
    return typeof v === 'string' || typeof v === 'number' ? String(v) : UNKNOWN;
  }
  return UNKNOWN;
}

export interface Entry {
  /** The property's value expression (or the method/shorthand node itself). */
  value: Node;
  /** The property node, for locating diagnostics. */
  prop: Node;
}

/** The entries of an object literal in order (later ones override earlier); `complete` is false if a part is opaque. */
export function objectEntries(obj: Node, depth = 0): { entries: Map<string, Entry>; complete: boolean } {
  const entries = new Map<string, Entry>();
  let complete = true;
  const target = resolveExpr(obj);
  if (!Node.isObjectLiteralExpression(target) || depth > MAX_DEPTH) return { entries, complete: false };
  for (const prop of target.getProperties()) {
    if (Node.isSpreadAssignment(prop)) {
      const inner = objectEntries(prop.getExpression(), depth + 1);
      complete &&= inner.complete;
      for (const [k, v] of inner.entries) { entries.delete(k); entries.set(k, v); }
      continue;
    }
    const key = propertyName(prop);
    if (key === UNKNOWN) { complete = false; continue; }
    entries.delete(key);
    if (Node.isPropertyAssignment(prop)) entries.set(key, { value: prop.getInitializerOrThrow(), prop });
    else if (Node.isShorthandPropertyAssignment(prop)) entries.set(key, { value: prop, prop });
    else if (Node.isMethodDeclaration(prop)) entries.set(key, { value: prop, prop });
    else complete = false; // getters/setters
  }
  return { entries, complete };
}

export function getProp(obj: Node, key: string): Node | undefined {
  return objectEntries(obj).entries.get(key)?.value;
}

/** The elements of an array literal, spreads expanded; `complete` is false if a part is opaque. */
export function arrayElements(arr: Node, depth = 0): { items: Node[]; complete: boolean } {
  const target = resolveExpr(arr);
  if (!Node.isArrayLiteralExpression(target) || depth > MAX_DEPTH) return { items: [], complete: false };
  const items: Node[] = [];
  let complete = true;
  for (const el of target.getElements()) {
    if (Node.isSpreadElement(el)) {
      const inner = arrayElements(el.getExpression(), depth + 1);
      items.push(...inner.items);
      complete &&= inner.complete;
    } else if (Node.isOmittedExpression(el)) complete = false;
    else items.push(el);
  }
  return { items, complete };
}

const TASK_KINDS: Record<string, string> = { sequence: 'sequence-classification', tokens: 'token-classification' };

/** The plain value of an expression, or UNKNOWN. */
export function evalValue(node: Node | undefined, depth = 0): Value {
  if (!node || depth > MAX_DEPTH) return UNKNOWN;
  const n = resolveExpr(node);
  if (Node.isStringLiteral(n) || Node.isNoSubstitutionTemplateLiteral(n)) return n.getLiteralValue();
  if (Node.isNumericLiteral(n)) return n.getLiteralValue();
  if (n.getKind() === SyntaxKind.TrueKeyword) return true;
  if (n.getKind() === SyntaxKind.FalseKeyword) return false;
  if (n.getKind() === SyntaxKind.NullKeyword) return null;
  if (Node.isIdentifier(n) && n.getText() === 'undefined') return undefined;
  if (Node.isTemplateExpression(n)) {
    let s = n.getHead().getLiteralText();
    for (const span of n.getTemplateSpans()) {
      const v = evalValue(span.getExpression(), depth + 1);
      if (v === UNKNOWN || (typeof v === 'object' && v !== null)) return UNKNOWN;
      s += String(v) + span.getLiteral().getLiteralText();
    }
    return s;
  }
  if (Node.isPrefixUnaryExpression(n) && n.getOperatorToken() === SyntaxKind.MinusToken) {
    const v = evalValue(n.getOperand(), depth + 1);
    return typeof v === 'number' ? -v : UNKNOWN;
  }
  if (Node.isArrayLiteralExpression(n)) {
    const { items, complete } = arrayElements(n);
    if (!complete) return UNKNOWN;
    const out = items.map((i) => evalValue(i, depth + 1));
    return out.includes(UNKNOWN) ? UNKNOWN : out;
  }
  if (Node.isObjectLiteralExpression(n)) {
    const { entries, complete } = objectEntries(n);
    if (!complete) return UNKNOWN;
    const out: Record<string, Value> = {};
    for (const [k, e] of entries) {
      if (Node.isMethodDeclaration(e.value)) return UNKNOWN;
      const v = evalValue(e.value, depth + 1);
      if (v === UNKNOWN) return UNKNOWN;
      out[k] = v;
    }
    return out;
  }
  if (Node.isConditionalExpression(n)) {
    const c = evalValue(n.getCondition(), depth + 1);
    if (c !== UNKNOWN) return evalValue(c ? n.getWhenTrue() : n.getWhenFalse(), depth + 1);
    const a = evalValue(n.getWhenTrue(), depth + 1);
    const b = evalValue(n.getWhenFalse(), depth + 1);
    return a !== UNKNOWN && JSON.stringify(a) === JSON.stringify(b) ? a : UNKNOWN;
  }
  if (Node.isBinaryExpression(n)) {
    const op = n.getOperatorToken().getKind();
    const l = evalValue(n.getLeft(), depth + 1);
    if (op === SyntaxKind.QuestionQuestionToken) return l === UNKNOWN ? UNKNOWN : (l ?? evalValue(n.getRight(), depth + 1));
    const r = evalValue(n.getRight(), depth + 1);
    if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
    if (op === SyntaxKind.PlusToken && (typeof l === 'string' || typeof r === 'string')) return String(l) + String(r);
    if (op === SyntaxKind.PlusToken && typeof l === 'number' && typeof r === 'number') return l + r;
    if (op === SyntaxKind.EqualsEqualsEqualsToken) return l === r;
    if (op === SyntaxKind.ExclamationEqualsEqualsToken) return l !== r;
    return UNKNOWN;
  }
  if (Node.isPropertyAccessExpression(n)) {
    if (n.getExpression().getText() === 'stageIds') {
      const v = (stageIds as Record<string, unknown>)[n.getName()];
      if (typeof v === 'string') return v;
    }
    const obj = evalValue(n.getExpression(), depth + 1);
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) return (obj as Record<string, Value>)[n.getName()];
    return UNKNOWN;
  }
  if (Node.isElementAccessExpression(n)) {
    const obj = evalValue(n.getExpression(), depth + 1);
    const key = evalValue(n.getArgumentExpression(), depth + 1);
    if (obj && typeof obj === 'object' && (typeof key === 'string' || typeof key === 'number'))
      return (obj as Record<string, Value>)[key];
    return UNKNOWN;
  }
  if (Node.isCallExpression(n)) {
    const callee = n.getExpression();
    const args = n.getArguments();
    // task.sequence([...]) / task.tokens([...]): the kind is all the graph needs.
    if (Node.isPropertyAccessExpression(callee) && callee.getExpression().getText() === 'task' && TASK_KINDS[callee.getName()]) {
      const labels = evalValue(args[0], depth + 1);
      const opts = args[1] ? evalValue(args[1], depth + 1) : {};
      return { kind: TASK_KINDS[callee.getName()], labels, ...(opts && typeof opts === 'object' ? opts : {}) };
    }
    // stageIds.label('sentiment') → 'sentiment.label', with compile.ts's own function.
    if (Node.isPropertyAccessExpression(callee) && callee.getExpression().getText() === 'stageIds') {
      const fn = (stageIds as Record<string, unknown>)[callee.getName()];
      const arg = evalValue(args[0], depth + 1);
      if (typeof fn === 'function' && typeof arg === 'string') return (fn as (p: string) => string)(arg);
    }
    return UNKNOWN;
  }
  return UNKNOWN;
}

export interface StaticProject {
  name: string;
  taskKind?: string;
  node: Node;
}

export interface StaticStage {
  id: string;
  activity: string;
  after: string[];
  project?: string;
  taskQueue: string;
  /** Generated from a project (define/collect/label/train/evaluate/promote) rather than written in `stages`. */
  builtin: boolean;
  /** Source positions of a custom stage's parts, for diagnostics. */
  node?: Node;
  idNode?: Node;
  activityNode?: Node;
  projectNode?: Node;
  afterNodes?: Node[];
}

export interface StaticPipeline {
  file: string;
  root: string;
  /** The project it was read in (see project.ts). */
  kind: ProjectKind;
  name?: string;
  call: CallExpression;
  projects: StaticProject[];
  stages: StaticStage[];
  /** The pipeline's `activities:` object, by name. */
  activities: Map<string, Entry>;
  activitiesComplete: boolean;
  labelers: Map<string, Entry>;
  labelersComplete: boolean;
  /** What could not be read statically (warnings). */
  problems: Diagnostic[];
}

/** Every `definePipeline(...)` call in a file (usually one, the default export). */
export function findPipelineCalls(file: string, root = findRepoRoot(file), kind: ProjectKind = 'full'): CallExpression[] {
  const sf = sourceFile(root, file, kind);
  // `import { definePipeline as define } from ...` counts too.
  const names = new Set(['definePipeline']);
  for (const imp of sf.getImportDeclarations())
    for (const n of imp.getNamedImports()) if (n.getName() === 'definePipeline' && n.getAliasNode()) names.add(n.getAliasNode()!.getText());
  return sf.getDescendantsOfKind(SyntaxKind.CallExpression).filter((c) => names.has(calleeName(c) ?? ''));
}

/** The pipeline(s) defined in `file`, read without running it. */
export function extractPipelines(file: string, root = findRepoRoot(file), kind: ProjectKind = 'full'): StaticPipeline[] {
  return findPipelineCalls(file, root, kind).map((call) => readPipeline(call, root, kind));
}

/** The first pipeline defined in `file`; throws if there is none. */
export function extractPipeline(file: string, root = findRepoRoot(file), kind: ProjectKind = 'full'): StaticPipeline {
  const [p] = extractPipelines(file, root, kind);
  if (!p) throw new Error(`${file}: no definePipeline({...}) call found`);
  return p;
}

function readPipeline(call: CallExpression, root: string, kind: ProjectKind): StaticPipeline {
  bindings.clear();
  try {
    bindFactoryCall(call);
    return readPipelineBody(call, root, kind);
  } finally {
    bindings.clear();
  }
}

/** The function around `call`, if the pipeline is made by a factory, and the call site that exports its result. */
function bindFactoryCall(call: CallExpression): void {
  const fn = call.getFirstAncestor((a) => Node.isFunctionDeclaration(a) || Node.isArrowFunction(a) || Node.isFunctionExpression(a));
  if (!fn || !(Node.isFunctionDeclaration(fn) || Node.isArrowFunction(fn) || Node.isFunctionExpression(fn))) return;
  const holder = Node.isFunctionDeclaration(fn) ? fn : fn.getParent();
  const fnName = Node.isFunctionDeclaration(holder) || Node.isVariableDeclaration(holder) ? holder.getName() : undefined;
  const sf = call.getSourceFile();
  const sites = fnName ? sf.getDescendantsOfKind(SyntaxKind.CallExpression).filter((c) => {
    const callee = c.getExpression();
    return Node.isIdentifier(callee) && callee.getText() === fnName && declarationOf(callee) === (Node.isFunctionDeclaration(holder) ? holder : holder);
  }) : [];
  const rank = (c: CallExpression) => {
    const st = c.getFirstAncestor((a) => Node.isSourceFile(a.getParent()));
    if (st && Node.isExportAssignment(st)) return 0;
    if (st && Node.isVariableStatement(st) && st.hasExportKeyword() && st.getDeclarations().some((d) => d.getName() === 'pipeline')) return 1;
    return 2;
  };
  const site = sites.sort((a, b) => rank(a) - rank(b))[0];
  fn.getParameters().forEach((p, i) => {
    const arg = site?.getArguments()[i];
    if (arg && !Node.isSpreadElement(arg)) bindings.set(p, arg);
    else if (site) { const init = p.getInitializer(); if (init) bindings.set(p, init); }
  });
}

function readPipelineBody(call: CallExpression, root: string, kind: ProjectKind): StaticPipeline {
  const problems: Diagnostic[] = [];
  const warn = (node: Node, message: string) => problems.push(diagnosticAt(node, 'unresolved', message, 'warning'));
  const arg = call.getArguments()[0];
  const def: Node = arg ?? call;
  const { entries: top, complete: topComplete } = arg ? objectEntries(arg) : { entries: new Map<string, Entry>(), complete: false };
  if (!topComplete) warn(def, 'the pipeline definition is not a plain object literal; parts of it may be missing');

  const nameValue = top.get('name') ? evalValue(top.get('name')!.value) : UNKNOWN;

  const projects: StaticProject[] = [];
  const projectsEntry = top.get('projects');
  if (projectsEntry) {
    const { items, complete } = arrayElements(projectsEntry.value);
    if (!complete) warn(projectsEntry.value, '`projects` is not a literal array; only its literal elements are read');
    for (const item of items) {
      const nameNode = getProp(item, 'name');
      const name = evalValue(nameNode);
      if (typeof name !== 'string') { warn(nameNode ?? item, 'cannot read this project\'s name statically'); continue; }
      const task = evalValue(getProp(item, 'task'));
      const taskKind = task && typeof task === 'object' && typeof (task as { kind?: unknown }).kind === 'string'
        ? (task as { kind: string }).kind : undefined;
      projects.push({ name, node: item, ...(taskKind ? { taskKind } : {}) });
    }
  }

  // Expand projects with the compiler's own function; only ids, activities, `after` and queues matter here.
  const expanded = projectStages(projects.map((p) => ({ name: p.name }) as unknown as ProjectSpec), {} as never);
  const stages: StaticStage[] = expanded.map((s) => ({
    id: s.id, activity: s.activity, after: [...(s.after ?? [])], taskQueue: s.options?.taskQueue ?? DATA_QUEUE, builtin: true,
    ...(s.project !== undefined ? { project: s.project } : {}),
  }));

  const stagesEntry = top.get('stages');
  if (stagesEntry) {
    const { items, complete } = arrayElements(stagesEntry.value);
    if (!complete) warn(stagesEntry.value, '`stages` is not a literal array; only its literal elements are read');
    for (const item of items) {
      const obj = resolveExpr(item);
      if (!Node.isObjectLiteralExpression(obj)) { warn(item, 'cannot read this stage statically'); continue; }
      const stage = readStage(obj, item, warn);
      if (stage) stages.push(stage);
    }
  }

  const acts = top.get('activities') ? objectEntries(top.get('activities')!.value) : { entries: new Map<string, Entry>(), complete: true };
  if (!acts.complete) warn(top.get('activities')!.value, '`activities` is not a plain object literal; some activities are not visible');
  const labs = top.get('labelers') ? objectEntries(top.get('labelers')!.value) : { entries: new Map<string, Entry>(), complete: true };

  return {
    file: call.getSourceFile().getFilePath(), root, kind, call, projects, stages,
    activities: acts.entries, activitiesComplete: acts.complete, labelers: labs.entries, labelersComplete: labs.complete,
    problems, ...(typeof nameValue === 'string' ? { name: nameValue } : {}),
  };
}

function readStage(obj: ObjectLiteralExpression, at: Node, warn: (n: Node, m: string) => void): StaticStage | undefined {
  const idNode = getProp(obj, 'id');
  const id = evalValue(idNode);
  if (typeof id !== 'string') { warn(idNode ?? at, 'cannot read this stage\'s id statically'); return undefined; }
  const activityNode = getProp(obj, 'activity');
  const activity = evalValue(activityNode);
  if (typeof activity !== 'string') warn(activityNode ?? at, `cannot read the activity of stage "${id}" statically`);
  const after: string[] = [];
  const afterNodes: Node[] = [];
  const afterNode = getProp(obj, 'after');
  if (afterNode) {
    const { items, complete } = arrayElements(afterNode);
    if (!complete) warn(afterNode, `cannot read all of stage "${id}"'s \`after\` statically`);
    for (const el of items) {
      const dep = evalValue(el);
      if (typeof dep === 'string') { after.push(dep); afterNodes.push(el); } else warn(el, `cannot read this dependency of stage "${id}" statically`);
    }
  }
  const projectNode = getProp(obj, 'project');
  const project = evalValue(projectNode);
  const optionsNode = getProp(obj, 'options');
  const queue = optionsNode ? evalValue(getProp(optionsNode, 'taskQueue')) : undefined;
  if (queue === UNKNOWN) warn(optionsNode!, `cannot read the task queue of stage "${id}" statically`);
  return {
    id, activity: typeof activity === 'string' ? activity : '(unknown)', after, afterNodes, builtin: false,
    taskQueue: typeof queue === 'string' ? queue : DATA_QUEUE, node: obj, idNode: idNode!,
    ...(activityNode ? { activityNode } : {}), ...(projectNode ? { projectNode } : {}),
    ...(typeof project === 'string' ? { project } : {}),
  };
}

