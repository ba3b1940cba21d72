/**
 * The `plangate/` protocol as the extension sees it (docs/protocol.md is the reference).
 * Types only, so the pure modules and their tests can use them without `vscode`.
 */

/** `plangate/listAgents` result entry. */
export interface AgentInfo {
  name: string;
  description: string;
  mode: string;
  model: string | null;
  resolvedModel: string | null;
  tools: Record<string, boolean>;
  source: string;
  origin: string;
  problems: string[];
}

/** A phase of the plan and where it is (with its last validation's test counts, if any). */
export interface PhaseInfo {
  index: number;
  name: string;
  status: string;
  testsPassed?: number | null;
  testsFailed?: number | null;
}

/** The question a session waits on; `phase` is 0 for the plan itself. */
export interface Pending {
  kind: string;
  title: string;
  choices: string[];
  phase: number | null;
  /** An amendment or a revision: what it changes in the approved plan, as a unified diff. */
  diff?: string;
}

/** A session's state (`plangate/sessionStatus`, `listSessions`, `sessionChanged`). */
export interface SessionSummary {
  sessionId: string;
  agent: string;
  task: string;
  status: string;
  reason: string;
  phase: number;
  phases: PhaseInfo[];
  pending: Pending | null;
  planUri: string | null;
  usage: Record<string, number>;
  costUsd: number | null;
  /** The MCP servers the session's last run started, or could not. */
  mcpServers?: McpServerInfo[];
}

/** An MCP server of a session: its tools, or why it did not start. */
export interface McpServerInfo {
  name: string;
  transport: string;
  tools: string[];
  error: string;
}

/** `plangate/proposePlan` params. */
export interface ProposePlanParams {
  agent: string;
  task: string;
  workspaceFolder?: string | null;
}

/** `plangate/proposePlan` result. */
export interface ProposePlanResult {
  sessionId: string;
  plan: Record<string, unknown> | null;
  planUri: string | null;
  status: string;
}

/** The decisions `plangate/approvePhase` takes (each question offers some: its `choices`). */
export type Decision =
  | 'approve'
  | 'revise'
  | 'skip'
  | 'reject'
  | 'rollback'
  | 'retry'
  | 'accept'
  | 'stop'
  | 'continue';

/** `plangate/approvePhase` params. */
export interface ApprovePhaseParams {
  sessionId: string;
  phase: number;
  decision: Decision;
  feedback: string;
  /** The kind of question answered (`pending.kind`): another one pending now is not. */
  kind?: string;
}

/** `plangate/output` params: streamed model text and tool activity. */
export interface OutputParams {
  sessionId: string;
  kind: string;
  text: string;
}

/** Method names, in one place. */
export const Methods = {
  listAgents: 'plangate/listAgents',
  proposePlan: 'plangate/proposePlan',
  approvePhase: 'plangate/approvePhase',
  sessionStatus: 'plangate/sessionStatus',
  listSessions: 'plangate/listSessions',
  cancel: 'plangate/cancel',
  resume: 'plangate/resume',
  rollbackPhase: 'plangate/rollbackPhase',
  rollbackFiles: 'plangate/rollbackFiles',
  sessionChanged: 'plangate/sessionChanged',
  output: 'plangate/output',
  reviewEdit: 'plangate/reviewEdit',
  sessionTimeline: 'plangate/sessionTimeline',
  sessionRecord: 'plangate/sessionRecord',
} as const;

/** The server's lens command for approve / revise / skip / reject (sessionId, phase, decision, feedback). */
export const SERVER_APPROVE_COMMAND = 'plangate.approvePhase';

/**
 * Command ids the server registers through `executeCommandProvider` (the code-lens buttons).
 * vscode-languageclient registers these itself; the extension must never register them again.
 */
export const SERVER_COMMANDS: readonly string[] = [
  SERVER_APPROVE_COMMAND,
  'plangate.rollbackPhase',
  'plangate.cancel',
  'plangate.resume',
  'plangate.status',
  'plangate.showPlanChange',
];

/** One hunk of a proposed change: 0-based lines in the file now and in the proposal. */
export interface ReviewHunk {
  index: number;
  originalStart: number;
  originalLines: number;
  proposedStart: number;
  proposedLines: number;
}

/** `plangate/reviewEdit` params: a change to review in a diff, hunk by hunk. */
export interface ReviewEditParams {
  sessionId: string;
  questionId: string;
  title: string;
  uri: string;
  path: string;
  kind: 'create' | 'modify';
  original: string;
  proposed: string;
  hunks: ReviewHunk[];
}

/** `plangate/reviewEdit` result: the hunks accepted (omitted: all), or a rejection. */
export interface ReviewEditResult {
  decision: 'accept' | 'reject';
  hunks?: number[];
  reason?: string;
}

/** One line of `plangate/sessionTimeline`: what happened, in words. */
export interface TimelineEntry {
  at: number;
  phase: number;
  kind: 'started' | 'plan' | 'answer' | 'tool' | 'validation' | 'denied' | 'phase' | 'status' | 'rollback';
  text: string;
  ok: boolean;
}
