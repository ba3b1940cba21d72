#!/usr/bin/env node
// End-to-end in a real VS Code: code-server + headless Chromium, driven by playwright-core.
//
// Usage: node driver.js --cache DIR --python PY --out DIR [--vsix FILE] [--base-url URL]
//                       [--timeout SECONDS] [--workspace-only] [--keep-file-closed] [--palette]
//                       [--review diff|preview] [--reject-a-hunk] [--cancel-in-review]
//                       [--script ten-edits|failing-check] [--pause-and-resume]
//
// Starts the scripted model server (unless --base-url) and code-server on 127.0.0.1 with a fresh
// user-data-dir and extensions-dir, installs the .vsix, opens a copy of the demo's sample backend,
// runs "PlanGate: Propose Plan…" from the command palette, approves the plan and phase 1 from the
// plan's code lenses (with app/db.py open beside the plan, unless --keep-file-closed), reviews the
// phase's edits (in the diff editor, accepted from its title bar, or with --reject-a-hunk one
// hunk rejected and the rest accepted from the hunks' lenses; with --review preview in the
// Refactor Preview, ticked and applied), and waits for phase 1's lens to say done. With
// --cancel-in-review it cancels the session from the palette while the first diff is open, checks
// the diff closes and the file is untouched, and stops there. With --palette
// it then runs every other palette command (see paletteCommands) and records what each showed in
// report.palette. Screenshots of every step go to --out. Prints one JSON report on stdout (also
// written to OUT/report.json); exit status 0 when every step passed.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..', '..');

function parseArgs(argv) {
  const args = { timeout: 240, workspaceOnly: false, keepFileClosed: false, palette: false, review: 'diff', rejectAHunk: false, cancelInReview: false, script: null, pauseAndResume: false };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${key} needs a value`);
      return argv[++i];
    };
    if (key === '--cache') args.cache = value();
    else if (key === '--python') args.python = value();
    else if (key === '--out') args.out = value();
    else if (key === '--vsix') args.vsix = value();
    else if (key === '--base-url') args.baseUrl = value();
    else if (key === '--timeout') args.timeout = Number(value());
    else if (key === '--workspace-only') args.workspaceOnly = true;
    else if (key === '--keep-file-closed') args.keepFileClosed = true;
    else if (key === '--palette') args.palette = true;
    else if (key === '--review') args.review = value();
    else if (key === '--reject-a-hunk') args.rejectAHunk = true;
    else if (key === '--cancel-in-review') args.cancelInReview = true;
    else if (key === '--script') args.script = value();
    else if (key === '--pause-and-resume') args.pauseAndResume = true;
    else if (key === '--apply-nothing') args.applyNothing = true;
    else throw new Error(`unknown argument ${key}`);
  }
  for (const required of ['cache', 'python', 'out']) {
    if (!args[required]) throw new Error(`--${required} is required`);
  }
  if (!args.workspaceOnly && !args.vsix) throw new Error('--vsix is required (or --workspace-only)');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const { chromium } = require(path.join(args.cache, 'node_modules', 'playwright-core'));

const started = Date.now();
const deadline = started + args.timeout * 1000;
const report = {
  ok: false,
  steps: [],
  screenshots: [],
  lenses: {},
  notifications: [],
  previews: 0,
  reviews: [],
  dialogs: [],
  errors: [],
  artefacts: path.resolve(args.out),
};
const children = [];
let tmpRoot = null;

function log(message) {
  process.stderr.write(`[driver ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

/** Time left before the overall deadline, capped at `cap` milliseconds. */
function budget(cap) {
  const left = deadline - Date.now();
  if (left <= 0) throw new Error(`overall timeout of ${args.timeout}s reached`);
  return Math.min(cap, left);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawn a child we kill at the end whatever happens; its output goes to OUT/NAME.log. */
function spawnLogged(name, command, argv, options) {
  const logFile = fs.openSync(path.join(args.out, `${name}.log`), 'w');
  const child = childProcess.spawn(command, argv, {
    ...options,
    stdio: ['ignore', 'pipe', logFile],
    detached: true, // its own process group: we kill the whole group
  });
  children.push({ name, child });
  return child;
}

function killAll() {
  for (const { name, child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch (err) {
      log(`kill ${name}: ${err.message}`);
    }
  }
}

async function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(ms)]);
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch (_) {
      /* already gone */
    }
  }
}

/** Resolves with the first stdout line of `child` matching `pattern`, within `ms`. */
function waitForLine(child, pattern, ms, what) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const match = pattern.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: process exited with ${code}`));
    });
  });
}

function run(command, argv, options, ms) {
  const result = childProcess.spawnSync(command, argv, { encoding: 'utf8', timeout: ms, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${path.basename(command)} ${argv.join(' ')} exited ${result.status}: ${result.stderr.slice(-2000)}`);
  }
  return result.stdout;
}

let page = null;
let modelServer = null; // the scripted model's process, to stop and start again
let shotNumber = 0;

