// 导入客户: 1 download the template, 2 choose a filled .xlsx, 3 check it (dry run: a
// table of the rows' problems), 4 import (a progress bar while the job runs), then the
// outcome with a link to the rejected rows as an .xlsx.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { showError, toast, saveBlob, spinner } from '../ui.js';

const POLL_MS = 1000;

function problemRows(problems) {
  return (problems || []).map((p) => {
    const m = /^(?:第\s*(\d+)\s*行|Row\s+(\d+))\s*[：:]\s*([\s\S]*)$/i.exec(p);
    return m ? { row: m[1] || m[2], text: m[3] } : { row: '', text: p };
  });
}

async function download(btn, path) {
  btn.disabled = true;
  try {
    const r = await api('GET', path, { blob: true });
    saveBlob(r.blob, r.filename || 'import.xlsx');
  } catch (err) { showError(err); } finally { btn.disabled = false; }
}

function outcome(job, { dry }) {
  const ok = dry ? Math.max(0, (job.total || 0) - (job.rejected || 0)) : job.inserted || 0;
  const rows = problemRows(job.problems);
  const errFile = job.error_file_url ? h('button', {
    type: 'button', class: 'btn btn-sm', 'data-testid': 'import-error-file',
    onclick: (e) => download(e.currentTarget, job.error_file_url.replace(/^\/api\/v1/, '')),
  }, icon('download'), t('import.error_file')) : null;
  return h('div', { class: 'import-outcome', 'data-testid': dry ? 'import-dry-result' : 'import-result' },
    h('div', { class: 'stat-row' },
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, t('import.total')), h('strong', { 'data-testid': 'import-total' }, String(job.total ?? 0))),
      h('div', { class: 'stat stat-ok' }, h('span', { class: 'stat-label' }, dry ? t('import.would_insert') : t('import.inserted')), h('strong', { 'data-testid': 'import-ok' }, String(ok))),
      h('div', { class: ['stat', job.rejected ? 'stat-bad' : null] }, h('span', { class: 'stat-label' }, t('import.rejected')), h('strong', { 'data-testid': 'import-rejected' }, String(job.rejected ?? 0)))),
    job.status === 'failed' || job.status === 'interrupted' ? h('div', { class: 'notice notice-warn' }, t(`import.status.${job.status}`), job.error ? `：${job.error}` : '') : null,
    rows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'problems-table', 'data-testid': 'import-problems' },
      h('thead', null, h('tr', null, h('th', { class: 'num' }, t('import.row')), h('th', null, t('import.problem')))),
      h('tbody', null, rows.map((r) => h('tr', { 'data-testid': 'import-problem-row' }, h('td', { class: 'num' }, r.row), h('td', null, r.text)))))) : null,
    job.rejected > rows.length ? h('p', { class: 'muted' }, t('import.more_problems', { n: job.rejected - rows.length })) : null,
    errFile ? h('div', { class: 'form-actions form-actions-inline' }, errFile) : null);
}

export async function customerImportPage(ctx) {
  ctx.setTitle(t('import.title'));
  ctx.setBack('#/customers');
  let file = null;
  let checked = null;

  const fileInput = h('input', { type: 'file', accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'data-testid': 'import-file', id: 'import-file', class: 'file-input' });
  const fileName = h('span', { class: 'file-name muted' }, t('import.no_file'));
  const checkBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'import-check', disabled: true }, t('import.check'));
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'import-start', disabled: true }, t('import.start'));
  const dryBox = h('div', { class: 'import-step-body' });
  const runBox = h('div', { class: 'import-step-body' });

  fileInput.addEventListener('change', () => {
    file = fileInput.files && fileInput.files[0];
    fileName.textContent = file ? file.name : t('import.no_file');
    checkBtn.disabled = !file;
    startBtn.disabled = true;
    checked = null;
    replace(dryBox);
    replace(runBox);
  });

  async function upload(dry) {
    const fd = new FormData();
    fd.append('file', file, file.name);
    return api('POST', '/customers/import', { form: fd, query: dry ? { dry_run: 'true' } : undefined });
  }

  checkBtn.addEventListener('click', async () => {
    if (!file) return;
    checkBtn.disabled = true;
    replace(dryBox, spinner());
    try {
      let job = await upload(true);
      while (job.status === 'running' && ctx.alive()) {
        replace(dryBox, progress(job));
        await new Promise((r) => setTimeout(r, POLL_MS));
        job = await api('GET', `/imports/${job.id}`);
      }
      if (!ctx.alive()) return;
      checked = job;
      replace(dryBox, outcome(job, { dry: true }));
      const ok = Math.max(0, (job.total || 0) - (job.rejected || 0));
      startBtn.disabled = job.status !== 'done' || ok === 0;
    } catch (err) {
      replace(dryBox, h('div', { class: 'notice notice-warn', 'data-testid': 'import-file-error' }, err.message));
      showError(err);
    } finally { checkBtn.disabled = !file; }
  });

  function progress(job) {
    const pct = job.total ? Math.min(100, Math.round((job.processed || 0) * 100 / job.total)) : 0;
    return h('div', { class: 'progress-box', 'data-testid': 'import-progress' },
      h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) },
        h('div', { class: 'progress-bar', style: `width:${pct}%` })),
      h('div', { class: 'muted' }, t('import.progress', { done: job.processed || 0, total: job.total || 0, pct })));
  }

  startBtn.addEventListener('click', async () => {
    if (!file || !checked) return;
    startBtn.disabled = true;
    checkBtn.disabled = true;
    fileInput.disabled = true;
    replace(runBox, progress({ processed: 0, total: checked.total }));
    try {
      let job = await upload(false);
      while (job.status === 'running' && ctx.alive()) {
        replace(runBox, progress(job));
        await new Promise((r) => setTimeout(r, POLL_MS));
        job = await api('GET', `/imports/${job.id}`);
      }
      if (!ctx.alive()) return;
      replace(runBox, outcome(job, { dry: false }),
        h('div', { class: 'form-actions form-actions-inline' }, h('a', { class: 'btn btn-primary', href: '#/customers', 'data-testid': 'import-done' }, t('import.to_customers'))));
      if (job.status === 'done') toast(t('import.done', { n: job.inserted || 0 }), 'success');
    } catch (err) {
      replace(runBox, h('div', { class: 'notice notice-warn' }, err.message));
      showError(err);
      startBtn.disabled = false;
      checkBtn.disabled = false;
    } finally {
      fileInput.disabled = false;
    }
  });

  const tplBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'import-template', onclick: (e) => download(e.currentTarget, '/customers/import/template') }, icon('download'), t('import.template'));
  replace(ctx.main,
    h('ol', { class: 'import-steps' },
      h('li', { class: 'card import-step' },
        h('h3', { class: 'step-title' }, t('import.step_template')),
        h('p', { class: 'muted' }, t('import.template_text')), tplBtn),
      h('li', { class: 'card import-step' },
        h('h3', { class: 'step-title' }, t('import.step_file')),
        h('p', { class: 'muted' }, t('import.file_text')),
        h('div', { class: 'file-pick' },
          h('label', { class: 'btn', for: 'import-file' }, icon('upload'), t('import.choose')), fileInput, fileName),
        h('div', { class: 'form-actions form-actions-inline' }, checkBtn),
        dryBox),
      h('li', { class: 'card import-step' },
        h('h3', { class: 'step-title' }, t('import.step_run')),
        h('p', { class: 'muted' }, t('import.run_text')),
        h('div', { class: 'form-actions form-actions-inline' }, startBtn),
        runBox)));
}
