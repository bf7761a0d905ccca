import path from 'node:path';

/** Root of broadloom's local state: `$BROADLOOM_HOME`, else `<cwd>/.broadloom`. Always absolute. */
export function broadloomHome(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const fromEnv = env['BROADLOOM_HOME'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    if (fromEnv.includes('\0')) throw new Error('BROADLOOM_HOME contains a NUL byte');
    return path.resolve(cwd, fromEnv);
  }
  return path.resolve(cwd, '.broadloom');
}