async function screenshot(name) {
  if (!page) return null;
  shotNumber += 1;
  const file = path.join(args.out, `${String(shotNumber).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, timeout: 15000 });
    report.screenshots.push(file);
    return file;
  } catch (err) {
    log(`screenshot ${name} failed: ${err.message}`);
    return null;
  }
}

async function step(name, fn) {
  const t0 = Date.now();
  log(`step ${name}`);
  const entry = { name, ok: false, seconds: 0 };
  report.steps.push(entry);
  try {
    const detail = await fn();
    entry.ok = true;
    if (detail !== undefined) entry.detail = detail;
  } catch (err) {
    entry.error = String(err && err.stack ? err.stack : err).slice(0, 2000);
    await screenshot(`${name}-FAILED`);
    throw err;
  } finally {
    entry.seconds = (Date.now() - t0) / 1000;
  }
  entry.screenshot = await screenshot(name);
  return entry;
}

// ---------------------------------------------------------------- VS Code UI helpers

async function lensTexts() {
  return page.locator('.codelens-decoration a, .codelens-decoration span').allInnerTexts();
}

/**
 * The code lens shown above a plan line: phase 0 is the title (`# ...`), phase N its
 * `## Phase N:` heading. Returns {index, texts, line} or null when that line is not on screen.
 */
async function phaseLens(phase) {
  return page.evaluate((n) => {
    const norm = (t) => t.replace(/\u00a0/g, ' ');
    const wanted = (el) => {
      const text = norm(el.textContent || '');
      return n === 0 ? /^# \S/.test(text) : text.startsWith(`## Phase ${n}:`);
    };
    // The plan's editor: the one whose lines carry `## Phase` headings (other editors may be open).
    const editor = Array.from(document.querySelectorAll('.monaco-editor')).find((ed) =>
      Array.from(ed.querySelectorAll('.view-lines .view-line')).some((el) => norm(el.textContent || '').startsWith('## Phase ')));
    if (!editor) return null;
    const line = Array.from(editor.querySelectorAll('.view-lines .view-line')).find(wanted);
    if (!line) return null;
    const top = line.getBoundingClientRect().top;
    const all = Array.from(document.querySelectorAll('.codelens-decoration'));
    let best = null;
    all.forEach((el, index) => {
      if (!editor.contains(el)) return;
      const at = el.getBoundingClientRect().top;
      if (at < top && (best === null || at > best.at)) best = { index, at };
    });
    if (best === null) return null;
    const el = all[best.index];
    const texts = Array.from(el.querySelectorAll('a, span > span'))
      .map((a) => (a.textContent || '').trim())
      .filter((t) => t && t !== '|');
    return { index: best.index, texts, line: norm(line.textContent || '') };
  }, phase);
}

/** Click the lens button `label` above phase `phase`'s line. */
async function clickLens(phase, label) {
  const lens = await phaseLens(phase);
  if (!lens || !lens.texts.includes(label)) throw new Error(`no "${label}" lens on phase ${phase}: ${JSON.stringify(lens)}`);
  await page.locator('.codelens-decoration').nth(lens.index).locator('a', { hasText: label }).first().click({ timeout: budget(10000) });
}

/** The text of a modal dialog on screen (e.g. "Cannot apply refactoring ..."), or null. */
async function dialogText() {
  return page.evaluate(() => {
    const dialog = document.querySelector('.monaco-dialog-box');
    return dialog ? dialog.innerText.trim() : null;
  });
}

/** Notifications on screen: their message and buttons. */
async function notifications() {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.notification-toast')).map(
      (el) => ({
        message: (el.querySelector('.notification-list-item-message') || el).innerText.trim(),
        buttons: Array.from(el.querySelectorAll('.monaco-button')).map((b) => b.innerText.trim()),
      }),
    ),
  );
}

/** Press a notification's button whose label is one of `labels`, if one is showing. */
async function answerNotification(labels) {
  for (const label of labels) {
    const button = page.locator('.notification-toast .monaco-button', { hasText: label }).first();
    if ((await button.count()) > 0 && (await button.isVisible())) {
      await sleep(600); // let the toast finish sliding in before the screenshot
      const shown = await notifications();
      report.notifications.push({ answered: label, shown });
      await screenshot(`notification-${label.replace(/\W+/g, '-').toLowerCase()}`);
      await button.click({ timeout: budget(10000) });
      return label;
    }
  }
  return null;
}

async function runCommand(title) {
  // Right after the window opens the palette may not list extension commands yet ("No matching
  // commands"): close it and try again, as a user would.
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  const until = Date.now() + budget(60000);
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+P');
    await input.waitFor({ state: 'visible', timeout: budget(15000) });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ state: 'visible', timeout: budget(5000) });
      await row.click({ timeout: budget(10000) });
      return attempt;
    } catch (err) {
      if (Date.now() > until) throw err;
      log(`"${title}" not in the palette yet (attempt ${attempt})`);
      await sleep(2000);
    }
  }
}

/** The command palette's rows for `>query` once it has settled, then closed again. */
async function paletteRows(query) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Shift+P');
  await input.waitFor({ state: 'visible', timeout: budget(15000) });
  await input.fill(`>${query}`);
  await sleep(1500);
  const rows = await page.locator('.quick-input-widget .monaco-list-row').allInnerTexts();
  await page.keyboard.press('Escape');
  return rows.map((r) => r.replace(/\s+/g, ' ').trim());
}

/** Wait until `predicate()` is truthy, answering permission notifications meanwhile. */
async function waitUntil(what, predicate, ms, { permissions = true } = {}) {
  const until = Date.now() + budget(ms);
  while (Date.now() < until) {
    const value = await predicate();
    if (value) return value;
    if (permissions) await answerNotification(['Allow once']);
    await sleep(250);
  }
  throw new Error(`timed out after ${Math.round(ms / 1000)}s waiting for ${what}`);
}

// ---------------------------------------------------------------- the scenario

