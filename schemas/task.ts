import { z } from 'zod';

const Label = z.string().min(1, 'a label may not be empty');

const uniqueLabels = (labels: string[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  for (const [i, l] of labels.entries()) {
    if (seen.has(l)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate label "${l}"` });
    seen.add(l);
  }
};

export const LabelSet = z.array(Label).min(2, 'expected at least 2 labels').superRefine(uniqueLabels);

export const SequenceClassificationTask = z.object({
  kind: z.literal('sequence-classification'),
  labels: LabelSet,
  metric: z.enum(['accuracy', 'macro-f1', 'f1']).default('accuracy'),
  /** For metric `f1`: the class whose F1 is reported (e.g. `spam`). */
  positiveLabel: z.string().optional(),
});

export const TokenClassificationTask = z.object({
  kind: z.literal('token-classification'),
  labels: LabelSet,
  metric: z.enum(['token-accuracy', 'span-f1']).default('token-accuracy'),
});

export const TaskSpec = z
  .discriminatedUnion('kind', [SequenceClassificationTask, TokenClassificationTask])
  .superRefine((t, ctx) => {
    if (t.kind === 'sequence-classification' && t.metric === 'f1') {
      if (!t.positiveLabel) ctx.addIssue({ code: 'custom', path: ['positiveLabel'], message: 'metric "f1" needs a positiveLabel' });
      else if (!t.labels.includes(t.positiveLabel))
        ctx.addIssue({ code: 'custom', path: ['positiveLabel'], message: `positiveLabel "${t.positiveLabel}" is not one of the labels` });
    }
  });
export type TaskSpec = z.infer<typeof TaskSpec>;
export type TaskKind = TaskSpec['kind'];
