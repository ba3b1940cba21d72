import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeState, errorText, formatCost, formatOutput, sessionItem, statusBarText, validationLine } from '../src/status';
import { summary } from './fixtures';

describe('statusBarText', () => {
  it("shows the session's state, phase and cost", () => {
    assert.equal(statusBarText(summary(), 'running').text, '$(checklist) PlanGate: running · phase 2/4 · $0.09');
  });

  it('rings when the session waits for the user', () => {
    const s = summary({
      status: 'awaiting phase approval',
      pending: { kind: 'phase', title: 'Run phase 3?', choices: ['approve'], phase: 3 },
    });
    assert.equal(statusBarText(s, 'running').text, '$(bell) PlanGate: approve phase 3 · phase 2/4 · $0.09');
  });

  it('shows a proposed plan without a phase', () => {
    const s = summary({
      status: 'plan proposed',
      phase: 0,
      phases: [],
      costUsd: 0.004,
      pending: { kind: 'plan', title: 'Approve?', choices: ['approve'], phase: 0 },
    });
    assert.equal(statusBarText(s, 'running').text, '$(bell) PlanGate: approve plan · $0.0040');
  });

  it('leaves out an unknown cost', () => {
    assert.equal(statusBarText(summary({ costUsd: null, phase: 0 }), 'running').text, '$(checklist) PlanGate: running');
  });

  it("puts the task, session and reason in the tooltip", () => {
    const { tooltip } = statusBarText(summary({ status: 'paused', reason: 'budget reached' }), 'running');
    assert.match(tooltip, /backend-developer: Add pagination to GET \/orders/);
    assert.match(tooltip, /Session 20261125-120000-abc123: paused/);
    assert.match(tooltip, /budget reached/);
  });

  it("shows the server's state while it is not running", () => {
    assert.equal(statusBarText(summary(), 'starting').text, '$(sync~spin) PlanGate');
    assert.equal(statusBarText(undefined, 'stopped').text, '$(error) PlanGate');
    assert.equal(statusBarText(undefined, 'running').text, '$(checklist) PlanGate');
  });
});

describe('formatCost', () => {
  it('rounds to cents, with more digits under a cent', () => {
    assert.equal(formatCost(0), '$0.00');
    assert.equal(formatCost(1.234), '$1.23');
    assert.equal(formatCost(0.00123), '$0.0012');
  });
});

describe('describeState', () => {
  it('names other pending questions by kind', () => {
    assert.equal(
      describeState(summary({ pending: { kind: 'permission', title: 'x', choices: [], phase: 2 } })),
      'waiting: permission',
    );
  });
});

describe('sessionItem', () => {
  it('lists the task, state and where it came from', () => {
    assert.deepEqual(sessionItem(summary({ status: 'completed', phase: 4 })), {
      label: 'Add pagination to GET /orders',
      description: 'completed · phase 4/4',
      detail: 'backend-developer · 20261125-120000-abc123 · $0.09',
    });
  });

  it('falls back to the id for an empty task', () => {
    assert.equal(sessionItem(summary({ task: '' })).label, '20261125-120000-abc123');
  });
});

describe('formatOutput', () => {
  it('streams model text as it comes', () => {
    assert.equal(formatOutput('text', 'Reading'), 'Reading');
  });

  it('streams thinking under a heading of its own, then the answer on a new line', () => {
    assert.equal(formatOutput('thinking', 'Let me', 'text'), '\n  [thinking] Let me');
    assert.equal(formatOutput('thinking', ' look.', 'thinking'), ' look.');
    assert.equal(formatOutput('text', 'Reading', 'thinking'), '\nReading');
  });

  it('puts tool activity on lines of its own', () => {
    assert.equal(formatOutput('tool_started', 'bash'), '\n  -> bash\n');
    assert.equal(formatOutput('tool_result', 'a\nb'), '     a\n     b\n');
    assert.equal(formatOutput('retry', 'overloaded'), '\n  [retry] overloaded\n');
    assert.equal(formatOutput('other', 'x'), '\n  [other] x\n');
  });
});

describe('errorText', () => {
  it('takes an error message, or the value as text', () => {
    assert.equal(errorText(new Error('unknown session')), 'unknown session');
    assert.equal(errorText(42), '42');
  });
});

describe('describeState in words', () => {
  it('says what to decide when validation fails', () => {
    const s = summary({
      status: 'validating',
      phases: [{ index: 2, name: 'API', status: 'validating', testsPassed: 4, testsFailed: 2 }],
      pending: { kind: 'validation', title: 'Phase 2 fails validation', choices: ['retry'], phase: 2 },
    });
    assert.equal(describeState(s), 'phase 2: tests failing, decide');
    assert.equal(
      describeState({ ...s, phases: [{ index: 2, name: 'API', status: 'validating' }] }),
      'phase 2: checks failing, decide',
    );
  });

  it('names a repeated call, the budget and a pause with its reason', () => {
    const pending = (kind: string) => ({ kind, title: 't', choices: ['stop'], phase: 2 });
    assert.equal(describeState(summary({ pending: pending('loop') })), 'repeated call, decide');
    assert.equal(describeState(summary({ pending: pending('limit') })), 'budget reached, decide');
    assert.equal(
      describeState(summary({ status: 'paused', reason: 'The API rejected the key (401). Set a new one.' })),
      'paused: The API rejected the key (401).',
    );
    assert.equal(
      describeState(summary({ status: 'paused', reason: 'connection dropped; gave up after 5 attempts' })),
      'paused: connection dropped',
    );
  });
});

describe('validationLine', () => {
  it('keeps the PASS and FAIL lines', () => {
    const text = 'Phase 1 is done. Validation:\n  PASS custom: pytest (3 passed)\n  FAIL lint: ruff\nWait.';
    assert.equal(validationLine(text), 'PASS custom: pytest (3 passed) · FAIL lint: ruff');
    assert.equal(validationLine('No checks found.\nmore'), 'No checks found.');
  });
});