async function main() {
  fs.mkdirSync(args.out, { recursive: true });
  for (const old of fs.readdirSync(args.out)) {
    if (old.endsWith('.png')) fs.rmSync(path.join(args.out, old));
  }
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'plangate-vscode-e2e-'));
  const userData = path.join(tmpRoot, 'user-data');
  const extensions = path.join(tmpRoot, 'extensions');
  const workspace = path.join(tmpRoot, 'tasks-api');
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(tmpRoot, 'config'),
    XDG_DATA_HOME: path.join(tmpRoot, 'data'),
    // The scripted server accepts any key; the SDK insists on one.
    ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY || 'offline-e2e',
    // The server's own log file (plangate.lsp.logs) in this run, copied to OUT/server-logs.
    XDG_STATE_HOME: path.join(tmpRoot, 'state'),
  };
  const codeServer = path.join(args.cache, 'node_modules', '.bin', 'code-server');
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions, '--config', path.join(tmpRoot, 'config.yaml')];
  report.workspace = workspace;

  await step('prepare-workspace', async () => {
    run(args.python, ['-c', 'import sys; from pathlib import Path; from plangate.demo.run import prepare; prepare(Path(sys.argv[1]))', workspace], { cwd: REPO }, 60000);
    report.dbBefore = fs.readFileSync(path.join(workspace, 'app', 'db.py'), 'utf8');
    report.task = run(args.python, ['-c', 'from plangate.demo.script import TASK; print(TASK)'], { cwd: REPO }, 60000).trim();
    fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
    report.settingsFile = path.join(userData, 'User', 'settings.json');
    return { workspace };
  });

  if (!args.baseUrl && !args.workspaceOnly) {
    await step('model-server', async () => {
      const script = args.script ? ['--script', args.script] : [];
      const child = spawnLogged('model-server', args.python, [path.join(__dirname, 'model_server.py'), ...script], { cwd: REPO, env });
      modelServer = { child, script, env };
      const match = await waitForLine(child, /"base_url": "([^"]+)"/, budget(30000), 'the model server');
      args.baseUrl = match[1];
      return { baseUrl: args.baseUrl };
    });
  }

  await step('settings', async () => {
    const settings = {
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'plangate.python': path.resolve(args.python),
      // The LSP traffic lands in the PlanGate output channel, kept in OUT/vscode-logs.
      'plangate.trace.server': 'verbose',
    };
    if (args.baseUrl) settings['plangate.anthropicBaseUrl'] = args.baseUrl;
    if (args.review === 'preview') settings['plangate.reviewEdits'] = 'refactorPreview';
    fs.writeFileSync(report.settingsFile, JSON.stringify(settings, null, 2));
    return settings;
  });

  if (args.vsix) {
    await step('install-extension', async () => {
      const out = run(codeServer, [...common, '--install-extension', path.resolve(args.vsix)], { env }, budget(120000));
      const listed = run(codeServer, [...common, '--list-extensions', '--show-versions'], { env }, budget(60000));
      report.extensions = listed.trim().split('\n');
      return { out: out.trim().slice(-500), extensions: report.extensions };
    });
  }

  const port = await freePort();
  await step('start-code-server', async () => {
    const child = spawnLogged(
      'code-server',
      codeServer,
      ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
        '--disable-workspace-trust', ...common, workspace],
      { env },
    );
    await waitForLine(child, /HTTP server listening on/, budget(60000), 'code-server to listen');
    return { port };
  });

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: budget(60000),
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1200 } });
    page = await context.newPage();
    report.console = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && report.console.length < 50) report.console.push(message.text().slice(0, 500));
    });

    await step('open-workspace', async () => {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, { timeout: budget(60000) });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: budget(60000) });
      // The explorer shows the sample's files once the workbench is up.
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app' }).first()
        .waitFor({ state: 'visible', timeout: budget(60000) });
      await sleep(1500); // let restored views and extension activation settle
    });

    if (args.workspaceOnly) {
      await step('command-palette', async () => {
        await page.keyboard.press('Control+Shift+P');
        await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: budget(15000) });
        await page.keyboard.type('>PlanGate');
        await sleep(1000);
        return { rows: await page.locator('.quick-input-widget .monaco-list-row').allInnerTexts() };
      });
      report.ok = true;
      return;
    }

    await step('propose-plan-command', async () => ({ attempts: await runCommand('PlanGate: Propose Plan') }));

    await step('pick-agent', async () => {
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'backend-developer' }).first();
      await row.waitFor({ state: 'visible', timeout: budget(30000) });
      const rows = await page.locator('.quick-input-widget .monaco-list-row').allInnerTexts();
      await row.click({ timeout: budget(10000) });
      return { rows };
    });

    await step('type-task', async () => {
      const input = page.locator('.quick-input-widget .quick-input-box input');
      // The task prompt is an input box: no list rows, an empty input.
      await waitUntil('the task input box', async () =>
        (await input.isVisible()) && (await input.inputValue()) === '' &&
        (await page.locator('.quick-input-widget .monaco-list-row').filter({ visible: true }).count()) === 0,
      budget(15000), { permissions: false });
      const prompt = await page.locator('.quick-input-widget').innerText();
      await input.fill(report.task);
      await screenshot('task-typed');
      await input.press('Enter');
      return { prompt: prompt.trim().slice(0, 500) };
    });

    await step('plan-lenses', async () => {
      const lens = await waitUntil('the plan document with an "Approve plan" code lens', async () => {
        const found = await phaseLens(0).catch(() => null);
        return found && found.texts.includes('Approve plan') ? found : null;
      }, 120000);
      report.lenses.plan = lens.texts;
      report.lenses.planAll = await lensTexts();
      report.planTab = await page.locator('.tabs-container .tab.active').first().innerText().catch(() => '');
      return { lens, tab: report.planTab };
    });

    await step('approve-plan', async () => {
      await clickLens(0, 'Approve plan');
      const lens = await waitUntil('"Approve & run" on phase 1', async () => {
        const found = await phaseLens(1).catch(() => null);
        return found && found.texts.includes('Approve & run') ? found : null;
      }, 60000);
      report.lenses.phase1 = lens.texts;
      report.lenses.title = ((await phaseLens(0)) || {}).texts;
      return { phase1: lens, title: report.lenses.title };
    });

    if (!args.keepFileClosed) {
      // The user looks at the file phase 1 will change, beside the plan, before approving it.
      await step('open-db-beside-plan', async () => {
        await page.keyboard.press('Control+P');
        const input = page.locator('.quick-input-widget .quick-input-box input');
        await input.waitFor({ state: 'visible', timeout: budget(10000) });
        await input.fill('app/db.py');
        await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'db.py' }).first().waitFor({ timeout: budget(10000) });
        await input.press('Control+Enter'); // open to the side
        await page.locator('.tabs-container .tab', { hasText: 'db.py' }).first().waitFor({ timeout: budget(10000) });
        await sleep(500);
      });
    }

    if (args.pauseAndResume) {
      // The model's server goes away: phase 1's first request fails, retries, and the session
      // pauses, saying why; the server comes back on the same port and Resume goes on.
      await step('stop-model-server', async () => {
        process.kill(-modelServer.child.pid, 'SIGTERM');
        await waitForExit(modelServer.child, 10000);
        return { stopped: modelServer.child.exitCode ?? modelServer.child.signalCode };
      });
    }

    await step('approve-phase-1', async () => {
      await clickLens(1, 'Approve & run');
    });

    if (args.pauseAndResume) {
      await step('paused', async () => {
        const resume = page.locator('.notification-toast .monaco-button', { hasText: 'Resume' }).first();
        await waitUntil('the paused notification', async () => resume.isVisible().catch(() => false), 90000);
        await sleep(600);
        const shown = (await notifications()).find((t) => t.buttons.includes('Resume'));
        report.paused = { shown, status: await statusBar() };
        return report.paused;
      });
      await step('resume-from-notification', async () => {
        const port = new URL(args.baseUrl).port;
        const child = spawnLogged('model-server-again', args.python,
          [path.join(__dirname, 'model_server.py'), ...modelServer.script, '--port', port], { cwd: REPO, env: modelServer.env });
        await waitForLine(child, /"base_url"/, budget(30000), 'the model server again');
        await page.locator('.notification-toast .monaco-button', { hasText: 'Resume' }).first().click({ timeout: budget(10000) });
        const status = await waitUntil('the session running again', async () => {
          const text = await statusBar();
          return /paused/.test(text) ? null : text;
        }, 30000);
        report.resumed = { status };
        return report.resumed;
      });
    }

    const dbFile = path.join(workspace, 'app', 'db.py');
    // What phase 1 leaves in app/db.py: the demo's column, the last of ten notes, or (the
    // failing check) the line it removed gone.
    const wanted = { 'ten-edits': '# priority note 10\n', 'failing-check': '    conn.executescript(SCHEMA)' }[args.script]
      || "priority TEXT NOT NULL DEFAULT 'normal'";
    report.review = args.review;
    if (args.review === 'preview' && args.applyNothing) {
      await applyNothing(workspace);
      report.ok = true;
      return;
    }
    if (args.review === 'preview') await refactorPreviews();
    else if ((await diffReviews(dbFile)) === 'cancelled') {
      report.ok = true;
      return;
    }

    await step('file-changed-on-disk', async () => {
      const text = await waitUntil(`${wanted} in app/db.py on disk`, async () => {
        const now = fs.readFileSync(dbFile, 'utf8');
        const ok = now.includes(wanted) && !(args.script === 'failing-check' && now.includes('row_factory'));
        return ok ? now : null;
      }, 30000);
      report.dbAfter = text;
      return { changed: text !== report.dbBefore, migrate: text.includes('def migrate(conn)') };
    });

    await step('phase-1-done', async () => {
      const lens = await waitUntil("phase 1's lens to say done", async () => {
        const found = await phaseLens(1).catch(() => null);
        return found && found.texts.some(isDone) ? found : null;
      }, 90000);
      report.lenses.afterPhase1 = lens.texts;
      report.lenses.afterPhase1Title = ((await phaseLens(0)) || {}).texts;
      report.lenses.afterPhase1Next = ((await phaseLens(2)) || {}).texts;
      return { phase1: lens, all: await lensTexts() };
    });

    // The PlanGate view in the activity bar: the session, its phases, phase 1's timeline.
    await step('activity-view', async () => {
      await page.locator('.activitybar .action-item a[aria-label^="PlanGate"]').first().click({ timeout: budget(10000) });
      const rows = page.locator('.sidebar .monaco-list-row');
      const texts = async () => (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      const session = await waitUntil('the session in the activity view', async () =>
        (await texts()).find((t) => t.includes('approve phase 2')) || null, 15000, { permissions: false });
      // The twistie: a click on the session's label opens its plan.
      await rows.filter({ hasText: 'approve phase 2' }).first().locator('.monaco-tl-twistie').click({ timeout: budget(10000) });
      const phase = await waitUntil("phase 1's row", async () =>
        (await texts()).find((t) => t.startsWith('Phase 1: Database')) || null, 15000, { permissions: false });
      await rows.filter({ hasText: 'Phase 1: Database' }).first().locator('.monaco-tl-twistie').click({ timeout: budget(10000) });
      await waitUntil("phase 1's timeline", async () =>
        (await texts()).some((t) => t.startsWith('edit app/db.py')), 15000, { permissions: false });
      await sleep(300);
      report.activity = { session, phase, rows: await texts() };
      return report.activity;
    });

    // The explorer view of the changed file, for the record.
    await step('changed-file', async () => {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: budget(10000) });
      await input.fill('app/db.py');
      // The file itself, not a diff of it recently reviewed (quick open lists those too).
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'db.py' }).filter({ hasNotText: '↔' }).first();
      await row.waitFor({ timeout: budget(10000) });
      report.quickOpenRows = await page.locator('.quick-input-widget .monaco-list-row').allInnerTexts();
      await row.click({ timeout: budget(10000) });
      await page.locator('.tabs-container .tab.active', { hasText: 'db.py' }).first().waitFor({ timeout: budget(10000) });
      await sleep(500);
      report.dirtyTabs = await page.locator('.tabs-container .tab.dirty').allInnerTexts();
      return { dirtyTabs: report.dirtyTabs };
    });
    if (args.palette) await paletteCommands(dbFile);
    report.ok = true;
  } finally {
    report.notificationsAtEnd = page ? await notifications().catch(() => []) : [];
    await browser.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- reviewing phase 1's edits

/** Phase 1 proposes its edits one by one; each opens the Refactor Preview: tick, apply. */
async function refactorPreviews() {
  const applyButton = page.locator('.bulk-edit-panel .monaco-button', { hasText: 'Apply' }).first();
  let phaseDone = null;
  for (let preview = 1; preview <= 5 && !phaseDone; preview++) {
    let seen;
    try {
      seen = await waitUntil(`Refactor Preview ${preview} or phase 1 done`, async () => {
        if (await applyButton.isVisible().catch(() => false)) return 'preview';
        if (await isPhase1Done()) return 'done';
        return null;
      }, 90000);
    } catch (err) {
      await screenshot(`waiting-for-preview-${preview}-FAILED`);
      throw err;
    }
    if (seen === 'done') break;
    report.previews = preview;
    await step(`refactor-preview-${preview}`, async () => {
      const panel = page.locator('.bulk-edit-panel');
      const title = await page.locator('.pane-header', { hasText: 'Refactor Preview' }).first().innerText().catch(() => '');
      const rows = await panel.locator('.monaco-list-row').allInnerTexts();
      // Changes that need confirmation arrive unchecked: tick them, as a user reviewing them
      // would. Ticking a file ticks its edits, so look again after every click.
      const boxes = panel.locator('.monaco-list-row .edit-checkbox');
      const states = () => boxes.evaluateAll((els) => els.map((el) => Boolean(el.checked)));
      const ticked = [];
      for (let round = 0; round < 10; round++) {
        const unchecked = (await states()).indexOf(false);
        if (unchecked < 0) break;
        await boxes.nth(unchecked).click({ timeout: budget(5000) });
        ticked.push(unchecked);
      }
      const checked = await states();
      if (checked.length === 0 || checked.includes(false)) {
        throw new Error(`could not tick every change in the Refactor Preview: ${JSON.stringify(checked)}`);
      }
      report[`preview${preview}`] = { title, rows, ticked };
      return { title, rows, ticked };
    });
    await step(`apply-${preview}`, async () => {
      await applyButton.click({ timeout: budget(10000) });
      await waitUntil('the Refactor Preview to close', async () => {
        const dialog = await dialogText();
        if (dialog) {
          report.dialogs.push(dialog);
          throw new Error(`VS Code refused to apply: ${JSON.stringify(dialog)}`);
        }
        return !(await applyButton.isVisible().catch(() => false));
      }, 30000, { permissions: false });
    });
    phaseDone = (await isPhase1Done()) ? true : null;
  }
}

/** The answers the session logged to its edit questions (.plangate/sessions/<id>/events.jsonl). */
function editAnswers(workspace) {
  const sessions = path.join(workspace, '.plangate', 'sessions');
  const answers = [];
  for (const id of fs.existsSync(sessions) ? fs.readdirSync(sessions) : []) {
    const log = path.join(sessions, id, 'events.jsonl');
    if (!fs.existsSync(log)) continue;
    for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const event = JSON.parse(line);
      if (event.type === 'answer' && event.data.id.startsWith('edit:')) answers.push(event.data);
    }
  }
  return answers;
}

