// 用户管理: people, 添加用户, 删除 (deactivate), 启用, 权限分配.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { debounce, endlessList, toast, showError, formError, field, checkGroup, select, openModal, confirmDialog, clearFieldErrors, showFieldErrors, optionLabel, chip } from '../ui.js';

let departments = null; // loaded once per visit
let roles = null;

async function loadDepartments() {
  if (!departments) departments = ((await api('GET', '/departments')) || {}).items || [];
  return departments;
}

async function loadRoles() {
  if (!roles) roles = ((await api('GET', '/roles')) || {}).items || [];
  return roles;
}

// The flat department list in tree order, each with its depth.
function deptTree(list) {
  const ids = new Set(list.map((d) => d.id));
  const kids = new Map();
  for (const d of list) {
    const p = d.parent_id && ids.has(d.parent_id) ? d.parent_id : 0;
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(d);
  }
  const out = [];
  const walk = (p, depth) => {
    for (const d of kids.get(p) || []) {
      out.push({ id: d.id, label: d.name, sub: d.member_count !== undefined ? t('user.members', { n: d.member_count }) : '', depth });
      if (depth < 20) walk(d.id, depth + 1);
    }
  };
  walk(0, 0);
  return out;
}

function roleItems(list) {
  return list.map((r) => ({ id: r.id, label: r.name, sub: r.data_scope ? t('role.scope', { scope: optionLabel('data_scopes', r.data_scope) }) : '' }));
}

