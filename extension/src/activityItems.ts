/**
 * What the activity view shows, without `vscode`: a session's phases with their status and test
 * counts, and its timeline grouped by phase, each line with an icon for its kind.
 */
import type { McpServerInfo, PhaseInfo, SessionSummary, TimelineEntry } from './protocol';
import { shortTask } from './sessions';
import { describeState, formatCost } from './status';

/** A row of the tree: label, description, codicon, and whether it marks a failure. */
export interface Row {
  label: string;
  description: string;
  icon: string;
  failed: boolean;
}

/** A session's row: its task, what it waits for or does, and its cost. */
export function sessionRow(summary: SessionSummary): Row {
  const cost = summary.costUsd !== null ? ` · ${formatCost(summary.costUsd)}` : '';
  const failed = ['paused', 'failed', 'cancelled'].includes(summary.status);
  const icon = summary.pending !== null ? 'bell' : summary.status === 'completed' ? 'pass' : failed ? 'warning' : 'sync';
  return { label: shortTask(summary.task) || summary.sessionId, description: `${describeState(summary)}${cost}`, icon, failed };
}

/** An MCP server's row: its name, and its tools or why it did not start. */
export function mcpRow(server: McpServerInfo): Row {
  if (server.error) {
    return { label: `MCP: ${server.name}`, description: server.error, icon: 'warning', failed: true };
  }
  const count = `${server.tools.length} tool${server.tools.length === 1 ? '' : 's'}`;
  return { label: `MCP: ${server.name}`, description: `${server.transport} · ${count}`, icon: 'plug', failed: false };
}

/** "3 passed, 1 failed", or '' without counts. */
export function testCounts(phase: PhaseInfo): string {
  const parts = [];
  if (phase.testsPassed) parts.push(`${phase.testsPassed} passed`);
  if (phase.testsFailed) parts.push(`${phase.testsFailed} failed`);
  return parts.join(', ');
}

const PHASE_ICONS: Record<string, string> = {
  done: 'pass',
  running: 'sync',
  validating: 'beaker',
  pending: 'circle-outline',
  skipped: 'debug-step-over',
  'rolled back': 'discard',
  rejected: 'close',
  failed: 'error',
};

/** A phase's row: its name, status and test counts. */
export function phaseRow(phase: PhaseInfo): Row {
  const tests = testCounts(phase);
  return {
    label: `Phase ${phase.index}: ${phase.name}`,
    description: tests ? `${phase.status} · ${tests}` : phase.status,
    icon: PHASE_ICONS[phase.status] ?? 'circle-outline',
    failed: (phase.testsFailed ?? 0) > 0 || phase.status === 'failed',
  };
}

const ENTRY_ICONS: Record<TimelineEntry['kind'], string> = {
  started: 'play',
  plan: 'checklist',
  answer: 'comment',
  tool: 'tools',
  validation: 'beaker',
  denied: 'shield',
  phase: 'milestone',
  status: 'info',
  rollback: 'discard',
};

/** A timeline line's row: its text, its time, an icon for its kind; failures marked. */
export function entryRow(entry: TimelineEntry, clock: (at: number) => string): Row {
  const icon = entry.ok ? ENTRY_ICONS[entry.kind] : entry.kind === 'denied' ? 'shield' : 'error';
  return { label: entry.text, description: clock(entry.at), icon, failed: !entry.ok };
}

/** The timeline's lines of one phase (0: before the phases: analysis and the plan). */
export function entriesOf(entries: readonly TimelineEntry[], phase: number): TimelineEntry[] {
  return entries.filter((e) => e.phase === phase);
}