/** --apply-nothing: the first Refactor Preview is applied with every change left unticked;
 * the session must record that nothing was applied (a rejection), and app/db.py is unchanged. */
async function applyNothing(workspace) {
  const applyButton = page.locator('.bulk-edit-panel .monaco-button', { hasText: 'Apply' }).first();
  const dbFile = path.join(workspace, 'app', 'db.py');
  await step('refactor-preview-nothing-ticked', async () => {
    await waitUntil('the first Refactor Preview', async () => applyButton.isVisible().catch(() => false), 90000);
    const boxes = page.locator('.bulk-edit-panel .monaco-list-row .edit-checkbox');
    const checked = await boxes.evaluateAll((els) => els.map((el) => Boolean(el.checked)));
    // Untick whatever is ticked: the user applies nothing.
    for (let round = 0; round < 10; round++) {
      const on = (await boxes.evaluateAll((els) => els.map((el) => Boolean(el.checked)))).indexOf(true);
      if (on < 0) break;
      await boxes.nth(on).click({ timeout: budget(5000) });
    }
    await applyButton.click({ timeout: budget(10000) });
    const answer = await waitUntil("the session's answer to the first edit", async () => editAnswers(workspace)[0] || null, 30000);
    report.nothingTicked = { checkedOnArrival: checked, answer, db: fs.readFileSync(dbFile, 'utf8') };
    return report.nothingTicked;
  });
}

