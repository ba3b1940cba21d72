/**
 * Which Python runs the server, and how it is started. Pure (no `vscode`), so it is unit-tested
 * under plain node.
 */

/** The interpreter used when neither the setting nor the Python extension names one. */
export const DEFAULT_PYTHON = 'python3';

/** Where the chosen interpreter came from, for the log and for error messages. */
export type InterpreterSource = 'setting' | 'python-extension' | 'default';

/** The Python that runs `plangate serve`. */
export interface Interpreter {
  path: string;
  source: InterpreterSource;
}

/** What `${workspaceFolder}` and `~` mean in the `plangate.python` setting. */
export interface PathContext {
  home?: string;
  workspaceFolder?: string;
}

/**
 * Expands `~` and `${workspaceFolder}` in a configured path, as the Python extension does for
 * its own interpreter setting, so a setting copied from there means the same thing here.
 */
export function expandPath(value: string, context: PathContext): string {
  let out = value.trim();
  if (context.workspaceFolder !== undefined) {
    out = out.split('${workspaceFolder}').join(context.workspaceFolder);
  }
  if (context.home !== undefined && (out === '~' || out.startsWith('~/'))) {
    out = context.home + out.slice(1);
  }
  return out;
}

/**
 * The setting wins, then the Python extension's active interpreter, then `python3`.
 * Blank values count as unset.
 */
export function chooseInterpreter(
  configured: string | undefined,
  fromPythonExtension: string | undefined,
  context: PathContext = {},
): Interpreter {
  const setting = configured === undefined ? '' : expandPath(configured, context);
  if (setting !== '') {
    return { path: setting, source: 'setting' };
  }
  const active = fromPythonExtension?.trim() ?? '';
  if (active !== '') {
    return { path: active, source: 'python-extension' };
  }
  return { path: DEFAULT_PYTHON, source: 'default' };
}

/**
 * Arguments that start the language server over stdio: `python -m plangate serve`. As a module
 * of the chosen interpreter rather than the `plangate` script, which need not be on PATH.
 */
export function serverArgs(): string[] {
  return ['-m', 'plangate', 'serve'];
}

/** Arguments that fail (exit status 1) when plangate is not importable by the interpreter. */
export function importCheckArgs(): string[] {
  return ['-c', 'import plangate'];
}

/** True when a pyproject.toml is PlanGate's own (so pip can install it from that folder). */
export function isPlanGateProject(pyprojectToml: string): boolean {
  return /^\s*name\s*=\s*["']plangate["']\s*$/m.test(pyprojectToml);
}

/**
 * Arguments for pip: from a local checkout of PlanGate when the workspace is one (editable, so
 * the server runs the code being worked on), else the package by name.
 */
export function pipInstallArgs(localProject?: string): string[] {
  const target = localProject !== undefined ? ['-e', localProject] : ['plangate'];
  return ['-m', 'pip', 'install', ...target];
}

/** Secrets and settings that go to the server process. */
export interface ServerSettings {
  /** From SecretStorage; never from settings or files. */
  apiKey?: string;
  /** The `plangate.anthropicBaseUrl` setting. */
  baseUrl?: string;
}

/**
 * The server's environment: the extension host's, plus the key and base URL. The anthropic SDK
 * reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL itself; the key goes only here (not in
 * initializationOptions, which a message trace would print).
 */
export function serverEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  settings: ServerSettings,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  const key = settings.apiKey?.trim();
  if (key) {
    env.ANTHROPIC_API_KEY = key;
  }
  const url = settings.baseUrl?.trim();
  if (url) {
    env.ANTHROPIC_BASE_URL = url;
  }
  return env;
}

/** initializationOptions for the server: the base URL only (see serverEnvironment for why). */
export function initializationOptions(baseUrl: string | undefined): { anthropicBaseUrl?: string } {
  const url = baseUrl?.trim();
  return url ? { anthropicBaseUrl: url } : {};
}

/** Why an interpreter could not be started, in words (not `ENOENT`). */
export function spawnProblem(code: string | undefined, message: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'it is not executable (permission denied)';
    case 'ENOTDIR':
      return 'a folder in its path is a file';
    default:
      return message;
  }
}