export async function usersPage(ctx) {
  ctx.setTitle(t('nav.users'));
  departments = null;
  roles = null;
  const manage = can('user.manage');
  let q = '';
  let active = 'true';

  const total = h('span', { class: 'total', 'data-testid': 'user-total' });
  const listBox = h('div', { class: 'list-box' });
  const search = h('input', {
    type: 'search', class: 'search-input', 'data-testid': 'user-search',
    placeholder: t('user.search_placeholder'), 'aria-label': t('user.search_placeholder'),
  });
  const onSearch = debounce(() => {
    const v = search.value.trim();
    if (v !== q) { q = v; list.reset(); }
  }, 300);
  search.addEventListener('input', onSearch);
  ctx.onCleanup(onSearch.cancel);
  const activeSel = select([
    { value: 'true', label: t('user.filter_active') },
    { value: 'false', label: t('user.filter_inactive') },
    { value: '', label: t('user.filter_all') },
  ], active, { 'data-testid': 'user-active-filter', 'aria-label': t('user.status') });
  activeSel.addEventListener('change', () => { active = activeSel.value; list.reset(); });

  function row(u) {
    const el = h('div', { class: ['row', 'user-row', u.active === false && 'inactive'], 'data-testid': 'user-row', 'data-id': String(u.id) });
    const draw = (u) => {
      const buttons = [];
      if (manage) {
        buttons.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': `user-roles-${u.id}`, onclick: () => assignRoles(u, draw) }, t('user.assign_roles')));
        if (u.active === false) {
          buttons.push(h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-testid': `user-activate-${u.id}`, onclick: () => activate(u, draw) }, t('user.activate')));
        } else if (!state.me || u.id !== state.me.id) {
          buttons.push(h('button', { type: 'button', class: 'btn btn-sm btn-danger-outline', 'data-testid': `user-delete-${u.id}`, onclick: () => deactivate(u, draw) }, t('common.delete')));
        }
      }
      el.classList.toggle('inactive', u.active === false);
      el.replaceChildren(
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, (u.name || '?').slice(0, 1)),
        h('div', { class: 'row-main' },
          h('div', { class: 'row-title' },
            h('span', { class: 'row-name' }, u.name),
            u.title ? h('span', { class: 'muted' }, u.title) : null,
            u.active === false ? chip(t('user.inactive'), 'chip-grey') : null,
            chip(u.source === 'manual' ? t('user.source_manual') : t('user.source_dingtalk'), 'chip-outline')),
          h('div', { class: 'row-sub' },
            u.mobile ? h('span', { class: 'mono' }, u.mobile) : null,
            u.email ? h('span', null, u.email) : null),
          h('div', { class: 'row-sub' },
            (u.departments || []).length ? h('span', null, (u.departments || []).map((d) => d.name).join('、')) : null,
            h('span', { class: 'chips' }, (u.roles || []).map((r) => chip(r.name, 'chip-role'))))),
        buttons.length ? h('div', { class: 'row-actions' }, buttons) : null);
    };
    draw(u);
    return el;
  }

  async function deactivate(u, draw) {
    const ok = await confirmDialog({ title: t('user.delete_title'), message: t('user.delete_confirm', { name: u.name }), okText: t('common.delete'), danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/users/${u.id}`);
      toast(t('user.deleted', { name: u.name }), 'success');
      draw({ ...u, active: false });
    } catch (err) { showError(err); }
  }

  async function activate(u, draw) {
    try {
      const res = await api('POST', `/users/${u.id}/activate`);
      toast(t('user.activated', { name: u.name }), 'success');
      draw(res && res.id ? res : { ...u, active: true });
    } catch (err) { showError(err); }
  }

  async function assignRoles(u, draw) {
    let list;
    try { list = await loadRoles(); } catch (err) { showError(err); return; }
    const group = checkGroup('role_ids', roleItems(list), (u.roles || []).map((r) => r.id));
    const form = h('form', { class: 'form', novalidate: true },
      h('p', { class: 'muted' }, t('user.assign_roles_text', { name: u.name })),
      field('role_ids', t('user.roles'), group),
      h('div', { class: 'form-error', role: 'alert' }));
    const save = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.confirm'));
    const m = openModal({
      title: t('user.assign_roles'),
      body: form,
      footer: [h('button', { type: 'button', class: 'btn', onclick: () => m.close() }, t('common.cancel')), save],
    });
    const submit = async () => {
      clearFieldErrors(form);
      const ids = group.value();
      if (ids.length === 0) { showFieldErrors(form, { role_ids: t('user.roles_required') }); return; }
      save.disabled = true;
      try {
        const res = await api('PUT', `/users/${u.id}/roles`, { body: { role_ids: ids } });
        const byId = new Map(list.map((r) => [r.id, r]));
        const updated = res && res.id ? res : { ...u, roles: ids.map((id) => byId.get(id)).filter(Boolean) };
        toast(t('user.roles_saved', { name: u.name }), 'success');
        m.close();
        draw(updated);
      } catch (err) { formError(form, err); } finally { save.disabled = false; }
    };
    save.addEventListener('click', submit);
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  }

  async function addUser() {
    let depts, rl;
    try { [depts, rl] = await Promise.all([loadDepartments(), loadRoles()]); } catch (err) { showError(err); return; }
    const inputs = {
      name: h('input', { type: 'text', maxlength: '50', autocomplete: 'off' }),
      mobile: h('input', { type: 'tel', maxlength: '20', inputmode: 'tel', autocomplete: 'off' }),
      email: h('input', { type: 'email', maxlength: '100', autocomplete: 'off' }),
      title: h('input', { type: 'text', maxlength: '50', autocomplete: 'off' }),
    };
    const deptGroup = checkGroup('department_ids', deptTree(depts), [], { indent: true });
    const roleGroup = checkGroup('role_ids', roleItems(rl), []);
    const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'user-form' },
      h('div', { class: 'form-grid' },
        field('name', t('user.name'), inputs.name, { required: true }),
        field('mobile', t('user.mobile'), inputs.mobile, { required: true }),
        field('email', t('user.email'), inputs.email),
        field('title', t('user.title'), inputs.title),
        field('department_ids', t('user.departments'), deptGroup, { required: true, wide: true }),
        field('role_ids', t('user.roles'), roleGroup, { required: true, wide: true })),
      h('div', { class: 'form-error', role: 'alert' }));
    const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.confirm'));
    save.setAttribute('form', 'user-form');
    form.id = 'user-form';
    const m = openModal({
      title: t('user.add'), wide: true, body: form,
      footer: [h('button', { type: 'button', class: 'btn', onclick: () => m.close() }, t('common.cancel')), save],
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const body = {
        name: inputs.name.value.trim(),
        mobile: inputs.mobile.value.trim(),
        department_ids: deptGroup.value(),
        role_ids: roleGroup.value(),
      };
      if (inputs.email.value.trim()) body.email = inputs.email.value.trim();
      if (inputs.title.value.trim()) body.title = inputs.title.value.trim();
      const missing = {};
      if (!body.name) missing.name = t('user.name_required');
      if (!body.mobile) missing.mobile = t('user.mobile_required');
      if (!body.department_ids.length) missing.department_ids = t('user.departments_required');
      if (!body.role_ids.length) missing.role_ids = t('user.roles_required');
      if (Object.keys(missing).length) { showFieldErrors(form, missing); return; }
      save.disabled = true;
      try {
        const u = await api('POST', '/users', { body });
        toast(t('user.added', { name: u && u.name ? u.name : body.name }), 'success');
        m.close();
        if (u && u.id) list.prepend(row(u)); else list.reset();
      } catch (err) { formError(form, err); } finally { save.disabled = false; }
    });
  }

  replace(ctx.main,
    h('div', { class: 'toolbar' },
      h('div', { class: 'search-wrap' }, icon('search', 'search-icon'), search),
      activeSel,
      manage ? h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'user-add', onclick: addUser }, icon('plus'), h('span', null, t('user.add'))) : null),
    h('div', { class: 'list-head' }, total),
    listBox);

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('user.empty'),
    fetchPage: (page, pageSize) => api('GET', '/users', { query: { page, page_size: pageSize, q, active } }),
    renderItem: row,
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
