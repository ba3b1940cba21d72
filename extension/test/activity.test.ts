import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { entriesOf, entryRow, mcpRow, phaseRow, sessionRow, testCounts } from '../src/activityItems';
import type { TimelineEntry } from '../src/protocol';
import { summary } from './fixtures';

describe('activity view rows', () => {
  it('shows a session by its task, what it waits for and its cost', () => {
    const row = sessionRow(summary({ pending: { kind: 'phase', title: 't', choices: ['approve'], phase: 3 } }));
    assert.deepEqual(row, {
      label: 'Add pagination to GET /orders',
      description: 'approve phase 3 · $0.09',
      icon: 'bell',
      failed: false,
    });
    assert.equal(sessionRow(summary({ status: 'paused', reason: 'Disk full.' })).failed, true);
    assert.equal(sessionRow(summary({ status: 'completed' })).icon, 'pass');
  });

  it('shows an MCP server with its tools, or why it did not start', () => {
    assert.deepEqual(mcpRow({ name: 'git', transport: 'stdio', tools: ['git_status', 'git_log'], error: '' }), {
      label: 'MCP: git',
      description: 'stdio · 2 tools',
      icon: 'plug',
      failed: false,
    });
    const failed = mcpRow({ name: 'docs', transport: 'http', tools: [], error: "MCP server 'docs' did not start" });
    assert.equal(failed.failed, true);
    assert.equal(failed.description, "MCP server 'docs' did not start");
  });

  it('shows a phase with its status and test counts', () => {
    assert.deepEqual(phaseRow({ index: 2, name: 'API', status: 'done', testsPassed: 12, testsFailed: 0 }), {
      label: 'Phase 2: API',
      description: 'done · 12 passed',
      icon: 'pass',
      failed: false,
    });
    assert.equal(phaseRow({ index: 2, name: 'API', status: 'validating', testsPassed: 3, testsFailed: 1 }).failed, true);
    assert.equal(testCounts({ index: 1, name: 'x', status: 'pending' }), '');
  });

  it('marks failed calls and denials in the timeline, by phase', () => {
    const entries: TimelineEntry[] = [
      { at: 1, phase: 0, kind: 'plan', text: 'plan v1: Fix', ok: true },
      { at: 2, phase: 1, kind: 'denied', text: 'denied command git push: deny', ok: false },
      { at: 3, phase: 1, kind: 'tool', text: 'bash pytest: [exit code 1]', ok: false },
      { at: 4, phase: 1, kind: 'tool', text: 'edit app.py: Applied', ok: true },
    ];
    const clock = (at: number): string => `t${at}`;
    assert.deepEqual(
      entriesOf(entries, 1).map((e) => entryRow(e, clock)),
      [
        { label: 'denied command git push: deny', description: 't2', icon: 'shield', failed: true },
        { label: 'bash pytest: [exit code 1]', description: 't3', icon: 'error', failed: true },
        { label: 'edit app.py: Applied', description: 't4', icon: 'tools', failed: false },
      ],
    );
    assert.equal(entriesOf(entries, 0).length, 1);
  });
});
