// The DAG rules live with the schemas so the workflow interpreter and the compiler share one implementation.
export * from '../schemas/dag.ts';
