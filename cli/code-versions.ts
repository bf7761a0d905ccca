/** Fill each stage's `codeVersion` from the static reader, so the stage cache notices code changes. */
import type { PipelineSpec } from '../schemas/pipeline.ts';

export async function withCodeVersions(spec: PipelineSpec, file: string): Promise<PipelineSpec> {
  const { stageCodeVersions } = await import('../pipelines/static/code-version.ts');
  const versions = await stageCodeVersions(file);
  return { ...spec, stages: spec.stages.map((s) => ({ ...s, codeVersion: versions[s.id] ?? s.codeVersion })) };
}
