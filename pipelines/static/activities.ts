/**
 * Where a stage's activity is implemented, statically: the pipeline's own `activities:` object first, then the
 * exports of the repository's `activities/index.ts` (built-in activities and shared custom ones).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Node } from 'ts-morph';
import { calleeName, getProp, moduleExports, resolveExpr, type StaticPipeline } from './extract.ts';
import { sourceFile, type ProjectKind } from './project.ts';

export function activitiesIndexPath(root: string): string {
  return join(root, 'activities', 'index.ts');
}

/** Exports of `activities/index.ts` (followed through re-exports to their declarations), or null if it does not exist. */
export function exportedActivities(root: string, kind: ProjectKind = 'full'): Map<string, Node> | null {
  const path = activitiesIndexPath(root);
  if (!existsSync(path)) return null;
  const out = new Map<string, Node>();
  for (const [name, d] of moduleExports(sourceFile(root, path, kind))) out.set(name, d);
  return out;
}

export interface ActivityImpl {
  /** `pipeline`: the pipeline's `activities:` object; `repository`: an export of activities/index.ts. */
  from: 'pipeline' | 'repository';
  /** The implementing node: an inline function/call expression, or the exported declaration. */
  node: Node;
}

export function findActivity(p: StaticPipeline, activity: string, exported = exportedActivities(p.root, p.kind)): ActivityImpl | undefined {
  const own = p.activities.get(activity);
  if (own) return { from: 'pipeline', node: own.value };
  const decl = exported?.get(activity);
  if (decl) return { from: 'repository', node: decl };
  return undefined;
}

/** The `{ input, output }` schema expressions of a `defineActivity(...)`-declared activity. */
export function declaredSchemas(impl: ActivityImpl | undefined): { input?: Node; output?: Node } {
  if (!impl) return {};
  let n: Node = impl.node;
  if (Node.isVariableDeclaration(n)) {
    const init = n.getInitializer();
    if (!init) return {};
    n = init;
  }
  n = resolveExpr(n);
  if (!Node.isCallExpression(n) || calleeName(n) !== 'defineActivity') return {};
  const first = n.getArguments()[0];
  if (!first) return {};
  const input = getProp(first, 'input');
  const output = getProp(first, 'output');
  return { ...(input ? { input } : {}), ...(output ? { output } : {}) };
}
