/**
 * broadloom ML library: backend ladder, WordPiece tokenizer, BERT encoder, task heads, multi-task
 * trainer, checkpoints (safetensors bytes), prediction and metrics. Knows nothing of Temporal.
 */
export { initBackend, currentBackend } from './backend.ts';
export type { BackendName, BackendRequest, BackendReport } from './backend.ts';

export { WordPieceTokenizer, basicTokenize, padBatch, trainWordPieceVocab, SPECIAL_TOKENS, IGNORE_INDEX } from './tokenizer.ts';
export type { Encoding, WordEncoding, TokenizerJSON, TrainTokenizerOptions, PaddedBatch } from './tokenizer.ts';

export { BertEncoder, encoderConfigFromSpec, encoderParamShapes } from './encoder.ts';
export type { EncoderConfig, EncoderOutput, HostTensor, NamedTensors } from './encoder.ts';

export { TaskHead, crossEntropy } from './heads.ts';
export type { HeadConfig, HeadKind } from './heads.ts';

export { disposeModel, namedVariables } from './model.ts';
export type { MultiTaskModel } from './model.ts';

export { trainMultiTask, validateTask, inspectTrainerState } from './trainer.ts';
export type { TrainOptions, TrainResult, TrainTask, TrainProgress, TrainerCheckpoint, DataReport, ModelSource } from './trainer.ts';

export {
  saveModel,
  loadModel,
  saveEncoder,
  loadEncoder,
  saveHead,
  loadHead,
  readHeadInfo,
  encodeSafetensors,
  decodeSafetensors,
  importHuggingFaceBert,
  sha256,
  MODEL_FORMAT,
} from './checkpoint.ts';
export type { ModelArtifacts, ModelManifestJSON, HeadInfo } from './checkpoint.ts';

export { predict, predictSequences, predictTokens, createPredictor, evaluateTask } from './predict.ts';
export type { SequencePrediction, TokenPrediction, PredictOptions, Predictor, TaskEvaluation } from './predict.ts';

export {
  accuracy,
  classificationReport,
  macroF1,
  binaryF1,
  tokenAccuracy,
  extractSpans,
  spanF1,
  leastConfident,
} from './metrics.ts';
export type { ClassScores, ClassificationReport, Span, SpanReport } from './metrics.ts';

export { Rng } from './rng.ts';
export type { Example, TextExample, TokenExample, TaskDefinition } from './types.ts';
export { isTokenExample } from './types.ts';
