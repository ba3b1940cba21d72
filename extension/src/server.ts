/**
 * Starting, restarting and talking to the PlanGate language server (`python -m plangate serve`).
 */

import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  type ClientCapabilities,
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandlerResult,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
  State,
  type StaticFeature,
  TransportKind,
} from 'vscode-languageclient/node';

import { RestartPolicy } from './backoff';
import { handleEdits } from './edits';
import type { Reviews } from './review';
import {
  chooseInterpreter,
  importCheckArgs,
  initializationOptions,
  type Interpreter,
  isPlanGateProject,
  pipInstallArgs,
  serverArgs,
  serverEnvironment,
  spawnProblem,
} from './interpreter';
import type { ServerState } from './status';

/** What the extension handles beyond LSP, declared at `initialize` as
 * `capabilities.experimental.plangate` (docs/protocol.md). */
function plangateCapabilities(declared: Record<string, boolean>): StaticFeature {
  return {
    fillClientCapabilities: (capabilities: ClientCapabilities): void => {
      const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
      capabilities.experimental = { ...experimental, plangate: declared };
    },
    initialize: (): void => undefined,
    getState: () => ({ kind: 'static' }),
    clear: (): void => undefined,
  };
}

/** Where the API key lives in SecretStorage. */
export const API_KEY_SECRET = 'plangate.anthropicApiKey';

/** The part of ms-python.python's API used here (its `environments` API). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(
      environment: { id: string; path: string } | string,
    ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

type Handler = (params: unknown) => void;

/** Outcome of running a process to completion. */
interface RunResult {
  code: number | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: NodeJS.ErrnoException;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string>, cwd?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, cwd, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) {
        resolve({ code: 0, output });
      } else if (typeof error.code === 'string') {
        resolve({ code: null, spawnError: error as NodeJS.ErrnoException, output });
      } else {
        resolve({ code: typeof error.code === 'number' ? error.code : 1, output });
      }
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Owns the LanguageClient: picks the interpreter, makes sure plangate is installed in it, hands
 * over the API key through the environment, restarts a crashed server with backoff.
 */
