// 系统设置 (setting.manage): 基本信息 with the logo, 语言与时区 and currency display,
// 工作日与免打扰, the option lists people pick from (add, rename in both languages,
// reorder, deactivate), and links to the editors that live elsewhere: 商机阶段,
// 公海规则, 定时任务. A change applies at once on every instance (the server checks
// a version on each request).
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { field, toast, showError, formError, clearFieldErrors, select } from '../ui.js';
import { loadOptions, loadCompany } from '../session.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];
const COMMON_ZONES = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'UTC'];

function text(value, attrs = {}) {
  return h('input', { type: 'text', value: value || '', ...attrs });
}

function zones() {
  try {
    if (typeof Intl.supportedValuesOf === 'function') return Intl.supportedValuesOf('timeZone');
  } catch { /* older engines */ }
  return COMMON_ZONES;
}

// jump is the section bar: on a phone the sections are long, so each has a chip.
function jumpBar(ids) {
  return h('div', { class: 'chips', style: 'display:flex;gap:6px;flex-wrap:wrap;margin-bottom:12px', 'data-testid': 'settings-jump' },
    ids.map(([id, label]) => h('a', { class: 'chip', href: `#/settings`, 'data-testid': `settings-jump-${id}`,
      onclick: (e) => { e.preventDefault(); const el = document.getElementById(`settings-${id}`); if (el) el.scrollIntoView({ behavior: 'smooth' }); } }, label)));
}

export async function settingsPage(ctx) {
  ctx.setTitle(t('settings.title'));
  let co;
  let lists;
  try {
    [co, lists] = await Promise.all([api('GET', '/settings'), api('GET', '/settings/options').then((r) => (r && r.items) || [])]);
  } catch (err) { showError(err); return; }
  if (!ctx.alive()) return;

  replace(ctx.main,
    jumpBar([['basic', t('settings.basic')], ['locale', t('settings.locale')], ['days', t('settings.days')],
      ['options', t('settings.options')], ...(can('opportunity.manage') ? [['stages', t('settings.link_stages')]] : []), ['more', t('settings.more')]]),
    companyForm(ctx, co),
    optionsEditor(ctx, lists),
    can('opportunity.manage') ? stagesEditor(ctx) : null,
    moreLinks());
}

