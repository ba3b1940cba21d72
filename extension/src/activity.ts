/**
 * The PlanGate view in the activity bar: each session, its phases with status and test counts,
 * and what happened in each (the server's `plangate/sessionTimeline`: tool calls with their file
 * or command, validations, denials, answers), in words, without text meant only for the model.
 * The output channel keeps the raw stream.
 */
import * as vscode from 'vscode';

import { entriesOf, entryRow, mcpRow, phaseRow, type Row, sessionRow } from './activityItems';
import { type McpServerInfo, Methods, type TimelineEntry } from './protocol';
import type { PlanGateServer } from './server';
import { errorText } from './status';
import type { SessionTracker } from './tracker';

export const ACTIVITY_VIEW = 'plangate.activity';

type Node =
  | { kind: 'session'; sessionId: string }
  | { kind: 'phase'; sessionId: string; phase: number }
  | { kind: 'mcp'; server: McpServerInfo }
  | { kind: 'entry'; entry: TimelineEntry };

/** Sessions, phases and timelines as a tree. */
export class Activity implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly timelines = new Map<string, Promise<TimelineEntry[]>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: PlanGateServer,
    private readonly tracker: SessionTracker,
  ) {
    this.disposables.push(
      vscode.window.registerTreeDataProvider(ACTIVITY_VIEW, this),
      tracker.onDidChange((summary) => {
        this.timelines.delete(summary.sessionId); // something happened: read it again when shown
        this.emitter.fire(undefined);
      }),
      server.onDidChangeState((state) => {
        if (state === 'running') {
          void tracker.refresh().catch(() => undefined);
        }
      }),
    );
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'entry') {
      const time = (at: number): string => new Date(at * 1000).toLocaleTimeString();
      return item(entryRow(node.entry, time), vscode.TreeItemCollapsibleState.None);
    }
    if (node.kind === 'mcp') {
      const tree = item(mcpRow(node.server), vscode.TreeItemCollapsibleState.None);
      tree.tooltip = node.server.error || node.server.tools.join(', ');
      return tree;
    }
    const summary = this.tracker.get(node.sessionId);
    if (summary === undefined) {
      return new vscode.TreeItem(node.sessionId);
    }
    if (node.kind === 'session') {
      const tree = item(sessionRow(summary), vscode.TreeItemCollapsibleState.Collapsed);
      tree.tooltip = `${summary.agent} · ${summary.sessionId}\n${summary.task}${summary.reason ? `\n${summary.reason}` : ''}`;
      tree.id = summary.sessionId;
      if (summary.planUri !== null) {
        tree.command = { title: 'Show Plan', command: 'vscode.open', arguments: [vscode.Uri.parse(summary.planUri)] };
      }
      return tree;
    }
    if (node.phase === 0) {
      return item({ label: 'Analysis and plan', description: '', icon: 'checklist', failed: false }, collapsed());
    }
    const phase = summary.phases.find((p) => p.index === node.phase);
    const row: Row = phase !== undefined ? phaseRow(phase) : { label: `Phase ${node.phase}`, description: '', icon: 'circle-outline', failed: false };
    return item(row, collapsed());
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node === undefined) {
      return this.tracker.all().map((s) => ({ kind: 'session', sessionId: s.sessionId }));
    }
    if (node.kind === 'session') {
      const summary = this.tracker.get(node.sessionId);
      const phases = summary?.phases.map((p) => p.index) ?? [];
      const servers: Node[] = (summary?.mcpServers ?? []).map((server) => ({ kind: 'mcp', server }));
      return [...servers, ...[0, ...phases].map((phase): Node => ({ kind: 'phase', sessionId: node.sessionId, phase }))];
    }
    if (node.kind === 'phase') {
      const entries = await this.timeline(node.sessionId);
      return entriesOf(entries, node.phase).map((entry) => ({ kind: 'entry', entry }));
    }
    return [];
  }

  private timeline(sessionId: string): Promise<TimelineEntry[]> {
    let found = this.timelines.get(sessionId);
    if (found === undefined) {
      found = this.server
        .sendRequest<{ entries: TimelineEntry[] }>(Methods.sessionTimeline, { sessionId })
        .then((result) => result.entries)
        .catch((error: unknown) => {
          this.timelines.delete(sessionId);
          void vscode.window.showWarningMessage(`PlanGate: the session's timeline could not be read: ${errorText(error)}`);
          return [];
        });
      this.timelines.set(sessionId, found);
    }
    return found;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables, this.emitter).dispose();
  }
}

function collapsed(): vscode.TreeItemCollapsibleState {
  return vscode.TreeItemCollapsibleState.Collapsed;
}

function item(row: Row, state: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const tree = new vscode.TreeItem(row.label, state);
  tree.description = row.description;
  tree.tooltip = row.label;
  tree.iconPath = new vscode.ThemeIcon(
    row.icon,
    row.failed ? new vscode.ThemeColor('errorForeground') : undefined,
  );
  return tree;
}
