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
    goTo(warnings[Number(li.dataset.i)]);
  }
  // goTo flies to a warning's location and opens its evidence: the first
  // entity it names, else its building, else its grid.
  function goTo(w) {
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

  // ---- the warnings layer: a point at each warning's location ----------------
  // Coloured by type (one table: WARN_STYLE; the legend and the list's
  // titles show the same colours); a click on a point flies to the
  // evidence and opens it (as the list does).
  const WARN_STYLE = {
    registration_cluster: { color: '#d81b60', r: 9, order: 5 },
    out_of_area: { color: '#6a1b9a', r: 9, order: 4 },
    industry_shift: { color: '#ef6c00', r: 8, order: 3 },
    licence_expiry: { color: '#00838f', r: 7, order: 2 },
    zombie: { color: '#5d4037', r: 4.5, order: 1 },
  };
  let layerData = null, layerFC = null; // the warnings drawn (the API's answer for everywhere) and their points
  async function loadLayer() {
    const m = window.mgMap;
    let j;
    try {
      const r = await fetch('/api/v1/warnings?limit=10000');
      j = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(j.error || 'HTTP ' + r.status);
    } catch (e) {
      app.toast('预警图层加载失败：' + e.message);
      return;
    }
    layerData = j.warnings || [];
    const fc = { type: 'FeatureCollection', features: layerData.filter((w) => Array.isArray(w.location)).map((w, i) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: w.location }, properties: { i, type: w.type, order: (WARN_STYLE[w.type] || { order: 0 }).order },
    })) };
    layerFC = fc;
    m.getSource('warnings').setData(fc);
    sec.dataset.layerCount = String(fc.features.length);
  }
  function addLayer() {
    const m = window.mgMap;
    if (m.getSource('warnings')) return;
    m.addSource('warnings', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    const by = (k, dflt) => ['match', ['get', 'type'], ...Object.entries(WARN_STYLE).flatMap(([t, st]) => [t, st[k]]), dflt];
    m.addLayer({ id: 'warnings-points', type: 'circle', source: 'warnings', layout: { visibility: 'none', 'circle-sort-key': ['get', 'order'] },
      paint: { 'circle-color': by('color', '#757575'), 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, ['*', 0.6, by('r', 5)], 15, by('r', 5), 18, ['*', 1.6, by('r', 5)]],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2, 'circle-opacity': 0.95 } }, m.getLayer('road-label') ? 'road-label' : undefined);
    m.on('mouseenter', 'warnings-points', () => { m.getCanvas().style.cursor = 'pointer'; });
    m.on('mouseleave', 'warnings-points', () => { m.getCanvas().style.cursor = ''; });
  }
  function showLayer(on) {
    const m = window.mgMap;
    addLayer();
    m.setLayoutProperty('warnings-points', 'visibility', on ? 'visible' : 'none');
    if (on && !layerData) loadLayer();
    $('legend-warnings').hidden = !on;
    const h = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    if (on) h.set('warn', '1'); else h.delete('warn');
    history.replaceState(null, '', '#' + h.toString().replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%2C/g, ','));
  }
  // a click on a warning point (before the map's other layers: app.onClick)
  if (app.onClick) {
    app.onClick((ev) => {
      const m = window.mgMap;
      if (!layerData || !m.getLayer('warnings-points') || m.getLayoutProperty('warnings-points', 'visibility') === 'none') return false;
      const p = ev.point;
      const f = m.queryRenderedFeatures([[p.x - 4, p.y - 4], [p.x + 4, p.y + 4]], { layers: ['warnings-points'] })[0];
      if (!f) return false;
      const w = layerData[f.properties.i];
      if (!w) return false;
      window.mgRisk.picked = w;
      goTo(w);
      return true;
    });
  }
  app.ready.then(() => {
    if (!app.can('GET', '/api/v1/warnings')) return;
    const row = document.createElement('div');
    row.className = 'row';
    row.innerHTML = '<label><input type="checkbox" id="warnings-layer"> 预警图层（地图上标出各条预警）</label>';
    $('layers-section').appendChild(row);
    const leg = document.createElement('div');
    leg.id = 'legend-warnings';
    leg.hidden = true;
    leg.innerHTML = '<div class="legend-title">预警</div>' + Object.entries(WARN_STYLE).sort((a, b) => b[1].order - a[1].order)
      .map(([t, st]) => `<div data-type="${t}"><i class="dot" style="background:${st.color}"></i>${esc(WARN[t] || t)}</div>`).join('');
    $('legend').appendChild(leg);
    const cb = $('warnings-layer');
    cb.checked = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('warn') === '1';
    cb.addEventListener('change', () => showLayer(cb.checked));
    const m = window.mgMap;
    const start = () => { if (cb.checked) showLayer(true); };
    m.on('styledata', () => { // a base style swapped in (app.js setBase) drops our layer: add it again
      if (!cb.checked || m.getSource('warnings') || !m.getLayer('buildings-3d')) return;
      addLayer();
      m.setLayoutProperty('warnings-points', 'visibility', 'visible');
      if (layerFC) m.getSource('warnings').setData(layerFC);
    });
    if (m.loaded()) start(); else m.once('load', start);
  });
  window.mgRisk = { WARN, WARN_STYLE, showLayer, goTo, picked: null, layer: () => layerData };
  sec.addEventListener('toggle', () => { if (sec.open && !sec.dataset.loaded) { sec.dataset.loaded = '1'; load(''); } });
  app.ready.then(() => { if (app.can('GET', '/api/v1/warnings')) sec.hidden = false; });
})();