// stagesEditor is 商机阶段: names, win rates (赢率) and order of the pipeline's stages
// (PUT /opportunity-stages, opportunity.manage). Exactly one 赢单 and one 输单 stage stay;
// a stage that still has opportunities cannot be removed (the server says so).
function stagesEditor(ctx) {
  const box = h('div', { class: 'card', 'data-testid': 'settings-stages', style: 'margin-top:12px' });
  let rows = [];
  const errBox = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'stage-error' });
  const table = h('div', { 'data-testid': 'stage-rows' });
  const kindLabel = (k) => t(`settings.stage_kind.${k}`);

  const drawRows = () => {
    replace(table, rows.map((st, i) => {
      const name = text(st.name, { maxlength: '20', 'data-testid': 'stage-name', 'aria-label': t('settings.stage_name') });
      name.addEventListener('input', () => { st.name = name.value; st.renamed = true; });
      const prob = h('input', { type: 'number', min: '0', max: '100', step: '1', inputmode: 'numeric', value: String(st.probability ?? 0),
        disabled: st.kind !== 'open', 'data-testid': 'stage-probability', 'aria-label': t('settings.stage_probability'), style: 'width:5em' });
      prob.addEventListener('input', () => { st.probability = Number(prob.value); });
      const move = (d) => {
        const j = i + d;
        if (j < 0 || j >= rows.length) return;
        [rows[i], rows[j]] = [rows[j], rows[i]];
        drawRows();
      };
      return h('div', { class: 'stage-row', 'data-testid': 'stage-row', 'data-code': st.code || '', 'data-kind': st.kind,
        style: 'display:flex;flex-wrap:wrap;gap:6px;align-items:center;padding:6px 0;border-bottom:1px solid var(--line, #eee)' },
      h('span', { style: 'flex:1 1 140px;display:flex' }, name),
      h('label', { style: 'display:flex;gap:4px;align-items:center' }, prob, '%'),
      h('span', { class: 'muted', style: 'min-width:3em' }, kindLabel(st.kind)),
      h('button', { type: 'button', class: 'btn btn-sm', disabled: i === 0, 'aria-label': t('settings.move_up'), 'data-testid': 'stage-up', onclick: () => move(-1) }, '↑'),
      h('button', { type: 'button', class: 'btn btn-sm', disabled: i === rows.length - 1, 'aria-label': t('settings.move_down'), 'data-testid': 'stage-down', onclick: () => move(1) }, '↓'),
      st.kind === 'open' ? h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'data-testid': 'stage-remove', 'aria-label': t('settings.stage_remove'), onclick: () => { rows.splice(i, 1); drawRows(); } }, '×') : null);
    }));
  };

  const load = async () => {
    try {
      const r = await api('GET', '/opportunity-stages');
      rows = ((r && r.items) || []).map((x) => ({ ...x, renamed: false }));
    } catch (err) { showError(err); return; }
    if (!ctx.alive()) return;
    drawRows();
  };

  const addName = text('', { maxlength: '20', placeholder: t('settings.stage_name'), 'data-testid': 'stage-new-name', 'aria-label': t('settings.stage_name') });
  const addProb = h('input', { type: 'number', min: '0', max: '100', value: '50', 'data-testid': 'stage-new-probability', 'aria-label': t('settings.stage_probability'), style: 'width:5em' });
  const addBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'stage-add', onclick: () => {
    if (!addName.value.trim()) { addName.focus(); return; }
    const at = rows.findIndex((r) => r.kind !== 'open');
    const st = { name: addName.value.trim(), probability: Number(addProb.value), kind: 'open', renamed: true };
    if (at < 0) rows.push(st); else rows.splice(at, 0, st);
    addName.value = '';
    drawRows();
  } }, t('settings.option_add'));
  const saveBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'stage-save', onclick: async () => {
    errBox.textContent = '';
    saveBtn.disabled = true;
    try {
      const stages = rows.map((st) => {
        const out = st.id ? { id: st.id } : { kind: st.kind };
        if (st.renamed || !st.id) out.name = st.name;
        if (st.kind === 'open') out.probability = st.probability;
        return out;
      });
      await api('PUT', '/opportunity-stages', { body: { stages } });
      toast(t('form.saved'), 'success');
      await load();
    } catch (err) {
      errBox.textContent = err.fields ? Object.values(err.fields).join('；') : (err.message || '');
      showError(err);
    } finally { saveBtn.disabled = false; }
  } }, t('common.save'));

  replace(box,
    h('h3', { class: 'section-title section-title-first', id: 'settings-stages' }, t('settings.link_stages')),
    h('p', { class: 'muted' }, t('settings.stages_hint')),
    table,
    h('div', { style: 'display:flex;gap:6px;margin-top:8px;align-items:center' }, h('span', { style: 'flex:1;display:flex' }, addName), addProb, '%', addBtn),
    errBox,
    h('div', { class: 'form-actions', style: 'margin-top:12px' }, saveBtn));
  load();
  return box;
}

