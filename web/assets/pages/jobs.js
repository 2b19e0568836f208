// 定时任务 (job.view; changes need job.manage): every scheduled job with its schedule,
// enabled state, next run and last run; 修改 (schedule, enabled), 立即运行 (then the
// run is followed until it ends), 运行记录 (the history). Below, 群机器人 (setting.view;
// changes need setting.manage): the custom group robot of each sales team, which
// receives the team's daily and weekly summaries. Secrets are write-only.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { toast, showError, fmtTime, formModal, field, formError, confirmDialog, chip, emptyState } from '../ui.js';

const OUTCOME_CLASS = { ok: 'chip-status-deal', failed: 'chip-status-0 chip-failed', running: 'chip-status-intent', skipped: 'chip-status-lost' };

function outcomeChip(run) {
  if (!run) return h('span', { class: 'muted', 'data-testid': 'job-outcome', 'data-outcome': '' }, t('jobs.never_run'));
  return h('span', { class: ['chip', OUTCOME_CLASS[run.outcome] || ''], 'data-testid': 'job-outcome', 'data-outcome': run.outcome },
    t(`jobs.outcome.${run.outcome}`));
}

// result says what a run did: its counts with localized names when it has
// any (known ones first), else its one-line summary.
function result(run) {
  const counts = Object.entries(run.counts || {});
  if (!counts.length) return run.summary || '';
  return counts.map(([k, v]) => {
    const key = `jobs.count.${k}`;
    const label = t(key);
    return `${label === key ? k : label} ${v}`;
  }).join(' · ');
}

function runLine(run) {
  return h('li', { class: 'job-run', 'data-testid': 'job-run', 'data-id': String(run.id), 'data-outcome': run.outcome },
    h('div', { class: 'job-run-head' }, outcomeChip(run), ' ',
      h('span', { class: 'muted' }, fmtTime(run.started_at)), ' ',
      h('span', { class: 'muted' }, t(`jobs.origin.${run.origin}`), run.started_by_name ? ` · ${run.started_by_name}` : '')),
    result(run) ? h('div', { class: 'job-run-summary', 'data-testid': 'job-run-summary', title: run.summary }, result(run)) : null,
    run.error ? h('pre', { class: 'job-run-error', 'data-testid': 'job-run-error' }, run.error.split('\n')[0]) : null);
}

