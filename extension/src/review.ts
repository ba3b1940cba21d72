/**
 * The server's `plangate/reviewEdit`: a proposed change opens in VS Code's diff editor, the
 * file as it is against the proposal, titled with the phase and the file. Accept and Reject
 * are in the editor's title bar (the whole change, or the hunk at the cursor) and above every
 * hunk as code lenses. Once every hunk is decided the answer goes back (with a reason, asked
 * for when something was rejected) and the diff closes; the server writes the file, exactly
 * the accepted hunks. A diff closed undecided stays pending, with a notification to reopen
 * it; a session cancelled or paused meanwhile cancels the request, and the diff closes.
 */
import * as vscode from 'vscode';
import type { CancellationToken, LanguageClient } from 'vscode-languageclient/node';

import { type HunkButton, HunkReview, lensLine } from './hunks';
import { Methods, type ReviewEditParams, type ReviewEditResult } from './protocol';

export const PROPOSAL_SCHEME = 'plangate-proposal';

export const ReviewCommands = {
  accept: 'plangate.review.accept',
  reject: 'plangate.review.reject',
  acceptHunk: 'plangate.review.acceptHunk',
  rejectHunk: 'plangate.review.rejectHunk',
  undoHunk: 'plangate.review.undoHunk',
} as const;

interface Open {
  review: HunkReview;
  proposal: vscode.Uri;
  original: vscode.Uri;
  finish: (result: ReviewEditResult) => void;
  finishing: boolean;
}

/** Every review in progress, by its proposal's URI; the provider of their documents, lenses
 * and decorations. */