/** The code lenses of the diff editor on screen: their texts. */
async function reviewLenses() {
  return page.locator('.monaco-diff-editor .codelens-decoration a').allInnerTexts();
}

/** Click the diff editor's lens whose text starts with `label`. */
async function clickReviewLens(label) {
  const texts = (await reviewLenses()).map((t) => t.trim());
  const index = texts.findIndex((t) => t.startsWith(label));
  if (index < 0) throw new Error(`no "${label}" lens in the diff: ${JSON.stringify(texts)}`);
  await page.locator('.monaco-diff-editor .codelens-decoration a').nth(index).click({ timeout: budget(10000) });
}

/** Phase 1 proposes its edits one by one; each opens a diff with Accept/Reject. 'cancelled'
 * when --cancel-in-review cancelled the session with the first diff open. */
async function diffReviews(dbFile) {
  const accept = page.locator('.editor-actions .action-label[aria-label^="Accept Change"]').first();
  let phaseDone = null;
  const decide = page.locator('.notification-toast .monaco-button', { hasText: 'Accept Anyway' }).first();
  for (let n = 1; n <= 15 && !phaseDone; n++) {
    let seen;
    try {
      seen = await waitUntil(`diff review ${n} or phase 1 done`, async () => {
        if ((await reviewLenses()).some((t) => /Accept (hunk|all)/.test(t))) return 'review';
        if (await isPhase1Done()) return 'done';
        if (await decide.isVisible().catch(() => false)) return 'decide';
        return null;
      }, 90000);
    } catch (err) {
      await screenshot(`waiting-for-review-${n}-FAILED`);
      throw err;
    }
    if (seen === 'done') break;
    if (seen === 'decide') {
      // Validation failed and the agent could not fix it: the user decides from the toast.
      await step('validation-decision', async () => {
        await sleep(600);
        const shown = (await notifications()).find((t) => t.buttons.includes('Accept Anyway'));
        const status = await statusBar();
        await decide.click({ timeout: budget(10000) });
        report.validationDecision = { shown, status };
        return report.validationDecision;
      });
      continue;
    }
    if (args.cancelInReview) {
      await step('cancel-with-diff-open', async () => {
        await sleep(300);
        const lenses = (await reviewLenses()).map((t) => t.trim());
        await runCommand('PlanGate: Cancel Session');
        const dialog = await pressDialogButton('Cancel Session');
        await waitUntil('the diff to close', async () => (await reviewLenses()).length === 0, 30000, { permissions: false });
        const statusAfter = await statusBarMatching(/cancelled/, 30000);
        const tabs = await page.locator('.tabs-container .tab').allInnerTexts();
        report.cancelInReview = { lenses, dialog, statusAfter, tabs, db: fs.readFileSync(dbFile, 'utf8') };
        return report.cancelInReview;
      });
      return 'cancelled';
    }
    await step(`diff-review-${n}`, async () => {
      await sleep(300); // the lenses of every hunk, not just the first
      const tab = await page.locator('.tabs-container .tab.active').first().innerText().catch(() => '');
      const lenses = (await reviewLenses()).map((t) => t.trim());
      const total = Math.max(0, ...lenses.map((t) => Number((/hunk \d+\/(\d+)/.exec(t) || [])[1] || 0)));
      const entry = { tab, lenses, hunks: total, rejected: null };
      report.reviews.push(entry);
      if (args.rejectAHunk && total >= 2 && !report.reviews.some((r) => r.rejected !== null)) {
        // The last hunk rejected (for the demo's first edit, the new index: the code still
        // works without it), the others accepted.
        await clickReviewLens(`Reject hunk ${total}/${total}`);
        await waitUntil(`hunk ${total} marked rejected`, async () =>
          (await reviewLenses()).some((t) => t.includes(`Rejected hunk ${total}/${total}`)), 10000, { permissions: false });
        entry.afterReject = (await reviewLenses()).map((t) => t.trim());
        await screenshot(`diff-review-${n}-hunk-rejected`);
        await clickReviewLens(total === 2 ? `Accept hunk 1/${total}` : 'Accept the other');
        const input = page.locator('.quick-input-widget .quick-input-box input');
        await input.waitFor({ state: 'visible', timeout: budget(10000) });
        entry.reasonPrompt = (await page.locator('.quick-input-widget').innerText()).trim().slice(0, 300);
        await input.fill('no index yet');
        await screenshot(`diff-review-${n}-reason`);
        await input.press('Enter');
        entry.rejected = total - 1;
      } else {
        await accept.click({ timeout: budget(10000) });
      }
      await waitUntil('the diff to close', async () => (await reviewLenses()).length === 0, 30000, { permissions: false });
      return entry;
    });
    phaseDone = (await isPhase1Done()) ? true : null;
  }
}

