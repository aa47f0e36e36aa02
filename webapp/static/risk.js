// Risk on the web map (issue 18, item 4): the computed class with its
// reasons and evidence in the entity card, and the early warnings list in
// the panel (click to fly to a warning's location). Both only where the
// server's OpenAPI document lists their routes (never on the public
// profile, which shows no risk): window.mgApp.can after mgApp.ready.
(function () {
  'use strict';
  const app = window.mgApp;
  if (!app || !app.card || !app.can) return;
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const $ = (id) => document.getElementById(id);
  const KIND = {
    licence: '许可', penalty: '行政处罚', inspection: '检查', complaint: '投诉举报', annual_report: '年报',
    abnormal_entry: '列入经营异常名录', abnormal_removal: '移出经营异常名录', blacklist_entry: '列入严重违法失信名单',
    blacklist_removal: '移出严重违法失信名单', tax: '税务', social_insurance: '社保', output: '产值就业',
  };
  // Warning types (risk.Warn*) as an inspector reads them, in display order.
  const WARN = {
    registration_cluster: '集中登记（疑似空壳）',
    zombie: '僵尸企业',
    industry_shift: '行业异动',
    out_of_area: '异地投资异常',
    licence_expiry: '许可证即将到期',
  };
  // A warning in words (its detail, in English, is the item's title).
  const WARN_TEXT = {
    registration_cluster: (w, n) => `${w.building_id ? '楼宇 ' + w.building_id : '地址 ' + String(w.key || '').replace(/^address:/, '')}：${n} 个主体集中登记`,
    zombie: (w) => `主体 ${(w.entities || [])[0] || ''}：长期无部门记录、年报和从业人员`,
    industry_shift: (w, n) => `网格 ${w.grid_id || ''}：行业 ${w.key || ''} 新登记占比骤升（${n} 个主体）`,
    out_of_area: (w, n) => `投资人来自 ${w.key || ''}：${n} 个主体集中登记`,
    licence_expiry: (w, n) => `网格 ${w.grid_id || ''}：${n} 个主体的许可证即将到期`,
  };
  const warnText = (w) => (WARN_TEXT[w.type] ? WARN_TEXT[w.type](w, (w.entities || []).length) : w.detail);
  const WARN_SHOWN = 30; // items listed per type (the count is the API's)
  // The rule's name: the Chinese part of its description in the rule set
  // ("行业风险 (industry risk level…)"), else its id.
  const ruleName = (r) => {
    const d = String(r.description || '').split(/\s*[(（]/)[0].trim();
    return /[\u4e00-\u9fff]/.test(d) ? d : r.rule;
  };
  const badge = (c) => {
    const r = app.RISK[c];
    return `<span class="badge" style="background:${r ? r.color : '#757575'}">${esc(r ? r.name : c || '未评级')}</span>`;
  };
  const ENTITY_RISK = '/api/v1/entities/{id}/risk';

  // ---- the entity card: class, score, reasons with their evidence -------------
  app.card.addSection('entity', async ({ id }) => {
    await app.ready;
    if (!app.can('GET', ENTITY_RISK)) return '';
    let a;
    try {
      const r = await fetch('/api/v1/entities/' + encodeURIComponent(id) + '/risk');
      if (!r.ok) return '';
      a = await r.json();
    } catch (e) {
      return '';
    }
    const o = a.override;
    const reasons = (a.reasons || []).map((x) => `<li data-rule="${esc(x.rule)}"><b>${esc(ruleName(x))}</b>
      <span class="meta">+${esc(x.points)}${x.class ? ` · 至少 ${esc(x.class)} 类` : ''}</span>
      ${x.detail ? `<div class="meta">${esc(x.detail)}</div>` : ''}
      ${(x.evidence || []).length ? `<ul class="evidence">${x.evidence.map((e) => `<li data-record="${esc(e.record_id)}">${esc(e.date || '')} ${esc(KIND[e.kind] || e.kind)} <span class="meta">${esc(e.record_id)}</span>${e.note ? ` <span class="meta">${esc(e.note)}</span>` : ''}</li>`).join('')}</ul>` : ''}</li>`).join('');
    return `<div class="risk" data-class="${esc(a.class)}" data-computed="${esc(a.computed_class)}" data-score="${esc(a.score)}"><h4>风险评定</h4><dl>
      <dt>评定等级</dt><dd>${badge(a.class)}</dd>
      <dt>规则计算</dt><dd>${esc(a.computed_class)} 类 · ${esc(a.score)} 分</dd>
      ${o ? `<dt>人工调整</dt><dd class="override">${esc(o.class)} 类：${esc(o.reason)}（有效期至 ${esc(o.expires)}${o.by ? '，' + esc(o.by) : ''}）</dd>` : ''}
    </dl>${reasons ? `<ol class="reasons">${reasons}</ol>` : '<p class="meta">未触发任何风险规则</p>'}
    <p class="meta">评定日 ${esc(a.as_of)}</p></div>`;
  });

  // the legend says the colours are the computed class (hidden where risk is not served)
  app.ready.then(() => { const n = document.querySelector('#legend .legend-note'); if (n && app.can('GET', ENTITY_RISK) && !$('legend-risk').hidden) n.hidden = false; });

  // ---- the warnings list in the panel ---------------------------------------
  const sec = $('warnings-section');
  if (!sec) return;
  let warnings = [];
  async function load(bbox) {
    const st = $('warnings-status'), list = $('warnings-list');
    st.className = 'status'; st.textContent = '加载中…';
    list.innerHTML = '';
    sec.dataset.bbox = bbox || '';
    delete sec.dataset.total;
    let j;
    try {
      const r = await fetch('/api/v1/warnings?limit=10000' + (bbox ? '&bbox=' + bbox : ''));
      j = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
    } catch (e) {
      st.className = 'status error'; st.textContent = '预警加载失败：' + e.message;
      return;
    }
    warnings = j.warnings || [];
    const by = j.by_type || {};
    const types = [...Object.keys(WARN), ...Object.keys(by).filter((t) => !WARN[t])];
    st.innerHTML = `${bbox ? '当前视图' : '全部'}共 <b data-total>${Number(j.total || 0)}</b> 条预警（${esc(j.as_of || '')}）`;
    list.innerHTML = types.filter((t) => by[t]).map((t) => {
      const items = warnings.map((w, i) => [w, i]).filter(([w]) => w.type === t);
      const shown = items.slice(0, WARN_SHOWN);
      return `<div class="group-title" data-type="${esc(t)}">${esc(WARN[t] || t)} <span data-count>${Number(by[t])}</span></div>
        <ul class="results" data-type="${esc(t)}">${shown.map(([w, i]) => `<li tabindex="0" role="button" data-i="${i}" title="${esc(w.detail)}">${esc(warnText(w))} <span class="meta">${esc(w.date || '')}</span></li>`).join('')}</ul>
        ${by[t] > shown.length ? `<div class="meta">另有 ${by[t] - shown.length} 条未列出</div>` : ''}`;
    }).join('');
    sec.dataset.total = String(Number(j.total || 0));
  }
  function go(li) {
    const w = warnings[Number(li.dataset.i)];
    if (!w) return;
    const m = window.mgMap;
    if (m && w.location) m.flyTo({ center: w.location, zoom: Math.max(m.getZoom(), 16) });
    if ((w.entities || []).length) app.openCard('entity', w.entities[0]);
    else if (w.building_id) app.openCard('building', w.building_id);
    else if (w.grid_id) app.openCard('grid', w.grid_id);
  }
  $('warnings-list').addEventListener('click', (ev) => { const li = ev.target.closest('li[data-i]'); if (li) go(li); });
  $('warnings-list').addEventListener('keydown', (ev) => {
    const li = ev.target.closest('li[data-i]');
    if (li && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); go(li); }
  });
  $('warnings-view').addEventListener('click', () => {
    const b = window.mgMap.getBounds();
    const w = Math.max(b.getWest(), b.getEast() - 10), s = Math.max(b.getSouth(), b.getNorth() - 10); // at most 10° a side
    load([w, s, b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(','));
  });
  $('warnings-all').addEventListener('click', () => load(''));
  sec.addEventListener('toggle', () => { if (sec.open && !sec.dataset.loaded) { sec.dataset.loaded = '1'; load(''); } });
  app.ready.then(() => { if (app.can('GET', '/api/v1/warnings')) sec.hidden = false; });
})();
