// 权限管理: roles, and for one role the module × action matrix, the data scope and the
// field visibility (字段权限: each sensitive field visible, masked or hidden).
// A change applies on each holder's next request (the server rebuilds permissions per request).
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { toast, showError, formError, field, formModal, confirmDialog, select, chip } from '../ui.js';

// Inline styles keep the page self-contained: the matrix scrolls sideways on a phone
// while the module column stays put.
const STICKY = 'position:sticky;left:0;z-index:1;background:var(--surface, #fff);text-align:left;white-space:nowrap;padding:6px 8px';
const CELL = 'padding:6px 8px;text-align:center';

function nameModal(title, value, send) {
  const input = h('input', { type: 'text', maxlength: '50', value: value || '' });
  const { form } = formModal({
    title, testid: 'role-name-form',
    fields: [field('name', t('roles.name'), input, { required: true, wide: true })],
    submit: async () => {
      try { await send(input.value.trim()); return true; } catch (err) { formError(form, err); return false; }
    },
  });
}

export async function rolesPage(ctx) {
  ctx.setTitle(t('roles.title'));
  const manage = can('role.manage');
  let catalog;
  let roles = [];
  let current = null;
  try {
    [catalog, roles] = await Promise.all([api('GET', '/roles/catalog'), api('GET', '/roles').then((r) => (r && r.items) || [])]);
  } catch (err) { showError(err); return; }
  if (!ctx.alive()) return;

  const listBox = h('div', { class: 'list-box', 'data-testid': 'roles-list' });
  const detail = h('div', { class: 'card', 'data-testid': 'role-detail' });

  async function reload(selectID) {
    roles = ((await api('GET', '/roles')) || {}).items || [];
    if (!ctx.alive()) return;
    drawList();
    const r = roles.find((x) => x.id === selectID) || roles[0];
    if (r) show(r.id);
  }

  function drawList() {
    replace(listBox, roles.map((r) => h('button', {
      type: 'button', class: ['row', 'role-row', current && current.id === r.id && 'active'],
      style: 'display:flex;gap:8px;align-items:center;width:100%;text-align:left',
      'data-testid': `role-item-${r.code}`, 'data-id': String(r.id), onclick: () => show(r.id),
    }, h('span', { class: 'row-title' }, r.name),
    r.builtin ? chip(t('roles.builtin'), 'chip-muted') : null,
    h('span', { class: 'muted' }, t('roles.holders', { n: r.user_count ?? 0 })))));
  }

  async function show(id) {
    try {
      current = await api('GET', `/roles/${id}`);
    } catch (err) { showError(err); return; }
    if (!ctx.alive()) return;
    drawList();
    drawDetail();
  }

  function drawDetail() {
    const r = current;
    const editable = manage && !r.locked;
    const have = new Set(r.permissions || []);
    const boxes = [];
    const rows = catalog.modules.map((m) => h('tr', null,
      h('th', { scope: 'row', style: STICKY }, m.label),
      catalog.actions.map((a) => {
        const code = `${m.code}.${a.code}`;
        const box = h('input', {
          type: 'checkbox', value: code, checked: have.has(code), disabled: !editable,
          'data-testid': `perm-${m.code}-${a.code}`, 'aria-label': `${m.label} ${a.label}`,
        });
        boxes.push(box);
        return h('td', { style: CELL }, box);
      })));
    const matrix = h('div', { class: 'role-matrix', style: 'overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch', 'data-testid': 'role-matrix' },
      h('table', { style: 'border-collapse:collapse;min-width:640px' },
        h('thead', null, h('tr', null,
          h('th', { style: STICKY }, t('roles.module')),
          catalog.actions.map((a) => h('th', { style: CELL + ';white-space:nowrap' }, a.label)))),
        h('tbody', null, rows)));
    const scope = select(catalog.scopes.map((s) => ({ value: s.code, label: s.label })), r.data_scope,
      { 'data-testid': 'role-scope', disabled: !editable, 'aria-label': t('roles.scope') });
    // 字段权限: one select per field; a person with several roles sees a field the way
    // the most permissive of them allows.
    const policy = r.field_policy || {};
    const fieldSelects = (catalog.fields || []).map((f) => ({
      code: f.code,
      el: select((catalog.field_modes || []).map((m) => ({ value: m.code, label: m.label })), policy[f.code] || 'visible',
        { 'data-testid': `field-mode-${f.code.replace('.', '-')}`, disabled: !editable, 'aria-label': f.label }),
      label: f.label,
    }));
    const fieldsBox = h('div', { 'data-testid': 'role-fields' },
      h('h3', { class: 'section-title' }, t('roles.fields')),
      h('p', { class: 'muted' }, t('roles.fields_hint')),
      h('div', { style: 'display:grid;gap:8px;grid-template-columns:repeat(auto-fill,minmax(200px,1fr))' },
        fieldSelects.map((f) => h('label', { class: 'filter', style: 'display:flex;gap:8px;align-items:center;justify-content:space-between' },
          h('span', { class: 'filter-label' }, f.label), f.el))));
    const save = async (btn) => {
      btn.disabled = true;
      try {
        const perms = boxes.filter((b) => b.checked).map((b) => b.value);
        const fieldPolicy = Object.fromEntries(fieldSelects.map((f) => [f.code, f.el.value]));
        await api('PATCH', `/roles/${r.id}`, { body: { permissions: perms, data_scope: scope.value, field_policy: fieldPolicy } });
        toast(t('roles.saved'), 'success');
        await reload(r.id);
      } catch (err) { showError(err); } finally { btn.disabled = false; }
    };
    const actions = [];
    if (manage) {
      actions.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'role-copy', onclick: () => nameModal(t('roles.copy'), t('roles.copy_name', { name: r.name }), async (name) => {
        const c = await api('POST', `/roles/${r.id}/copy`, { body: { name } });
        toast(t('roles.created'), 'success');
        await reload(c.id);
      }) }, t('roles.copy')));
      if (!r.locked) {
        actions.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'role-rename', onclick: () => nameModal(t('roles.rename'), r.name, async (name) => {
          await api('PATCH', `/roles/${r.id}`, { body: { name } });
          await reload(r.id);
        }) }, t('roles.rename')));
      }
      if (!r.builtin) {
        actions.push(h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'data-testid': 'role-delete', onclick: async () => {
          if (!(await confirmDialog({ message: t('roles.delete_confirm', { name: r.name }), okText: t('roles.delete'), danger: true }))) return;
          try {
            await api('DELETE', `/roles/${r.id}`);
            toast(t('roles.deleted'), 'success');
            current = null;
            await reload(0);
          } catch (err) { showError(err); } // e.g. still held by people: the server says how many
        } }, t('roles.delete')));
      }
    }
    replace(detail,
      h('div', { class: 'list-head', style: 'display:flex;flex-wrap:wrap;gap:8px;align-items:center' },
        h('h2', { class: 'card-title', 'data-testid': 'role-name', style: 'margin:0;flex:1' }, r.name), actions),
      r.locked ? h('p', { class: 'muted', 'data-testid': 'role-locked' }, t('roles.locked')) : null,
      h('label', { class: 'filter', style: 'display:flex;gap:8px;align-items:center;margin:8px 0' },
        h('span', { class: 'filter-label' }, t('roles.scope')), scope),
      matrix,
      fieldsBox,
      editable ? h('div', { style: 'margin-top:12px' },
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'role-save', onclick: (e) => save(e.currentTarget) }, t('common.save'))) : null);
  }

  const add = manage ? h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'role-add', onclick: () => nameModal(t('roles.add'), '', async (name) => {
    const c = await api('POST', '/roles', { body: { name, data_scope: 'self', permissions: [] } });
    toast(t('roles.created'), 'success');
    await reload(c.id);
  }) }, t('roles.add')) : null;

  replace(ctx.main,
    h('div', { class: 'list-head', style: 'display:flex;gap:8px;align-items:center' }, h('span', { class: 'total' }, t('roles.count', { n: roles.length })), add),
    h('div', { style: 'display:grid;gap:12px;grid-template-columns:minmax(0,1fr)' }, listBox, detail));
  drawList();
  if (roles.length) show(roles[0].id);
}
