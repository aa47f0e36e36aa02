// The building economy on the web map (issue 18, item 3): the 3D
// buildings coloured by a chosen figure of their economy (output per floor,
// tax, entity count; or height as before) with a legend, and the building
// card's economy section (GET /api/v1/buildings/{id}/economy: entities
// inside, counts by industry section, status and risk class, sums of
// output, employment and tax). The building tiles carry the same figures
// as that API (the server computes both in one place). Only where the
// OpenAPI document lists the economy route and the buildings' TileJSON
// announces the figures (never on the public profile).
(function () {
  'use strict';
  const app = window.mgApp;
  if (!app || !app.card || !app.can) return;
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const $ = (id) => document.getElementById(id);
  const fmtN = (n, d = 0) => Number(n || 0).toLocaleString('zh-CN', { maximumFractionDigits: d });
  const ECONOMY = '/api/v1/buildings/{id}/economy';
  // The figures a building can be coloured by: tile field, name, unit and
  // class breaks (the lower bounds of the 2nd… classes; one colour more than
  // breaks). One table for the paint expression, the legend and the test.
  const FIGURES = {
    height: { name: '高度', unit: '米', breaks: [30, 100, 250], colors: ['#cfd8dc', '#90a4ae', '#546e7a', '#37474f'] },
    output_per_floor: { name: '每层产值', unit: '万元', breaks: [1, 100, 300, 1000, 3000], colors: ['#e0e0e0', '#fff3b0', '#fdd835', '#fb8c00', '#e53935', '#7b1fa2'] },
    tax: { name: '税收（近一年）', unit: '元', breaks: [1, 10000, 30000, 60000, 100000], colors: ['#e0e0e0', '#c8e6c9', '#66bb6a', '#2e7d32', '#1b5e20', '#0d3311'] },
    entity_count: { name: '市场主体数', unit: '个', breaks: [1, 3, 6, 10, 15], colors: ['#e0e0e0', '#bbdefb', '#64b5f6', '#1e88e5', '#1565c0', '#0d47a1'] },
  };
  // classOf returns the class (0…) of a value of a figure (the paint
  // expression's step, computed the same way).
  const classOf = (fig, v) => FIGURES[fig].breaks.filter((b) => Number(v || 0) >= b).length;
  const colorExpr = (fig) => {
    const f = FIGURES[fig];
    return ['step', ['to-number', ['coalesce', ['get', fig], 0]], f.colors[0], ...f.breaks.flatMap((b, i) => [b, f.colors[i + 1]])];
  };
  const range = (f, i) => {
    const lo = i ? f.breaks[i - 1] : null, hi = f.breaks[i];
    if (lo == null) return hi === 1 ? '无' : `低于 ${fmtN(hi)}`;
    return hi == null ? `${fmtN(lo)} 及以上` : `${fmtN(lo)}–${fmtN(hi)}`;
  };
  const SECTIONS = {
    A: '农、林、牧、渔业', B: '采矿业', C: '制造业', D: '电力、热力、燃气及水生产和供应业', E: '建筑业', F: '批发和零售业',
    G: '交通运输、仓储和邮政业', H: '住宿和餐饮业', I: '信息传输、软件和信息技术服务业', J: '金融业', K: '房地产业',
    L: '租赁和商务服务业', M: '科学研究和技术服务业', N: '水利、环境和公共设施管理业', O: '居民服务、修理和其他服务业',
    P: '教育', Q: '卫生和社会工作', R: '文化、体育和娱乐业', S: '公共管理、社会保障和社会组织', T: '国际组织',
  };
  const state = { figure: 'height' };

  // ---- colouring the 3D buildings by a figure ---------------------------------
  function setFigure(fig) {
    if (!FIGURES[fig]) fig = 'height';
    state.figure = fig;
    const m = window.mgMap;
    if (m && m.getLayer('buildings-3d')) m.setPaintProperty('buildings-3d', 'fill-extrusion-color', colorExpr(fig));
    const f = FIGURES[fig];
    const leg = $('legend-buildings');
    if (leg) {
      leg.dataset.figure = fig;
      leg.innerHTML = `<div class="legend-title">楼宇：按${esc(f.name)}（${esc(f.unit)}）</div>` +
        f.colors.map((c, i) => `<div data-class="${i}"><i class="box" style="background:${c}"></i>${esc(range(f, i))}</div>`).join('');
    }
    const sel = $('building-figure');
    if (sel && sel.value !== fig) sel.value = fig;
    const h = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    if (fig === 'height') h.delete('bfig'); else h.set('bfig', fig);
    history.replaceState(null, '', '#' + h.toString().replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%2C/g, ','));
  }
  async function init() {
    await app.ready;
    if (!app.can('GET', ECONOMY)) return;
    let tj;
    try { tj = await (await fetch('/tiles/buildings.json')).json(); } catch (e) { return; }
    const fields = ((tj.vector_layers || [])[0] || {}).fields || {};
    if (!('output_per_floor' in fields)) return; // tiles without the figures
    const sw = $('layers-section');
    if (!sw || $('building-figure')) return;
    const row = document.createElement('div');
    row.className = 'row';
    row.id = 'building-figure-row';
    row.innerHTML = `<label for="building-figure">楼宇着色</label><select id="building-figure">${Object.entries(FIGURES).map(([k, f]) => `<option value="${k}">${esc(f.name)}</option>`).join('')}</select>`;
    sw.appendChild(row);
    const leg = document.createElement('div');
    leg.id = 'legend-buildings';
    const old = document.querySelector('#legend .box.bld');
    if (old && old.parentElement) old.parentElement.replaceWith(leg); else if ($('legend')) $('legend').appendChild(leg);
    $('building-figure').addEventListener('change', (ev) => setFigure(ev.target.value));
    const m = window.mgMap;
    const want = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('bfig') || 'height';
    const apply = () => setFigure(state.figure === 'height' ? want : state.figure);
    if (m.loaded()) apply(); else m.once('load', apply);
    m.on('styledata', () => { // a base style swapped in keeps the colouring
      const cur = m.getLayer('buildings-3d') && JSON.stringify(m.getPaintProperty('buildings-3d', 'fill-extrusion-color'));
      if (cur && cur !== JSON.stringify(colorExpr(state.figure))) m.setPaintProperty('buildings-3d', 'fill-extrusion-color', colorExpr(state.figure));
    });
  }
  init();

  // ---- the building card's economy section ------------------------------------
  const count = (o, name) => Object.entries(o || {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `<span data-key="${esc(k)}">${esc(name(k))} <b>${n}</b></span>`).join('');
  app.card.addSection('building', async ({ id }) => {
    await app.ready;
    if (!app.can('GET', ECONOMY)) return '';
    let ec;
    try {
      const r = await fetch('/api/v1/buildings/' + encodeURIComponent(id) + '/economy');
      if (!r.ok) return '';
      ec = await r.json();
    } catch (e) {
      return '';
    }
    const f = state.figure !== 'height' ? FIGURES[state.figure] : null;
    const v = f ? (state.figure === 'entity_count' ? ec.entities : ec[state.figure]) : null;
    const dd = (k, v, d, unit) => `<span data-f="${k}" data-v="${esc(v)}">${fmtN(v, d)}</span>${unit ? ' ' + unit : ''}`;
    return `<div class="economy" data-building="${esc(ec.building_id)}"><h4>楼宇经济</h4><dl>
      <dt>市场主体</dt><dd>${dd('entities', ec.entities, 0, '个')}</dd>
      <dt>产值</dt><dd>${dd('output', ec.output, 1, '万元/年')}</dd>
      ${ec.floors ? `<dt>每层产值</dt><dd>${dd('output_per_floor', ec.output_per_floor, 1, '万元')}</dd>` : ''}
      <dt>从业人员</dt><dd>${dd('employment', ec.employment, 0, '人')}</dd>
      <dt>税收</dt><dd>${dd('tax', ec.tax, 2, '元（近一年）')}</dd>
      <dt>有数据主体</dt><dd>${dd('reporting', ec.reporting, 0, '个')}</dd>
      ${f ? `<dt>着色</dt><dd data-class="${classOf(state.figure, v)}">${esc(f.name)}：<i class="box" style="background:${f.colors[classOf(state.figure, v)]}"></i>${esc(range(f, classOf(state.figure, v)))}</dd>` : ''}
    </dl>
    ${ec.entities ? `<div class="legend-title">按行业门类</div><div class="counts" data-by="section">${count(ec.by_section, (k) => `${k} ${SECTIONS[k] || ''}`)}</div>
    <div class="legend-title">按登记状态</div><div class="counts" data-by="status">${count(ec.by_status, (k) => k)}</div>
    <div class="legend-title">按风险等级</div><div class="counts" data-by="class">${count(ec.by_class, (k) => (app.RISK[k] ? app.RISK[k].name : '未评级'))}</div>` : ''}
    </div>`;
  });
  window.mgEconomy = { FIGURES, classOf, setFigure, state };
})();
