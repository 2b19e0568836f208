// Saving a record form with line items (sales, opportunities): one place for
// the request, the conflict dialog on a stale version, and spreading field
// errors between the line editor and the form.
import { api } from './api.js';
import { t } from './i18n.js';
import { toast, formError, confirmDialog } from './ui.js';

// saveRecord posts (or patches, when editing) body to base ('/sales'), then
// opens the saved record's page under route ('#/sales'). Returns false when
// the save failed and the form stays open.
export async function saveRecord(ctx, { form, editing, id, base, route, body, lines }) {
  try {
    const saved = editing ? await api('PATCH', `${base}/${id}`, { body }) : await api('POST', base, { body });
    toast(t('form.saved'), 'success');
    ctx.go(`${route}/${saved.id}`);
    return true;
  } catch (err) {
    if (err.status === 409 && editing && !err.fields) {
      const reload = await confirmDialog({ title: t('common.conflict_title'), message: t('common.conflict_text'), okText: t('customer.conflict_reload') });
      if (reload && ctx.alive()) ctx.rerender();
    } else {
      const rest = err.fields ? lines.showErrors(err.fields) : null;
      formError(form, rest ? Object.assign(err, { fields: rest }) : err);
    }
    return false;
  }
}
