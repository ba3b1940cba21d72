#!/usr/bin/env node
// End-to-end in a real VS Code: code-server + headless Chromium, driven by playwright-core.
//
// Usage: node driver.js --cache DIR --python PY --out DIR [--vsix FILE] [--base-url URL]
//                       [--timeout SECONDS] [--workspace-only] [--keep-file-closed]
//
// Starts the scripted model server (unless --base-url) and code-server on 127.0.0.1 with a fresh
// user-data-dir and extensions-dir, installs the .vsix, opens a copy of the demo's sample backend,
// runs "PlanGate: Propose Plan…" from the command palette, approves the plan and phase 1 from the
// plan's code lenses (with app/db.py open beside the plan, unless --keep-file-closed), applies the
// phase's edits in the Refactor Preview, and waits for phase 1's lens to say done. Screenshots of every step go to --out. Prints one JSON report on stdout (also
// written to OUT/report.json); exit status 0 when every step passed.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..', '..');

function parseArgs(argv) {
  const args = { timeout: 240, workspaceOnly: false, keepFileClosed: false };
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
      const child = spawnLogged('model-server', args.python, [path.join(__dirname, 'model_server.py')], { cwd: REPO, env });
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

    await step('approve-phase-1', async () => {
      await clickLens(1, 'Approve & run');
    });

    // Phase 1 proposes its edits one by one; each opens the Refactor Preview.
    const applyButton = page.locator('.bulk-edit-panel .monaco-button', { hasText: 'Apply' }).first();
    const wanted = "priority TEXT NOT NULL DEFAULT 'normal'";
    const dbFile = path.join(workspace, 'app', 'db.py');
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

    await step('file-changed-on-disk', async () => {
      const text = await waitUntil(`${wanted} in app/db.py on disk`, async () => {
        const now = fs.readFileSync(dbFile, 'utf8');
        return now.includes(wanted) ? now : null;
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

    // The explorer view of the changed file, for the record.
    await step('changed-file', async () => {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: budget(10000) });
      await input.fill('app/db.py');
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'db.py' }).first().waitFor({ timeout: budget(10000) });
      await input.press('Enter');
      await page.locator('.tabs-container .tab.active', { hasText: 'db.py' }).first().waitFor({ timeout: budget(10000) });
      await sleep(500);
      report.dirtyTabs = await page.locator('.tabs-container .tab.dirty').allInnerTexts();
      return { dirtyTabs: report.dirtyTabs };
    });
    report.ok = true;
  } finally {
    report.notificationsAtEnd = page ? await notifications().catch(() => []) : [];
    await browser.close().catch(() => {});
  }
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
      else if (entry.name === 'PlanGate Server.log') {
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
