// Department records in the entity card (issue 17, item 6): counts by
// department and kind, the latest penalty, the licence's expiry, and a
// link to the full list. Added through the app's card extension point.
(function () {
  'use strict';
  const KIND = {
    licence: '许可', penalty: '行政处罚', inspection: '检查', complaint: '投诉举报', annual_report: '年报',
    abnormal_entry: '列入经营异常名录', abnormal_removal: '移出经营异常名录', blacklist_entry: '列入严重违法失信名单',
    blacklist_removal: '移出严重违法失信名单', tax: '税务', social_insurance: '社保', output: '产值就业',
  };
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const row = (dt, dd) => `<dt>${dt}</dt><dd>${dd}</dd>`;
  if (!window.mgApp || !window.mgApp.card) return;
  window.mgApp.card.addSection('entity', async ({ id }) => {
    let s;
    try {
      const r = await fetch('/api/v1/entities/' + encodeURIComponent(id) + '?include=records_summary');
      if (!r.ok) return '';
      s = ((await r.json()).properties || {}).records_summary;
    } catch (e) {
      return '';
    }
    if (!s) return ''; // the public profile shows no records
    if (!s.total) return '<div class="records"><h4>部门数据</h4><p class="meta">暂无部门记录</p></div>';
    const list = (o, name) => Object.entries(o || {}).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${esc(name(k))} ${n}`).join(' · ');
    const pen = (s.latest || {}).penalty;
    const penText = pen ? [pen.date, pen.dept, ...Object.values(pen.fields || {}).slice(0, 2)].filter(Boolean).map(esc).join(' ') : '';
    return `<div class="records"><h4>部门数据（${s.total} 条）</h4><dl>
      ${row('按类别', list(s.by_kind, (k) => KIND[k] || k))}
      ${row('按部门', list(s.by_dept, (d) => d))}
      ${pen ? row('最近处罚', penText) : ''}
      ${s.licence_expiry ? row('许可有效期至', esc(s.licence_expiry)) : ''}
    </dl><a class="link" href="/api/v1/entities/${encodeURIComponent(id)}/records" target="_blank" rel="noopener">全部记录</a></div>`;
  });
})();
