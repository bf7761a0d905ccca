#!/usr/bin/env node
// `broadloom` on PATH (npm link / npx): run the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');
