// RFM 阈值: admins tune the thresholds of the customer classification
// (GET/PUT /reports/rfm/settings). The form follows the settings the server
// returns: one field per number, a comma-separated field per list of numbers,
// so new thresholds need no change here.
import { h, icon } from '../dom.js';
import { api } from '../api.js';
import { t, has } from '../i18n.js';
import { can } from '../state.js';
import { fenToInput, parseMoney } from '../format.js';
import { formModal, field, formError, toast, showError } from '../ui.js';

function label(key) {
  const k = `report.rfm.${key}`;
  return has(k) ? t(k) : key;
}

export function rfmSettingsButton(ctx) {
  if (!can('report.manage') && !can('setting.manage')) return null;
  return h('button', {
    type: 'button', class: 'btn', 'data-testid': 'rfm-settings',
    onclick: () => openRFMSettings(ctx),
  }, icon('settings'), h('span', null, t('report.rfm.settings')));
}

async function openRFMSettings(ctx) {
  let settings;
  try {
    settings = await api('GET', '/reports/rfm/settings');
  } catch (err) { showError(err); return; }
  const keys = Object.keys(settings || {}).filter((k) => typeof settings[k] === 'number' || (Array.isArray(settings[k]) && settings[k].every((x) => typeof x === 'number')));
  const inputs = {};
  const fields = keys.map((k) => {
    const v = settings[k];
    // *_fen is money: typed in yuan, sent in fen.
    inputs[k] = h('input', Array.isArray(v)
      ? { type: 'text', inputmode: 'decimal', value: v.join(', ') }
      : k.endsWith('_fen')
        ? { type: 'text', inputmode: 'decimal', value: fenToInput(v) }
        : { type: 'number', step: '1', value: String(v) });
    return field(k, label(k), inputs[k], { hint: has(`report.rfm.${k}_hint`) ? t(`report.rfm.${k}_hint`) : null });
  });
  formModal({
    title: t('report.rfm.settings'), testid: 'rfm-settings-form', fields,
    intro: h('p', { class: 'form-intro' }, t('report.rfm.intro')),
    submit: async (form) => {
      const body = { ...settings };
      for (const k of keys) {
        const raw = inputs[k].value.trim();
        if (Array.isArray(settings[k])) body[k] = raw.split(/[,，\s]+/).filter(Boolean).map(Number);
        else if (k.endsWith('_fen')) body[k] = parseMoney(raw);
        else body[k] = raw === '' ? NaN : Number(raw);
      }
      try {
        await api('PUT', '/reports/rfm/settings', { body });
      } catch (err) { formError(form, err); return false; }
      toast(t('report.rfm.saved'), 'success');
      ctx.rerender();
      return true;
    },
  });
}
