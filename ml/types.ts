import type { HeadKind } from './heads.ts';
import type { DatasetRow } from '../schemas/rows.ts';
import type { TaskSpec } from '../schemas/task.ts';

export interface TextExample {
  text: string;
  label: string;
}
export interface TokenExample {
  tokens: string[];
  tags: string[];
}
export type Example = TextExample | TokenExample;

/** A project's task as the trainer / evaluator see it. */
export interface TaskDefinition {
  /** Project name; also the head name (`heads.<name>.classifier.*`). */
  name: string;
  kind: HeadKind;
  labels: string[];
  /** Primary dev metric (TaskSpec.metric); default accuracy / token-accuracy. */
  metric?: 'accuracy' | 'macro-f1' | 'f1' | 'token-accuracy' | 'span-f1';
  /** For metric `f1`. */
  positiveLabel?: string;
}

export const isTokenExample = (e: Example): e is TokenExample => Array.isArray((e as TokenExample).tokens);

/** A stored dataset row as a training/evaluation example (a missing label becomes empty: filter unlabelled first). */
export function exampleFromRow(r: DatasetRow): Example {
  return 'tokens' in r ? { tokens: r.tokens, tags: r.tags ?? [] } : { text: r.text, label: r.label ?? '' };
}

/** A project's task spec as the trainer and evaluator see it. */
export function taskDefinition(name: string, t: TaskSpec): TaskDefinition {
  return {
    name, kind: t.kind, labels: t.labels, metric: t.metric,
    ...(t.kind === 'sequence-classification' && t.positiveLabel ? { positiveLabel: t.positiveLabel } : {}),
  };
}