// waitForRun polls the history until the run ends (or the page goes away).
async function waitForRun(ctx, name, id) {
  for (let i = 0; i < 600 && ctx.alive(); i++) {
    const r = await api('GET', `/jobs/${encodeURIComponent(name)}/runs`, { query: { page_size: 5 } });
    const run = (r.items || []).find((x) => x.id === id);
    if (run && run.outcome !== 'running') return run;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return null;
}

function editJob(ctx, job) {
  const schedule = h('input', { type: 'text', value: job.schedule, autocomplete: 'off', spellcheck: 'false', maxlength: '100' });
  const enabled = h('input', { type: 'checkbox', checked: job.enabled, id: 'f-enabled', 'data-testid': 'field-enabled' });
  formModal({
    title: t('jobs.edit_title', { name: t(`jobs.name.${job.name}`) }),
    testid: 'job-form',
    intro: h('p', { class: 'muted form-intro' }, t('jobs.schedule_help', { def: job.default_schedule })),
    fields: [
      field('schedule', t('jobs.schedule'), schedule, { required: true, wide: true }),
      h('div', { class: 'field field-wide', 'data-field': 'enabled' },
        h('label', { class: 'check' }, enabled, h('span', { class: 'check-text' }, t('jobs.enabled'))),
        h('div', { class: 'field-error', 'data-error-for': 'enabled', role: 'alert' })),
    ],
    submit: async (form) => {
      try {
        await api('PATCH', `/jobs/${encodeURIComponent(job.name)}`, { body: { schedule: schedule.value, enabled: enabled.checked } });
        toast(t('form.saved'), 'success');
        ctx.rerender();
        return true;
      } catch (err) { formError(form, err); return false; }
    },
  });
}

function jobCard(ctx, job) {
  const manage = can('job.manage');
  const history = h('ul', { class: 'job-runs', 'data-testid': 'job-runs', hidden: true });
  const toggle = h('button', { type: 'button', class: 'btn btn-text', 'data-testid': 'job-history', 'aria-expanded': 'false' }, t('jobs.history'));
  toggle.addEventListener('click', async () => {
    if (!history.hidden) { history.hidden = true; toggle.setAttribute('aria-expanded', 'false'); return; }
    try {
      const r = await api('GET', `/jobs/${encodeURIComponent(job.name)}/runs`, { query: { page_size: 20 } });
      replace(history, ...(r.items.length ? r.items.map(runLine) : [h('li', { class: 'muted' }, t('jobs.never_run'))]));
      history.hidden = false;
      toggle.setAttribute('aria-expanded', 'true');
    } catch (err) { showError(err); }
  });
  const runBtn = manage ? h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'job-run-now', disabled: job.running }, t('jobs.run_now')) : null;
  if (runBtn) {
    runBtn.addEventListener('click', async () => {
      runBtn.disabled = true;
      try {
        const run = await api('POST', `/jobs/${encodeURIComponent(job.name)}/run`);
        toast(t('jobs.started'), 'info');
        const done = await waitForRun(ctx, job.name, run.id);
        if (!ctx.alive()) return;
        if (done) toast(t(`jobs.finished.${done.outcome === 'ok' ? 'ok' : 'failed'}`), done.outcome === 'ok' ? 'success' : 'error');
        ctx.rerender();
      } catch (err) { showError(err); runBtn.disabled = false; }
    });
  }
  const last = job.last_run;
  return h('li', { class: 'card job-card', 'data-testid': 'job-row', 'data-name': job.name, 'data-enabled': String(job.enabled),
    'data-last-run': last ? String(last.id) : '' },
    h('div', { class: 'job-head' },
      h('h3', { class: 'job-title', 'data-testid': 'job-title' }, t(`jobs.name.${job.name}`)),
      job.enabled ? chip(t('jobs.on'), 'chip-status-deal') : chip(t('jobs.off'), 'chip-status-lost')),
    h('p', { class: 'muted job-desc' }, t(`jobs.desc.${job.name}`)),
    h('dl', { class: 'job-facts' },
      h('dt', null, t('jobs.schedule')), h('dd', null, h('code', { 'data-testid': 'job-schedule' }, job.schedule)),
      h('dt', null, t('jobs.next_run')), h('dd', { 'data-testid': 'job-next' }, job.next_run_at ? fmtTime(job.next_run_at) : '—'),
      h('dt', null, t('jobs.last_run')), h('dd', null, outcomeChip(last), last ? h('span', { class: 'muted' }, ' ', fmtTime(last.started_at)) : null),
      last && result(last) ? [h('dt', null, t('jobs.summary')), h('dd', { 'data-testid': 'job-summary', title: last.summary }, result(last))] : null),
    h('div', { class: 'job-actions' },
      runBtn,
      manage ? h('button', { type: 'button', class: 'btn', 'data-testid': 'job-edit', onclick: () => editJob(ctx, job) }, t('common.edit')) : null,
      toggle),
    history);
}

function editRobot(ctx, dept, robot) {
  const name = h('input', { type: 'text', value: robot ? robot.name : '', maxlength: '50' });
  const webhook = h('input', { type: 'url', value: '', maxlength: '500', placeholder: robot ? robot.webhook : 'https://oapi.dingtalk.com/robot/send?access_token=…', autocomplete: 'off' });
  const secret = h('input', { type: 'password', value: '', maxlength: '200', autocomplete: 'new-password', placeholder: robot && robot.secret.set ? t('robots.secret_keep', { masked: robot.secret.masked }) : 'SEC…' });
  const enabled = h('input', { type: 'checkbox', checked: robot ? robot.enabled : true, id: 'f-enabled', 'data-testid': 'field-enabled' });
  formModal({
    title: t('robots.edit_title', { dept: dept.name }),
    testid: 'robot-form',
    intro: h('p', { class: 'muted form-intro' }, t('robots.help')),
    fields: [
      field('name', t('robots.name'), name, { wide: true }),
      field('webhook', t('robots.webhook'), webhook, { required: !robot, wide: true, hint: robot ? t('robots.webhook_keep') : null }),
      field('secret', t('robots.secret'), secret, { wide: true, hint: t('robots.secret_hint') }),
      h('div', { class: 'field field-wide', 'data-field': 'enabled' },
        h('label', { class: 'check' }, enabled, h('span', { class: 'check-text' }, t('robots.enabled')))),
    ],
    submit: async (form) => {
      const body = { name: name.value, enabled: enabled.checked };
      if (webhook.value.trim() || !robot) body.webhook = webhook.value;
      if (secret.value) body.secret = secret.value;
      try {
        await api('PUT', `/robots/${dept.id}`, { body });
        toast(t('form.saved'), 'success');
        ctx.rerender();
        return true;
      } catch (err) { formError(form, err); return false; }
    },
  });
}

