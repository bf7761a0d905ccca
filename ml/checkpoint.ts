/**
 * Checkpoints as bytes: safetensors (8-byte LE header length + JSON header + raw LE data).
 *
 * A model is stored as separate artifacts so a head can be added for a new project without
 * touching the others:
 *   - encoder:   safetensors, HF BertModel names and shapes ([out,in] Linear weights), config in __metadata__
 *   - tokenizer: vocab.txt bytes (one token per line)
 *   - heads:     one safetensors per project (`heads.<project>.classifier.{weight,bias}`), labels in __metadata__
 *   - manifest:  JSON (encoder config, vocab sha256, per-artifact sha256, head labels, backend, metrics)
 * Trainer state (params, AdamW moments, step, RNG, best weights, …) is one more safetensors blob.
 */
import { createHash } from 'node:crypto';
import { BertEncoder } from './encoder.ts';
import type { EncoderConfig, HostTensor, NamedTensors } from './encoder.ts';
import { TaskHead } from './heads.ts';
import type { HeadKind } from './heads.ts';
import type { MultiTaskModel } from './model.ts';
import { WordPieceTokenizer } from './tokenizer.ts';

export const MODEL_FORMAT = 'broadloom.bert/1';

/* ------------------------------------------------------------------ safetensors */

export function encodeSafetensors(tensors: NamedTensors, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const n of names) {
    const t = tensors[n]!;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`tensor ${n}: shape [${t.shape}] does not match ${t.data.length} values`);
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8;
  if (pad) hb = enc.encode(json + ' '.repeat(pad));
  json = '';
  const out = new Uint8Array(8 + hb.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const n of names) {
    const d = tensors[n]!.data;
    const view = new DataView(out.buffer, pos, d.length * 4);
    for (let i = 0; i < d.length; i++) view.setFloat32(i * 4, d[i]!, true);
    pos += d.length * 4;
  }
  return out;
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decode safetensors (F32, F16, BF16, F64 are read as float32). */
export function decodeSafetensors(bytes: Uint8Array): { tensors: NamedTensors; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error('safetensors: truncated (no header length)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error('safetensors: header length beyond end of data');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const base = 8 + n;
  const tensors: NamedTensors = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (v ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [s, e] = data_offsets;
    if (base + e > bytes.length) throw new Error(`safetensors: tensor ${name} extends beyond end of data`);
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const td = new DataView(bytes.buffer, bytes.byteOffset + base + s, e - s);
    const width = { F32: 4, F16: 2, BF16: 2, F64: 8 }[dtype];
    if (!width) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${dtype}`);
    if ((e - s) !== size * width) throw new Error(`safetensors: tensor ${name} byte size does not match its shape`);
    for (let i = 0; i < size; i++) {
      if (dtype === 'F32') data[i] = td.getFloat32(i * 4, true);
      else if (dtype === 'F64') data[i] = td.getFloat64(i * 8, true);
      else if (dtype === 'F16') data[i] = f16ToF32(td.getUint16(i * 2, true));
      else {
        const u = new DataView(new ArrayBuffer(4));
        u.setUint32(0, td.getUint16(i * 2, true) << 16, false);
        data[i] = u.getFloat32(0, false);
      }
    }
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/* ------------------------------------------------------------------ encoder / heads / tokenizer */

export function saveEncoder(encoder: BertEncoder, vocabSha256: string): Uint8Array {
  return encodeSafetensors(encoder.exportTensors(), {
    format: MODEL_FORMAT,
    kind: 'encoder',
    config: JSON.stringify(encoder.config),
    vocabSha256,
  });
}

export function loadEncoder(bytes: Uint8Array): { encoder: BertEncoder; vocabSha256: string } {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.kind !== 'encoder' || !metadata.config) throw new Error('not a broadloom encoder checkpoint (missing metadata)');
  const config = JSON.parse(metadata.config) as EncoderConfig;
  return { encoder: BertEncoder.fromTensors(config, tensors), vocabSha256: metadata.vocabSha256 ?? '' };
}

export interface HeadInfo {
  project: string;
  kind: HeadKind;
  labels: string[];
  hidden: number;
}

export function saveHead(head: TaskHead): Uint8Array {
  const c = head.config;
  return encodeSafetensors(head.exportTensors(), {
    format: MODEL_FORMAT,
    kind: 'head',
    project: c.project,
    headKind: c.kind,
    labels: JSON.stringify(c.labels),
    hidden: String(c.hidden),
  });
}

export function readHeadInfo(bytes: Uint8Array): HeadInfo {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const m = (JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as { __metadata__?: Record<string, string> }).__metadata__ ?? {};
  if (m.kind !== 'head') throw new Error('not a broadloom head checkpoint');
  return { project: m.project!, kind: m.headKind as HeadKind, labels: JSON.parse(m.labels!) as string[], hidden: Number(m.hidden) };
}

export function loadHead(bytes: Uint8Array): TaskHead {
  const info = readHeadInfo(bytes);
  return TaskHead.fromTensors(info, decodeSafetensors(bytes).tensors);
}

/* ------------------------------------------------------------------ whole model */

export interface ModelManifestJSON {
  format: typeof MODEL_FORMAT;
  encoder: EncoderConfig;
  encoderSha256: string;
  tokenizer: { kind: 'wordpiece'; lowercase: boolean; vocabSize: number; vocabSha256: string };
  heads: Record<string, { kind: HeadKind; labels: string[]; sha256: string }>;
  backend: string;
  metrics: Record<string, unknown>;
}

/** Bytes for the artifact store; each field can be stored (and content-addressed) on its own. */
export interface ModelArtifacts {
  manifest: ModelManifestJSON;
  encoder: Uint8Array;
  /** vocab.txt */
  tokenizer: Uint8Array;
  heads: Record<string, Uint8Array>;
}

export function saveModel(model: MultiTaskModel, extra: { backend?: string; metrics?: Record<string, unknown> } = {}): ModelArtifacts {
  const tok = model.tokenizer;
  const encoder = saveEncoder(model.encoder, tok.sha256);
  const heads: Record<string, Uint8Array> = {};
  const headMeta: ModelManifestJSON['heads'] = {};
  for (const [name, h] of [...model.heads.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    heads[name] = saveHead(h);
    headMeta[name] = { kind: h.config.kind, labels: [...h.config.labels], sha256: sha256(heads[name]) };
  }
  return {
    manifest: {
      format: MODEL_FORMAT,
      encoder: model.encoder.config,
      encoderSha256: sha256(encoder),
      tokenizer: { kind: 'wordpiece', lowercase: tok.lowercase, vocabSize: tok.size, vocabSha256: tok.sha256 },
      heads: headMeta,
      backend: extra.backend ?? '',
      metrics: extra.metrics ?? {},
    },
    encoder,
    tokenizer: new TextEncoder().encode(tok.toVocabTxt()),
    heads,
  };
}

/**
 * Rebuild a model from bytes. `heads` may be a subset (or new heads trained elsewhere on the same
 * encoder); the vocabulary hash is checked against the encoder's and the manifest's.
 */
export function loadModel(a: { encoder: Uint8Array; tokenizer: Uint8Array; heads: Record<string, Uint8Array>; manifest?: ModelManifestJSON }): MultiTaskModel {
  const lowercase = a.manifest?.tokenizer.lowercase ?? true;
  const tokenizer = WordPieceTokenizer.fromVocabTxt(new TextDecoder().decode(a.tokenizer), lowercase);
  const { encoder, vocabSha256 } = loadEncoder(a.encoder);
  if (vocabSha256 && vocabSha256 !== tokenizer.sha256) throw new Error(`encoder was trained with vocab ${vocabSha256} but the tokenizer is ${tokenizer.sha256}`);
  if (a.manifest && a.manifest.tokenizer.vocabSha256 !== tokenizer.sha256) throw new Error('manifest vocab sha256 does not match the tokenizer bytes');
  if (encoder.config.vocabSize !== tokenizer.size) throw new Error(`encoder vocab size ${encoder.config.vocabSize} != tokenizer size ${tokenizer.size}`);
  const heads = new Map<string, TaskHead>();
  for (const [name, bytes] of Object.entries(a.heads)) {
    const h = loadHead(bytes);
    if (h.config.project !== name) throw new Error(`head bytes under "${name}" belong to project "${h.config.project}"`);
    if (h.config.hidden !== encoder.config.hidden) throw new Error(`head ${name} has hidden ${h.config.hidden}, encoder ${encoder.config.hidden}`);
    heads.set(name, h);
  }
  return { tokenizer, encoder, heads };
}

/**
 * Import a Hugging Face BERT/MiniLM checkpoint (config.json object, vocab.txt text, model.safetensors
 * bytes) as an encoder + tokenizer (no heads). `bert.` name prefixes are accepted.
 */
export function importHuggingFaceBert(
  config: Record<string, unknown>,
  vocabTxt: string,
  safetensors: Uint8Array,
  opts: { pooling?: 'cls' | 'mean'; dropout?: number; lowercase?: boolean } = {},
): MultiTaskModel {
  const num = (k: string) => {
    const v = config[k];
    if (typeof v !== 'number') throw new Error(`config.json lacks numeric ${k}`);
    return v;
  };
  const hiddenAct = config.hidden_act ?? 'gelu';
  if (hiddenAct !== 'gelu') throw new Error(`unsupported hidden_act ${String(hiddenAct)} (only exact gelu)`);
  const ec: EncoderConfig = {
    vocabSize: num('vocab_size'),
    hidden: num('hidden_size'),
    layers: num('num_hidden_layers'),
    heads: num('num_attention_heads'),
    intermediate: num('intermediate_size'),
    maxLength: num('max_position_embeddings'),
    typeVocabSize: num('type_vocab_size'),
    dropout: opts.dropout ?? (typeof config.hidden_dropout_prob === 'number' ? config.hidden_dropout_prob : 0.1),
    pooling: opts.pooling ?? 'cls',
    layerNormEps: typeof config.layer_norm_eps === 'number' ? config.layer_norm_eps : 1e-12,
  };
  const tokenizer = WordPieceTokenizer.fromVocabTxt(vocabTxt, opts.lowercase ?? (config.do_lower_case as boolean | undefined) ?? true);
  const { tensors } = decodeSafetensors(safetensors);
  const renamed: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(tensors)) renamed[k.replace(/^bert\./, '').replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias')] = v;
  return { tokenizer, encoder: BertEncoder.fromTensors(ec, renamed), heads: new Map() };
}