// ---------------------------------------------------------------- the palette commands

const QUICK_INPUT = '.quick-input-widget';

function slug(text) {
  return text.replace(/\W+/g, '-').replace(/^-|-$/g, '').toLowerCase();
}

/** The PlanGate status bar item's text (its codicon is not text), or ''. */
async function statusBar() {
  const item = page.locator('.statusbar-item', { hasText: 'PlanGate' }).first();
  return (await item.innerText({ timeout: 2000 }).catch(() => '')).trim();
}

/** The rows of the quick pick on screen (none for an input box). */
async function quickPickRows() {
  return page.locator(`${QUICK_INPUT} .monaco-list-row`).filter({ visible: true }).allInnerTexts();
}

/** The title of the active tab of the active editor group: the active editor. */
async function activeTab() {
  const tab = page.locator('.editor-group-container.active .tab.active').first();
  return (await tab.innerText({ timeout: 2000 }).catch(() => '')).trim();
}

/** The panel's state: visible or not, the output channel chosen, its first lines. */
async function panelState() {
  return page.evaluate(() => {
    const panel = document.querySelector('.part.panel');
    if (!panel || panel.getBoundingClientRect().height < 10) return { visible: false };
    const chosen = Array.from(panel.querySelectorAll('select'))
      .map((s) => (s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : ''));
    const title = (panel.querySelector('.composite.title') || panel).innerText.trim().slice(0, 300);
    const lines = Array.from(panel.querySelectorAll('.view-lines .view-line'))
      .map((l) => (l.textContent || '').replace(/\u00a0/g, ' ')).slice(0, 5);
    return { visible: true, chosen, title, lines };
  });
}

/** Waits for a quick pick row containing `text`, then picks it. Returns every row shown. */
async function pickRow(text) {
  const row = page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: budget(15000) });
  const rows = await quickPickRows();
  const prompt = (await page.locator(QUICK_INPUT).innerText()).trim().split('\n')[0];
  await screenshot(`quick-pick-${slug(text)}`);
  await row.click({ timeout: budget(10000) });
  return { prompt, rows };
}

/** Presses a modal dialog's button (VS Code's confirmations). Returns the dialog's text. */
async function pressDialogButton(label) {
  const button = page.locator('.monaco-dialog-box .monaco-button', { hasText: label }).first();
  await button.waitFor({ state: 'visible', timeout: budget(15000) });
  const text = await dialogText();
  await screenshot(`dialog-${slug(label)}`);
  await button.click({ timeout: budget(10000) });
  return text;
}

/** Answers a command's input box (an input without rows): types `text`, presses Enter. */
async function answerInputBox(text) {
  const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
  await waitUntil('an input box', async () =>
    (await input.isVisible()) && (await quickPickRows()).length === 0 && (await input.inputValue()) === '',
  15000, { permissions: false });
  const type = await input.getAttribute('type');
  const prompt = (await page.locator(QUICK_INPUT).innerText()).trim();
  await input.fill(text);
  await screenshot(`input-box-${slug(prompt.split('\n')[0]).slice(0, 40)}`);
  await input.press('Enter');
  return { type, prompt: prompt.slice(0, 500) };
}

/** Waits until the status bar item's text matches `pattern`; returns it. */
async function statusBarMatching(pattern, ms) {
  return waitUntil(`the status bar to match ${pattern}`, async () => {
    const text = await statusBar();
    return pattern.test(text) ? text : null;
  }, ms);
}

