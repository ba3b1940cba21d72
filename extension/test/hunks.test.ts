import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HunkReview, lensLine } from '../src/hunks';
import type { ReviewEditParams } from '../src/protocol';

function params(count: number): ReviewEditParams {
  return {
    sessionId: 's',
    questionId: 'edit:t#1',
    title: 'Phase 1 · Fix: change calc.py',
    uri: 'file:///w/calc.py',
    path: 'calc.py',
    kind: 'modify',
    original: '',
    proposed: '',
    hunks: Array.from({ length: count }, (_, index) => ({
      index,
      originalStart: index * 5,
      originalLines: 1,
      proposedStart: index * 5,
      proposedLines: index === 2 ? 0 : 2,
    })),
  };
}

describe('HunkReview', () => {
  it('answers the hunks accepted when some were rejected', () => {
    const review = new HunkReview(params(3));
    review.decide(0, 'reject');
    review.decide(2, 'accept');
    assert.equal(review.complete, false);
    review.decide(1, 'accept');
    assert.equal(review.complete, true);
    assert.deepEqual(review.result(' keep the first '), { decision: 'accept', hunks: [1, 2], reason: 'keep the first' });
  });

  it('answers a plain accept for all, a reject for none', () => {
    const all = new HunkReview(params(2));
    all.decideRest('accept');
    assert.deepEqual(all.result(''), { decision: 'accept' });
    const none = new HunkReview(params(2));
    none.decideRest('reject');
    assert.deepEqual(none.result('no'), { decision: 'reject', reason: 'no' });
    assert.equal(none.anyRejected, true);
  });

  it('lets a decision be taken back, and the last word count', () => {
    const review = new HunkReview(params(2));
    review.decide(0, 'reject');
    review.undo(0);
    assert.equal(review.verdict(0), undefined);
    review.decide(0, 'reject');
    review.decide(0, 'accept');
    review.decideRest('reject');
    assert.deepEqual(review.result(''), { decision: 'accept', hunks: [0] });
    review.decide(7, 'accept'); // no such hunk: ignored
    assert.deepEqual(review.result(''), { decision: 'accept', hunks: [0] });
  });

  it('labels the buttons with the hunk and its verdict', () => {
    const review = new HunkReview(params(2));
    const [first] = review.hunks;
    assert.deepEqual(
      review.buttons(first).map((b) => b.title),
      ['$(check) Accept hunk 1/2', '$(close) Reject hunk 1/2'],
    );
    assert.deepEqual(review.overall().map((b) => b.title), ['$(check-all) Accept all', '$(close-all) Reject all']);
    review.decide(0, 'accept');
    assert.deepEqual(review.buttons(first), [{ title: '$(check) Accepted hunk 1/2 · Undo', action: 'undo', hunk: 0 }]);
    assert.deepEqual(review.overall().map((b) => b.title), ['$(check-all) Accept the other 1', '$(close-all) Reject the other 1']);
  });

  it('finds the hunk at a line, or the next one', () => {
    const review = new HunkReview(params(3));
    assert.equal(review.hunkAt(1)?.index, 0);
    assert.equal(review.hunkAt(3)?.index, 1);
    assert.equal(review.hunkAt(10)?.index, 2); // a deletion: its line is where it was
    assert.equal(review.hunkAt(11), undefined);
  });
});

describe('lensLine', () => {
  it('keeps a lens inside the document', () => {
    assert.equal(lensLine({ index: 0, originalStart: 9, originalLines: 2, proposedStart: 9, proposedLines: 0 }, 9), 8);
    assert.equal(lensLine({ index: 0, originalStart: 0, originalLines: 0, proposedStart: 0, proposedLines: 1 }, 0), 0);
  });
});
