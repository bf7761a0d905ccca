/**
 * Stage 2 — collect: read a project's sources into Arrow datasets (train/dev/test split by record hash), with bad
 * rows in a quarantine artifact. In a continual run, datasets that arrived since the champion are merged in and
 * also returned on their own (`arrivals`), so training can mix them with a replay sample of the earlier data.
 */
import type { ArtifactRef, StageInput, StageResult, TextRow, TokenRow, DatasetRow } from '../schemas/index.ts';
import { collectProject, DataQualityError } from '../data/collect.ts';
import { rowsToTable } from '../data/arrow-rows.ts';
import { SourceError } from '../data/readers/common.ts';
import { broadloomContext } from './context.ts';
import { badInput, baseDirOf, heartbeat, projectOf, readRows } from './stage-kit.ts';

type Row = DatasetRow;

export async function collect(input: StageInput): Promise<StageResult> {
  const project = projectOf(input);
  const { store } = broadloomContext();
  let result;
  try {
    result = await collectProject(project, {
      baseDir: baseDirOf(input),
      store,
      onProgress: (p) => heartbeat({ source: p.source, read: p.read, good: p.good, quarantined: p.quarantined }),
    });
  } catch (e) {
    if (e instanceof DataQualityError) {
      throw badInput(e.message, { stats: e.stats, quarantine: e.quarantine });
    }
    if (e instanceof SourceError) throw badInput(`project ${project.name}: ${e.message}`);
    throw e;
  }
  const s = result.stats;
  const outputs: Record<string, ArtifactRef> = { train: result.train, dev: result.dev, test: result.test, quarantine: result.quarantine };
  let arrived = 0;
  const arrivals = (input.stage.config.arrivals ?? []) as ArtifactRef[];
  const absorbed = (input.stage.config.absorbed ?? []) as ArtifactRef[];
  if (arrivals.length || absorbed.length) {
    const schema = project.task.kind === 'token-classification' ? 'token' : 'text';
    const splits: Record<'train' | 'dev' | 'test', Row[]> = {
      train: await readRows<Row>(result.train), dev: await readRows<Row>(result.dev), test: await readRows<Row>(result.test),
    };
    const known = new Set(Object.values(splits).flat().map((r) => r.id));
    const fresh: Row[] = [];
    const freshIds = new Set<string>();
    // Earlier arrivals are part of the data now; new ones are also returned on their own, for training.
    for (const [refs, isNew] of [[absorbed, false], [arrivals, true]] as const) {
      for (const ref of refs) {
        for (const row of await readRows<Row>(ref)) {
          // A watched directory's new file is also read by the sources: new all the same.
          if (isNew && !freshIds.has(row.id)) {
            freshIds.add(row.id);
            arrived++;
            if (row.split === 'train') fresh.push(row);
          }
          if (known.has(row.id)) continue;
          known.add(row.id);
          splits[row.split].push(row);
        }
      }
    }
    for (const split of ['train', 'dev', 'test'] as const) {
      outputs[split] = await store.putTable(rowsToTable(splits[split], schema), { kind: 'dataset', name: `${project.name}/${split}` });
    }
    if (arrivals.length) outputs.arrivals = await store.putTable(rowsToTable(fresh, schema), { kind: 'dataset', name: `${project.name}/arrivals` });
  }
  return {
    outputs,
    summary: `read ${s.read}: ${s.good} good, ${s.quarantined} quarantined, ${s.duplicates} duplicates → train ${outputs.train!.rows} / dev ${outputs.dev!.rows} / test ${outputs.test!.rows}${arrivals.length ? `, ${arrived} arrived` : ''}`,
    metrics: { read: s.read, good: s.good, quarantined: s.quarantined, duplicates: s.duplicates, train: outputs.train!.rows ?? 0, dev: outputs.dev!.rows ?? 0, test: outputs.test!.rows ?? 0, arrived },
    facts: { perSource: result.perSource },
  };
}
