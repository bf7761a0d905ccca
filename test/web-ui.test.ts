/**
 * The Temporal Web UI, seen in a real browser (Debian's Chromium driven by playwright-core): find a pipeline run
 * by its search attribute, open it, and see its stages — activity names and the stage summaries broadloom sets.
 * Screenshots are saved under test-output/ as test artifacts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { harness, freshHome, type TestHarness } from './support/temporal.ts';
import { startRun } from '../cli/runs.ts';
import pipeline from './fixtures/pipelines/arrow-dag.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const out = fileURLToPath(new URL('../test-output/', import.meta.url));
const ui = process.env.TEMPORAL_UI_URL;
const skip = !ui ? 'no Web UI (run through test/run.ts)' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : false;

let h: TestHarness;
let browser: Browser;
before(async () => {
  if (skip) return;
  freshHome('webui');
  mkdirSync(out, { recursive: true });
  h = await harness();
  await h.startWorkers({ activities: pipeline.activities });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  await h?.close();
});

test('the Web UI finds a pipeline run by search attribute and shows its stages', { skip }, async () => {
  const spec = { ...pipeline.spec, name: 'webui-dag' };
  const handle = await startRun(h.client, spec);
  await handle.result();
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });

  const query = encodeURIComponent(`BroadloomPipeline="webui-dag"`);
  await page.goto(`${ui}/namespaces/default/workflows?query=${query}`, { waitUntil: 'networkidle' });
  await page.getByText(handle.workflowId).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: `${out}/web-ui-runs.png`, fullPage: true });

  await page.getByText(handle.workflowId).first().click();
  await page.waitForURL(/\/workflows\/.+/, { timeout: 30_000 });
  // The event history lists the stage activities by name.
  for (const activity of ['synthesize', 'filterRows', 'square', 'merge', 'summarize']) {
    await page.getByText(activity).first().waitFor({ timeout: 30_000 });
  }
  // The summary each stage's activity carries (user metadata) is rendered too.
  await page.getByText('summary · summarize').first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: `${out}/web-ui-run.png`, fullPage: true });
  const text = await page.locator('body').innerText();
  assert.match(text, /Completed/i);
  await page.close();
});
