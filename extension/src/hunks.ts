/**
 * One review of a proposed change, without `vscode`: which hunks the user accepted or rejected,
 * what each hunk's buttons say, and the answer for the server once every hunk is decided.
 */
import type { ReviewEditParams, ReviewEditResult, ReviewHunk } from './protocol';

export type Verdict = 'accept' | 'reject';

/** A lens above a hunk (or the whole change): its title and what it does. */
export interface HunkButton {
  title: string;
  action: 'accept' | 'reject' | 'undo' | 'acceptAll' | 'rejectAll';
  hunk?: number;
}

/** The user's decisions so far on one proposed change. */
export class HunkReview {
  private readonly verdicts = new Map<number, Verdict>();

  constructor(readonly params: ReviewEditParams) {}

  get hunks(): ReviewHunk[] {
    return this.params.hunks;
  }

  /** Decide one hunk (again: the last word counts). */
  decide(index: number, verdict: Verdict): void {
    if (this.hunks.some((h) => h.index === index)) {
      this.verdicts.set(index, verdict);
    }
  }

  /** Take a decision back. */
  undo(index: number): void {
    this.verdicts.delete(index);
  }

  /** Every undecided hunk gets `verdict`. */
  decideRest(verdict: Verdict): void {
    for (const hunk of this.hunks) {
      if (!this.verdicts.has(hunk.index)) {
        this.verdicts.set(hunk.index, verdict);
      }
    }
  }

  verdict(index: number): Verdict | undefined {
    return this.verdicts.get(index);
  }

  /** True once every hunk is accepted or rejected. */
  get complete(): boolean {
    return this.hunks.every((h) => this.verdicts.has(h.index));
  }

  /** True when some decided hunk was rejected: the user may say why. */
  get anyRejected(): boolean {
    return [...this.verdicts.values()].includes('reject');
  }

  /** The answer for the server, once complete: all accepted is a plain accept, none a reject. */
  result(reason: string): ReviewEditResult {
    const accepted = this.hunks.filter((h) => this.verdicts.get(h.index) === 'accept').map((h) => h.index);
    const trimmed = reason.trim();
    const extra = trimmed === '' ? {} : { reason: trimmed };
    if (accepted.length === 0) {
      return { decision: 'reject', ...extra };
    }
    if (accepted.length === this.hunks.length) {
      return { decision: 'accept', ...extra };
    }
    return { decision: 'accept', hunks: accepted, ...extra };
  }

  /** The hunk whose proposed lines hold `line` (0-based), or the nearest after it. */
  hunkAt(line: number): ReviewHunk | undefined {
    return (
      this.hunks.find((h) => line >= h.proposedStart && line < h.proposedStart + Math.max(h.proposedLines, 1)) ??
      this.hunks.find((h) => h.proposedStart >= line)
    );
  }

  /** The lenses of one hunk: Accept / Reject while undecided, its verdict and Undo after. */
  buttons(hunk: ReviewHunk): HunkButton[] {
    const number = `${hunk.index + 1}/${this.hunks.length}`;
    const verdict = this.verdicts.get(hunk.index);
    if (verdict === undefined) {
      return [
        { title: `$(check) Accept hunk ${number}`, action: 'accept', hunk: hunk.index },
        { title: `$(close) Reject hunk ${number}`, action: 'reject', hunk: hunk.index },
      ];
    }
    const said = verdict === 'accept' ? '$(check) Accepted' : '$(close) Rejected';
    return [{ title: `${said} hunk ${number} · Undo`, action: 'undo', hunk: hunk.index }];
  }

  /** The lenses at the top: the whole change at once. */
  overall(): HunkButton[] {
    const left = this.hunks.filter((h) => !this.verdicts.has(h.index)).length;
    const what = left === this.hunks.length ? 'all' : `the other ${left}`;
    return [
      { title: `$(check-all) Accept ${what}`, action: 'acceptAll' },
      { title: `$(close-all) Reject ${what}`, action: 'rejectAll' },
    ];
  }
}

/** The line a hunk's lens goes on in the proposal (a deletion has no lines of its own). */
export function lensLine(hunk: ReviewHunk, lineCount: number): number {
  return Math.max(0, Math.min(hunk.proposedStart, lineCount - 1));
}
