import type { HeadKind } from './heads.ts';

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