export class Reviews implements vscode.TextDocumentContentProvider, vscode.CodeLensProvider, vscode.Disposable {
  private readonly open = new Map<string, Open>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly accepted = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
    isWholeLine: true,
  });
  private readonly rejected = vscode.window.createTextEditorDecorationType({
    opacity: '0.45',
    textDecoration: 'line-through',
    isWholeLine: true,
  });

  constructor() {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this),
      vscode.languages.registerCodeLensProvider({ scheme: PROPOSAL_SCHEME }, this),
      vscode.commands.registerCommand(ReviewCommands.accept, (uri?: vscode.Uri) => this.all(uri, 'accept')),
      vscode.commands.registerCommand(ReviewCommands.reject, (uri?: vscode.Uri) => this.all(uri, 'reject')),
      vscode.commands.registerCommand(ReviewCommands.acceptHunk, (uri?: string, index?: number) =>
        this.hunk(uri, index, 'accept'),
      ),
      vscode.commands.registerCommand(ReviewCommands.rejectHunk, (uri?: string, index?: number) =>
        this.hunk(uri, index, 'reject'),
      ),
      vscode.commands.registerCommand(ReviewCommands.undoHunk, (uri: string, index: number) => {
        this.open.get(uri)?.review.undo(index);
        this.refresh();
      }),
      vscode.window.tabGroups.onDidChangeTabs((event) => this.closed(event.closed)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
    );
  }

  /** Handle the server's `plangate/reviewEdit` requests. */
  listen(client: LanguageClient): vscode.Disposable {
    return client.onRequest(Methods.reviewEdit, (params: ReviewEditParams, token: CancellationToken) =>
      this.review(params, token),
    );
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const open = this.open.get(uri.toString());
    if (open !== undefined) {
      return open.review.params.proposed;
    }
    return ''; // the left side of a file being created
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const open = this.open.get(document.uri.toString());
    if (open === undefined) {
      return [];
    }
    const uri = document.uri.toString();
    const lens = (line: number, button: HunkButton): vscode.CodeLens => {
      const command = {
        accept: ReviewCommands.acceptHunk,
        reject: ReviewCommands.rejectHunk,
        undo: ReviewCommands.undoHunk,
        acceptAll: ReviewCommands.accept,
        rejectAll: ReviewCommands.reject,
      }[button.action];
      const args = button.hunk === undefined ? [document.uri] : [uri, button.hunk];
      return new vscode.CodeLens(new vscode.Range(line, 0, line, 0), { title: button.title, command, arguments: args });
    };
    const lenses = open.review.hunks.flatMap((hunk) =>
      open.review.buttons(hunk).map((button) => lens(lensLine(hunk, document.lineCount), button)),
    );
    if (open.review.hunks.length > 1) {
      lenses.unshift(...open.review.overall().map((button) => lens(0, button)));
    }
    return lenses;
  }

  private async review(params: ReviewEditParams, token: CancellationToken): Promise<ReviewEditResult> {
    const unsaved = vscode.workspace.textDocuments.find((d) => d.uri.toString() === params.uri && d.isDirty);
    if (unsaved !== undefined) {
      // The proposal was made on the file on disk: shown beside other unsaved text it would
      // mislead, and writing it would overwrite that text. Not shown; the agent is told.
      void vscode.window.showWarningMessage(
        `PlanGate: ${params.path} has unsaved changes, so the agent's change to it was not shown. Save or revert them first.`,
      );
      return { decision: 'reject', reason: `${params.path} has unsaved changes in the editor; the change was not shown. Ask the user to save them, then propose it again.` };
    }
    const proposal = vscode.Uri.from({
      scheme: PROPOSAL_SCHEME,
      path: `/${encodeURIComponent(params.questionId)}/${params.path}`,
    });
    const original =
      params.kind === 'create'
        ? vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/empty/${params.path}` })
        : vscode.Uri.parse(params.uri);
    const result = new Promise<ReviewEditResult>((resolve) => {
      const open: Open = { review: new HunkReview(params), proposal, original, finishing: false, finish: resolve };
      this.open.set(proposal.toString(), open);
      token.onCancellationRequested(() => {
        resolve({ decision: 'reject', reason: 'withdrawn' });
      });
    });
    await this.show(this.open.get(proposal.toString())!);
    try {
      return await result;
    } finally {
      this.open.delete(proposal.toString());
      await this.close(proposal);
      this.refresh();
    }
  }

  private async show(open: Open): Promise<void> {
    await vscode.commands.executeCommand('vscode.diff', open.original, open.proposal, `${open.review.params.title} (review)`, {
      preview: false,
    });
    this.decorate();
  }

  /** The review a command acts on: the URI it was given, else the active editor's. */
  private find(uri?: string | vscode.Uri): Open | undefined {
    const key = uri?.toString() ?? vscode.window.activeTextEditor?.document.uri.toString();
    return key === undefined ? undefined : this.open.get(key);
  }

  private async hunk(uri: string | undefined, index: number | undefined, verdict: 'accept' | 'reject'): Promise<void> {
    const open = this.find(uri);
    if (open === undefined) {
      return;
    }
    const editor = vscode.window.activeTextEditor;
    const target =
      index ?? (editor?.document.uri.toString() === open.proposal.toString() ? open.review.hunkAt(editor.selection.active.line)?.index : undefined);
    if (target === undefined) {
      return;
    }
    open.review.decide(target, verdict);
    this.refresh();
    await this.finishIfDecided(open);
  }

  private async all(uri: vscode.Uri | undefined, verdict: 'accept' | 'reject'): Promise<void> {
    const open = this.find(uri);
    if (open === undefined) {
      return;
    }
    open.review.decideRest(verdict);
    this.refresh();
    await this.finishIfDecided(open);
  }

  private async finishIfDecided(open: Open): Promise<void> {
    if (!open.review.complete || open.finishing) {
      return;
    }
    open.finishing = true;
    let reason = '';
    if (open.review.anyRejected) {
      reason =
        (await vscode.window.showInputBox({
          title: open.review.params.title,
          prompt: 'Why? (optional: the agent reads it)',
          ignoreFocusOut: true,
        })) ?? '';
    }
    open.finish(open.review.result(reason));
  }

  private async close(proposal: vscode.Uri): Promise<void> {
    const tabs = vscode.window.tabGroups.all
      .flatMap((group) => group.tabs)
      .filter((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === proposal.toString());
    if (tabs.length > 0) {
      await vscode.window.tabGroups.close(tabs);
    }
  }

  /** A diff closed before every hunk was decided: the change still waits; say so. */
  private closed(tabs: readonly vscode.Tab[]): void {
    for (const tab of tabs) {
      if (!(tab.input instanceof vscode.TabInputTextDiff)) {
        continue;
      }
      const open = this.open.get(tab.input.modified.toString());
      if (open === undefined || open.finishing) {
        continue;
      }
      void vscode.window
        .showInformationMessage(`PlanGate: ${open.review.params.title} is waiting for your review.`, 'Review', 'Reject')
        .then((choice) => {
          if (choice === 'Review' && this.open.has(open.proposal.toString())) {
            void this.show(open);
          } else if (choice === 'Reject') {
            void this.all(open.proposal, 'reject');
          }
        });
    }
  }

  private refresh(): void {
    this.lensesChanged.fire();
    this.decorate();
  }

  /** Decided hunks look decided: accepted ones highlighted, rejected ones struck through. */
  private decorate(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const open = this.open.get(editor.document.uri.toString());
      if (open === undefined) {
        continue;
      }
      const ranges = (verdict: 'accept' | 'reject'): vscode.Range[] =>
        open.review.hunks
          .filter((h) => open.review.verdict(h.index) === verdict && h.proposedLines > 0)
          .map((h) => new vscode.Range(h.proposedStart, 0, h.proposedStart + h.proposedLines - 1, 0));
      editor.setDecorations(this.accepted, ranges('accept'));
      editor.setDecorations(this.rejected, ranges('reject'));
    }
  }

  dispose(): void {
    for (const open of this.open.values()) {
      open.finish({ decision: 'reject', reason: 'The editor closed.' });
    }
    this.open.clear();
    vscode.Disposable.from(...this.disposables, this.lensesChanged, this.accepted, this.rejected).dispose();
  }
}
