// marketgeo web map: MapLibre GL JS on the server's own vector tiles, no
// base map from the internet. State lives in this closure only.
(function () {
  'use strict';
  const RISK_COLORS = ['match', ['get', 'risk'], 'A', '#2e7d32', 'B', '#1565c0', 'C', '#ef6c00', 'D', '#c62828', '#9e9e9e'];
  const RISK_NAMES = { A: 'A 诚信守法', B: 'B 一般失信', C: 'C 严重失信', D: 'D 吊销/黑名单' };
  const VERDICTS = { matched: '地址有效', doubtful: '存疑，需实地核查', invalid: '不是有效地址', outside: '不在本平台管辖范围' };
  const origin = window.location.origin;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  const style = {
    version: 8,
    sources: {
      zones: { type: 'vector', url: origin + '/tiles/zones.json' },
      buildings: { type: 'vector', url: origin + '/tiles/buildings.json' },
      places: { type: 'vector', url: origin + '/tiles/places.json' },
      entities: { type: 'vector', url: origin + '/tiles/entities.json' },
      radius: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#e9ecef' } },
      { id: 'district-fill', type: 'fill', source: 'zones', 'source-layer': 'zones', filter: ['==', ['get', 'layer'], 'district'],
        paint: { 'fill-color': '#fafaf7', 'fill-opacity': 0.95 } },
      { id: 'ftz-fill', type: 'fill', source: 'zones', 'source-layer': 'zones', filter: ['==', ['get', 'layer'], 'ftz'],
        paint: { 'fill-color': '#c2185b', 'fill-opacity': 0.05 } },
      { id: 'street-line', type: 'line', source: 'zones', 'source-layer': 'zones', minzoom: 10, filter: ['==', ['get', 'layer'], 'street'],
        paint: { 'line-color': '#c5cbd1', 'line-width': 0.6 } },
      { id: 'grid-line', type: 'line', source: 'zones', 'source-layer': 'zones', minzoom: 12, filter: ['==', ['get', 'layer'], 'grid'],
        paint: { 'line-color': '#5c6f82', 'line-width': 0.7, 'line-dasharray': [3, 2] } },
      { id: 'district-line', type: 'line', source: 'zones', 'source-layer': 'zones', filter: ['==', ['get', 'layer'], 'district'],
        paint: { 'line-color': '#6b6b6b', 'line-width': 1.4 } },
      { id: 'ftz-line', type: 'line', source: 'zones', 'source-layer': 'zones', filter: ['==', ['get', 'layer'], 'ftz'],
        paint: { 'line-color': '#c2185b', 'line-width': 2.5 } },
      { id: 'buildings-3d', type: 'fill-extrusion', source: 'buildings', 'source-layer': 'buildings', minzoom: 13,
        paint: {
          'fill-extrusion-color': ['interpolate', ['linear'], ['get', 'height'], 0, '#cfd8dc', 30, '#90a4ae', 100, '#546e7a', 250, '#37474f'],
          'fill-extrusion-height': ['get', 'height'], 'fill-extrusion-opacity': 0.7,
        } },
      { id: 'places', type: 'circle', source: 'places', 'source-layer': 'places', minzoom: 11,
        paint: { 'circle-radius': 3, 'circle-color': '#6d4c41', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } },
      { id: 'radius-fill', type: 'fill', source: 'radius', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#ffca28', 'fill-opacity': 0.15 } },
      { id: 'radius-line', type: 'line', source: 'radius', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': '#f9a825', 'line-width': 2 } },
      { id: 'entity-clusters', type: 'circle', source: 'entities', 'source-layer': 'entities', filter: ['has', 'count'],
        paint: {
          // the colour of the most frequent risk class in the cluster
          'circle-color': ['case',
            ['all', ['>=', ['get', 'count_A'], ['get', 'count_B']], ['>=', ['get', 'count_A'], ['get', 'count_C']], ['>=', ['get', 'count_A'], ['get', 'count_D']]], '#2e7d32',
            ['all', ['>=', ['get', 'count_B'], ['get', 'count_C']], ['>=', ['get', 'count_B'], ['get', 'count_D']]], '#1565c0',
            ['>=', ['get', 'count_C'], ['get', 'count_D']], '#ef6c00', '#c62828'],
          'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 6, 10, 14, 40, 26],
          'circle-opacity': 0.8, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5,
        } },
      { id: 'entities', type: 'circle', source: 'entities', 'source-layer': 'entities', filter: ['!', ['has', 'count']],
        paint: {
          'circle-color': RISK_COLORS,
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 14, 4, 18, 8],
          'circle-stroke-color': '#fff', 'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 12, 0.3, 16, 1.2],
        } },
      { id: 'entities-highlight', type: 'circle', source: 'entities', 'source-layer': 'entities', filter: ['in', ['get', 'id'], ['literal', []]],
        paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': 9, 'circle-stroke-color': '#ffb300', 'circle-stroke-width': 3 } },
      { id: 'radius-center', type: 'circle', source: 'radius', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 6, 'circle-color': '#f9a825', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
    ],
  };

  const map = new maplibregl.Map({
    container: 'map', style, center: [106.6, 29.72], zoom: 10.5, maxZoom: 19, attributionControl: { compact: true },
    pitch: 0, hash: true,
  });
  window.mgMap = map; // for the browser test and for debugging
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-left');

  // Fit the data once its bounds are known (unless the URL has a view).
  if (!window.location.hash) {
    fetch('/tiles/entities.json').then((r) => r.ok ? r.json() : null).then((tj) => {
      if (tj && tj.bounds) map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding: 20, duration: 0 });
    }).catch(() => {});
  }

  // ---- entity card ------------------------------------------------------
  function flag(ok, yes, no, cls) { return `<span class="badge ${ok ? 'flag-ok' : cls}">${ok ? yes : no}</span>`; }
  async function showEntity(id) {
    const card = $('card'), body = $('card-body');
    card.hidden = false;
    body.innerHTML = '加载中…';
    try {
      const r = await fetch('/api/v1/entities/' + encodeURIComponent(id));
      const j = await r.json();
      if (!r.ok) throw new Error(j.error || r.statusText);
      const p = j.properties || {};
      body.innerHTML = `<h3>${esc(p.name)}</h3><dl>
        <dt>统一社会信用代码</dt><dd>${esc(p.id)}</dd>
        <dt>住所</dt><dd>${esc(p.address || '—')}</dd>
        <dt>登记状态</dt><dd>${esc(p.status || '—')}</dd>
        <dt>风险等级</dt><dd><span class="badge" style="background:${({ A: '#2e7d32', B: '#1565c0', C: '#ef6c00', D: '#c62828' })[p.risk] || '#9e9e9e'}">${esc(RISK_NAMES[p.risk] || '未评级')}</span></dd>
        <dt>行业</dt><dd>${esc(p.industry || '—')}</dd>
        <dt>标记</dt><dd>${flag(p.annual_report, '已报年报', '未报年报', 'flag-warn')}${flag(!p.abnormal, '正常经营', '经营异常名录', 'flag-bad')}${flag(!p.blacklisted, '非失信', '严重违法失信名单', 'flag-bad')}</dd>
      </dl>`;
    } catch (e) {
      body.innerHTML = `<div class="status error">无法加载主体信息：${esc(e.message)}</div>`;
    }
  }
  $('card-close').addEventListener('click', () => { $('card').hidden = true; });

  // ---- radius tool --------------------------------------------------------
  let picking = false;
  const state = { radiusCenter: null }; // WGS-84 centre of the radius tool
  window.mgState = state;
  function circle(center, radiusM, n = 64) {
    const coords = [];
    const lat = center[1] * Math.PI / 180;
    for (let i = 0; i <= n; i++) {
      const a = (i / n) * 2 * Math.PI;
      const dx = radiusM * Math.cos(a), dy = radiusM * Math.sin(a);
      coords.push([center[0] + dx / (111320 * Math.cos(lat)), center[1] + dy / 110540]);
    }
    return { type: 'Feature', geometry: { type: 'Polygon', coordinates: [coords] }, properties: {} };
  }
  function highlight(ids) { map.setFilter('entities-highlight', ['in', ['get', 'id'], ['literal', ids]]); }

  // radiusQuery lists the entities within the chosen radius of a point
  // given in crs; the map shows the point converted to WGS-84.
  async function radiusQuery(lon, lat, crs) {
    const radius = Number($('radius-m').value);
    const wgs = window.mgCRS.toWGS84(crs, lon, lat);
    state.radiusCenter = wgs;
    map.getSource('radius').setData({ type: 'FeatureCollection', features: [circle(wgs, radius), { type: 'Feature', geometry: { type: 'Point', coordinates: wgs }, properties: {} }] });
    if (map.getZoom() < 15) map.easeTo({ center: wgs, zoom: radius > 500 ? 14.5 : 15.5 });
    const status = $('radius-status'), list = $('radius-results');
    status.className = 'status'; status.textContent = '查询中…'; list.innerHTML = '';
    try {
      const q = new URLSearchParams({ lon, lat, radius, layer: 'entities', limit: 500, crs });
      const r = await fetch('/api/v1/nearby?' + q);
      const j = await r.json();
      if (!r.ok) throw new Error(j.error || r.statusText);
      const fs = j.features || [];
      status.textContent = `${radius >= 1000 ? radius / 1000 + ' 公里' : radius + ' 米'}内共 ${j.total ?? fs.length} 个市场主体` + (j.truncated ? `（显示前 ${fs.length} 个）` : '') +
        `；中心 WGS-84 ${wgs[0].toFixed(6)}, ${wgs[1].toFixed(6)}`;
      list.innerHTML = fs.map((f) => `<li data-id="${esc(f.properties.id)}"><i class="dot" style="background:${({ A: '#2e7d32', B: '#1565c0', C: '#ef6c00', D: '#c62828' })[f.properties.risk] || '#9e9e9e'}"></i>${esc(f.properties.name)} <span class="meta">${Math.round(f.properties.distance_m)} 米 · ${esc(f.properties.status || '')}</span></li>`).join('');
      highlight(fs.map((f) => f.properties.id));
    } catch (e) {
      status.className = 'status error'; status.textContent = '周边查询失败：' + e.message;
    }
  }
  $('radius-pick').addEventListener('click', () => {
    picking = !picking;
    $('radius-pick').classList.toggle('active', picking);
    $('radius-pick').textContent = picking ? '点击地图选择中心…' : '在地图上选点';
    map.getCanvas().style.cursor = picking ? 'crosshair' : '';
  });
  $('radius-m').addEventListener('change', () => {
    if (state.radiusCenter) radiusQuery(state.radiusCenter[0], state.radiusCenter[1], 'wgs84');
  });
  $('radius-results').addEventListener('click', (ev) => { const li = ev.target.closest('li'); if (li) showEntity(li.dataset.id); });
  $('coord-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const m = $('coord-input').value.trim().match(/^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/);
    if (!m) { $('radius-status').className = 'status error'; $('radius-status').textContent = '请输入“经度,纬度”，如 106.5516,29.6655'; return; }
    let lon = Number(m[1]), lat = Number(m[2]);
    if (Math.abs(lon) <= 90 && Math.abs(lat) > 90) [lon, lat] = [lat, lon]; // pasted as lat,lon
    radiusQuery(lon, lat, $('coord-crs').value);
  });

  // ---- clicks -------------------------------------------------------------
  map.on('click', (ev) => {
    if (picking) {
      picking = false;
      $('radius-pick').classList.remove('active'); $('radius-pick').textContent = '在地图上选点';
      map.getCanvas().style.cursor = '';
      radiusQuery(ev.lngLat.lng, ev.lngLat.lat, 'wgs84');
      return;
    }
    const box = [[ev.point.x - 4, ev.point.y - 4], [ev.point.x + 4, ev.point.y + 4]];
    const cl = map.queryRenderedFeatures(box, { layers: ['entity-clusters'] });
    if (cl.length) { map.easeTo({ center: cl[0].geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 16) }); return; }
    const es = map.queryRenderedFeatures(box, { layers: ['entities'] });
    if (es.length) showEntity(es[0].properties.id);
  });
  for (const l of ['entities', 'entity-clusters']) {
    map.on('mouseenter', l, () => { if (!picking) map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { if (!picking) map.getCanvas().style.cursor = ''; });
  }

  // ---- search -------------------------------------------------------------
  $('search-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = $('search-q').value.trim();
    const status = $('search-status'), list = $('search-results');
    list.innerHTML = '';
    if (!q) return;
    status.className = 'status'; status.textContent = '搜索中…';
    try {
      const r = await fetch('/api/v1/search?' + new URLSearchParams({ q, limit: 20 }));
      let j = {};
      try { j = await r.json(); } catch (_) { /* non-JSON error body */ }
      if (r.status === 404 || r.status === 503) throw new Error(`搜索服务暂不可用（HTTP ${r.status}${j.error ? '：' + j.error : ''}）`);
      if (!r.ok) throw new Error(j.error || `HTTP ${r.status}`);
      const fs = j.features || j.hits || [];
      status.textContent = fs.length ? `找到 ${j.total ?? fs.length} 条结果` : '没有找到匹配的结果';
      list.innerHTML = fs.map((f, i) => {
        const p = f.properties || f;
        const layer = p.layer || 'entities';
        return `<li data-i="${i}">${esc(p.name)} <span class="meta">${esc(({ entities: '市场主体', places: '地点', buildings: '楼宇', zones: '区域' })[layer] || layer)}${p.address ? ' · ' + esc(p.address) : ''}</span></li>`;
      }).join('');
      list.onclick = (e) => {
        const li = e.target.closest('li'); if (!li) return;
        const f = fs[Number(li.dataset.i)], p = f.properties || f;
        const g = f.geometry;
        if (g && g.type === 'Point') map.easeTo({ center: g.coordinates, zoom: Math.max(map.getZoom(), 16) });
        if ((p.layer || 'entities') === 'entities' && p.id) { highlight([p.id]); showEntity(p.id); }
      };
    } catch (e) {
      status.className = 'status error'; status.textContent = e.message.startsWith('搜索') ? e.message : '搜索失败：' + e.message;
    }
  });

  // ---- address check -----------------------------------------------------
  let addrMarker = null;
  $('address-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const address = $('address-input').value.trim();
    const out = $('address-result');
    if (!address) return;
    out.className = 'status'; out.textContent = '核验中…';
    try {
      const r = await fetch('/api/v1/address/check', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ address }) });
      const j = await r.json();
      if (!r.ok) throw new Error(j.error || r.statusText);
      const loc = Array.isArray(j.location) && j.location.length === 2 && (j.location[0] || j.location[1]) ? j.location : null;
      out.innerHTML = `<div class="verdict ${esc(j.verdict)}">${esc(VERDICTS[j.verdict] || j.verdict)}</div><div>${esc(j.message || '')}</div>` +
        (j.normalized ? `<div class="meta">规范化：${esc(j.normalized)}</div>` : '') +
        (loc ? `<div class="meta">位置 WGS-84 ${loc[0].toFixed(6)}, ${loc[1].toFixed(6)}</div>` : '');
      if (addrMarker) { addrMarker.remove(); addrMarker = null; }
      if (loc) {
        addrMarker = new maplibregl.Marker({ color: j.verdict === 'matched' ? '#2e7d32' : '#ef6c00' }).setLngLat(loc).addTo(map);
        map.easeTo({ center: loc, zoom: Math.max(map.getZoom(), 16) });
      }
    } catch (e) {
      out.className = 'status error'; out.textContent = '核验失败：' + e.message;
    }
  });

  $('toggle').addEventListener('click', () => {
    const c = $('panel').classList.toggle('collapsed');
    $('toggle').setAttribute('aria-expanded', String(!c));
  });
  map.on('error', (e) => { console.warn('map error:', e && e.error && e.error.message); });
})();
