/**
 * Which session the commands act on, and what can be asked of it. Pure (no `vscode`).
 */

import type { ApprovePhaseParams, Decision, Pending, PhaseInfo, SessionSummary } from './protocol';

const PLAN_PATH = /[/\\]\.plangate[/\\]plans[/\\]([^/\\]+)[/\\][^/\\]+\.md$/;

/** The session id of a plan document (`<workspace>/.plangate/plans/<id>/<task>.md`), else undefined. */
export function planSessionId(uriOrPath: string | undefined): string | undefined {
  if (uriOrPath === undefined) {
    return undefined;
  }
  let text = uriOrPath;
  try {
    text = decodeURIComponent(uriOrPath);
  } catch {
    // Not URI-encoded after all: match the text as it is.
  }
  return PLAN_PATH.exec(text)?.[1];
}

/** What the current session is chosen from. */
export interface CurrentSessionInputs {
  /** URI of the active editor's document, if any. */
  activeDocument?: string;
  /** The session of the latest `plangate/sessionChanged`. */
  lastChanged?: string;
  /** `plangate/listSessions`, newest first (only consulted when needed). */
  sessions?: readonly SessionSummary[];
}

/**
 * The session commands act on: the one whose plan is in the active editor, else the one that
 * changed last, else the newest one the server knows.
 */
export function currentSessionId(inputs: CurrentSessionInputs): string | undefined {
  return planSessionId(inputs.activeDocument) ?? inputs.lastChanged ?? inputs.sessions?.[0]?.sessionId;
}

function field(raw: Record<string, unknown>, camel: string, snake: string): unknown {
  return camel in raw ? raw[camel] : raw[snake];
}

/**
 * A summary from the wire. The server sends camelCase (docs/protocol.md shows the notification
 * schemas in snake_case), so both spellings are accepted; anything without a session id is dropped.
 */
export function normalizeSummary(value: unknown): SessionSummary | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const sessionId = field(raw, 'sessionId', 'session_id');
  if (typeof sessionId !== 'string' || sessionId === '') {
    return undefined;
  }
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const phases = Array.isArray(raw.phases) ? (raw.phases as PhaseInfo[]) : [];
  const pending = raw.pending && typeof raw.pending === 'object' ? (raw.pending as Pending) : null;
  const planUri = field(raw, 'planUri', 'plan_uri');
  const cost = field(raw, 'costUsd', 'cost_usd');
  return {
    sessionId,
    agent: text(raw.agent),
    task: text(raw.task),
    status: text(raw.status),
    reason: text(raw.reason),
    phase: typeof raw.phase === 'number' ? raw.phase : 0,
    phases,
    pending,
    planUri: typeof planUri === 'string' ? planUri : null,
    usage: (raw.usage as Record<string, number> | undefined) ?? {},
    costUsd: typeof cost === 'number' ? cost : null,
  };
}

/** A decision the user can't make now, and why (shown as is). */
export interface Refusal {
  reason: string;
}

/**
 * Params for `plangate/approvePhase` answering the session's pending plan or phase approval,
 * or why there is nothing to answer.
 */
export function approveParams(
  summary: SessionSummary,
  decision: Decision,
  feedback = '',
): ApprovePhaseParams | Refusal {
  const pending = summary.pending;
  if (pending === null || !ANSWERABLE.has(pending.kind)) {
    const what = pending === null ? summary.status : pending.title;
    return { reason: `Session ${summary.sessionId} is not waiting for a plan or phase approval (${what}).` };
  }
  const phase = pending.kind === 'plan' ? 0 : (pending.phase ?? summary.phase);
  if (!pending.choices.includes(decision)) {
    const target = phase === 0 ? 'the plan' : `phase ${phase}`;
    return { reason: `You can't ${decision} ${target}: the choices are ${pending.choices.join(', ')}.` };
  }
  return { sessionId: summary.sessionId, phase, decision, feedback, kind: pending.kind };
}