async function robotSection(ctx) {
  const [robots, depts] = await Promise.all([api('GET', '/robots'), api('GET', '/departments')]);
  const byDept = new Map((robots.items || []).map((r) => [r.department_id, r]));
  // The teams: departments below the top, as in the weekly summary.
  const roots = new Set(depts.items.filter((d) => !d.parent_id).map((d) => d.id));
  const teams = depts.items.filter((d) => roots.has(d.parent_id) || byDept.has(d.id));
  const manage = can('setting.manage');
  const rows = teams.map((d) => {
    const r = byDept.get(d.id);
    const test = async (btn) => {
      btn.disabled = true;
      try {
        const res = await api('POST', `/robots/${d.id}/test`);
        if (res.ok) toast(t('robots.test_ok'), 'success');
        else toast(t('robots.test_failed', { detail: (res.error && res.error.message) || '' }), 'error');
      } catch (err) { showError(err); } finally { btn.disabled = false; }
    };
    const remove = async () => {
      if (!await confirmDialog({ title: t('robots.remove'), message: t('robots.remove_text', { dept: d.name }), danger: true })) return;
      try { await api('DELETE', `/robots/${d.id}`); ctx.rerender(); } catch (err) { showError(err); }
    };
    return h('li', { class: 'robot-row', 'data-testid': 'robot-row', 'data-dept': String(d.id), 'data-set': String(!!r) },
      h('div', { class: 'robot-main' },
        h('strong', null, d.name), ' ',
        r ? (r.enabled ? chip(t('jobs.on'), 'chip-status-deal') : chip(t('jobs.off'), 'chip-status-lost')) : chip(t('robots.none'), 'chip-status-lost'),
        r ? h('div', { class: 'muted robot-hook', 'data-testid': 'robot-webhook' }, r.name ? `${r.name} · ` : '', r.webhook,
          ' · ', r.secret.set ? t('robots.signed', { masked: r.secret.masked }) : t('robots.unsigned')) : null),
      manage ? h('div', { class: 'job-actions' },
        h('button', { type: 'button', class: 'btn', 'data-testid': 'robot-edit', onclick: () => editRobot(ctx, d, r) }, r ? t('common.edit') : t('robots.add')),
        r ? h('button', { type: 'button', class: 'btn', 'data-testid': 'robot-test', onclick: (e) => test(e.currentTarget) }, t('robots.test')) : null,
        r ? h('button', { type: 'button', class: 'btn btn-text', 'data-testid': 'robot-remove', onclick: remove }, t('robots.remove')) : null) : null);
  });
  return h('section', { class: 'card robots', 'data-testid': 'robots' },
    h('h3', { class: 'section-title section-title-first' }, t('robots.title')),
    h('p', { class: 'muted' }, t('robots.intro')),
    rows.length ? h('ul', { class: 'robot-list' }, rows) : emptyState(t('robots.no_teams')));
}

export async function jobsPage(ctx) {
  ctx.setTitle(t('nav.jobs'));
  const r = await api('GET', '/jobs');
  if (!ctx.alive()) return;
  const parts = [
    h('p', { class: 'page-note' }, t('jobs.note')),
    h('ul', { class: 'job-list', 'data-testid': 'job-list' }, (r.items || []).map((j) => jobCard(ctx, j))),
  ];
  if (can('setting.view')) {
    try {
      parts.push(await robotSection(ctx));
    } catch (err) { showError(err); }
  }
  if (!ctx.alive()) return;
  replace(ctx.main, ...parts);
}
