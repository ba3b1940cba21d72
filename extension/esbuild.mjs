// Bundles the extension into one file (out/extension.js) with `vscode` left external, so the
// .vsix needs no node_modules. `--tests` bundles the unit tests into out-test/ for node:test;
// `--production` minifies and drops the source map.
import { readdirSync } from 'node:fs';
import process from 'node:process';
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // VS Code 1.90 runs extensions on Node 20.
  target: 'node20',
  logLevel: 'warning',
};

if (tests) {
  const entryPoints = readdirSync('test')
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `test/${name}`);
  // Tests cover the pure modules only: importing `vscode` would fail the build here.
  await esbuild.build({ ...common, entryPoints, outdir: 'out-test', sourcemap: 'inline' });
} else {
  await esbuild.build({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'out/extension.js',
    external: ['vscode'],
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
  });
}
