// Drill-downs from reports: a report figure opens a list page as
// #/<page>?<filters> (reportview.Drill). The list takes the filters it has
// controls for into those controls, keeps the others (e.g. department_ids,
// rfm_segment) as extra query parameters sent to the list API unchanged, shows
// a "filtered from a report" notice with a way out, and drops the query from
// the address so later changes of the page's own filters are not overridden.
import { h } from './dom.js';
import { t } from './i18n.js';

// takeDrill → {key: value} for the keys present in the route's query, or null.
export function takeDrill(ctx, keys) {
  const out = {};
  for (const k of keys) if (ctx.query.get(k)) out[k] = ctx.query.get(k);
  if (!Object.keys(out).length) return null;
  const bare = location.hash.split('?')[0];
  history.replaceState(null, '', bare);
  return out;
}

// drillNotice shows that extra filters apply; onClear drops them.
export function drillNotice(extra, onClear) {
  if (!extra || !Object.keys(extra).length) return null;
  const el = h('div', { class: 'notice drill-notice', 'data-testid': 'drill-notice', 'data-keys': Object.keys(extra).sort().join(',') },
    h('span', null, t('drill.notice')), ' ',
    h('button', {
      type: 'button', class: 'btn btn-text btn-sm', 'data-testid': 'drill-clear',
      onclick: () => { el.remove(); onClear(); },
    }, t('drill.clear')));
  return el;
}
