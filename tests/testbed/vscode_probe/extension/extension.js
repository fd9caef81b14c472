// sshsetup test probe (tests/testbed/vscode.py). Talks to the test through files in $SSHSETUP_PROBE_DIR:
// the test writes req-<pid>-<n>.json ({"op": ...}), the probe whose extension host is <pid> answers
// res-<pid>-<n>.json; task process starts and ends go to events.jsonl, each with its host's pid.
// Requests are addressed by pid because a reload leaves the old extension host running (code-server keeps a
// disconnected window's host for its reconnection grace time): it would take requests it can no longer answer.
// Nothing here reaches the network.
'use strict';
const vscode = require('vscode');
const fs = require('fs');
const path = require('path');

const dir = process.env.SSHSETUP_PROBE_DIR;
const mine = `req-${process.pid}-`;

function write(name, obj) {
  const tmp = path.join(dir, '.' + name + '.tmp');
  fs.writeFileSync(tmp, JSON.stringify(obj, null, 1));
  fs.renameSync(tmp, path.join(dir, name));
}

function event(obj) {
  fs.appendFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ t: Date.now(), host: process.pid, ...obj }) + '\n');
}

function plain(v) { return v === undefined ? null : JSON.parse(JSON.stringify(v)); }

function settings(keys) {
  const out = {};
  for (const key of keys) {
    const dot = key.lastIndexOf('.');
    const c = vscode.workspace.getConfiguration(key.slice(0, dot));
    const name = key.slice(dot + 1);
    const i = c.inspect(name);
    const eff = c.get(name);
    out[key] = {
      user: plain(i && i.globalValue), workspace: plain(i && i.workspaceValue),
      default: plain(i && i.defaultValue), effective: plain(eff),
      type: eff === null ? 'null' : Array.isArray(eff) ? 'array' : typeof eff,
    };
  }
  return out;
}

function describe(t) {
  const e = t.execution || {};
  const d = { name: t.name, source: t.source, definition: plain(t.definition), detail: t.detail === undefined ? null : t.detail,
              group: t.group ? t.group.id : null, scope: typeof t.scope === 'object' ? 'folder' : t.scope };
  if (e instanceof vscode.ProcessExecution) {
    Object.assign(d, { kind: 'process', command: e.process, args: e.args, cwd: (e.options && e.options.cwd) || null });
  } else if (e instanceof vscode.ShellExecution) {
    Object.assign(d, { kind: 'shell', command: e.command === undefined ? e.commandLine : e.command, args: e.args || null,
                       cwd: (e.options && e.options.cwd) || null });
  } else {
    d.kind = e.constructor ? e.constructor.name : typeof e;
  }
  return d;
}

async function diagnostics(files, waitMs) {
  const uris = files.map(f => vscode.Uri.file(f));
  // the JSON language server validates what is shown in an editor (a document only opened gets nothing)
  for (const u of uris) {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(u), { preview: false });
  }
  await new Promise(r => setTimeout(r, waitMs));
  return uris.map(u => ({
    file: u.fsPath,
    diagnostics: vscode.languages.getDiagnostics(u).map(d => ({
      line: d.range.start.line + 1, severity: ['error', 'warning', 'info', 'hint'][d.severity],
      message: d.message, source: d.source || null, code: plain(typeof d.code === 'object' ? d.code.value : d.code) })),
  }));
}

async function handle(req) {
  switch (req.op) {
    case 'settings': return settings(req.keys);
    case 'tasks': return (await vscode.tasks.fetchTasks()).map(describe);
    case 'diagnostics': return diagnostics(req.files, req.wait_ms || 3000);
    case 'open': {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(req.file));
      await vscode.window.showTextDocument(doc, { preview: false });
      return { active: vscode.window.activeTextEditor ? vscode.window.activeTextEditor.document.uri.fsPath : null };
    }
    case 'run': {
      const task = (await vscode.tasks.fetchTasks()).find(t => t.name === req.label);
      if (!task) { throw new Error('no task labelled ' + JSON.stringify(req.label)); }
      // resolves once the inputs are answered (the test answers them in the browser) and the task started
      vscode.tasks.executeTask(task).then(() => event({ executed: task.name }), err => event({ failed: task.name, error: String(err) }));
      return { queued: task.name };
    }
    case 'command': return plain(await vscode.commands.executeCommand(req.command, ...(req.args || [])));
    default: throw new Error('unknown op ' + req.op);
  }
}

let busy = false;
async function poll() {
  if (busy) { return; }
  busy = true;
  try {
    for (const f of fs.readdirSync(dir).filter(n => n.startsWith(mine) && /^req-\d+-\d+\.json$/.test(n)).sort()) {
      const p = path.join(dir, f);
      const req = JSON.parse(fs.readFileSync(p, 'utf8'));
      fs.unlinkSync(p);
      const res = f.replace('req-', 'res-');
      try { write(res, { ok: true, value: await handle(req) }); } catch (err) { write(res, { ok: false, error: String(err && err.stack || err) }); }
    }
  } finally { busy = false; }
}

exports.activate = (ctx) => {
  if (!dir) { return; }
  ctx.subscriptions.push(vscode.tasks.onDidStartTaskProcess(e => event({ start: e.execution.task.name, pid: e.processId })));
  ctx.subscriptions.push(vscode.tasks.onDidEndTaskProcess(e => event({ end: e.execution.task.name, exitCode: e.exitCode === undefined ? null : e.exitCode })));
  const timer = setInterval(() => { poll().catch(err => event({ probeError: String(err) })); }, 100);
  ctx.subscriptions.push({ dispose: () => clearInterval(timer) });
  write('ready.json', { vscode: vscode.version, pid: process.pid });
};
exports.deactivate = () => {};
