/**
 * Process-wide handles the activities share: the artifact store, the stage cache and the model registry, all
 * rooted at BROADLOOM_HOME. Activities are thin: Temporal context around these libraries.
 */
import { ArtifactStore } from '../data/artifact-store.ts';
import { StageCache } from '../data/stage-cache.ts';
import { broadloomHome } from '../data/home.ts';

export interface BroadloomContext {
  home: string;
  store: ArtifactStore;
  cache: StageCache;
}

let current: BroadloomContext | null = null;

export function broadloomContext(): BroadloomContext {
  const home = broadloomHome();
  if (!current || current.home !== home) {
    const store = new ArtifactStore({ root: `${home}/artifacts` });
    current = { home, store, cache: new StageCache(store, { home }) };
  }
  return current;
}