/**
 * One palette command: runs `fn`, records what it saw in report.palette[name] with a screenshot.
 * A command that fails is recorded (error and screenshot) and the next one still runs, so one run
 * tells which commands work; the pytest test asserts on report.palette.
 */
async function paletteStep(name, fn) {
  const entry = { ok: false };
  report.palette[name] = entry;
  try {
    const done = await step(`palette-${name}`, async () => {
      Object.assign(entry, await fn());
      await sleep(300); // let the UI settle before step() takes the record shot
      entry.statusBar = await statusBar();
      entry.ok = true;
      return entry;
    });
    entry.screenshot = done.screenshot;
  } catch (err) {
    entry.error = String(err && err.message ? err.message : err).slice(0, 1000);
    entry.screenshot = report.screenshots[report.screenshots.length - 1];
    entry.statusBar = await statusBar();
    // Leave no quick pick or dialog behind for the next command.
    await page.keyboard.press('Escape').catch(() => {});
    await page.keyboard.press('Escape').catch(() => {});
  }
}

/**
 * After phase 1 is done (phase 2 waits for approval): every other palette command, in an order
 * where each has something to act on, the session's state checked after each.
 */
async function paletteCommands(dbFile) {
  report.palette = {};
  const planTab = report.planTab.split('\n')[0].trim(); // "<the task>.md"
  // The workspace's one session (its plan is .plangate/plans/<session id>/<the task>.md).
  const [sessionId] = fs.readdirSync(path.join(report.workspace, '.plangate', 'sessions'));
  report.sessionId = sessionId;
  // A fake key: the pytest test greps the run's logs for it.
  report.fakeKey = `sk-ant-e2e-fake-${Math.random().toString(36).slice(2, 12)}`;

  // app/db.py is the active editor (the changed-file step): Show Plan brings the plan forward.
  await paletteStep('show-plan', async () => {
    await focusTab('db.py');
    const before = await activeTab();
    await runCommand('PlanGate: Show Plan');
    const after = await waitUntil('the plan as the active editor', async () => {
      const tab = await activeTab();
      return tab.includes(planTab) ? tab : null;
    }, 15000);
    return { activeBefore: before, activeAfter: after };
  });

  await paletteStep('show-logs', async () => {
    await runCommand('PlanGate: Show Logs');
    const panel = await waitUntil('the PlanGate Server output', async () => {
      const state = await panelState();
      return state.visible && state.chosen.includes('PlanGate Server') ? state : null;
    }, 15000);
    return { panel };
  });

  // Focus another editor first, so choosing the session visibly brings its plan back.
  await paletteStep('show-sessions', async () => {
    await page.keyboard.press('Control+J'); // hide the panel again: the plan needs the room
    await focusTab('db.py');
    await runCommand('PlanGate: Show Sessions');
    const picked = await pickRow(sessionId);
    const active = await waitUntil('the plan as the active editor', async () => {
      const tab = await activeTab();
      return tab.includes(planTab) ? tab : null;
    }, 15000);
    return { ...picked, active };
  });

  await paletteStep('roll-back-phase', async () => {
    await runCommand('PlanGate: Roll Back Phase');
    const picked = await pickRow('Phase 1');
    const dialog = await pressDialogButton('Roll Back');
    // The restore may remove the file before writing it again: a missing file is not yet back.
    const missing = [];
    const restored = await waitUntil('app/db.py back to its original content', async () => {
      try {
        return fs.readFileSync(dbFile, 'utf8') === report.dbBefore;
      } catch (err) {
        missing.push(err.code);
        return false;
      }
    }, 30000);
    // The rolled-back phase is next: its heading offers to run it again.
    const lens = await phaseLensSaying(1, 'Run again', 30000);
    return { ...picked, dialog, restored, missingWhileRestoring: missing.length, phase1: lens.texts };
  });

  // Phase 1 is not run again (it stays "rolled back"), and phase 2 is skipped: neither needs
  // the model, and the session moves on to phase 3.
  await paletteStep('skip-phase', async () => {
    const before = await statusBar();
    await runCommand('PlanGate: Skip Phase');
    const between = await statusBarMatching(/approve phase 2/, 30000);
    const phase1 = await phaseLensSaying(1, 'rolled back', 15000);
    await runCommand('PlanGate: Skip Phase');
    const after = await statusBarMatching(/approve phase 3/, 30000);
    const phase2 = await phaseLensSaying(2, 'skipped', 15000);
    const phase3 = (await phaseLensSaying(3, 'Approve & run', 15000)).texts;
    return { statusBefore: before, statusBetween: between, statusAfter: after, phase1: phase1.texts, phase2: phase2.texts, phase3 };
  });

  await paletteStep('set-api-key', async () => {
    await runCommand('PlanGate: Set Anthropic API Key');
    const box = await answerInputBox(report.fakeKey);
    const saved = await waitUntil('"API key saved; server restarted"', async () => {
      const shown = await notifications();
      return shown.find((n) => n.message.includes('API key saved')) || null;
    }, 60000, { permissions: false });
    // The restarted server finds the session again, still waiting for phase 3.
    await runCommand('PlanGate: Show Sessions');
    const listed = await pickRow(sessionId);
    return { ...box, notification: saved.message, sessionsAfterRestart: listed.rows };
  });

  // Phase 3 still waits, in the restarted server: Revise… asks for a note and sends the session
  // back to the model, which proposes a revised plan.
  await paletteStep('revise', async () => {
    const before = await statusBar();
    await runCommand('PlanGate: Revise');
    const box = await answerInputBox('e2e: cache per filter only, please');
    const after = await waitUntil('the session to leave "approve phase 3"', async () => {
      const text = await statusBar();
      return text && !/approve phase 3/.test(text) ? text : null;
    }, 30000);
    // The (scripted) model answers with a revised plan: the title offers Approve plan again.
    const title = (await phaseLensSaying(0, 'Approve plan', 30000)).texts;
    return { ...box, statusBefore: before, statusAfter: after, statusLater: await statusBar(), title };
  });

  await paletteStep('cancel-session', async () => {
    await runCommand('PlanGate: Cancel Session');
    const dialog = await pressDialogButton('Cancel Session');
    const after = await statusBarMatching(/cancelled/, 30000);
    const title = await phaseLensSaying(0, 'PlanGate: cancelled', 15000);
    return { dialog, statusAfter: after, title: title.texts };
  });

  // Nothing waits any more, nothing is paused: the palette no longer offers Approve Current
  // Phase or Resume Session (their `when` clauses), while it still lists the other commands.
  await paletteStep('approve-current-phase', async () => ({ rows: await paletteRows('PlanGate: ') }));
  await paletteStep('resume-session', async () => ({ rows: await paletteRows('PlanGate: Res') }));

  await paletteStep('restart-server', async () => {
    await runCommand('PlanGate: Restart Server');
    // The item shows only "PlanGate" (a spinner) while the server starts, then the session.
    const starting = await statusBarMatching(/^PlanGate$/, 15000);
    const after = await statusBarMatching(/PlanGate: cancelled/, 60000);
    await runCommand('PlanGate: Show Sessions');
    const listed = await pickRow(sessionId);
    return { statusStarting: starting, statusAfter: after, sessionsAfterRestart: listed.rows };
  });
}