/** True when `approveParams` refused. */
export function isRefusal(value: ApprovePhaseParams | Refusal): value is Refusal {
  return 'reason' in value;
}

/** Phases that can be rolled back (they ran: done or failed), last first. */
export function rollbackCandidates(summary: SessionSummary): PhaseInfo[] {
  return summary.phases.filter((p) => p.status === 'done' || p.status === 'failed').reverse();
}

/** Questions `plangate/approvePhase` answers (permissions and edits arrive as dialogs). */
const ANSWERABLE = new Set(['plan', 'phase', 'amendment', 'validation', 'loop', 'limit']);

/** Notification buttons by question kind; only the choices the question offers are shown. */
const BUTTONS: Record<string, [string, Decision][]> = {
  plan: [['Approve', 'approve']],
  phase: [['Approve', 'approve']],
  amendment: [
    ['Approve Amendment', 'approve'],
    ['Reject', 'reject'],
  ],
  validation: [
    ['Retry', 'retry'],
    ['Accept Anyway', 'accept'],
    ['Roll Back', 'rollback'],
    ['Stop', 'stop'],
  ],
  loop: [
    ['Continue', 'continue'],
    ['Stop', 'stop'],
  ],
  limit: [
    ['Continue', 'continue'],
    ['Stop', 'stop'],
  ],
};

/** A notification for a pending approval, shown once per question. */
export interface ApprovalPrompt {
  /** Identifies the question, so the same one is not announced twice. */
  key: string;
  message: string;
  /** The buttons that answer it, each with its decision (Show Plan is added by the caller). */
  answers: [string, Decision][];
}

/**
 * What to tell the user when a session waits for them, or undefined when it does not (or the
 * question was already announced: `key` is in `shown`).
 */
export function approvalPrompt(
  summary: SessionSummary,
  shown: ReadonlySet<string> = new Set(),
): ApprovalPrompt | undefined {
  const pending = summary.pending;
  if (pending === null) {
    return undefined;
  }
  const key = `${summary.sessionId}/${pending.kind}/${pending.phase ?? ''}/${pending.title}`;
  if (shown.has(key)) {
    return undefined;
  }
  const answers = (BUTTONS[pending.kind] ?? []).filter(([, decision]) => pending.choices.includes(decision));
  let what: string;
  if (pending.kind === 'plan') {
    what = 'The plan is ready for approval';
  } else if (pending.kind === 'phase') {
    const name = summary.phases.find((p) => p.index === pending.phase)?.name;
    what = `Phase ${pending.phase ?? summary.phase}${name ? ` (${name})` : ''} is waiting for approval`;
  } else {
    what = `Waiting for you: ${pending.title}`;
  }
  return { key, message: `PlanGate: ${what} — ${shortTask(summary.task)}`, answers };
}

/**
 * What to tell the user when a session paused (an API error, a full disk...), once per pause:
 * the reason and a Resume button; undefined when it is not paused or was already told.
 */
export function pausePrompt(summary: SessionSummary, shown: ReadonlySet<string> = new Set()): ApprovalPrompt | undefined {
  if (summary.status !== 'paused') {
    return undefined;
  }
  const key = `${summary.sessionId}/paused/${summary.reason}`;
  if (shown.has(key)) {
    return undefined;
  }
  const why = summary.reason ? `: ${summary.reason}` : '';
  return { key, message: `PlanGate: paused${why} — ${shortTask(summary.task)}`, answers: [] };
}

/** A task shortened to one line for notifications and pickers. */
export function shortTask(task: string, max = 60): string {
  const line = task.split('\n')[0]?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The palette's context keys: any session known, any waiting for the user, any paused. */
export function paletteContext(summaries: readonly SessionSummary[]): Record<string, boolean> {
  return {
    'plangate.hasSession': summaries.length > 0,
    'plangate.pending': summaries.some((s) => s.pending !== null),
    'plangate.paused': summaries.some((s) => s.status === 'paused'),
  };
}
