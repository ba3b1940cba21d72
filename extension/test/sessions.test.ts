import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  approvalPrompt,
  approveParams,
  currentSessionId,
  isRefusal,
  normalizeSummary,
  paletteContext,
  pausePrompt,
  planSessionId,
  rollbackCandidates,
  shortTask,
} from '../src/sessions';
import { summary } from './fixtures';

describe('planSessionId', () => {
  it('reads the session id from a plan document URI or path', () => {
    assert.equal(planSessionId('file:///ws/.plangate/plans/20261125-120000-abc123/Add%20a%20priority.md'), '20261125-120000-abc123');
    assert.equal(planSessionId('/ws/.plangate/plans/s1/Fix add().md'), 's1');
    assert.equal(planSessionId('file:///c%3A/ws/.plangate/plans/s2/plan.md'), 's2');
    assert.equal(planSessionId('C:\\ws\\.plangate\\plans\\s3\\Fix it.md'), 's3');
  });

  it('is undefined for other documents', () => {
    assert.equal(planSessionId('file:///ws/app/api.py'), undefined);
    assert.equal(planSessionId('file:///ws/.plangate/plans/sub/x.txt'), undefined);
    assert.equal(planSessionId('file:///ws/plans/x.md'), undefined);
    assert.equal(planSessionId(undefined), undefined);
  });
});

describe('currentSessionId', () => {
  const listed = [summary({ sessionId: 'newest' }), summary({ sessionId: 'older' })];

  it("prefers the active plan document's session", () => {
    assert.equal(
      currentSessionId({ activeDocument: 'file:///ws/.plangate/plans/active/Task.md', lastChanged: 'changed', sessions: listed }),
      'active',
    );
  });

  it('then the session that changed last', () => {
    assert.equal(currentSessionId({ activeDocument: 'file:///ws/app.py', lastChanged: 'changed', sessions: listed }), 'changed');
  });

  it('then the newest listed session', () => {
    assert.equal(currentSessionId({ activeDocument: 'file:///ws/app.py', sessions: listed }), 'newest');
  });

  it('is undefined when there is no session', () => {
    assert.equal(currentSessionId({}), undefined);
    assert.equal(currentSessionId({ sessions: [] }), undefined);
  });
});

describe('normalizeSummary', () => {
  it('takes the camelCase the server sends', () => {
    const wire = summary();
    assert.deepEqual(normalizeSummary(JSON.parse(JSON.stringify(wire))), wire);
  });

  it('also takes the snake_case of the documented schema', () => {
    const parsed = normalizeSummary({
      session_id: 's1',
      agent: 'a',
      task: 't',
      status: 'plan proposed',
      reason: '',
      phase: 0,
      phases: [],
      pending: { kind: 'plan', title: 'Approve the plan?', choices: ['approve'], phase: 0 },
      plan_uri: 'file:///p.md',
      usage: {},
      cost_usd: 0.5,
    });
    assert.equal(parsed?.sessionId, 's1');
    assert.equal(parsed?.planUri, 'file:///p.md');
    assert.equal(parsed?.costUsd, 0.5);
    assert.equal(parsed?.pending?.kind, 'plan');
  });

  it('drops what is not a summary', () => {
    assert.equal(normalizeSummary(null), undefined);
    assert.equal(normalizeSummary('x'), undefined);
    assert.equal(normalizeSummary({ agent: 'a' }), undefined);
  });

  it('fills missing fields with empty values', () => {
    assert.deepEqual(normalizeSummary({ sessionId: 's' }), {
      sessionId: 's',
      agent: '',
      task: '',
      status: '',
      reason: '',
      phase: 0,
      phases: [],
      pending: null,
      planUri: null,
      usage: {},
      costUsd: null,
    });
  });
});

