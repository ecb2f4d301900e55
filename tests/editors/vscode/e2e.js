// Drives code-server in headless Chromium (playwright-core) against the safemig extension.
// Started by ./run, which sets URL (code-server with the workspace), WORKSPACE, SHOTS (screenshot
// directory) and CHROMIUM. Each step is an assertion; a failed step gets a fail-<step>.png and the
// test goes on where the next step does not depend on it. Exit status 1 if any step failed.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const URL = mustEnv('URL');
const SHOTS = mustEnv('SHOTS');
const CHROMIUM = mustEnv('CHROMIUM');
const WORKSPACE = mustEnv('WORKSPACE');
const FILE = '0003_unique_user_email.sql';
const RULE = 'create-index-blocking';
const LINE2_BEFORE = 'CREATE INDEX users_email_idx ON users (email);';
const LINE2_AFTER = 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);';
const FIX_TITLE = 'Use CREATE INDEX CONCURRENTLY';
const TARGET_FIRST_DIAGNOSTIC_MS = 1000;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`e2e.js: ${name} is not set (run tests/editors/vscode/run)`);
    process.exit(2);
  }
  return v;
}

const results = [];
const timings = {};
let page;

function log(msg) {
  console.log(`vscode-e2e: ${msg}`);
}

async function shot(name) {
  try {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  } catch (e) {
    log(`(screenshot ${name} failed: ${e.message})`);
  }
}

