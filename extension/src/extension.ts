/**
 * PlanGate for VS Code: a thin shim in the manner of Microsoft's python-tools extension
 * template. It starts the Python language server and adds palette commands, a status bar item
 * and an output channel; the server does the work (plans, lenses, edit previews, diagnostics).
 */

import * as vscode from 'vscode';
import { CancellationToken, type Middleware, type ShowDocumentResult } from 'vscode-languageclient/node';

import { Activity } from './activity';
import { Commands, openPlanUri, registerCommands } from './commands';
import { Methods } from './protocol';
import { Reviews } from './review';
import { PlanGateServer } from './server';
import { planSessionId } from './sessions';
import { formatOutput, outputHeading, validationLine } from './status';
import { SessionTracker } from './tracker';

let server: PlanGateServer | undefined;

/** Settings that only take effect in a new server process. */
const RESTART_SETTINGS = ['plangate.python', 'plangate.anthropicBaseUrl', 'plangate.reviewEdits'];

/** Starts the server and wires up the commands, status bar and output channels. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('PlanGate Server', { log: true });
  const output = vscode.window.createOutputChannel('PlanGate');
  context.subscriptions.push(log, output);

  // Plans asked for by the server (window/showDocument) open beside the editor, like the
  // ones the palette opens; other documents open the default way.
  const middleware: Middleware = {
    window: {
      showDocument: async (params, next): Promise<ShowDocumentResult> => {
        // The default handler never answers with an error, only { success: false }.
        const fallback = async (): Promise<ShowDocumentResult> =>
          (await next(params, CancellationToken.None)) as ShowDocumentResult;
        if (params.external === true || planSessionId(params.uri) === undefined) {
          return fallback();
        }
        try {
          await openPlanUri(params.uri);
          return { success: true };
        } catch {
          return fallback();
        }
      },
    },
  };
  const reviews = new Reviews();
  context.subscriptions.push(reviews);
  server = new PlanGateServer(context, log, middleware, reviews);
  context.subscriptions.push({ dispose: () => void server?.dispose() });

  let lastOutputSession: string | undefined;
  let lastOutputKind: string | undefined;
  server.onNotification(Methods.output, (raw) => {
    const params = raw as { sessionId?: string; session_id?: string; kind?: string; text?: string };
    const sessionId = params.sessionId ?? params.session_id ?? '';
    if (sessionId !== lastOutputSession) {
      output.append(outputHeading(sessionId));
      lastOutputSession = sessionId;
      lastOutputKind = undefined;
    }
    const kind = params.kind ?? 'text';
    output.append(formatOutput(kind, params.text ?? '', lastOutputKind));
    lastOutputKind = kind;
    if (kind === 'validation') {
      // Validation results when they come, not only in the output channel.
      vscode.window.setStatusBarMessage(`$(beaker) PlanGate: ${validationLine(params.text ?? '')}`, 15000);
    }
  });

  const tracker = new SessionTracker(server, async (summary) => {
    if (summary.planUri !== null) {
      await openPlanUri(summary.planUri);
    } else {
      void vscode.window.showInformationMessage(`PlanGate: session ${summary.sessionId} has no plan yet.`);
    }
  });
  context.subscriptions.push(tracker, new Activity(server, tracker));
  registerCommands(context, server, tracker, output);

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_SETTINGS.some((name) => event.affectsConfiguration(name))) {
        log.info('settings changed; restarting the server');
        void server?.restart().then(() => {
          if (event.affectsConfiguration('plangate.anthropicBaseUrl')) {
            tracker.offerResume('the API base URL changed');
          }
        });
      }
    }),
  );

  // Not awaited: activation returns at once; commands wait for the server themselves.
  void server.start().then((client) => {
    if (client === undefined) {
      log.warn(`the server is not running; run "${Commands.restartServer}" after fixing the cause`);
    }
  });
}

/** Stops the server. */
export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}
