// The office console (issue 19, item 6): complaints, tasks, spot checks
// and incidents as lists with their state (the API's lists, newest
// first), each opening a card (a complaint's log, a task's progress by
// grid, a spot check's draw and results); an incident opens its view: the
// affected area drawn on the map (the circle or polygon the incident was
// registered with), the nearest response resources as points, and the
// area's counts. Only where the OpenAPI document lists the routes.
(function () {
  'use strict';
  const app = window.mgApp;
  if (!app || !app.card) return;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const fmtN = (n) => Number(n || 0).toLocaleString('zh-CN');
  const row = (dt, dd) => `<dt>${dt}</dt><dd>${dd}</dd>`;
  // One table per rule.
  const STATUS = { new: '新登记', assigned: '已派发', handled: '已处理', replied: '已答复' };
  const INCIDENT = { fire: '火灾', flood: '洪涝', explosion: '爆炸', leak: '泄漏', food_poisoning: '食物中毒', collapse: '坍塌', other: '其他' };
  const RESOURCE = { station: '救援站', team: '救援队', warehouse: '物资储备库' };
  const PLACE = { school: '学校', kindergarten: '幼儿园', hospital: '医院', clinic: '诊所', landmark: '地标', settlement: '居民点', government: '政府机关', park: '公园', station: '车站' };
  const TABS = {
    complaints: { name: '投诉举报', path: '/api/v1/complaints?limit=200', key: 'complaints' },
    tasks: { name: '专项任务', path: '/api/v1/tasks', key: 'tasks' },
    spotchecks: { name: '双随机抽查', path: '/api/v1/spotchecks', key: 'spotchecks' },
    incidents: { name: '突发事件', path: '/api/v1/incidents?limit=200', key: 'incidents' },
  };
  const pct = (d, t) => (t ? Math.round((1000 * d) / t) / 10 : 0);
  // item renders one list item of a tab: [data attributes, html].
  const ITEM = {
    complaints: (c) => [`data-open="complaint:${esc(c.id)}" data-status="${esc(c.status)}"`,
      `<span class="tag st-${esc(c.status)}">${esc(STATUS[c.status] || c.status)}</span> ${esc(c.hotline)} ${esc(c.text)}
       <div class="meta">${esc(c.id)} · ${c.grid ? `网格 ${esc(c.grid)} · ${esc(c.inspector || '无网格员')}` : esc(c.outside_area ? '不在平台管辖范围' : '未分派')}${c.duplicate_of ? ' · 重复' : ''}</div>`],
    tasks: (t) => [`data-open="task:${esc(t.id)}" data-done="${t.done}" data-total="${t.total}"`,
      `<b>${esc(t.title)}</b> <span class="meta">${t.done}/${t.total}（${pct(t.done, t.total)}%）· ${t.grids} 个网格 · 截止 ${esc(t.deadline)}</span><div class="meta">${esc(t.id)}</div>`],
    spotchecks: (s) => [`data-open="spotcheck:${esc(s.id)}" data-done="${s.done}" data-total="${s.sample}"`,
      `<b>${esc(s.title || (s.items || []).join('、'))}</b> <span class="meta">已查 ${s.done}/${s.sample}</span><div class="meta">${esc(s.id)}</div>`],
    incidents: (i) => [`data-incident="${esc(i.id)}" data-entities="${(i.entities || {}).total || 0}"`,
      `<b>${esc(i.title || INCIDENT[i.kind] || i.kind)}</b> <span class="meta">${esc(INCIDENT[i.kind] || i.kind)} · ${fmtN((i.entities || {}).total)} 个主体 · ${(i.log || []).length} 条处置记录</span><div class="meta">${esc(i.id)}</div>`],
  };

  const sec = document.createElement('details');
  sec.id = 'console-section';
  sec.hidden = true;
  sec.innerHTML = `<summary>监管工作台</summary>
    <div class="tabs" role="tablist">${Object.entries(TABS).map(([k, t]) => `<button type="button" role="tab" data-tab="${k}" aria-selected="false">${t.name}</button>`).join('')}</div>
    <div id="console-status" class="status" aria-live="polite"></div>
    <ul id="console-list" class="results console-list"></ul>`;
  const anchor = $('warnings-section') || $('legend');
  $('panel-body').insertBefore(sec, anchor);
  let tab = 'complaints';
  async function load(k) {
    tab = k;
    for (const b of sec.querySelectorAll('[data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === k));
    const st = $('console-status'), list = $('console-list');
    st.className = 'status'; st.textContent = '加载中…';
    list.innerHTML = '';
    delete sec.dataset.tab;
    let items;
    try {
      items = (await app.api(TABS[k].path))[TABS[k].key] || [];
    } catch (e) {
      st.className = 'status error'; st.textContent = `${TABS[k].name}加载失败：${e.message}`;
      return;
    }
    st.innerHTML = `${TABS[k].name}共 <b data-count>${items.length}</b> 项`;
    list.innerHTML = items.map((it) => { const [attrs, html] = ITEM[k](it); return `<li tabindex="0" role="button" data-id="${esc(it.id)}" ${attrs}>${html}</li>`; }).join('');
    sec.dataset.tab = k;
  }
  sec.querySelector('.tabs').addEventListener('click', (ev) => { const b = ev.target.closest('[data-tab]'); if (b) load(b.dataset.tab); });
  function openItem(li) {
    if (li.dataset.incident) { showIncident(li.dataset.incident); return; }
    const [k, ...rest] = (li.dataset.open || '').split(':');
    if (k) app.openCard(k, rest.join(':'));
  }
  $('console-list').addEventListener('click', (ev) => { const li = ev.target.closest('li[data-id]'); if (li) openItem(li); });
  $('console-list').addEventListener('keydown', (ev) => {
    const li = ev.target.closest('li[data-id]');
    if (li && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); openItem(li); }
  });
  sec.addEventListener('toggle', () => { if (sec.open && !sec.dataset.tab) load(tab); });

  // ---- cards: a task's progress by grid, a spot check's draw ---------------
  app.card.addSection('task', async ({ id }) => {
    const p = await app.api('/api/v1/tasks/' + encodeURIComponent(id) + '?limit=50');
    const t = p.task || {};
    return `<div class="kind">专项任务</div><h3 id="card-title">${esc(t.title || id)}</h3><dl>
      ${row('编号', esc(id))}${row('截止', esc(t.deadline) + (p.overdue ? ' <span class="error">已逾期</span>' : ''))}
      ${row('进度', `<span data-done>${p.done}</span>/<span data-total>${p.total}</span>（${esc(p.percent)}%）`)}</dl>
      <table class="progress"><thead><tr><th>网格</th><th>网格员</th><th>完成</th></tr></thead><tbody>
      ${(p.by_grid || []).map((g) => `<tr data-grid="${esc(g.grid)}"><td><button type="button" class="link" data-open="grid:${esc(g.grid)}">${esc(g.grid)}</button></td><td>${esc(g.inspector || '—')}</td><td>${g.done}/${g.total}${g.overdue ? ' <span class="error">逾期</span>' : ''}</td></tr>`).join('')}
      </tbody></table>`;
  });
  app.card.addSection('spotcheck', async ({ id }) => {
    const s = await app.api('/api/v1/spotchecks/' + encodeURIComponent(id));
    const res = s.results || {};
    return `<div class="kind">双随机抽查</div><h3 id="card-title">${esc(s.title || (s.items || []).join('、'))}</h3><dl>
      ${row('编号', esc(id))}${row('检查事项', esc((s.items || []).join('、')))}
      ${row('抽取', `${s.sample} / ${fmtN(s.candidates)} 个候选主体（种子 ${esc(s.seed)}）`)}
      ${row('已查', `<span data-done>${Object.keys(res).length}</span>`)}</dl>
      <ul class="results">${(s.entities || []).map((d) => `<li tabindex="0" role="button" data-open="entity:${esc(d.entity_id)}" data-entity="${esc(d.entity_id)}">${esc(d.entity_id)} <span class="meta">${esc((d.inspectors || []).join('、'))}${res[d.entity_id] ? ' · ' + esc(res[d.entity_id].result) : ' · 待查'}</span></li>`).join('')}</ul>
      <a class="link" href="/api/v1/spotchecks/${encodeURIComponent(id)}/public" target="_blank" rel="noopener">公示</a>`;
  });

  // ---- the incident view: the area drawn, the resources, the counts -------
  let shown = null;
  async function showIncident(id) {
    let inc;
    try { inc = await app.api('/api/v1/incidents/' + encodeURIComponent(id)); } catch (e) { app.toast('突发事件加载失败：' + e.message); return; }
    await app.mapLoad;
    const map = window.mgMap;
    const ring = inc.polygon && inc.polygon.length ? inc.polygon : app.circle(inc.center, inc.radius || 500).geometry.coordinates;
    const feats = [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: ring }, properties: { id: inc.id, role: 'area' } }];
    for (const r of inc.resources || []) feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: r.location }, properties: { id: r.id, role: 'resource', name: `${r.name}（${Math.round(r.distance_m)} 米）` } });
    const data = { type: 'FeatureCollection', features: feats };
    if (map.getSource('incident')) map.getSource('incident').setData(data);
    else {
      map.addSource('incident', { type: 'geojson', data });
      map.addLayer({ id: 'incident-fill', type: 'fill', source: 'incident', filter: ['==', ['get', 'role'], 'area'], paint: { 'fill-color': '#d32f2f', 'fill-opacity': 0.18 } });
      map.addLayer({ id: 'incident-line', type: 'line', source: 'incident', filter: ['==', ['get', 'role'], 'area'], paint: { 'line-color': '#b71c1c', 'line-width': 2.5 } });
      map.addLayer({ id: 'incident-resources', type: 'circle', source: 'incident', filter: ['==', ['get', 'role'], 'resource'], paint: { 'circle-radius': 7, 'circle-color': '#2e7d32', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
      map.addLayer({ id: 'incident-resource-label', type: 'symbol', source: 'incident', filter: ['==', ['get', 'role'], 'resource'], layout: { 'text-field': ['get', 'name'], 'text-size': 11, 'text-offset': [0, 1], 'text-anchor': 'top' }, paint: { 'text-color': '#1b5e20', 'text-halo-color': '#fff', 'text-halo-width': 1.5 } });
    }
    let b = null;
    for (const c of ring[0]) b = b ? [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])] : [c[0], c[1], c[0], c[1]];
    const pr = $('panel').getBoundingClientRect(), narrow = window.innerWidth <= 640;
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: narrow ? { top: 30, left: 30, right: 50, bottom: window.innerHeight - pr.top + 20 } : { top: 60, bottom: 60, left: pr.right + 40, right: 400 }, duration: 0, maxZoom: 17 });
    shown = inc;
    app.openCard('incident', inc.id, { inc });
  }
  app.card.addSection('incident', async ({ id, inc }) => {
    inc = inc && inc.id === id ? inc : await app.api('/api/v1/incidents/' + encodeURIComponent(id));
    const e = inc.entities || {};
    const byRisk = Object.entries(e.by_risk || {}).sort().map(([k, n]) => `${esc(k)} 类 ${fmtN(n)}`).join(' · ');
    const places = Object.entries(inc.places || {}).map(([k, n]) => `${esc(PLACE[k] || k)} ${fmtN(n)}`).join(' · ');
    return `<div class="kind">突发事件 · ${esc(INCIDENT[inc.kind] || inc.kind)}</div><h3 id="card-title">${esc(inc.title || inc.id)}</h3><dl>
      ${row('编号', esc(inc.id))}
      ${row('范围', inc.polygon && inc.polygon.length ? '多边形' : `半径 ${fmtN(inc.radius)} 米`)}
      ${row('市场主体', `<b data-entities>${fmtN(e.total)}</b>${byRisk ? `<div class="meta">${byRisk}</div>` : ''}`)}
      ${row('楼宇', `<span data-buildings>${fmtN(inc.buildings)}</span>`)}
      ${places ? row('学校等地点', places) : ''}
      ${row('涉及网格', esc((inc.grids || []).join('、') || '—'))}
    </dl><h4>最近的救援资源</h4><ol class="resources">${(inc.resources || []).map((r) => `<li data-resource="${esc(r.id)}">${esc(r.name)} <span class="meta">${esc(RESOURCE[r.kind] || r.kind)} · ${fmtN(Math.round(r.distance_m))} 米</span></li>`).join('')}</ol>
    <h4>处置记录</h4><ol class="log">${(inc.log || []).map((s) => `<li>${esc(s.status)} <span class="meta">${esc(String(s.at || '').replace('T', ' ').replace('Z', ''))} ${esc(s.by)}${s.note ? ' · ' + esc(s.note) : ''}</span></li>`).join('')}</ol>`;
  });
  window.mgConsole = { showIncident, load, shown: () => shown };

  app.ready.then(() => {
    if (app.can('GET', '/api/v1/complaints') && app.can('GET', '/api/v1/tasks') && app.can('GET', '/api/v1/spotchecks') && app.can('GET', '/api/v1/incidents')) sec.hidden = false;
  });
})();
