// 系统维护 (system.view; changes need system.manage): the version and schema state with
// pending migrations, the backups (back up now with progress, download, upload-and-verify),
// and how many backups and how many days of logs are kept. Restoring is `crm restore` with
// the CRM stopped (docs/OPERATIONS.md), which the page says.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { field, toast, showError, formError, clearFieldErrors, showFieldErrors, fmtTime, emptyState } from '../ui.js';

function size(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(n / 1024))} KiB`;
}

function row(label, value, testid) {
  return h('div', { class: 'sys-row' }, h('span', { class: 'sys-label muted' }, label), h('span', { class: 'sys-value', 'data-testid': testid }, value));
}

function infoCard(info) {
  const pending = info.pending_migrations || [];
  return h('section', { class: 'card', 'data-testid': 'system-info' },
    h('h3', { class: 'section-title section-title-first' }, t('system.section_version')),
    row(t('system.version'), info.version, 'system-version'),
    row(t('system.database'), info.database, 'system-database'),
    row(t('system.schema'), t('system.schema_value', { db: info.schema_version, binary: info.binary_schema_version }), 'system-schema'),
    row(t('system.started'), fmtTime(info.started_at)),
    row(t('system.backup_dir'), info.backup_dir),
    info.schema_too_new ? h('p', { class: 'form-error', role: 'alert' }, t('system.too_new')) : null,
    h('div', { class: 'sys-row' }, h('span', { class: 'sys-label muted' }, t('system.pending')),
      pending.length === 0
        ? h('span', { class: 'sys-value', 'data-testid': 'system-pending' }, t('system.none_pending'))
        : h('ul', { class: 'sys-value', 'data-testid': 'system-pending' }, pending.map((m) => h('li', null, `${String(m.version).padStart(5, '0')} ${m.name}`)))),
    h('p', { class: 'muted field-hint' }, t('system.upgrade_hint')));
}

function progressBox(p) {
  const pct = p.total ? Math.min(100, Math.round((p.done || 0) * 100 / p.total)) : 0;
  if (p.running) {
    return h('div', { class: 'progress-box', 'data-testid': 'backup-progress' },
      h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) },
        h('div', { class: 'progress-bar', style: `width:${pct}%` })),
      h('div', { class: 'muted' }, t('system.backup_running', { table: p.table || '…', done: p.done || 0, total: p.total || 0, pct })));
  }
  if (!p.started_at) return null;
  if (p.error) return h('p', { class: 'form-error', role: 'alert', 'data-testid': 'backup-progress' }, t('system.backup_failed', { error: p.error }));
  return h('p', { class: 'muted', 'data-testid': 'backup-progress' }, t('system.backup_done', { file: p.file, time: fmtTime(p.finished_at) }));
}

function backupList(items, manage) {
  if (!items.length) return emptyState(t('system.no_backups'));
  return h('ul', { class: 'sys-list', 'data-testid': 'backup-list' }, items.map((f) => h('li', { class: 'sys-item', 'data-testid': 'backup-item' },
    h('div', { class: 'sys-item-main' },
      h('div', { class: 'sys-item-name mono' }, f.name),
      h('div', { class: 'muted' }, `${t('system.kind.' + f.kind)} · ${size(f.size)} · ${fmtTime(f.created_at)}`)),
    manage ? h('a', { class: 'btn btn-text', href: `/api/v1/system/backups/${encodeURIComponent(f.name)}`, download: f.name, 'data-testid': 'backup-download' }, t('system.download')) : null)));
}

export async function systemPage(ctx) {
  ctx.setTitle(t('nav.system'));
  const manage = can('system.manage');
  const [info, list, settings] = await Promise.all([api('GET', '/system/info'), api('GET', '/system/backups'), api('GET', '/system/settings')]);
  if (!ctx.alive()) return;

  const progressSlot = h('div', null, progressBox(list.progress));
  const listSlot = h('div', null, backupList(list.items, manage));
  let timer = null;
  ctx.onCleanup(() => clearTimeout(timer));
  async function refresh() {
    const l = await api('GET', '/system/backups');
    if (!ctx.alive()) return;
    replace(progressSlot, progressBox(l.progress));
    replace(listSlot, backupList(l.items, manage));
    if (l.progress.running) timer = setTimeout(() => refresh().catch(showError), 1000);
    else backupBtn.disabled = false;
  }

  const backupBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'backup-now', disabled: list.progress.running || null }, t('system.backup_now'));
  backupBtn.addEventListener('click', async () => {
    backupBtn.disabled = true;
    try {
      await api('POST', '/system/backups');
      await refresh();
    } catch (err) { backupBtn.disabled = false; showError(err); }
  });
  const fileInput = h('input', { type: 'file', accept: '.crmbak', 'data-testid': 'backup-file', id: 'f-backup-file' });
  const uploadBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'backup-upload' }, t('system.upload'));
  const uploadNote = h('div', { class: 'muted', 'data-testid': 'upload-result', role: 'status' });
  uploadBtn.addEventListener('click', async () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) { fileInput.focus(); return; }
    uploadBtn.disabled = true;
    uploadNote.textContent = t('system.verifying');
    try {
      // The archive itself is the body (opts.form passes a Blob through as it is).
      const r = await api('POST', '/system/backups/upload', { form: file });
      uploadNote.textContent = t('system.uploaded', { file: r.file.name, rows: r.rows, tables: r.tables });
      toast(t('system.uploaded_short'), 'success');
      await refresh();
    } catch (err) {
      uploadNote.textContent = err.message || String(err);
    } finally { uploadBtn.disabled = false; }
  });
  if (list.progress.running) timer = setTimeout(() => refresh().catch(showError), 1000);

  const backups = h('section', { class: 'card', 'data-testid': 'system-backups' },
    h('h3', { class: 'section-title section-title-first' }, t('system.section_backups')),
    manage ? h('div', { class: 'sys-actions' }, backupBtn) : null,
    progressSlot,
    listSlot,
    manage ? h('div', { class: 'sys-upload' },
      h('label', { class: 'field-label', for: 'f-backup-file' }, t('system.upload_label')), fileInput, uploadBtn, uploadNote) : null,
    h('p', { class: 'muted field-hint' }, t('system.restore_hint')));

  replace(ctx.main, infoCard(info), backups, settingsForm(ctx, settings, manage));
}

function settingsForm(ctx, s, manage) {
  const num = (v, max) => h('input', { type: 'number', min: '0', max: String(max), step: '1', inputmode: 'numeric', value: String(v ?? 0), disabled: !manage || null });
  const inputs = {
    backup_keep: num(s.backup_keep, 1000),
    operation_log_days: num(s.operation_log_days, 3650),
    login_log_days: num(s.login_log_days, 3650),
  };
  const saveBtn = manage ? h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.save')) : null;
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'retention-form' },
    h('h3', { class: 'section-title section-title-first' }, t('system.section_retention')),
    h('div', { class: 'form-grid' },
      field('backup_keep', t('system.backup_keep'), inputs.backup_keep, { hint: s.backup_keep_default ? t('system.backup_keep_default') : t('system.backup_keep_hint') }),
      field('operation_log_days', t('system.operation_log_days'), inputs.operation_log_days, { hint: t('system.operation_log_hint') }),
      field('login_log_days', t('system.login_log_days'), inputs.login_log_days, { hint: t('system.zero_forever') })),
    s.updated_at ? h('p', { class: 'muted form-intro' }, t('rules.updated', { time: fmtTime(s.updated_at) })) : null,
    h('div', { class: 'form-error', role: 'alert' }),
    saveBtn ? h('div', { class: 'form-actions' }, saveBtn) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const bad = {};
    const body = {};
    for (const [k, input] of Object.entries(inputs)) {
      const v = Number(input.value);
      if (input.value === '' || !Number.isInteger(v) || v < 0 || v > Number(input.max)) bad[k] = t('rules.whole_number', { max: input.max });
      body[k] = v;
    }
    if (Object.keys(bad).length) { showFieldErrors(form, bad); return; }
    saveBtn.disabled = true;
    try {
      await api('PATCH', '/system/settings', { body });
      toast(t('form.saved'), 'success');
      ctx.rerender();
    } catch (err) { formError(form, err); } finally { saveBtn.disabled = false; }
  });
  return form;
}
