import type { SessionSummary } from '../src/protocol';

/** A session summary as the server sends it, with `overrides` applied. */
export function summary(overrides: Partial<SessionSummary> = {}): SessionSummary {
  return {
    sessionId: '20261125-120000-abc123',
    agent: 'backend-developer',
    task: 'Add pagination to GET /orders',
    status: 'running',
    reason: '',
    phase: 2,
    phases: [
      { index: 1, name: 'Database', status: 'done' },
      { index: 2, name: 'API endpoints', status: 'running' },
      { index: 3, name: 'Optimisation', status: 'pending' },
      { index: 4, name: 'Documentation', status: 'pending' },
    ],
    pending: null,
    planUri: 'file:///ws/.plangate/plans/20261125-120000-abc123/Add%20a%20priority.md',
    usage: { input_tokens: 100, output_tokens: 20 },
    costUsd: 0.0903,
    ...overrides,
  };
}
