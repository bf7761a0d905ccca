export * from './dsl.ts';
export * from './compile.ts';
export * from './errors.ts';
export * from './graph.ts';
export * from './load.ts';