/**
 * Makes the open editor `name` active by clicking its tab. (Quick Open would open a second copy
 * in the plan's group and hide the plan, so that Show Plan opens it in yet another group.)
 */
async function focusTab(name) {
  await page.locator('.tabs-container .tab', { hasText: name }).first().click({ timeout: budget(10000) });
  await waitUntil(`${name} as the active editor`, async () => (await activeTab()).includes(name), 10000);
}

/**
 * Scrolls the plan to phase `n`'s heading (Go to Symbol in Editor), so that its lens is rendered:
 * the plan is longer than the editor and only visible lines have lenses in the DOM.
 */
async function revealPhase(n) {
  if (n === 0) {
    // The title is the first line; the plan has the focus (the commands give it back to it).
    await page.keyboard.press('Control+Home');
    await sleep(500);
    return;
  }
  await page.keyboard.press('Control+Shift+O');
  const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
  await input.waitFor({ state: 'visible', timeout: budget(10000) });
  await input.fill(`@Phase ${n}:`);
  await page.locator(`${QUICK_INPUT} .monaco-list-row`, { hasText: `Phase ${n}:` }).first().waitFor({ timeout: budget(10000) });
  await input.press('Enter');
  await sleep(500); // the lenses of the lines scrolled in are rendered
}

/** Phase `n`'s lens once one of its texts starts with `prefix` (scrolling the plan to it). */
async function phaseLensSaying(n, prefix, ms) {
  await revealPhase(n);
  return waitUntil(`phase ${n}'s lens to say ${prefix}`, async () => {
    const found = await phaseLens(n).catch(() => null);
    return found && found.texts.some((t) => t.startsWith(prefix)) ? found : null;
  }, ms);
}

/** A phase's status lens: `done`, or `done · 3 tests passed` since the lenses show test counts. */
function isDone(text) {
  return /^done\b/.test(text);
}

async function isPhase1Done() {
  const lens = await phaseLens(1).catch(() => null);
  return Boolean(lens && lens.texts.some(isDone));
}

/** The `applied` answers to the server's workspace/applyEdit requests, from the LSP trace. */
function applyEditResults(logs) {
  const results = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      // The log channel rolls over to `PlanGate Server.N.log` when it grows (or on restarts).
      else if (/^PlanGate Server(\.\d+)?\.log$/.test(entry.name)) {
        const text = fs.readFileSync(file, 'utf8');
        const pattern = /Sending response 'workspace\/applyEdit[^\n]*\n[^\n]*Result: \{\s*"applied": (true|false)(?:,\s*"failureReason": ("[^"]*"))?/g;
        for (const match of text.matchAll(pattern)) {
          results.push({ applied: match[1] === 'true', failureReason: match[2] ? JSON.parse(match[2]) : null });
        }
      }
    }
  };
  try {
    walk(logs);
  } catch (err) {
    log(`reading the LSP trace: ${err.message}`);
  }
  return results;
}

async function finish(code) {
  killAll();
  await Promise.all(children.map(({ child }) => waitForExit(child, 5000)));
  for (const { name } of children) {
    try {
      report[`${name}Log`] = fs.readFileSync(path.join(args.out, `${name}.log`), 'utf8').slice(-3000);
    } catch (_) {
      /* no log */
    }
  }
  if (tmpRoot) {
    // VS Code's own logs, output channels included (the extension's and the server's).
    try {
      fs.cpSync(path.join(tmpRoot, 'user-data', 'logs'), path.join(args.out, 'vscode-logs'), { recursive: true });
      report.applyEditResults = applyEditResults(path.join(args.out, 'vscode-logs'));
    } catch (err) {
      log(`no VS Code logs: ${err.message}`);
    }
  }
  if (tmpRoot && fs.existsSync(path.join(tmpRoot, 'state', 'plangate', 'logs'))) {
    fs.cpSync(path.join(tmpRoot, 'state', 'plangate', 'logs'), path.join(args.out, 'server-logs'), { recursive: true });
  }
  if (tmpRoot && process.env.PLANGATE_E2E_KEEP !== '1') {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
  report.seconds = (Date.now() - started) / 1000;
  const text = JSON.stringify(report, null, 2);
  fs.writeFileSync(path.join(args.out, 'report.json'), text);
  process.stdout.write(text + '\n');
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    report.errors.push(`killed by ${signal}`);
    finish(1);
  });
}

const watchdog = setTimeout(() => {
  report.errors.push(`watchdog: ${args.timeout + 30}s`);
  finish(1);
}, (args.timeout + 30) * 1000);

main()
  .then(() => finish(report.ok ? 0 : 1))
  .catch((err) => {
    report.errors.push(String(err && err.stack ? err.stack : err).slice(0, 3000));
    log(`FAILED: ${err && err.message}`);
    finish(1);
  })
  .finally(() => clearTimeout(watchdog));
