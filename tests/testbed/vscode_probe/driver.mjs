// Headless Chromium on code-server, driven by tests/testbed/vscode.py: one JSON request per stdin line,
// one JSON answer per stdout line ({"ok": true, "value": ...} or {"ok": false, "error": "..."}).
// Env: SSHSETUP_PLAYWRIGHT (path of playwright-core), SSHSETUP_CHROME_DIR (empty profile directory).
import fs from 'node:fs';
import readline from 'node:readline';
import path from 'node:path';

const { chromium } = await import(path.join(process.env.SSHSETUP_PLAYWRIGHT, 'index.mjs'));
const profile = process.env.SSHSETUP_CHROME_DIR;
const ctx = await chromium.launchPersistentContext(path.join(profile, 'udd'), {
  executablePath: process.env.SSHSETUP_CHROMIUM || '/usr/bin/chromium', headless: true,
  viewport: { width: 1400, height: 1300 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],   // nothing but loopback resolves
  env: { HOME: path.join(profile, 'home'), XDG_CONFIG_HOME: path.join(profile, 'home/.config'),
         XDG_CACHE_HOME: path.join(profile, 'home/.cache'), PATH: '/usr/bin:/bin' },
});
const page = ctx.pages()[0] || await ctx.newPage();
const QI = '.quick-input-widget';

async function rows() {
  const out = [];
  for (const r of await page.$$(`${QI} .quick-input-list .monaco-list-row`)) { out.push(await r.getAttribute('aria-label')); }
  return out;
}
async function clickRow(prefix, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    for (const r of await page.$$(`${QI} .quick-input-list .monaco-list-row`)) {
      const a = (await r.getAttribute('aria-label')) || '';
      if (a.startsWith(prefix)) { await r.click(); return a; }
    }
    if (Date.now() > end) { throw new Error(`no quick-pick row starting with ${JSON.stringify(prefix)}; rows: ${JSON.stringify(await rows())}`); }
    await page.waitForTimeout(100);
  }
}
async function inputState() {
  return page.evaluate((qi) => {
    const w = document.querySelector(qi);
    if (!w || w.style.display === 'none' || !w.offsetParent) { return null; }
    const q = (s) => { const e = w.querySelector(s); return e ? e.textContent : null; };
    const box = w.querySelector('input.input');
    return { title: q('.quick-input-title'), message: q('.quick-input-message'), value: box ? box.value : null,
             placeholder: box ? box.getAttribute('placeholder') : null,
             rows: [...w.querySelectorAll('.quick-input-list .monaco-list-row')].map(r => r.getAttribute('aria-label')) };
  }, QI);
}

const ops = {
  async open({ url }) {
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    await page.waitForSelector('.statusbar', { timeout: 60000 });
    return page.title();
  },
  async reload() {
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    await page.waitForSelector('.statusbar', { timeout: 60000 });
  },
  async press({ key }) { await page.keyboard.press(key); },
  async type({ text }) { await page.keyboard.type(text); },
  async palette({ command }) {
    await page.keyboard.press('F1');
    await page.waitForSelector(`${QI} input.input`, { state: 'visible' });
    await page.keyboard.type(command);
    return clickRow(command);
  },
  async pick({ prefix }) { return clickRow(prefix); },
  async rows() { return rows(); },
  async wait_input({ timeout = 15000 }) {
    const end = Date.now() + timeout;
    for (;;) {
      const s = await inputState();
      if (s) { return s; }
      if (Date.now() > end) { throw new Error('no quick input appeared'); }
      await page.waitForTimeout(100);
    }
  },
  async input_state() { return inputState(); },
  async answer({ text, pick }) {   // text null: accept what is there (the default); pick: click that row
    if (pick) { await clickRow(pick); await page.waitForTimeout(300); return; }
    if (text !== null && text !== undefined) {
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Backspace');
      await page.keyboard.type(text);
    }
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
  },
  async screenshot({ file }) { await page.mouse.move(1300, 500); await page.waitForTimeout(300); await page.screenshot({ path: file }); return file; },
  async terminal_text() {
    const active = await page.$$eval('.terminal-wrapper.active .xterm-rows > div', ds => ds.map(d => d.textContent));
    return active.length ? active : page.$$eval('.terminal.xterm .xterm-rows > div', ds => ds.map(d => d.textContent));
  },
  async wait({ ms }) { await page.waitForTimeout(ms); },
  async close() { await ctx.close(); },
};

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) { continue; }
  const req = JSON.parse(line);
  let res;
  try { res = { ok: true, value: (await ops[req.op](req)) ?? null }; } catch (err) { res = { ok: false, error: String(err && err.message || err) }; }
  process.stdout.write(JSON.stringify(res) + '\n');
  if (req.op === 'close') { break; }
}
process.exit(0);
