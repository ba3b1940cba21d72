/**
 * What the extension knows about sessions between requests: the latest summaries from
 * `plangate/sessionChanged`, the status bar item, and the approval notifications.
 */

import * as vscode from 'vscode';

import { Methods, type SessionSummary } from './protocol';
import type { PlanGateServer } from './server';
import {
  type ApprovalPrompt,
  approvalPrompt,
  approveParams,
  currentSessionId,
  isRefusal,
  normalizeSummary,
  paletteContext,
  pausePrompt,
} from './sessions';
import { errorText, type ServerState, statusBarText } from './status';

/** Commands the tracker's notifications use (registered in commands.ts). */
export const SHOW_SESSIONS = 'plangate.showSessions';

/** How long a question waits before it becomes a notification. */
const ANNOUNCE_DELAY_MS = 1500;

/** Keeps the latest state of each session and shows it. */
export class SessionTracker implements vscode.Disposable {
  private readonly summaries = new Map<string, SessionSummary>();
  private lastChanged: string | undefined;
  private serverState: ServerState = 'starting';
  private readonly announced = new Set<string>();
  private readonly item: vscode.StatusBarItem;
  private readonly changedEmitter = new vscode.EventEmitter<SessionSummary>();
  /** Fires with each new summary of a session. */
  readonly onDidChange = this.changedEmitter.event;

  constructor(
    private readonly server: PlanGateServer,
    /** Opens a session's plan document beside the editor. */
    private readonly openPlan: (summary: SessionSummary) => Promise<void>,
  ) {
    this.item = vscode.window.createStatusBarItem('plangate.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'PlanGate';
    this.item.command = SHOW_SESSIONS;
    this.render();
    this.item.show();
    server.onNotification(Methods.sessionChanged, (params) => this.changed(params));
    server.onDidChangeState((state) => {
      this.serverState = state;
      this.render();
    });
  }

  /** A summary from the server (a notification or a request's answer). */
  changed(raw: unknown): void {
    const summary = normalizeSummary(raw);
    if (summary === undefined) {
      return;
    }
    this.summaries.set(summary.sessionId, summary);
    this.lastChanged = summary.sessionId;
    this.render();
    this.announce(summary);
    this.changedEmitter.fire(summary);
  }

  /** The context keys the palette's `when` clauses read: commands show where they apply. */
  private updateContext(): void {
    const all = [...this.summaries.values()];
    const keys = paletteContext(all);
    for (const [key, value] of Object.entries(keys)) {
      void vscode.commands.executeCommand('setContext', key, value);
    }
  }

  /** Every session seen, newest first. */
  all(): SessionSummary[] {
    return [...this.summaries.values()].sort((a, b) => b.sessionId.localeCompare(a.sessionId));
  }

  /** Ask the server for its sessions (after a start or a restart) and keep their summaries. */
  async refresh(): Promise<void> {
    const listed = await this.server.sendRequest<{ sessions: unknown[] }>(Methods.listSessions, {});
    for (const raw of listed.sessions) {
      const summary = normalizeSummary(raw);
      if (summary !== undefined && !this.summaries.has(summary.sessionId)) {
        this.summaries.set(summary.sessionId, summary);
        this.changedEmitter.fire(summary);
      }
    }
    this.render();
  }

  /** The latest summary of a session, if it has been seen. */
  get(sessionId: string): SessionSummary | undefined {
    return this.summaries.get(sessionId);
  }

  /**
   * The session commands act on (see currentSessionId), freshly fetched; undefined (after
   * telling the user) when there is none.
   */
  async current(): Promise<SessionSummary | undefined> {
    const activeDocument = vscode.window.activeTextEditor?.document.uri.toString();
    let id = currentSessionId({ activeDocument, lastChanged: this.lastChanged });
    if (id === undefined) {
      const listed = await this.server.sendRequest<{ sessions: unknown[] }>(Methods.listSessions, {});
      const sessions = listed.sessions.map(normalizeSummary).filter((s): s is SessionSummary => s !== undefined);
      id = currentSessionId({ sessions });
    }
    if (id === undefined) {
      void vscode.window.showInformationMessage('PlanGate: no session yet. Start one with "PlanGate: Propose Plan…".');
      return undefined;
    }
    const summary = normalizeSummary(await this.server.sendRequest(Methods.sessionStatus, { sessionId: id }));
    if (summary !== undefined) {
      this.summaries.set(summary.sessionId, summary);
      this.render();
    }
    return summary;
  }

  private render(): void {
    this.updateContext();
    const shown = this.lastChanged !== undefined ? this.summaries.get(this.lastChanged) : undefined;
    const { text, tooltip } = statusBarText(shown, this.serverState);
    this.item.text = text;
    this.item.tooltip = tooltip;
  }

  /** A new question for the user: a notification with its answers and Show Plan, and the
   * plan scrolled to its lens; a pause: its reason and Resume. */
  private announce(summary: SessionSummary): void {
    const paused = pausePrompt(summary, this.announced);
    if (paused !== undefined) {
      this.announced.add(paused.key);
      this.notifyPaused(summary, paused);
      return;
    }
    const prompt = approvalPrompt(summary, this.announced);
    if (prompt === undefined) {
      return;
    }
    this.announced.add(prompt.key);
    // A moment later: the plan document the server opens may be on screen by then (scrolled
    // to the question), or the question already answered. A toast cannot be taken back.
    setTimeout(() => {
      const latest = this.summaries.get(summary.sessionId);
      if (latest === undefined || approvalPrompt(latest)?.key !== prompt.key) {
        return;
      }
      // A plan or phase approval on screen is its lens, scrolled into view; a toast beside it
      // would outlive the answer (a toast cannot be taken back). Other decisions get one.
      const onScreen = this.reveal(latest);
      if (!onScreen || !['plan', 'phase'].includes(latest.pending?.kind ?? '')) {
        this.notify(latest, prompt);
      }
    }, ANNOUNCE_DELAY_MS);
  }

  /** Scroll a visible plan document to the heading whose lens asks the question; whether the
   * plan is on screen. */
  private reveal(summary: SessionSummary): boolean {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === summary.planUri);
    const phase = summary.pending?.phase ?? 0;
    if (editor === undefined) {
      return false;
    }
    const heading = phase > 0 ? `## Phase ${phase}:` : '# ';
    for (let line = 0; line < editor.document.lineCount; line++) {
      if (editor.document.lineAt(line).text.startsWith(heading)) {
        const range = new vscode.Range(line, 0, line, 0);
        editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        return true;
      }
    }
    return true;
  }

