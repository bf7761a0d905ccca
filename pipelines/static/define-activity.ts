/**
 * `defineActivity({ input, output }, fn)`: a custom activity that declares, statically, the shape of the data it
 * produces (`output`: its result's `facts`) and of the data it needs from each upstream stage (`input`: every
 * upstream result's `facts` must satisfy it). `broadloom check` compares the two along every edge with the
 * TypeScript checker (producer's `z.output` assignable to consumer's `z.input`) before anything runs. At run time the
 * wrapper validates the activity's own `facts` against `output`.
 *
 * This module is runtime code for pipeline files: it imports zod and the DSL types only, never ts-morph.
 */
import type { z } from 'zod';
import type { CustomActivity } from '../dsl.ts';

export interface ActivitySchemas<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** What this stage needs from every upstream stage's `facts`. */
  input?: I;
  /** What this stage puts in its result's `facts`. */
  output?: O;
}

export type DeclaredActivity<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> = CustomActivity & {
  readonly schemas: ActivitySchemas<I, O>;
};

export function defineActivity<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType>(
  schemas: ActivitySchemas<I, O>,
  fn: CustomActivity,
): DeclaredActivity<I, O> {
  const wrapped: CustomActivity = async (input) => {
    const result = await fn(input);
    if (schemas.output) {
      const parsed = schemas.output.safeParse(result.facts ?? {});
      if (!parsed.success) throw new Error(`stage "${input.stage.id}": facts do not match the declared output schema: ${parsed.error.message}`);
    }
    return result;
  };
  return Object.assign(wrapped, { schemas });
}
