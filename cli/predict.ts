/** `broadloom predict`: the champion (or a given version) on one text, from the local registry and artifact store. */
import { ModelRegistry } from '../data/registry.ts';
import { loadPredictor, modelRefsFromManifest } from '../activities/model-store.ts';
import { readFile } from 'node:fs/promises';
import { emailToText } from '../data/readers/email.ts';

/** The text a model trained on `inner: 'email'` sources saw for this message: its subject and body. */
export async function emailFileText(file: string): Promise<string> {
  const text = emailToText(await readFile(file)).text;
  if (!text) throw new Error(`${file}: the e-mail has no subject and no text/plain or text/html body`);
  return text;
}

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
