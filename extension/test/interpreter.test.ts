import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  chooseInterpreter,
  DEFAULT_PYTHON,
  expandPath,
  importCheckArgs,
  initializationOptions,
  isPlanGateProject,
  pipInstallArgs,
  serverArgs,
  serverEnvironment,
  spawnProblem,
} from '../src/interpreter';

describe('chooseInterpreter', () => {
  it('prefers the setting', () => {
    assert.deepEqual(chooseInterpreter('/venv/bin/python', '/usr/bin/python3.12'), {
      path: '/venv/bin/python',
      source: 'setting',
    });
  });

  it("falls back to the Python extension's interpreter when the setting is blank", () => {
    assert.deepEqual(chooseInterpreter('   ', '/home/u/.venv/bin/python'), {
      path: '/home/u/.venv/bin/python',
      source: 'python-extension',
    });
    assert.deepEqual(chooseInterpreter(undefined, '/x/python'), { path: '/x/python', source: 'python-extension' });
  });

  it('falls back to python3 when nothing names one', () => {
    assert.deepEqual(chooseInterpreter('', undefined), { path: DEFAULT_PYTHON, source: 'default' });
    assert.deepEqual(chooseInterpreter('', ''), { path: 'python3', source: 'default' });
  });

  it('expands ~ and ${workspaceFolder} in the setting', () => {
    const context = { home: '/home/u', workspaceFolder: '/src/api' };
    assert.equal(chooseInterpreter('${workspaceFolder}/.venv/bin/python', undefined, context).path, '/src/api/.venv/bin/python');
    assert.equal(chooseInterpreter('~/venvs/pg/bin/python', undefined, context).path, '/home/u/venvs/pg/bin/python');
  });
});

describe('expandPath', () => {
  it('leaves ~ inside a path and unknown variables alone', () => {
    assert.equal(expandPath('/a/~b', { home: '/h' }), '/a/~b');
    assert.equal(expandPath('${workspaceFolder}/x', {}), '${workspaceFolder}/x');
  });
});

describe('server arguments', () => {
  it('starts the server as a module over stdio', () => {
    assert.deepEqual(serverArgs(), ['-m', 'plangate', 'serve']);
  });

  it('checks the install by importing the package', () => {
    assert.deepEqual(importCheckArgs(), ['-c', 'import plangate']);
  });

  it('installs by name, or a local checkout editable', () => {
    assert.deepEqual(pipInstallArgs(), ['-m', 'pip', 'install', 'plangate']);
    assert.deepEqual(pipInstallArgs('/src/plangate'), ['-m', 'pip', 'install', '-e', '/src/plangate']);
  });

  it("recognises PlanGate's own pyproject.toml", () => {
    assert.equal(isPlanGateProject('[project]\nname = "plangate"\nversion = "0.1.0"\n'), true);
    assert.equal(isPlanGateProject('[project]\nname = "plangate-extras"\n'), false);
    assert.equal(isPlanGateProject('[project]\nname = "other"\n'), false);
  });
});

describe('serverEnvironment', () => {
  it('adds the key and base URL to the inherited environment', () => {
    const env = serverEnvironment({ PATH: '/bin', HOME: '/h', UNSET: undefined }, {
      apiKey: 'sk-ant-secret',
      baseUrl: 'http://127.0.0.1:8123',
    });
    assert.deepEqual(env, {
      PATH: '/bin',
      HOME: '/h',
      ANTHROPIC_API_KEY: 'sk-ant-secret',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8123',
    });
  });

  it('keeps what the environment already has when nothing is set', () => {
    const env = serverEnvironment({ ANTHROPIC_API_KEY: 'from-shell', ANTHROPIC_BASE_URL: 'http://x' }, { apiKey: '', baseUrl: ' ' });
    assert.equal(env.ANTHROPIC_API_KEY, 'from-shell');
    assert.equal(env.ANTHROPIC_BASE_URL, 'http://x');
  });

  it('lets the stored key win over the inherited one', () => {
    assert.equal(serverEnvironment({ ANTHROPIC_API_KEY: 'old' }, { apiKey: 'new' }).ANTHROPIC_API_KEY, 'new');
  });

  it('does not modify the environment it is given', () => {
    const base = { PATH: '/bin' };
    serverEnvironment(base, { apiKey: 'k' });
    assert.deepEqual(base, { PATH: '/bin' });
  });
});

describe('initializationOptions', () => {
  it('carries the base URL only, never the key', () => {
    assert.deepEqual(initializationOptions('http://127.0.0.1:8123'), { anthropicBaseUrl: 'http://127.0.0.1:8123' });
    assert.deepEqual(initializationOptions(''), {});
    assert.deepEqual(initializationOptions(undefined), {});
  });
});

describe('spawnProblem', () => {
  it('says why an interpreter did not start, in words', () => {
    assert.equal(spawnProblem('ENOENT', 'spawn /x ENOENT'), 'no such file');
    assert.equal(spawnProblem('EACCES', 'spawn /x EACCES'), 'it is not executable (permission denied)');
    assert.equal(spawnProblem(undefined, 'something odd'), 'something odd');
  });
});