export class PlanGateServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  /** Our `workspace/applyEdit` handler (it replaces the default one once the client runs). */
  private editHandler: vscode.Disposable | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private stopping = false;
  private readonly policy = new RestartPolicy();
  private readonly handlers: Array<[string, Handler]> = [];
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly disposables: vscode.Disposable[] = [this.stateEmitter];
  private pythonWatch: vscode.Disposable | undefined;

  /** Fires when the server starts, runs or stops. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    /** Server logs, stderr and the message trace (`plangate.trace.server`). */
    readonly log: vscode.LogOutputChannel,
    private readonly middleware: Middleware = {},
    /** Reviews edits as diffs (`plangate/reviewEdit`) unless the user prefers the Refactor Preview. */
    private readonly reviews?: Reviews,
  ) {}

  /** Handles a server notification, across restarts. */
  onNotification(method: string, handler: Handler): void {
    this.handlers.push([method, handler]);
    this.client?.onNotification(method, handler);
  }

  /** A request to the server, starting it first if it is not running. */
  async sendRequest<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    const client = await this.ready();
    if (client === undefined) {
      throw new Error('the PlanGate server is not running (see PlanGate: Show Logs)');
    }
    return token === undefined ? client.sendRequest<R>(method, params) : client.sendRequest<R>(method, params, token);
  }

  /** The running client, starting it if needed; undefined when it could not start. */
  async ready(): Promise<LanguageClient | undefined> {
    if (this.client?.state === State.Running) {
      return this.client;
    }
    return this.start();
  }

  /** Starts the server unless it is running or starting. */
  start(): Promise<LanguageClient | undefined> {
    if (this.starting === undefined) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  /** Stops the server and starts a new one (new interpreter, key or settings). */
  async restart(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    this.policy.reset();
    await this.start();
  }

  /** Stops the server; it is not restarted until asked. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    this.stopping = true;
    try {
      await client.dispose(3000);
    } catch (error) {
      this.log.warn(`stopping the server: ${String(error)}`);
    } finally {
      this.stopping = false;
    }
    this.stateEmitter.fire('stopped');
  }

  /** Stops the server (extension deactivation). */
  async dispose(): Promise<void> {
    this.pythonWatch?.dispose();
    await this.stop();
    vscode.Disposable.from(...this.disposables).dispose();
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    if (this.client !== undefined && this.client.state !== State.Stopped) {
      return this.client;
    }
    // A client that gave up after repeated crashes: let go of it before making a new one.
    await this.client?.dispose().catch(() => undefined);
    this.client = undefined;
    this.stateEmitter.fire('starting');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const interpreter = await this.interpreter();
    const settings = vscode.workspace.getConfiguration('plangate');
    const baseUrl = settings.get<string>('anthropicBaseUrl', '');
    const apiKey = await this.context.secrets.get(API_KEY_SECRET);
    const env = serverEnvironment(process.env, { apiKey, baseUrl });
    this.log.info(`Python: ${interpreter.path} (from ${interpreter.source})`);
    if (!(await this.ensureInstalled(interpreter, env, folder))) {
      this.stateEmitter.fire('stopped');
      return undefined;
    }
    const serverOptions: ServerOptions = {
      command: interpreter.path,
      args: serverArgs(),
      transport: TransportKind.stdio,
      options: { env, cwd: folder },
    };
    const clientOptions: LanguageClientOptions = {
      // Every file: the server marks files the agent may not edit, checks agent files and puts
      // lenses on plan documents; it decides which is which.
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.log,
      initializationOptions: initializationOptions(baseUrl),
      middleware: this.middleware,
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        }),
        closed: () => this.closed(),
      },
    };
    // The id makes vscode-languageclient read the `plangate.trace.server` setting.
    const client = new LanguageClient('plangate', 'PlanGate Server', serverOptions, clientOptions);
    const reviewEdits = this.reviews !== undefined && settings.get<string>('reviewEdits', 'diff') === 'diff';
    client.registerFeature(plangateCapabilities({ reviewEdit: reviewEdits, sessionChanged: true }));
    for (const [method, handler] of this.handlers) {
      client.onNotification(method, handler);
    }
    client.onDidChangeState((change) => {
      if (change.newState === State.Running) {
        this.policy.started(Date.now());
        this.stateEmitter.fire('running');
      } else if (change.newState === State.Starting) {
        this.stateEmitter.fire('starting');
      } else {
        this.stateEmitter.fire('stopped');
      }
    });
    this.client = client;
    this.watchPythonExtension();
    try {
      await client.start();
      this.editHandler?.dispose();
      this.editHandler = vscode.Disposable.from(
        handleEdits(client),
        ...(reviewEdits && this.reviews !== undefined ? [this.reviews.listen(client)] : []),
      );
      return client;
    } catch (error) {
      // The close handler restarts it with backoff when the process died; this is the log.
      this.log.error(`the server did not start: ${String(error)}`);
      return client.state === State.Running ? client : undefined;
    }
  }

  /** The server process ended without being asked to: restart it after a growing delay. */
  private async closed(): Promise<CloseHandlerResult> {
    if (this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const delay = this.policy.failed(Date.now());
    this.stateEmitter.fire('stopped');
    if (delay === undefined) {
      this.log.error('the server keeps crashing; not restarting it');
      void vscode.window
        .showErrorMessage('PlanGate: the server keeps crashing and was not restarted.', 'Show Logs', 'Restart')
        .then((choice) => {
          if (choice === 'Show Logs') {
            this.log.show();
          } else if (choice === 'Restart') {
            void this.restart();
          }
        });
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.log.warn(`the server stopped; restarting it in ${delay / 1000} s`);
    await sleep(delay);
    if (this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    return { action: CloseAction.Restart, handled: true };
  }

  /** The configured interpreter, else the Python extension's, else python3. */
  private async interpreter(): Promise<Interpreter> {
    const configured = vscode.workspace.getConfiguration('plangate').get<string>('python', '');
    const folder = vscode.workspace.workspaceFolders?.[0];
    const fromExtension = configured.trim() === '' ? await this.pythonExtensionInterpreter(folder?.uri) : undefined;
    return chooseInterpreter(configured, fromExtension, { home: os.homedir(), workspaceFolder: folder?.uri.fsPath });
  }

  private async pythonApi(): Promise<PythonExtensionApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
    if (extension === undefined) {
      return undefined;
    }
    return extension.isActive ? extension.exports : await extension.activate();
  }

  private async pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
    // Any failure here (old Python extension, API change) falls back to python3.
    try {
      const environments = (await this.pythonApi())?.environments;
      if (environments === undefined) {
        return undefined;
      }
      const active = environments.getActiveEnvironmentPath(resource);
      const resolved = await environments.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath ?? active.path;
    } catch (error) {
      this.log.warn(`the Python extension did not name an interpreter: ${String(error)}`);
      return undefined;
    }
  }

  /** A new active interpreter in the Python extension restarts the server, unless the setting names one. */
  private watchPythonExtension(): void {
    if (this.pythonWatch !== undefined) {
      return;
    }
    this.pythonWatch = new vscode.Disposable(() => undefined);
    void this.pythonApi()
      .then((api) => {
        const event = api?.environments?.onDidChangeActiveEnvironmentPath;
        if (event === undefined) {
          return;
        }
        this.pythonWatch = event(() => {
          if (vscode.workspace.getConfiguration('plangate').get<string>('python', '').trim() === '') {
            this.log.info('the Python extension chose another interpreter; restarting');
            void this.restart();
          }
        });
      })
      .catch(() => undefined);
  }

  /**
   * True when `import plangate` works in the interpreter; otherwise says why and offers to
   * install it with pip.
   */
  private async ensureInstalled(interpreter: Interpreter, env: Record<string, string>, cwd?: string): Promise<boolean> {
    const check = await run(interpreter.path, importCheckArgs(), env, cwd);
    if (check.code === 0) {
      return true;
    }
    if (check.spawnError !== undefined) {
      const why = spawnProblem(check.spawnError.code, check.spawnError.message);
      const message = `PlanGate: the Python interpreter was not found at ${interpreter.path} (from ${describeSource(interpreter)}): ${why}. Set "plangate.python" to a Python 3.11+ interpreter.`;
      this.log.error(message);
      const choice = await vscode.window.showErrorMessage(message, 'Open Settings');
      if (choice === 'Open Settings') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'plangate.python');
      }
      return false;
    }
    this.log.warn(`plangate is not importable by ${interpreter.path}:\n${check.output}`);
    const local = await this.localCheckout();
    const what = local !== undefined ? `from ${local}` : 'from the package index';
    const choice = await vscode.window.showWarningMessage(
      `PlanGate: the Python package "plangate" is not installed in ${interpreter.path} (from ${describeSource(interpreter)}). Install it with pip ${what}?`,
      'Install',
      'Choose Interpreter',
      'Show Logs',
    );
    if (choice === 'Choose Interpreter') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'plangate.python');
      return false;
    }
    if (choice === 'Show Logs') {
      this.log.show();
      return false;
    }
    if (choice !== 'Install') {
      return false;
    }
    const args = pipInstallArgs(local);
    this.log.info(`${interpreter.path} ${args.join(' ')}`);
    const install = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'PlanGate: installing plangate with pip…' },
      () => run(interpreter.path, args, env, cwd),
    );
    this.log.info(install.output);
    if (install.code === 0 && (await run(interpreter.path, importCheckArgs(), env, cwd)).code === 0) {
      void vscode.window.showInformationMessage('PlanGate: plangate is installed; starting the server.');
      return true;
    }
    const failed = await vscode.window.showErrorMessage(
      `PlanGate: pip could not install plangate into ${interpreter.path}. See the log, or set "plangate.python" to an interpreter that has it.`,
      'Show Logs',
    );
    if (failed === 'Show Logs') {
      this.log.show();
    }
    return false;
  }

  /** A workspace folder that is a checkout of PlanGate itself, if any. */
  private async localCheckout(): Promise<string | undefined> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      try {
        const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, 'pyproject.toml'));
        if (isPlanGateProject(new TextDecoder().decode(bytes))) {
          return folder.uri.fsPath;
        }
      } catch {
        // No pyproject.toml in this folder.
      }
    }
    return undefined;
  }
}

function describeSource(interpreter: Interpreter): string {
  switch (interpreter.source) {
    case 'setting':
      return 'the plangate.python setting';
    case 'python-extension':
      return "the Python extension's active interpreter";
    default:
      return 'the default';
  }
}
