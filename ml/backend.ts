/**
 * Backend ladder: tfjs-node-gpu (CUDA) → tfjs-node → wasm (SIMD) → cpu.
 *
 * `initBackend()` picks the best backend that loads (or the one named by the argument / env
 * `BROADLOOM_BACKEND`), registers the kernels that are missing or pathologically slow on wasm/cpu,
 * and reports which one runs and why the better ones were skipped. Idempotent: calling it again
 * with the same request returns the cached report without touching tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;

export interface BackendReport {
  /** Our name of the backend that runs. */
  name: BackendName;
  /** tfjs's own backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  requested: BackendRequest;
  /** Better backends that were tried and failed, with the reason. */
  skipped: { name: BackendName; reason: string }[];
  /** Kernels we registered ourselves on this backend. */
  customKernels: string[];
}

const LADDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const NAMES = new Set<string>(['auto', ...LADDER]);

let current: BackendReport | null = null;
const reports = new Map<BackendRequest, BackendReport>();
const registered = new Set<string>();

/** Which backend is active (null before `initBackend`). */
export function currentBackend(): BackendReport | null {
  return current;
}

function parseRequest(r: string | undefined): BackendRequest {
  const v = (r ?? 'auto').trim().toLowerCase() || 'auto';
  if (!NAMES.has(v)) throw new Error(`unknown backend "${r}" (expected one of auto, ${LADDER.join(', ')})`);
  return v as BackendRequest;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);

async function tryLoad(name: BackendName): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      // Both packages register the `tensorflow` backend with the shared tfjs-core on import.
      await import(pkg);
      if (!tf.findBackend('tensorflow')) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`tf.setBackend('tensorflow') failed`);
      return 'tensorflow';
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
      wasm.setWasmPaths(dist + path.sep);
      if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend('wasm') failed`);
      await tf.ready();
      return 'wasm';
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error(`tf.setBackend('cpu') failed`);
      return 'cpu';
    }
  }
}

/**
 * Load and activate a backend. A concrete `request` wins; for `auto`/undefined, env
 * `BROADLOOM_BACKEND` (if set) is used, else the ladder.
 * An explicit request that fails throws (no silent fallback); `auto` walks the ladder.
 */
export async function initBackend(request?: BackendRequest | string): Promise<BackendReport> {
  const env = process.env.BROADLOOM_BACKEND?.trim();
  // Precedence: a concrete backend argument > env BROADLOOM_BACKEND > 'auto' (so the env var can pin
  // the backend of runs whose spec says `auto`, e.g. TrainingSpec.backend's default).
  const req = parseRequest(request && request !== 'auto' ? request : env || request || 'auto');
  const cached = reports.get(req);
  if (cached) {
    if (tf.getBackend() !== cached.tfBackend) await tf.setBackend(cached.tfBackend);
    current = cached;
    return cached;
  }
  const candidates = req === 'auto' ? LADDER : [req];
  const skipped: BackendReport['skipped'] = [];
  for (const name of candidates) {
    try {
      const tfBackend = await tryLoad(name);
      const customKernels = registerCustomKernels(tfBackend);
      const report: BackendReport = { name, tfBackend, requested: req, skipped, customKernels };
      reports.set(req, report);
      current = report;
      return report;
    } catch (e) {
      skipped.push({ name, reason: errText(e) });
    }
  }
  throw new Error(`no backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/* ------------------------------------------------------------------ custom kernels */

interface KernelBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeOutput?(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap?(t: tf.TensorInfo): tf.backend_util.TypedArray;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

/**
 * UnsortedSegmentSum (the gradient of `gather`, i.e. of embedding lookups) as a plain JS loop:
 * missing on wasm, and O(segments × rows) on cpu.
 */
function unsortedSegmentSumKernel(tfBackend: string): tf.KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName: tfBackend,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as KernelBackend;
      const xv = b.readSync(x.dataId) as Float32Array;
      const ids = b.readSync(segmentIds.dataId) as Int32Array | Float32Array;
      const n = ids.length;
      const inner = n === 0 ? 0 : xv.length / n;
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const acc = new Float32Array(numSegments * inner);
      for (let r = 0; r < n; r++) {
        const s = ids[r]!;
        if (s < 0 || s >= numSegments) continue;
        const o = s * inner;
        const xo = r * inner;
        for (let j = 0; j < inner; j++) acc[o + j]! += xv[xo + j]!;
      }
      if (b.makeOutput && b.typedArrayFromHeap) {
        const out = b.makeOutput(outShape, 'float32');
        (b.typedArrayFromHeap(out) as Float32Array).set(acc);
        return out;
      }
      if (b.makeTensorInfo) return b.makeTensorInfo(outShape, 'float32', acc);
      throw new Error(`UnsortedSegmentSum: backend ${tfBackend} has neither makeOutput nor makeTensorInfo`);
    },
  };
}

function registerCustomKernels(tfBackend: string): string[] {
  if (tfBackend !== 'wasm' && tfBackend !== 'cpu') return [];
  const key = `${tfBackend}:UnsortedSegmentSum`;
  if (!registered.has(key)) {
    if (tf.getKernel('UnsortedSegmentSum', tfBackend)) tf.unregisterKernel('UnsortedSegmentSum', tfBackend);
    tf.registerKernel(unsortedSegmentSumKernel(tfBackend));
    registered.add(key);
  }
  return ['UnsortedSegmentSum'];
}