describe('approveParams', () => {
  const planPending = summary({
    status: 'plan proposed',
    phase: 0,
    pending: { kind: 'plan', title: 'Approve the plan?', choices: ['approve', 'revise', 'reject'], phase: 0 },
  });
  const phasePending = summary({
    status: 'awaiting phase approval',
    pending: { kind: 'phase', title: 'Run phase 2?', choices: ['approve', 'revise', 'skip', 'reject', 'rollback'], phase: 2 },
  });

  it('answers the plan as phase 0', () => {
    assert.deepEqual(approveParams(planPending, 'approve'), {
      sessionId: '20261125-120000-abc123',
      phase: 0,
      decision: 'approve',
      feedback: '',
      kind: 'plan',
    });
  });

  it('answers the pending phase with feedback', () => {
    assert.deepEqual(approveParams(phasePending, 'revise', 'smaller steps'), {
      sessionId: '20261125-120000-abc123',
      phase: 2,
      decision: 'revise',
      feedback: 'smaller steps',
      kind: 'phase',
    });
  });

  it('refuses a decision the question does not offer', () => {
    const result = approveParams(planPending, 'skip');
    assert.ok(isRefusal(result));
    assert.match(result.reason, /can't skip the plan/);
  });

  it('refuses when nothing is pending, or the question does not offer the decision', () => {
    const idle = approveParams(summary(), 'approve');
    assert.ok(isRefusal(idle));
    assert.match(idle.reason, /not waiting .*\(running\)/);
    const failed = summary({ pending: { kind: 'validation', title: 'Checks failed', choices: ['retry'], phase: 2 } });
    assert.ok(isRefusal(approveParams(failed, 'approve')));
    assert.deepEqual(approveParams(failed, 'retry'), {
      sessionId: '20261125-120000-abc123',
      phase: 2,
      decision: 'retry',
      feedback: '',
      kind: 'validation',
    });
  });
});

describe('rollbackCandidates', () => {
  it('lists phases that ran, last first', () => {
    const s = summary({
      phases: [
        { index: 1, name: 'A', status: 'done' },
        { index: 2, name: 'B', status: 'failed' },
        { index: 3, name: 'C', status: 'skipped' },
        { index: 4, name: 'D', status: 'pending' },
      ],
    });
    assert.deepEqual(rollbackCandidates(s).map((p) => p.index), [2, 1]);
  });
});

describe('approvalPrompt', () => {
  it('announces a pending phase once, with its name', () => {
    const s = summary({ pending: { kind: 'phase', title: 'Run phase 2?', choices: ['approve'], phase: 2 } });
    const prompt = approvalPrompt(s);
    assert.ok(prompt);
    assert.deepEqual(prompt.answers, [['Approve', 'approve']]);
    assert.match(prompt.message, /Phase 2 \(API endpoints\) is waiting for approval/);
    assert.equal(approvalPrompt(s, new Set([prompt.key])), undefined);
  });

  it('announces the plan', () => {
    const prompt = approvalPrompt(summary({ pending: { kind: 'plan', title: 'Approve?', choices: ['approve'], phase: 0 } }));
    assert.match(prompt?.message ?? '', /The plan is ready for approval — Add pagination/);
  });

  it('offers the choices of a failed validation, and nothing it does not offer', () => {
    const pending = { kind: 'validation', title: 'Checks failed', choices: ['retry', 'accept', 'stop'], phase: 2 };
    const prompt = approvalPrompt(summary({ pending }));
    assert.deepEqual(prompt?.answers, [
      ['Retry', 'retry'],
      ['Accept Anyway', 'accept'],
      ['Stop', 'stop'],
    ]);
  });

  it('stays quiet when nothing is pending', () => {
    assert.equal(approvalPrompt(summary()), undefined);
  });

  it('gives each question its own key', () => {
    const first = approvalPrompt(summary({ pending: { kind: 'phase', title: 'Run phase 2?', choices: [], phase: 2 } }));
    const second = approvalPrompt(summary({ pending: { kind: 'phase', title: 'Run phase 3?', choices: [], phase: 3 } }));
    assert.notEqual(first?.key, second?.key);
  });
});

describe('shortTask', () => {
  it('keeps the first line and cuts long ones', () => {
    assert.equal(shortTask('one\ntwo'), 'one');
    assert.equal(shortTask('x'.repeat(100), 10), `${'x'.repeat(9)}…`);
  });
});

describe('pausePrompt', () => {
  it('tells a pause once, with its reason', () => {
    const paused = summary({ status: 'paused', reason: 'The disk is full.' });
    const prompt = pausePrompt(paused);
    assert.equal(prompt?.message, 'PlanGate: paused: The disk is full. — Add pagination to GET /orders');
    assert.equal(pausePrompt(paused, new Set([prompt.key])), undefined);
    assert.equal(pausePrompt(summary()), undefined);
    // Paused again for another reason: told again.
    assert.notEqual(pausePrompt({ ...paused, reason: 'The API is overloaded.' }, new Set([prompt.key])), undefined);
  });
});

describe('paletteContext', () => {
  it('shows the session commands where they apply', () => {
    assert.deepEqual(paletteContext([]), { 'plangate.hasSession': false, 'plangate.pending': false, 'plangate.paused': false });
    const waiting = summary({ pending: { kind: 'phase', title: 't', choices: ['approve'], phase: 2 } });
    assert.deepEqual(paletteContext([waiting, summary({ status: 'paused' })]), {
      'plangate.hasSession': true,
      'plangate.pending': true,
      'plangate.paused': true,
    });
  });
});
