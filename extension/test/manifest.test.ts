import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { SERVER_COMMANDS } from '../src/protocol';

interface Manifest {
  activationEvents: string[];
  contributes: { commands: { command: string; title: string; category: string }[]; configuration: { properties: Record<string, unknown> } };
  engines: { vscode: string };
}

// Run from extension/ (npm test); the manifest is read as shipped.
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const commands = manifest.contributes.commands.map((c) => c.command);

describe('package.json', () => {
  it("contributes no command id the server registers (vscode-languageclient registers those)", () => {
    assert.deepEqual(commands.filter((id) => SERVER_COMMANDS.includes(id)), []);
  });

  it('activates on each of its commands and on agent folders', () => {
    for (const id of commands) {
      assert.ok(manifest.activationEvents.includes(`onCommand:${id}`), id);
    }
    for (const folder of ['agents', '.opencode', '.claude/agents']) {
      assert.ok(manifest.activationEvents.includes(`workspaceContains:${folder}`), folder);
    }
  });

  it('puts every command in the PlanGate category', () => {
    assert.deepEqual(
      manifest.contributes.commands.filter((c) => c.category !== 'PlanGate'),
      [],
    );
  });

  it('has the settings the server start reads', () => {
    const settings = Object.keys(manifest.contributes.configuration.properties).sort();
    assert.deepEqual(settings, ['plangate.anthropicBaseUrl', 'plangate.python', 'plangate.reviewEdits', 'plangate.trace.server']);
  });

  it('runs on VS Code 1.90 and later', () => {
    assert.equal(manifest.engines.vscode, '^1.90.0');
  });
});