// companyForm is the three sections saved by one PUT /settings.
function companyForm(ctx, co) {
  const inputs = {
    name: text(co.name, { maxlength: '100' }),
    phone: text(co.phone, { maxlength: '30', inputmode: 'tel' }),
    email: h('input', { type: 'email', value: co.email || '', maxlength: '100' }),
    address: text(co.address, { maxlength: '200' }),
    lang: select([{ value: 'zh-CN', label: '简体中文' }, { value: 'en', label: 'English' }], co.lang),
    timezone: text(co.timezone, { list: 'tz-list', autocomplete: 'off', spellcheck: 'false' }),
    currency: text(co.currency, { maxlength: '3', style: 'text-transform:uppercase' }),
    currency_symbol: text(co.currency_symbol, { maxlength: '4' }),
    currency_position: select([{ value: 'before', label: t('settings.symbol_before') }, { value: 'after', label: t('settings.symbol_after') }], co.currency_position),
    quiet_start: h('input', { type: 'time', value: co.quiet_start || '' }),
    quiet_end: h('input', { type: 'time', value: co.quiet_end || '' }),
  };
  const days = new Set(co.working_days || []);
  const dayBoxes = WEEKDAYS.map((d) => h('input', { type: 'checkbox', value: String(d), checked: days.has(d), 'data-testid': `working-day-${d}` }));
  const dayGroup = h('div', { class: 'check-group', id: 'f-working_days', role: 'group', 'aria-labelledby': 'l-working_days', style: 'display:flex;flex-wrap:wrap;gap:4px 12px' },
    dayBoxes.map((b, i) => h('label', { class: 'check' }, b, h('span', { class: 'check-text' }, t(`settings.weekday.${i + 1}`)))));

  const logoBox = h('div', { 'data-testid': 'settings-logo' });
  const drawLogo = (url) => {
    const file = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp', 'data-testid': 'logo-file', id: 'f-logo' });
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      if (f.size > 512 * 1024) { toast(t('settings.logo_too_large'), 'error'); file.value = ''; return; }
      const fd = new FormData();
      fd.append('file', f, f.name);
      try {
        const out = await api('PUT', '/settings/logo', { form: fd });
        toast(t('form.saved'), 'success');
        await loadCompany();
        drawLogo(out.logo_url);
      } catch (err) { showError(err); }
    });
    replace(logoBox,
      url ? h('img', { src: url, alt: t('settings.logo'), 'data-testid': 'logo-preview', style: 'max-width:160px;max-height:64px;display:block;margin-bottom:8px;object-fit:contain' })
        : h('p', { class: 'muted', 'data-testid': 'logo-none' }, t('settings.logo_none')),
      h('div', { style: 'display:flex;gap:8px;align-items:center;flex-wrap:wrap' }, file,
        url ? h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'logo-delete', onclick: async () => {
          try { await api('DELETE', '/settings/logo'); await loadCompany(); drawLogo(''); } catch (err) { showError(err); }
        } }, t('settings.logo_delete')) : null));
  };
  drawLogo(co.logo_url);

  const tzList = h('datalist', { id: 'tz-list' }, zones().map((z) => h('option', { value: z })));
  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.save'));
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'settings-form' },
    h('h3', { class: 'section-title section-title-first', id: 'settings-basic' }, t('settings.basic')),
    h('div', { class: 'form-grid' },
      field('name', t('settings.name'), inputs.name, { required: true }),
      field('phone', t('settings.phone'), inputs.phone),
      field('email', t('settings.email'), inputs.email),
      field('address', t('settings.address'), inputs.address),
      field('logo', t('settings.logo'), logoBox, { wide: true, hint: t('settings.logo_hint') })),
    h('h3', { class: 'section-title', id: 'settings-locale' }, t('settings.locale')),
    h('div', { class: 'form-grid' },
      field('lang', t('settings.lang'), inputs.lang, { hint: t('settings.lang_hint') }),
      field('timezone', t('settings.timezone'), inputs.timezone, { hint: t('settings.timezone_hint') }),
      field('currency', t('settings.currency'), inputs.currency),
      field('currency_symbol', t('settings.currency_symbol'), inputs.currency_symbol),
      field('currency_position', t('settings.currency_position'), inputs.currency_position)),
    tzList,
    h('h3', { class: 'section-title', id: 'settings-days' }, t('settings.days')),
    h('div', { class: 'form-grid' },
      field('working_days', t('settings.working_days'), dayGroup, { wide: true }),
      field('quiet_start', t('settings.quiet_start'), inputs.quiet_start, { hint: t('settings.quiet_hint') }),
      field('quiet_end', t('settings.quiet_end'), inputs.quiet_end)),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, saveBtn));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const body = {
      name: inputs.name.value, phone: inputs.phone.value, email: inputs.email.value, address: inputs.address.value,
      lang: inputs.lang.value, timezone: inputs.timezone.value.trim(), currency: inputs.currency.value.trim().toUpperCase(),
      currency_symbol: inputs.currency_symbol.value, currency_position: inputs.currency_position.value,
      working_days: dayBoxes.filter((b) => b.checked).map((b) => Number(b.value)),
      quiet_start: inputs.quiet_start.value, quiet_end: inputs.quiet_end.value,
    };
    saveBtn.disabled = true;
    try {
      await api('PUT', '/settings', { body });
      toast(t('form.saved'), 'success');
      await loadCompany();
    } catch (err) { formError(form, err); } finally { saveBtn.disabled = false; }
  });
  return form;
}

