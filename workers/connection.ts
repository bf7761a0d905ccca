/** Connection settings: where the Temporal frontend is, which namespace, where the Web UI is. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Web UI base URL, when known. */
  uiUrl: string;
}

export const DEFAULT_PORT = 7233;
export const DEFAULT_UI_PORT = 8233;

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS ?? `localhost:${DEFAULT_PORT}`;
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    uiUrl: env.TEMPORAL_UI_URL ?? `http://localhost:${DEFAULT_UI_PORT}`,
  };
}

/** Web UI link to one workflow execution. */
export function workflowUiUrl(s: Pick<TemporalSettings, 'uiUrl' | 'namespace'>, workflowId: string, runId?: string): string {
  const base = `${s.uiUrl}/namespaces/${encodeURIComponent(s.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
