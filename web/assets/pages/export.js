// 导出: downloads an .xlsx export of a list with its current filters (docs/api-excel.md).
import { api } from '../api.js';
import { t } from '../i18n.js';
import { toast, showError, saveBlob } from '../ui.js';

export async function exportFile(btn, path, query) {
  if (btn) btn.disabled = true;
  toast(t('export.preparing'));
  try {
    const res = await api('GET', path, { query, blob: true });
    saveBlob(res.blob, res.filename || 'export.xlsx');
    const rows = res.headers.get('X-Export-Rows');
    toast(rows ? t('export.done_rows', { n: rows }) : t('export.done'), 'success');
  } catch (err) {
    showError(err);
  } finally {
    if (btn) btn.disabled = false;
  }
}