  /** A paused session: why, and Resume (the server rebuilds it with the settings of now). */
  private notifyPaused(summary: SessionSummary, prompt: ApprovalPrompt): void {
    void vscode.window.showWarningMessage(prompt.message, 'Resume', 'Show Logs').then(async (choice) => {
      try {
        if (choice === 'Resume') {
          this.changed(await this.server.sendRequest(Methods.resume, { sessionId: summary.sessionId }));
        } else if (choice === 'Show Logs') {
          this.server.log.show();
        }
      } catch (error) {
        void vscode.window.showErrorMessage(`PlanGate: ${errorText(error)}`);
      }
    });
  }

  /** Sessions that are paused now, newest first (after a new key: offer to resume them). */
  paused(): SessionSummary[] {
    return [...this.summaries.values()].filter((s) => s.status === 'paused').reverse();
  }

  /** Offer to resume the paused sessions, after what may have fixed them (a key, a URL). */
  offerResume(what: string): void {
    const [latest] = this.paused();
    if (latest === undefined) {
      return;
    }
    void vscode.window
      .showInformationMessage(`PlanGate: ${what}. Resume the paused session "${latest.task.split('\n')[0]}"?`, 'Resume')
      .then(async (choice) => {
        if (choice === 'Resume') {
          try {
            this.changed(await this.server.sendRequest(Methods.resume, { sessionId: latest.sessionId }));
          } catch (error) {
            void vscode.window.showErrorMessage(`PlanGate: ${errorText(error)}`);
          }
        }
      });
  }

  private notify(summary: SessionSummary, prompt: ApprovalPrompt): void {
    const diff = summary.pending?.diff;
    const buttons = [...prompt.answers.map(([title]) => title), ...(diff ? ['Show Change'] : []), 'Show Plan'];
    void vscode.window.showInformationMessage(prompt.message, ...buttons).then(async (choice) => {
      try {
        const answer = prompt.answers.find(([title]) => title === choice);
        if (answer !== undefined) {
          const latest = this.summaries.get(summary.sessionId) ?? summary;
          const params = approveParams(latest, answer[1]);
          if (isRefusal(params)) {
            void vscode.window.showWarningMessage(`PlanGate: ${params.reason}`);
            return;
          }
          this.changed(await this.server.sendRequest(Methods.approvePhase, params));
        } else if (choice === 'Show Change' && diff) {
          // The change to the approved plan, coloured as a diff; the question stays pending.
          const document = await vscode.workspace.openTextDocument({ content: diff, language: 'diff' });
          await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
        } else if (choice === 'Show Plan') {
          await this.openPlan(this.summaries.get(summary.sessionId) ?? summary);
        }
      } catch (error) {
        void vscode.window.showErrorMessage(`PlanGate: ${errorText(error)}`);
      }
    });
  }

  dispose(): void {
    this.item.dispose();
    this.changedEmitter.dispose();
  }
}
