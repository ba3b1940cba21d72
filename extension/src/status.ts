/**
 * Text the user sees: the status bar item, session picker entries, streamed output.
 * Pure (no `vscode`).
 */

import type { SessionSummary } from './protocol';
import { shortTask } from './sessions';

/** The server's state, as far as the status bar tells it. */
export type ServerState = 'starting' | 'running' | 'stopped';

/** A status bar item's text and tooltip. */
export interface StatusText {
  text: string;
  tooltip: string;
}

/** Dollars with cents, or more precision for amounts under a cent. */
export function formatCost(usd: number): string {
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** "phase 2/4" when a phase has begun, else "". */
export function formatPhase(summary: SessionSummary): string {
  if (summary.phase <= 0) {
    return '';
  }
  return summary.phases.length > 0 ? `phase ${summary.phase}/${summary.phases.length}` : `phase ${summary.phase}`;
}

/** The session's state in a few words: what it waits for, else its status. */
export function describeState(summary: SessionSummary): string {
  const pending = summary.pending;
  const phase = pending?.phase ?? summary.phase;
  switch (pending?.kind) {
    case undefined:
    case null:
      break;
    case 'plan':
      return 'approve plan';
    case 'phase':
      return `approve phase ${phase}`;
    case 'validation': {
      const failed = summary.phases.find((p) => p.index === phase)?.testsFailed ?? 0;
      return `phase ${phase}: ${failed > 0 ? 'tests failing' : 'checks failing'}, decide`;
    }
    case 'loop':
      return 'repeated call, decide';
    case 'limit':
      return 'budget reached, decide';
    default:
      return `waiting: ${pending?.kind ?? ''}`;
  }
  if (summary.status === 'paused' && summary.reason) {
    return `paused: ${shortReason(summary.reason)}`;
  }
  return summary.status;
}

/** The first sentence of a reason, cut to fit a status bar. */
export function shortReason(reason: string, max = 50): string {
  const first = (reason.split(/(?<=[.:;])\s|\n/)[0]?.trim() ?? '').replace(/[;:,]$/, '');
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/**
 * The status bar item: the server's state while it is not running, else the session's state,
 * phase and cost (`$(bell)` when it waits for the user).
 */
export function statusBarText(summary: SessionSummary | undefined, server: ServerState): StatusText {
  if (server === 'starting') {
    return { text: '$(sync~spin) PlanGate', tooltip: 'PlanGate: starting the server' };
  }
  if (server === 'stopped') {
    return { text: '$(error) PlanGate', tooltip: 'PlanGate: the server is not running (see Show Logs)' };
  }
  if (summary === undefined) {
    return { text: '$(checklist) PlanGate', tooltip: 'PlanGate: no session yet. Click to list sessions.' };
  }
  const icon = summary.pending !== null ? '$(bell)' : '$(checklist)';
  const parts = [describeState(summary), formatPhase(summary)];
  if (summary.costUsd !== null) {
    parts.push(formatCost(summary.costUsd));
  }
  const text = `${icon} PlanGate: ${parts.filter((p) => p !== '').join(' · ')}`;
  const lines = [`${summary.agent}: ${shortTask(summary.task, 120)}`, `Session ${summary.sessionId}: ${summary.status}`];
  if (summary.reason) {
    lines.push(summary.reason);
  }
  lines.push('Click to list sessions.');
  return { text, tooltip: lines.join('\n') };
}

/** A session picker entry. */
export interface SessionItem {
  label: string;
  description: string;
  detail: string;
}

/** How a session is listed in the Show Sessions picker. */
export function sessionItem(summary: SessionSummary): SessionItem {
  const state = [describeState(summary), formatPhase(summary)].filter((p) => p !== '').join(' · ');
  const cost = summary.costUsd !== null ? ` · ${formatCost(summary.costUsd)}` : '';
  return {
    label: shortTask(summary.task) || summary.sessionId,
    description: state,
    detail: `${summary.agent} · ${summary.sessionId}${cost}`,
  };
}

/**
 * One `plangate/output` notification as text for the output channel. Model text is streamed in
 * pieces, so it is appended as is; so is the model's (summarised) thinking, under a heading
 * where it starts (`previous` is the kind of the notification before); tool activity gets lines
 * of its own.
 */
export function formatOutput(kind: string, text: string, previous?: string): string {
  switch (kind) {
    case 'thinking':
      return previous === 'thinking' ? text : `\n  [thinking] ${text}`;
    case 'text':
    case 'output':
      return previous === 'thinking' ? `\n${text}` : text;
    case 'tool_started':
      return `\n  -> ${text}\n`;
    case 'tool_result':
      return `${indent(text, '     ')}\n`;
    case 'retry':
      return `\n  [retry] ${text}\n`;
    default:
      return `\n  [${kind}] ${text}\n`;
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** The heading written when output switches to another session. */
export function outputHeading(sessionId: string): string {
  return `\n== session ${sessionId}\n`;
}

/** A request's error as one line for the user. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A validation report (`plangate/output` of kind `validation`) in one line: its PASS and FAIL
 * lines, or its first line. */
export function validationLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const results = lines.filter((l) => /^(PASS|FAIL)\b/.test(l));
  return (results.length > 0 ? results : lines.slice(0, 1)).join(' · ');
}