/** Runs one assertion step; returns true if it passed. */
async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`ok   ${name} (${Date.now() - t} ms)`);
    return true;
  } catch (e) {
    results.push({ name, ok: false, error: e.message });
    log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
    await shot(`fail-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    return false;
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const norm = (s) => (s || '').replace(/\u00a0/g, ' ').replace(/[\u200b-\u200d\ufeff]/g, '');

/** The editor's visible lines, top to bottom, as text. */
async function editorLines() {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor') || document.querySelector('.monaco-editor');
    if (!editor) return [];
    const lines = [...editor.querySelectorAll('.view-lines .view-line')];
    return lines
      .map((el) => ({ top: parseFloat(el.style.top || '0'), text: el.textContent }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text);
  }).then((lines) => lines.map(norm));
}

/** The bounding box of the visible view line whose text contains `needle`. */
async function lineBox(needle) {
  const lines = page.locator('.editor-instance .monaco-editor .view-lines .view-line');
  const n = await lines.count();
  for (let i = 0; i < n; i++) {
    const el = lines.nth(i);
    if (norm(await el.textContent()).includes(needle)) return el.boundingBox();
  }
  return null;
}

/** The box of a squiggle on line 2 (CREATE INDEX users_email_idx …), or null. Measured afresh on
 * every call: a code lens above line 1 can appear late and push the lines down. */
async function squiggleOnLine2() {
  const line = await lineBox('CREATE INDEX users_email_idx');
  if (!line) return null;
  const all = page.locator('.editor-instance .monaco-editor :is(.squiggly-error, .squiggly-warning, .squiggly-info)');
  const n = await all.count();
  for (let i = 0; i < n; i++) {
    const b = await all.nth(i).boundingBox();
    if (b && Math.abs(b.y + b.height / 2 - (line.y + line.height / 2)) < line.height / 2) return b;
  }
  return null;
}

/** Runs a command from the Command Palette by its title. */
async function runCommand(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** PIDs of `safemig lsp` processes running in WORKSPACE: the servers of this code-server only. */
function serverPids() {
  const pids = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]) === 'safemig' && argv[1] === 'lsp' && fs.readlinkSync(`/proc/${pid}/cwd`) === WORKSPACE) {
        pids.push(Number(pid));
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

async function waitFor(what, fn, timeoutMs, intervalMs = 25) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function main() {
  const t0 = Date.now();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await run();
  } finally {
    await browser.close().catch(() => {});
  }
  timings.browserTestMs = Date.now() - t0;
}

async function run() {
  const ok = await step('workbench loads', async () => {
    await page.goto(URL);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
  });
  if (!ok) return;
  await shot('0-workbench');

  // The extension activates on workspaceContains:**/safemig.toml: its status bar item appears.
  await step('extension activates (status bar item appears)', async () => {
    await page.locator('.statusbar-item', { hasText: 'safemig' }).first().waitFor({ state: 'visible', timeout: 60_000 });
  });
  // The server analyses every migration of the workspace, open or not: wait until its first
  // diagnostics reach the Problems counter, so that the next step times opening a file with the
  // server running (the time to start the server is printed separately).
  await step('the server publishes the workspace diagnostics', async () => {
    const activatedAt = Date.now();
    const problems = page.locator('[id="status.problems"]');
    await waitFor('a non-zero problems count in the status bar', async () => {
      const label = norm(await problems.textContent({ timeout: 1000 }));
      return /[1-9]/.test(label);
    }, 60_000, 20);
    timings.activationToWorkspaceDiagnosticsMs = Date.now() - activatedAt;
    log(`extension activated → workspace diagnostics published: ${timings.activationToWorkspaceDiagnosticsMs} ms (server start + first analysis)`);
  });

  const opened = await step(`open ${FILE} from the Explorer`, async () => {
    const row = (name) => page.locator('.explorer-folders-view .monaco-list-row').filter({ hasText: new RegExp(`^${name.replace(/\./g, '\\.')}`) }).first();
    const file = row(FILE);
    if (!(await file.isVisible())) {
      await row('migrations').click();
    }
    await file.waitFor({ state: 'visible', timeout: 15_000 });
    const openedAt = Date.now();
    await file.click();
    await page.waitForSelector(`.tab[aria-label*="${FILE}"]`);
    timings.openToTabMs = Date.now() - openedAt;
    await page.locator('.editor-instance .monaco-editor .view-line', { hasText: 'users_email_idx' }).first().waitFor();
    timings.openToTextMs = Date.now() - openedAt;
    // Time from opening the file to its first diagnostic (a squiggle of any severity).
    await waitFor(
      'the first squiggle',
      async () => (await page.locator('.editor-instance .monaco-editor :is(.squiggly-error, .squiggly-warning, .squiggly-info)').count()) > 0,
      30_000,
      10,
    );
    timings.firstDiagnosticMs = Date.now() - openedAt;
    timings.textToFirstDiagnosticMs = timings.firstDiagnosticMs - timings.openToTextMs;
    log(`time from opening the file to the first diagnostic: ${timings.firstDiagnosticMs} ms (target ${TARGET_FIRST_DIAGNOSTIC_MS} ms; tab after ${timings.openToTabMs} ms, text after ${timings.openToTextMs} ms, squiggle ${timings.textToFirstDiagnosticMs} ms after the text)`);
  });
  if (!opened) return;

  let squiggleBox;
  await step(`squiggle on line 2 (${RULE})`, async () => {
    const lines = await waitFor('the editor lines', async () => {
      const l = await editorLines();
      return l.length >= 2 ? l : null;
    }, 10_000);
    assert(lines[1] === LINE2_BEFORE, `line 2 reads ${JSON.stringify(lines[1])}, expected ${JSON.stringify(LINE2_BEFORE)}`);
    squiggleBox = await waitFor('a squiggle on line 2', squiggleOnLine2, 10_000);
    await shot('1-squiggle');
  });

  await step(`Problems panel lists ${RULE}`, async () => {
    await page.keyboard.press('Control+Shift+M');
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: RULE }).first();
    await row.waitFor({ timeout: 15_000 });
    const text = norm(await row.textContent());
    assert(/\[Ln 2, Col 1\]/.test(text), `the ${RULE} row is not at Ln 2, Col 1: ${text}`);
    log(`problems row: ${text}`);
    await shot('2-problems');
  });

  await step('hover on the statement shows the lock and the finding', async () => {
    assert(squiggleBox, 'no squiggle on line 2 to hover');
    squiggleBox = (await squiggleOnLine2()) || squiggleBox;
    // Focus the editor, then hover the squiggle (its div lies under the text layer: use coordinates).
    await page.mouse.click(squiggleBox.x + squiggleBox.width / 2, squiggleBox.y + squiggleBox.height / 2);
    await page.mouse.move(squiggleBox.x + 5, squiggleBox.y + squiggleBox.height / 2);
    await page.mouse.move(squiggleBox.x + squiggleBox.width / 2, squiggleBox.y + squiggleBox.height / 2, { steps: 5 });
    const hover = page.locator('.monaco-hover-content').filter({ hasText: 'Locks taken' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const text = norm(await page.locator('.monaco-hover').first().textContent());
    assert(text.includes('SHARE'), `the hover does not name the SHARE lock: ${text.slice(0, 300)}`);
    assert(text.includes(RULE), `the hover does not name ${RULE}: ${text.slice(0, 300)}`);
    await shot('3-hover');
    await page.keyboard.press('Escape');
  });

  await step('Explain Rule opens the rule documentation of the diagnostic under the cursor', async () => {
    const line = await lineBox('users_email_idx');
    assert(line, 'line 2 is not visible');
    await page.mouse.click(line.x + 2, line.y + line.height / 2);
    await page.keyboard.press('Home');
    const t = Date.now();
    await runCommand('safemig: Explain Rule');
    // A markdown preview of the rule's documentation, titled after the rule. (Its text is in a
    // webview that code-server takes seconds to render: the tab title is what is checked.)
    await page.locator('.tab', { hasText: `Preview ${RULE}.md` }).first().waitFor({ timeout: 15_000 });
    log(`explain: preview of ${RULE}.md open ${Date.now() - t} ms after the command`);
    await shot('4-explain-rule');
    // Back to the migration for the quick fix.
    await page.locator(`.tab[aria-label*="${FILE}"]`).first().click();
    await page.locator('.editor-instance .monaco-editor .view-line', { hasText: 'users_email_idx' }).first().waitFor();
  });

  let fixApplied = false;
  await step(`Quick Fix menu offers "${FIX_TITLE}…"`, async () => {
    const line = await lineBox('users_email_idx');
    assert(line, 'line 2 is not visible');
    // Cursor at the start of line 2, inside the diagnostic's range.
    await page.mouse.click(line.x + 2, line.y + line.height / 2);
    await page.keyboard.press('Home');
    await page.keyboard.press('Control+.');
    const widget = page.locator('.action-widget:not(.action-list-submenu-panel)').first();
    await widget.waitFor({ state: 'visible', timeout: 15_000 });
    const rows = widget.locator('.monaco-list-row');
    await rows.first().waitFor();
    const titles = (await rows.allTextContents()).map(norm);
    log(`quick fix menu: ${JSON.stringify(titles)}`);
    await shot('5-quick-fix-menu');
    assert(titles.some((t) => t.startsWith(FIX_TITLE)), `no action starting with "${FIX_TITLE}" among ${JSON.stringify(titles)}`);
    // Rows cannot be clicked (a pointer blocker lies over them): move the focus, then Enter.
    await waitFor(`the focus on "${FIX_TITLE}…"`, async () => {
      const focused = norm(await widget.locator('.monaco-list-row.focused').first().textContent({ timeout: 1000 }));
      if (focused.startsWith(FIX_TITLE)) return true;
      await page.keyboard.press('ArrowDown');
      return false;
    }, 5000, 50);
    await page.keyboard.press('Enter');
    fixApplied = true;
  });

  await step(`after the fix, line 2 reads "${LINE2_AFTER}"`, async () => {
    assert(fixApplied, 'the quick fix was not applied');
    const lines = await waitFor('the fixed line', async () => {
      const l = await editorLines();
      return l[1] === LINE2_AFTER ? l : null;
    }, 10_000).catch(async (e) => {
      throw new Error(`${e.message}; line 2 reads ${JSON.stringify((await editorLines())[1])}`);
    });
    log(`line 2: ${lines[1]}`);
    await shot('6-after-fix');
  });

  await step('status bar item shows safemig with a status from the server', async () => {
    const item = page.locator('.statusbar-item', { hasText: 'safemig' }).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    // Before the server's first safemig/status the item reads just "safemig" (with a spinner);
    // after it, "safemig: no database" (no database is configured here) or "safemig: 12/1".
    const text = await waitFor('a safemig/status', async () => {
      const t = norm(await item.textContent()).trim();
      return /safemig: (no database|connecting|unreachable|\d+\/\d+)/.test(t) ? t : null;
    }, 15_000).catch(async (e) => {
      throw new Error(`${e.message}; the item reads ${JSON.stringify(norm(await item.textContent()).trim())}`);
    });
    log(`status bar: ${JSON.stringify(text)}`);
    await page.locator('.part.statusbar').screenshot({ path: path.join(SHOTS, '7-status-bar.png') });
    await shot('7-status-bar-full');
  });

  await step('clicking the status bar item lists the migrations; choosing one opens it', async () => {
    await page.locator('.statusbar-item', { hasText: 'safemig' }).first().click();
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'create_users' }).first().waitFor({ timeout: 15_000 });
    const labels = (await rows.allTextContents()).map(norm);
    assert(labels.length >= 10, `expected the 10 migrations of examples/shop, got ${JSON.stringify(labels)}`);
    await shot('8-migration-status');
    await page.keyboard.type('rename_and_retype');
    await rows.filter({ hasText: 'rename_and_retype' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab[aria-label*="0005_rename_and_retype.sql"]').first().waitFor({ timeout: 10_000 });
    await page.locator(`.tab[aria-label*="${FILE}"]`).first().click();
  });

  await step('a crashed server is restarted (and only one runs)', async () => {
    const before = serverPids();
    assert(before.length === 1, `expected one safemig lsp in the workspace, found ${JSON.stringify(before)}`);
    process.kill(before[0], 'SIGKILL');
    const item = page.locator('.statusbar-item', { hasText: 'safemig' }).first();
    await waitFor('the status bar to say the server is restarting', async () => norm(await item.textContent()).includes('restarting'), 10_000, 20);
    await shot('9-restarting');
    const after = await waitFor('a new safemig lsp', async () => {
      const pids = serverPids().filter((p) => p !== before[0]);
      return pids.length > 0 ? pids : null;
    }, 15_000, 50);
    // The restarted server publishes again: the squiggles of the open file come back.
    await waitFor('the squiggles back after the restart', async () => (await page.locator('.editor-instance .monaco-editor :is(.squiggly-error, .squiggly-warning, .squiggly-info)').count()) > 0, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const running = serverPids();
    assert(running.length === 1, `expected exactly one safemig lsp after the restart, found ${JSON.stringify(running)}`);
    log(`server ${before[0]} killed; restarted as ${after.join(', ')}`);
  });

  await step('Restart Language Server twice in a row leaves one server', async () => {
    const before = serverPids();
    await runCommand('safemig: Restart Language Server');
    await runCommand('safemig: Restart Language Server');
    await waitFor('a new safemig lsp, and the old one gone', async () => {
      const pids = serverPids();
      return pids.length === 1 && !before.includes(pids[0]);
    }, 20_000, 50);
    await new Promise((r) => setTimeout(r, 1000));
    const running = serverPids();
    assert(running.length === 1, `expected exactly one safemig lsp, found ${JSON.stringify(running)}`);
    await page.locator('.editor-instance .monaco-editor :is(.squiggly-error, .squiggly-warning, .squiggly-info)').first().waitFor({ timeout: 15_000 });
  });
}

main()
  .catch((e) => {
    results.push({ name: 'browser session', ok: false, error: e.stack || e.message });
    log(`FAIL browser session: ${e.stack || e.message}`);
  })
  .finally(() => {
    const failed = results.filter((r) => !r.ok);
    fs.writeFileSync(path.join(SHOTS, 'result.json'), JSON.stringify({ results, timings }, null, 2));
    for (const f of failed) log(`failed assertion: ${f.name}: ${f.error}`);
    if (timings.firstDiagnosticMs !== undefined) {
      log(`first diagnostic ${timings.firstDiagnosticMs} ms after opening the file (target ${TARGET_FIRST_DIAGNOSTIC_MS} ms)`);
    }
    // The plain summary line CI reads.
    console.log(`vscode-e2e: ${results.length - failed.length} passed, ${failed.length} failed`);
    process.exit(failed.length === 0 ? 0 : 1);
  });
