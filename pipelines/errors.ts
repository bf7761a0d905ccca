import type { z } from 'zod';

/** One thing wrong with a pipeline definition, located by its path in the spec (`projects[1].task.labels`). */
export interface SpecIssue {
  path: string;
  message: string;
}

/** Thrown before anything runs when a pipeline definition is invalid; lists every problem found. */
export class PipelineSpecError extends Error {
  readonly issues: SpecIssue[];
  constructor(pipeline: string, issues: SpecIssue[]) {
    super(`pipeline "${pipeline}" is invalid:\n${issues.map((i) => `  - ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`);
    this.name = 'PipelineSpecError';
    this.issues = issues;
  }
}

/** `['projects', 1, 'task', 'labels']` → `projects[1].task.labels`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export function zodIssues(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): SpecIssue[] {
  return error.issues.map((i) => ({ path: formatPath([...prefix, ...i.path]), message: i.message }));
}
