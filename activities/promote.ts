/**
 * Stage 6 — promote: register the candidate (shared encoder + heads + lineage) in the model registry and make it
 * the champion only if every project passed its gate; otherwise keep the champion and record why.
 */
import type { ModelManifest, StageInput, StageResult } from '../schemas/index.ts';
import { upstreamOf } from './stage-kit.ts';
import { modelRefsFromOutputs, registryFor } from './model-store.ts';

interface EvaluateFacts {
  project: string;
  metric: string;
  candidate: number;
  accuracy?: number;
  macroF1?: number;
  champion: number | null;
  examples: number;
  testSha256: string;
  passes: boolean;
  reason: string;
}

export async function promote(input: StageInput): Promise<StageResult> {
  const trained = upstreamOf(input, 'train');
  const refs = modelRefsFromOutputs(trained.outputs);
  const evals = input.stage.after.filter((id) => id !== 'train').map((id) => upstreamOf(input, id).facts as unknown as EvaluateFacts);
  const registry = registryFor(input.pipeline);
  const expected = (input.stage.config.champion ?? null) as string | null;
  const champion = expected ? await registry.get(expected) : null;
  const current = (await registry.champion())?.version ?? null;

  // Idempotent under retries: the same encoder bytes are the same version.
  const existing = (await registry.list()).find((e) => e.manifest.encoder.sha256 === refs.encoder.sha256);
  const version = existing?.version ?? (await registry.nextVersion());
  const trainFacts = trained.facts as { backend?: string; codeVersion?: string; warmStart?: string | null; data?: Record<string, string[]> };
  const manifest: ModelManifest = existing?.manifest ?? {
    version,
    pipeline: input.pipeline,
    createdAt: new Date().toISOString(),
    encoder: refs.encoder,
    tokenizer: refs.tokenizer,
    modelManifest: refs.manifest,
    heads: refs.heads,
    tokenizerSha256: refs.tokenizer.sha256,
    backend: trainFacts.backend ?? 'unknown',
    parent: champion?.version ?? null,
    lineage: {
      data: Object.fromEntries(evals.map((e) => [e.project, [...(trainFacts.data?.[e.project] ?? []), e.testSha256]])),
      codeVersion: trainFacts.codeVersion ?? 'unversioned',
      config: { train: trained.facts, gates: input.stage.config.gates },
      runId: input.runId,
    },
    metrics: Object.fromEntries(evals.map((e) => [e.project, {
      metric: e.metric, value: e.candidate, examples: e.examples,
      ...(e.accuracy !== undefined ? { accuracy: e.accuracy } : {}), ...(e.macroF1 !== undefined ? { macroF1: e.macroF1 } : {}),
    }])),
  };
  if (!existing) await registry.register(manifest);

  const failing = evals.filter((e) => !e.passes);
  // Another run promoted while this one ran: its evaluations compared against a champion that is no longer current.
  if (current !== expected && !(existing && current === version)) {
    failing.push({ project: '*', passes: false, reason: `the champion changed during this run (${expected ?? 'none'} → ${current}); run again to compare with ${current}` } as EvaluateFacts);
  }
  const projects = Object.fromEntries(evals.map((e) => [e.project, { metric: e.metric, candidate: e.candidate, champion: e.champion, passes: e.passes, reason: e.reason }]));
  const status = (await registry.status(version))?.status;
  let decision: 'promoted' | 'rejected';
  let reason: string;
  if (failing.length) {
    decision = 'rejected';
    reason = failing.map((e) => e.reason).join('; ');
    if (status !== 'rejected') await registry.reject(version, reason);
  } else {
    decision = 'promoted';
    reason = champion ? `every project passed its gate against ${champion.version}` : 'first model: every project passed its minimum';
    if (status !== 'champion') await registry.promote(version, { reason, projects, previous: champion?.version ?? null });
  }
  return {
    outputs: {},
    summary: `${decision} ${version}: ${reason}`,
    metrics: { promoted: decision === 'promoted' ? 1 : 0 },
    facts: { decision, version, reason, previousChampion: champion?.version ?? null, projects },
  };
}
