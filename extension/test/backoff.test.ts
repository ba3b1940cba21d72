import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { backoffDelay, DEFAULT_BACKOFF, RestartPolicy } from '../src/backoff';

describe('backoffDelay', () => {
  it('doubles from one second and stops growing at the cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n)),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
  });

  it('treats a negative attempt as the first', () => {
    assert.equal(backoffDelay(-1), DEFAULT_BACKOFF.initialMs);
  });
});

describe('RestartPolicy', () => {
  it('gives up after five crashes in a row', () => {
    const policy = new RestartPolicy();
    const delays = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      policy.started(now);
      now += 500; // crashes half a second after each start
      delays.push(policy.failed(now));
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, undefined]);
  });

  it('starts over after a server that ran long enough', () => {
    const policy = new RestartPolicy();
    policy.started(0);
    assert.equal(policy.failed(100), 1000);
    policy.started(1_100);
    assert.equal(policy.failed(1_200), 2000);
    policy.started(3_200);
    assert.equal(policy.failed(3_200 + DEFAULT_BACKOFF.stableMs), 1000);
  });

  it('counts a crash before the server ever ran', () => {
    const policy = new RestartPolicy();
    assert.equal(policy.failed(0), 1000);
    assert.equal(policy.failed(10), 2000);
  });

  it('forgets crashes on a deliberate restart', () => {
    const policy = new RestartPolicy();
    policy.failed(0);
    policy.failed(1);
    policy.reset();
    assert.equal(policy.failed(2), 1000);
  });
});