// optionsEditor edits one list at a time; saving sends the whole list in its new order.
function optionsEditor(ctx, lists) {
  const box = h('div', { class: 'card', 'data-testid': 'settings-options', style: 'margin-top:12px' });
  let currentList = lists.length ? lists[0].list : '';
  const picker = select(lists.map((l) => ({ value: l.list, label: l.label })), currentList, { 'data-testid': 'option-list', 'aria-label': t('settings.options') });
  picker.addEventListener('change', () => { currentList = picker.value; draw(); });

  function draw() {
    const list = lists.find((l) => l.list === currentList);
    if (!list) { replace(box, h('p', { class: 'muted' }, t('common.empty'))); return; }
    const rows = list.items.map((o) => ({ ...o, isNew: false }));
    const table = h('div', { 'data-testid': 'option-rows' });
    const errBox = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'option-error' });

    const drawRows = () => {
      replace(table, rows.map((o, i) => {
        const zh = text(o.label_zh, { maxlength: '50', 'aria-label': `${o.code} 中文`, 'data-testid': `option-zh-${o.code}` });
        const en = text(o.label_en, { maxlength: '50', 'aria-label': `${o.code} English`, 'data-testid': `option-en-${o.code}` });
        zh.addEventListener('input', () => { o.label_zh = zh.value; });
        en.addEventListener('input', () => { o.label_en = en.value; });
        const active = h('input', { type: 'checkbox', checked: o.active, 'data-testid': `option-active-${o.code}`, 'aria-label': t('settings.option_active') });
        active.addEventListener('change', () => { o.active = active.checked; row.classList.toggle('muted', !o.active); });
        const move = (d) => {
          const j = i + d;
          if (j < 0 || j >= rows.length) return;
          [rows[i], rows[j]] = [rows[j], rows[i]];
          drawRows();
        };
        const row = h('div', { class: ['option-row', !o.active && 'muted'], 'data-testid': 'option-row', 'data-code': o.code,
          style: 'display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr) auto;gap:6px;align-items:center;padding:6px 0;border-bottom:1px solid var(--line, #eee)' },
        h('div', { style: 'grid-column:1 / -1;display:flex;gap:8px;align-items:center' },
          h('code', { class: 'muted', 'data-testid': 'option-code' }, o.code),
          h('label', { class: 'check', style: 'margin-left:auto' }, active, h('span', { class: 'check-text' }, t('settings.option_active'))),
          h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'option-up', disabled: i === 0, 'aria-label': t('settings.move_up'), onclick: () => move(-1) }, '↑'),
          h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'option-down', disabled: i === rows.length - 1, 'aria-label': t('settings.move_down'), onclick: () => move(1) }, '↓')),
        zh, en, h('span'));
        return row;
      }));
    };
    drawRows();

    const addCode = text('', { maxlength: '32', placeholder: t('settings.option_code'), 'data-testid': 'option-new-code', 'aria-label': t('settings.option_code') });
    const addZh = text('', { maxlength: '50', placeholder: '中文', 'data-testid': 'option-new-zh', 'aria-label': '中文' });
    const addEn = text('', { maxlength: '50', placeholder: 'English', 'data-testid': 'option-new-en', 'aria-label': 'English' });
    const addBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'option-add', onclick: () => {
      const code = addCode.value.trim();
      if (!code) { addCode.focus(); return; }
      rows.push({ code, label_zh: addZh.value.trim(), label_en: addEn.value.trim(), active: true, isNew: true });
      addCode.value = ''; addZh.value = ''; addEn.value = '';
      drawRows();
    } }, t('settings.option_add'));
    const saveBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'option-save', onclick: async () => {
      errBox.textContent = '';
      saveBtn.disabled = true;
      try {
        const out = await api('PUT', `/settings/options/${currentList}`, { body: { items: rows.map((o) => ({ code: o.code, label_zh: o.label_zh, label_en: o.label_en, active: o.active })) } });
        list.items = out.items;
        toast(t('form.saved'), 'success');
        await loadOptions();
        draw();
      } catch (err) {
        errBox.textContent = err.fields ? Object.values(err.fields).join('；') : '';
        showError(err);
      } finally { saveBtn.disabled = false; }
    } }, t('common.save'));

    replace(box,
      h('h3', { class: 'section-title section-title-first', id: 'settings-options' }, t('settings.options')),
      h('p', { class: 'muted' }, t('settings.options_hint')),
      h('label', { class: 'filter', style: 'display:flex;gap:8px;align-items:center;margin:8px 0' }, h('span', { class: 'filter-label' }, t('settings.option_list')), picker),
      table,
      h('div', { style: 'display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr) minmax(0,1fr) auto;gap:6px;margin-top:8px' }, addCode, addZh, addEn, addBtn),
      errBox,
      h('div', { class: 'form-actions', style: 'margin-top:12px' }, saveBtn));
  }
  draw();
  return box;
}

// moreLinks: settings with editors of their own.
function moreLinks() {
  const links = [
    { href: '#/pipeline', label: t('settings.link_pipeline'), hint: t('settings.link_stages_hint'), perm: 'opportunity.view', id: 'stages' },
    { href: '#/pool/rules', label: t('nav.pool_rules'), hint: t('settings.link_pool_hint'), perm: 'pool.manage', id: 'pool-rules' },
    { href: '#/jobs', label: t('settings.link_jobs'), hint: t('settings.link_jobs_hint'), perm: 'job.view', id: 'jobs' },
    { href: '#/roles', label: t('roles.nav'), hint: t('settings.link_roles_hint'), perm: 'role.view', id: 'roles' },
  ].filter((l) => can(l.perm));
  return h('div', { class: 'card', style: 'margin-top:12px', 'data-testid': 'settings-links' },
    h('h3', { class: 'section-title section-title-first', id: 'settings-more' }, t('settings.more')),
    links.map((l) => h('a', { class: 'row', href: l.href, 'data-testid': `settings-link-${l.id}`, style: 'display:block;padding:8px 0' },
      h('div', { class: 'row-title' }, l.label), h('div', { class: 'muted' }, l.hint))));
}

