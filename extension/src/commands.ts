/**
 * The command palette. The code-lens buttons are the server's own commands
 * (SERVER_COMMANDS, registered by vscode-languageclient); none of these ids may collide with them.
 */

import * as vscode from 'vscode';

import {
  type AgentInfo,
  type Decision,
  Methods,
  type ProposePlanResult,
  SERVER_APPROVE_COMMAND,
  SERVER_COMMANDS,
  type SessionSummary,
} from './protocol';
import { API_KEY_SECRET, type PlanGateServer } from './server';
import { approveParams, isRefusal, normalizeSummary, rollbackCandidates, shortTask } from './sessions';
import { errorText, sessionItem } from './status';
import type { SessionTracker } from './tracker';

/** Palette command ids (contributed in package.json with the same titles). */
export const Commands = {
  proposePlan: 'plangate.proposePlan',
  approveCurrentPhase: 'plangate.approveCurrentPhase',
  revisePhase: 'plangate.revisePhase',
  skipPhase: 'plangate.skipPhase',
  rejectPhase: 'plangate.rejectPhase',
  rollbackCurrentPhase: 'plangate.rollbackCurrentPhase',
  showPlan: 'plangate.showPlan',
  showSessions: 'plangate.showSessions',
  cancelSession: 'plangate.cancelSession',
  resumeSession: 'plangate.resumeSession',
  writeRecord: 'plangate.writeRecord',
  setApiKey: 'plangate.setApiKey',
  showLogs: 'plangate.showLogs',
  restartServer: 'plangate.restartServer',
} as const;

const opening = new Map<string, Promise<void>>();

/**
 * Shows a plan document beside the active editor, or reveals it where it already is. Calls for
 * the same plan while one is opening share it, so the server's window/showDocument and the
 * proposePlan answer never open two editors.
 */
export function openPlanUri(planUri: string): Promise<void> {
  const uri = vscode.Uri.parse(planUri);
  const key = uri.fsPath;
  const inFlight = opening.get(key);
  if (inFlight !== undefined) {
    return inFlight;
  }
  const open = (async () => {
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === key);
    if (visible !== undefined) {
      await vscode.window.showTextDocument(visible.document, { viewColumn: visible.viewColumn, preview: false });
      return;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    const column = vscode.window.activeTextEditor !== undefined ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    await vscode.window.showTextDocument(document, { viewColumn: column, preview: false });
  })().finally(() => opening.delete(key));
  opening.set(key, open);
  return open;
}

/** True when a plan document is in a visible editor. */
function planVisible(planUri: string): boolean {
  const key = vscode.Uri.parse(planUri).fsPath;
  return vscode.window.visibleTextEditors.some((e) => e.document.uri.fsPath === key);
}

/** The workspace folder a new session works in: the active file's, else the first. */
function workspaceFolder(): string | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.fsPath;
}

/** Registers the palette commands. */
/** The task last typed for a plan that never came (workspaceState key). */
const UNPLANNED_TASK = 'plangate.unplannedTask';

