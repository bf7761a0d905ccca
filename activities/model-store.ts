/**
 * Models as artifacts: the encoder, the tokenizer and each project's head are stored separately (a new project's
 * head can be added without touching the others), plus the trainer's manifest. Loads candidates and champions.
 */
import type { ArtifactRef, ModelManifest } from '../schemas/index.ts';
import type { ModelArtifacts, ModelManifestJSON } from '../ml/checkpoint.ts';
import { createPredictor, type Predictor } from '../ml/predict.ts';
import { ModelRegistry } from '../data/registry.ts';
import { broadloomContext } from './context.ts';

export interface ModelRefs {
  encoder: ArtifactRef;
  tokenizer: ArtifactRef;
  manifest: ArtifactRef;
  heads: Record<string, ArtifactRef>;
}

const HEAD = 'head.';

export async function storeModel(a: ModelArtifacts, name: string): Promise<ModelRefs> {
  const { store } = broadloomContext();
  const heads: Record<string, ArtifactRef> = {};
  for (const [p, bytes] of Object.entries(a.heads)) heads[p] = await store.putBytes(bytes, { kind: 'model', name: `${name}/heads/${p}` });
  return {
    encoder: await store.putBytes(a.encoder, { kind: 'model', name: `${name}/encoder` }),
    tokenizer: await store.putBytes(a.tokenizer, { kind: 'model', name: `${name}/vocab.txt` }),
    manifest: await store.putJson(a.manifest, { kind: 'model', name: `${name}/manifest` }),
    heads,
  };
}

/** Flatten refs into a stage's outputs (`encoder`, `tokenizer`, `manifest`, `head.<project>`). */
export function modelOutputs(r: ModelRefs): Record<string, ArtifactRef> {
  return { encoder: r.encoder, tokenizer: r.tokenizer, manifest: r.manifest, ...Object.fromEntries(Object.entries(r.heads).map(([p, ref]) => [HEAD + p, ref])) };
}

export function modelRefsFromOutputs(outputs: Record<string, ArtifactRef>, stage = 'train'): ModelRefs {
  const { encoder, tokenizer, manifest } = outputs;
  if (!encoder || !tokenizer || !manifest) throw new Error(`stage ${stage} did not produce a model (encoder, tokenizer, manifest)`);
  const heads = Object.fromEntries(Object.entries(outputs).filter(([k]) => k.startsWith(HEAD)).map(([k, v]) => [k.slice(HEAD.length), v]));
  return { encoder, tokenizer, manifest, heads };
}

export function modelRefsFromManifest(m: ModelManifest): ModelRefs {
  if (!m.tokenizer || !m.modelManifest) throw new Error(`model ${m.version} has no tokenizer/manifest reference`);
  return { encoder: m.encoder, tokenizer: m.tokenizer, manifest: m.modelManifest, heads: m.heads };
}

/** Model bytes as the trainer/predictor take them; `projects` limits which heads are read. */
export async function readModelBytes(r: ModelRefs, projects?: string[]) {
  const { store } = broadloomContext();
  const heads: Record<string, Uint8Array> = {};
  for (const [p, ref] of Object.entries(r.heads)) if (!projects || projects.includes(p)) heads[p] = await store.getBytes(ref);
  return {
    encoder: await store.getBytes(r.encoder),
    tokenizer: await store.getBytes(r.tokenizer),
    heads,
    manifest: await store.getJson<ModelManifestJSON>(r.manifest),
  };
}

export async function loadPredictor(r: ModelRefs, projects?: string[], backend?: string): Promise<Predictor> {
  const bytes = await readModelBytes(r, projects);
  if (projects) bytes.manifest = { ...bytes.manifest, heads: Object.fromEntries(Object.entries(bytes.manifest.heads).filter(([p]) => projects.includes(p))) };
  return createPredictor(bytes, backend ? { backend: backend as never } : {});
}

export function registryFor(pipeline: string): ModelRegistry {
  return new ModelRegistry(pipeline, { home: broadloomContext().home });
}

/** `champion` → the current champion's manifest; `v0003` → that version; null when there is none. */
export async function resolveModelVersion(pipeline: string, version: string): Promise<ModelManifest | null> {
  const registry = registryFor(pipeline);
  if (version === 'champion') return registry.champion();
  const m = await registry.get(version);
  if (!m) throw new Error(`model version ${version} of pipeline ${pipeline} is not registered`);
  return m;
}
