/** `broadloom predict`: the champion (or a given version) on one text, from the local registry and artifact store. */
import { ModelRegistry } from '../data/registry.ts';
import { loadPredictor, modelRefsFromManifest } from '../activities/model-store.ts';

export async function predictWithModel(pipeline: string, project: string, text: string, version?: string): Promise<string> {
  const registry = new ModelRegistry(pipeline);
  const manifest = version ? await registry.get(version) : await registry.champion();
  if (!manifest) throw new Error(version ? `model ${version} of ${pipeline} is not registered` : `pipeline ${pipeline} has no champion yet: run it first`);
  if (!manifest.heads[project]) throw new Error(`model ${manifest.version} has no head for project "${project}" (heads: ${Object.keys(manifest.heads).join(', ')})`);
  const predictor = await loadPredictor(modelRefsFromManifest(manifest), [project]);
  try {
    const kind = predictor.model.heads.get(project)!.config.kind;
    if (kind === 'token-classification') {
      const words = text.split(/\s+/).filter(Boolean);
      const [p] = predictor.predictTokens(project, [words]);
      return `${manifest.version} (${predictor.backend}) ${project}: ${words.map((w, i) => `${w}/${p!.labels[i] ?? '?'}`).join(' ')}`;
    }
    const [p] = predictor.predictSequences(project, [text]);
    return `${manifest.version} (${predictor.backend}) ${project}: ${p!.label} (confidence ${p!.confidence.toFixed(3)})`;
  } finally {
    predictor.dispose();
  }
}