export function registerCommands(
  context: vscode.ExtensionContext,
  server: PlanGateServer,
  tracker: SessionTracker,
  output: vscode.OutputChannel,
): void {
  const ids = Object.values(Commands) as string[];
  const clash = ids.find((id) => SERVER_COMMANDS.includes(id));
  if (clash !== undefined) {
    throw new Error(`command id ${clash} belongs to the server`);
  }

  const openPlan = async (summary: SessionSummary): Promise<void> => {
    if (summary.planUri === null) {
      void vscode.window.showInformationMessage(
        `PlanGate: session ${summary.sessionId} has no plan yet (${summary.status}${summary.reason ? `: ${summary.reason}` : ''}).`,
      );
      return;
    }
    await openPlanUri(summary.planUri);
  };

  /** True when the server will have a key (saved here, or in VS Code's environment); else
   * offer to set one first, so nobody types a task for a request that cannot be made. */
  async function keyReady(): Promise<boolean> {
    if ((await context.secrets.get(API_KEY_SECRET)) !== undefined || (process.env.ANTHROPIC_API_KEY ?? '') !== '') {
      return true;
    }
    const choice = await vscode.window.showWarningMessage(
      'PlanGate needs an Anthropic API key to propose a plan.',
      'Set Key',
    );
    if (choice !== 'Set Key') {
      return false;
    }
    await setApiKey();
    return (await context.secrets.get(API_KEY_SECRET)) !== undefined;
  }

  async function proposePlan(): Promise<void> {
    if (!(await keyReady())) {
      return;
    }
    const folder = workspaceFolder();
    const listed = await server.sendRequest<{ agents: AgentInfo[] }>(Methods.listAgents, { workspaceFolder: folder ?? null });
    if (listed.agents.length === 0) {
      void vscode.window.showWarningMessage('PlanGate: no agents found (agents/, .opencode/agent/, .claude/agents/).');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      listed.agents.map((agent) => ({
        label: agent.name,
        description: [agent.mode, agent.resolvedModel ?? agent.model ?? ''].filter((p) => p !== '').join(' · '),
        detail: agent.problems.length > 0 ? `$(warning) ${agent.problems.join('; ')}` : agent.description,
        agent,
      })),
      { title: 'PlanGate: Propose Plan', placeHolder: 'Which agent should work on the task?', matchOnDetail: true },
    );
    if (picked === undefined) {
      return;
    }
    const task = await vscode.window.showInputBox({
      title: `PlanGate: Propose Plan (${picked.agent.name})`,
      prompt: 'What should the agent do? It proposes a plan first; nothing changes before you approve it.',
      placeHolder: 'Add pagination to GET /orders',
      // A task that got no plan (an API error, a cancel) comes back, never retyped.
      value: context.workspaceState.get<string>(UNPLANNED_TASK, ''),
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() === '' ? 'Describe the task.' : undefined),
    });
    if (task === undefined || task.trim() === '') {
      return;
    }
    await context.workspaceState.update(UNPLANNED_TASK, task);
    output.show(true);
    let cancelled = false;
    let result: ProposePlanResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `PlanGate: ${picked.agent.name} is analysing the task…`, cancellable: true },
        (_progress, token) => {
          token.onCancellationRequested(() => {
            cancelled = true;
          });
          // Cancelling the request cancels the session on the server.
          return server.sendRequest<ProposePlanResult>(
            Methods.proposePlan,
            { agent: picked.agent.name, task: task.trim(), workspaceFolder: folder ?? null },
            token,
          );
        },
      );
    } catch (error) {
      if (cancelled) {
        void vscode.window.showInformationMessage('PlanGate: cancelled; the session was stopped.');
        return;
      }
      throw error;
    }
    tracker.changed(await server.sendRequest(Methods.sessionStatus, { sessionId: result.sessionId }));
    if (result.planUri !== null) {
      await context.workspaceState.update(UNPLANNED_TASK, undefined);
    }
    if (result.planUri === null) {
      const summary = tracker.get(result.sessionId);
      void vscode.window.showWarningMessage(
        `PlanGate: no plan was proposed (${result.status}${summary?.reason ? `: ${summary.reason}` : ''}).`,
      );
      return;
    }
    // The server asks the editor to show the plan (window/showDocument) just before it
    // answers; give that a moment, then open it here if it did not arrive.
    for (let i = 0; i < 10 && !planVisible(result.planUri); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!planVisible(result.planUri)) {
      await openPlanUri(result.planUri);
    }
  }

  /** Answers the current session's pending approval, asking for feedback when needed. */
  async function decide(decision: Decision, ask?: vscode.InputBoxOptions): Promise<void> {
    const summary = await tracker.current();
    if (summary === undefined) {
      return;
    }
    // Checked before asking for feedback, so nobody types a reason for nothing.
    const check = approveParams(summary, decision);
    if (isRefusal(check)) {
      void vscode.window.showInformationMessage(`PlanGate: ${check.reason}`);
      return;
    }
    let feedback = '';
    if (ask !== undefined) {
      const typed = await vscode.window.showInputBox({ ignoreFocusOut: true, ...ask });
      if (typed === undefined) {
        return;
      }
      feedback = typed.trim();
    }
    const params = { ...check, feedback };
    if (decision === 'revise' && feedback === '') {
      // The server's own Revise… lens command turns the user's edits of the plan document
      // into the feedback (or asks whether to revise without a note).
      tracker.changed(
        await vscode.commands.executeCommand(SERVER_APPROVE_COMMAND, params.sessionId, params.phase, 'revise', ''),
      );
      return;
    }
    tracker.changed(await server.sendRequest(Methods.approvePhase, params));
    const target = params.phase === 0 ? 'the plan' : `phase ${params.phase}`;
    vscode.window.setStatusBarMessage(`PlanGate: ${decision} ${target}`, 4000);
  }

  async function rollback(): Promise<void> {
    const summary = await tracker.current();
    if (summary === undefined) {
      return;
    }
    const phases = rollbackCandidates(summary);
    if (phases.length === 0) {
      void vscode.window.showInformationMessage(`PlanGate: no phase of session ${summary.sessionId} has run yet.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(
      phases.map((phase) => ({ label: `Phase ${phase.index}: ${phase.name}`, description: phase.status, phase })),
      { title: 'PlanGate: Roll Back Phase', placeHolder: 'Which phase should be undone?' },
    );
    if (picked === undefined) {
      return;
    }
    const { files } = await server.sendRequest<{ files: string[] }>(Methods.rollbackFiles, {
      sessionId: summary.sessionId,
      phase: picked.phase.index,
    });
    const shown = files.length > 20 ? [...files.slice(0, 20), `and ${files.length - 20} more`] : files;
    const confirm = await vscode.window.showWarningMessage(
      `Roll back phase ${picked.phase.index} (${picked.phase.name})?`,
      {
        modal: true,
        detail:
          files.length > 0
            ? `The agent's changes to these files are undone; changes anyone else made are kept:\n${shown.join('\n')}`
            : 'The agent changed no file in this phase.',
      },
      'Roll Back',
    );
    if (confirm !== 'Roll Back') {
      return;
    }
    tracker.changed(
      await server.sendRequest(Methods.rollbackPhase, { sessionId: summary.sessionId, phase: picked.phase.index }),
    );
  }

  async function showPlan(): Promise<void> {
    const summary = await tracker.current();
    if (summary !== undefined) {
      await openPlan(summary);
    }
  }

  async function showSessions(): Promise<void> {
    const listed = await server.sendRequest<{ sessions: unknown[] }>(Methods.listSessions, {});
    const sessions = listed.sessions.map(normalizeSummary).filter((s): s is SessionSummary => s !== undefined);
    if (sessions.length === 0) {
      void vscode.window.showInformationMessage('PlanGate: no sessions yet. Start one with "PlanGate: Propose Plan…".');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      sessions.map((summary) => ({ ...sessionItem(summary), summary })),
      { title: 'PlanGate: Sessions', placeHolder: 'Open the plan of a session', matchOnDescription: true, matchOnDetail: true },
    );
    if (picked !== undefined) {
      tracker.changed(picked.summary);
      await openPlan(picked.summary);
    }
  }

  async function cancelSession(): Promise<void> {
    const summary = await tracker.current();
    if (summary === undefined) {
      return;
    }
    const confirm = await vscode.window.showWarningMessage(
      `Cancel session ${summary.sessionId} (${shortTask(summary.task)})? It stops for good; changes already applied stay.`,
      { modal: true },
      'Cancel Session',
    );
    if (confirm === 'Cancel Session') {
      tracker.changed(await server.sendRequest(Methods.cancel, { sessionId: summary.sessionId }));
    }
  }

  async function resumeSession(): Promise<void> {
    const summary = await tracker.current();
    if (summary === undefined) {
      return;
    }
    if (summary.status !== 'paused') {
      void vscode.window.showInformationMessage(
        `PlanGate: session ${summary.sessionId} is ${summary.status}, not paused; there is nothing to resume.`,
      );
      return;
    }
    // The server rebuilds the session with its settings as they are now (a key set since counts).
    tracker.changed(await server.sendRequest(Methods.resume, { sessionId: summary.sessionId }));
  }

  /** The current session's approval record (the server writes it), opened beside. */
  async function writeRecord(): Promise<void> {
    const summary = await tracker.current();
    if (summary === undefined) {
      return;
    }
    const written = await server.sendRequest<{ uri: string }>(Methods.sessionRecord, { sessionId: summary.sessionId });
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(written.uri));
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: false });
  }

  async function setApiKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: 'PlanGate: Set Anthropic API Key',
      prompt: "Kept in VS Code's secret storage and handed to the server as ANTHROPIC_API_KEY. Leave empty to remove it.",
      placeHolder: 'sk-ant-…',
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) {
      return;
    }
    if (key.trim() === '') {
      await context.secrets.delete(API_KEY_SECRET);
    } else {
      await context.secrets.store(API_KEY_SECRET, key.trim());
    }
    // The key reaches the server through its environment, so the server starts again.
    await server.restart();
    void vscode.window.showInformationMessage(
      key.trim() === '' ? 'PlanGate: API key removed; server restarted.' : 'PlanGate: API key saved; server restarted.',
    );
    if (key.trim() !== '') {
      tracker.offerResume('the API key is new');
    }
  }

  const handlers: Record<string, () => Promise<void>> = {
    [Commands.proposePlan]: proposePlan,
    [Commands.approveCurrentPhase]: () => decide('approve'),
    [Commands.revisePhase]: () =>
      decide('revise', {
        title: 'PlanGate: Revise',
        prompt: 'What should change? The agent gets your words as they are. Leave empty to send your edits of the plan document instead.',
      }),
    [Commands.skipPhase]: () => decide('skip'),
    [Commands.rejectPhase]: () =>
      decide('reject', { title: 'PlanGate: Reject', prompt: 'Why? (optional; the session stops)' }),
    [Commands.rollbackCurrentPhase]: rollback,
    [Commands.showPlan]: showPlan,
    [Commands.showSessions]: showSessions,
    [Commands.cancelSession]: cancelSession,
    [Commands.resumeSession]: resumeSession,
    [Commands.writeRecord]: writeRecord,
    [Commands.setApiKey]: setApiKey,
    [Commands.showLogs]: () => {
      server.log.show();
      return Promise.resolve();
    },
    [Commands.restartServer]: () => server.restart(),
  };
  for (const [id, handler] of Object.entries(handlers)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async () => {
        try {
          await handler();
        } catch (error) {
          server.log.error(`${id}: ${errorText(error)}`);
          const choice = await vscode.window.showErrorMessage(`PlanGate: ${errorText(error)}`, 'Show Logs');
          if (choice === 'Show Logs') {
            server.log.show();
          }
        }
      }),
    );
  }
}
