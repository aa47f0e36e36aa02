// marketgeo web map: MapLibre GL JS on the server's own vector tiles, no
// base map from the internet (unless the deployment configures one in
// /webmap/config.json). State lives in this closure; window.mgMap,
// window.mgState and window.mgApp are for the browser test and debugging.
(function () {
  'use strict';
  // ---- one table per rule -------------------------------------------------
  // Risk classes: colour of a point and its name. The colours keep at least
  // 3:1 contrast against the map's light fills (checked by the browser test).
  const RISK = {
    A: { name: 'A 诚信守法', color: '#2e7d32' },
    B: { name: 'B 一般失信', color: '#1565c0' },
    C: { name: 'C 严重失信', color: '#bf360c' },
    D: { name: 'D 吊销/黑名单', color: '#8e0000' },
  };
  const UNRATED = '#757575';
  // Clusters are coloured by the share of C+D entities among their members,
  // against fixed thresholds (docs/webmap.md says why): [from share, fill,
  // text colour, legend]. The demo region's average is about 15 %.
  const CD_SHARE = [
    [0, '#2e7d32', '#ffffff', 'C+D 低于 10%'],
    [0.10, '#fdd835', '#212121', 'C+D 10%–20%'],
    [0.20, '#ef6c00', '#212121', 'C+D 20%–35%'],
    [0.35, '#b71c1c', '#ffffff', 'C+D 35% 及以上'],
  ];
  const PLACE_KINDS = { school: '学校', kindergarten: '幼儿园', hospital: '医院', clinic: '诊所', landmark: '地标', settlement: '居民点', government: '政府机关', park: '公园', station: '车站' };
  const ZONE_LAYERS = { district: '行政区', street: '街道/镇', ftz: '自贸区片区', grid: '监管网格' };
  const SEARCH_KINDS = { entities: '市场主体', places: '地点', buildings: '楼宇', zones: '区域', addresses: '地址' };
  const VERDICTS = { matched: '地址有效', doubtful: '存疑，需实地核查', invalid: '不是有效地址', outside: '不在本平台管辖范围' };
  // HTTP statuses as a clerk reads them.
  const HTTP_ZH = { 400: '请求有误', 401: '需要登录', 403: '没有权限', 404: '未找到', 409: '数据已被他人修改', 413: '请求过大', 429: '请求过于频繁，请稍后再试', 500: '服务器内部错误', 502: '网关错误', 503: '服务暂不可用（正在启动或维护）', 504: '服务器响应超时' };

  const origin = window.location.origin;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const riskColor = (r) => (RISK[r] ? RISK[r].color : UNRATED);
  const fmtN = (n) => Number(n || 0).toLocaleString('zh-CN');

  // ---- loading indicator and errors ----------------------------------------
  let pending = 0, mapBusy = true;
  function updateLoading() { $('loading').hidden = pending === 0 && !mapBusy; }
  // api fetches JSON from the server, counting it as pending work, and
  // throws an Error whose message is in Chinese (the server's own message
  // follows in brackets).
  async function api(path, init) {
    pending++; updateLoading();
    try {
      let r;
      try { r = await fetch(path, init); } catch (_) { throw new Error('无法连接服务器，请检查网络'); }
      let j = null;
      try { j = await r.json(); } catch (_) { /* not JSON */ }
      if (!r.ok) {
        const e = new Error((HTTP_ZH[r.status] || `请求失败（HTTP ${r.status}）`) + (j && j.error ? `（${j.error}）` : ''));
        e.status = r.status;
        throw e;
      }
      return j || {};
    } finally {
      pending--; updateLoading();
    }
  }
  // ---- what this server serves -------------------------------------------------
  // The server's OpenAPI document lists the routes of the profile it serves
  // (the public profile has a few: docs/security.md). The map calls only the
  // routes listed there and hides what needs others, so the public face's
  // page never asks for an internal route. Until the document is read, and
  // if it cannot be, every route is assumed (the internal profile's page).
  let apiDoc = null;
  const apiReady = api('/api/v1/openapi.json').then((d) => { apiDoc = d && d.paths ? d : null; }).catch(() => {});
  function can(method, path, layer) {
    if (!apiDoc) return true;
    const op = (apiDoc.paths[path] || {})[method.toLowerCase()];
    if (!op) return false;
    if (!layer) return true;
    const lp = (op.parameters || []).find((x) => x.name === 'layer' && x.in === 'path');
    const en = lp && lp.schema && lp.schema.enum;
    return !en || en.includes(layer);
  }
  const canFeature = (layer) => can('GET', '/api/v1/{layer}/{id}', layer);
  // The entities' tile fields (their TileJSON): without risk (the public
  // profile's tiles) the map draws no risk colours, legend or heat map.
  const entitiesTJ = api('/tiles/entities.json');
  let riskShown = true;

  let toastTimer = 0;
  function toast(msg) {
    const t = $('toast');
    t.textContent = msg; t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
  }

  // ---- URL: view, open panel, layers ----------------------------------------
  // The hash is map=zoom/lat/lon/bearing/pitch (MapLibre's), sel=kind:id (the
  // open card), layers=… (the switched-off layers) and r=lon,lat,m (radius).
  const hashParams = () => new URLSearchParams(window.location.hash.replace(/^#/, ''));
  (function legacyHash() { // #zoom/lat/lon links from before
    const h = window.location.hash.replace(/^#/, '');
    if (/^[\d.]+\/-?[\d.]+\/-?[\d.]+/.test(h)) history.replaceState(null, '', '#map=' + h);
  })();
  function setHashParam(k, v) {
    const p = hashParams();
    if (v) p.set(k, v); else p.delete(k);
    const s = p.toString().replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%2C/g, ',');
    history.replaceState(null, '', '#' + s);
  }

  // ---- style ----------------------------------------------------------------
  const isLabel = ['==', ['get', 'label'], 1];
  const zoneIs = (l) => ['all', ['==', ['get', 'layer'], l], ['!', isLabel]];
  const labelOf = (l) => ['all', ['==', ['get', 'layer'], l], isLabel];
  const share = ['/', ['+', ['get', 'count_C'], ['get', 'count_D']], ['max', ['get', 'count'], 1]];
  const shareStep = (i) => ['step', share, CD_SHARE[0][i], ...CD_SHARE.slice(1).flatMap((s) => [s[0], s[i]])];
  const textHalo = { 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.4 };
  const style = {
    version: 8,
    sources: {
      zones: { type: 'vector', url: origin + '/tiles/zones.json' },
      roads: { type: 'vector', url: origin + '/tiles/roads.json' },
      buildings: { type: 'vector', url: origin + '/tiles/buildings.json' },
      places: { type: 'vector', url: origin + '/tiles/places.json' },
      entities: { type: 'vector', url: origin + '/tiles/entities.json' },
      radius: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#e9ecef' } },
      { id: 'district-fill', type: 'fill', source: 'zones', 'source-layer': 'zones', filter: zoneIs('district'),
        paint: { 'fill-color': '#fafaf7', 'fill-opacity': 0.95 } },
      { id: 'ftz-fill', type: 'fill', source: 'zones', 'source-layer': 'zones', filter: zoneIs('ftz'),
        paint: { 'fill-color': '#c2185b', 'fill-opacity': 0.05 } },
      { id: 'grid-fill', type: 'fill', source: 'zones', 'source-layer': 'zones', minzoom: 12, filter: zoneIs('grid'),
        paint: { 'fill-color': '#5c6f82', 'fill-opacity': 0 } },
      { id: 'street-line', type: 'line', source: 'zones', 'source-layer': 'zones', minzoom: 10, filter: zoneIs('street'),
        paint: { 'line-color': '#b0b8c1', 'line-width': 0.8 } },
      { id: 'grid-line', type: 'line', source: 'zones', 'source-layer': 'zones', minzoom: 12, filter: zoneIs('grid'),
        paint: { 'line-color': '#5c6f82', 'line-width': 0.7, 'line-dasharray': [3, 2] } },
      { id: 'district-line', type: 'line', source: 'zones', 'source-layer': 'zones', filter: zoneIs('district'),
        paint: { 'line-color': '#6b6b6b', 'line-width': 1.4 } },
      { id: 'road-casing', type: 'line', source: 'roads', 'source-layer': 'roads', minzoom: 11,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': '#d9c9a8', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 1.5, 14, ['match', ['get', 'kind'], 'major', 7, 5], 17, ['match', ['get', 'kind'], 'major', 16, 11]] } },
      { id: 'road-line', type: 'line', source: 'roads', 'source-layer': 'roads', minzoom: 10,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': ['match', ['get', 'kind'], 'major', '#f4b860', '#ffffff'],
          'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.6, 14, ['match', ['get', 'kind'], 'major', 5, 3.5], 17, ['match', ['get', 'kind'], 'major', 13, 9]] } },
      { id: 'ftz-line', type: 'line', source: 'zones', 'source-layer': 'zones', filter: zoneIs('ftz'),
        paint: { 'line-color': '#c2185b', 'line-width': 2.5 } },
      { id: 'buildings-3d', type: 'fill-extrusion', source: 'buildings', 'source-layer': 'buildings', minzoom: 13,
        paint: {
          'fill-extrusion-color': ['interpolate', ['linear'], ['get', 'height'], 0, '#cfd8dc', 30, '#90a4ae', 100, '#546e7a', 250, '#37474f'],
          'fill-extrusion-height': ['get', 'height'], 'fill-extrusion-opacity': 0.7,
        } },
      { id: 'places', type: 'circle', source: 'places', 'source-layer': 'places', minzoom: 11,
        paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 3, 16, 6], 'circle-color': '#6d4c41', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } },
      { id: 'radius-fill', type: 'fill', source: 'radius', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#ffca28', 'fill-opacity': 0.15 } },
      { id: 'radius-line', type: 'line', source: 'radius', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': '#f9a825', 'line-width': 2 } },
      { id: 'cd-heat', type: 'heatmap', source: 'entities', 'source-layer': 'entities', layout: { visibility: 'none' },
        paint: {
          // C and D entities only: a cluster weighs its C+D members
          'heatmap-weight': ['case', ['has', 'count'], ['+', ['get', 'count_C'], ['get', 'count_D']], ['match', ['get', 'risk'], ['C', 'D'], 1, 0]],
          'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 8, 0.02, 12, 0.15, 14, 1, 17, 2],
          'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 8, 18, 13, 30, 16, 22],
          'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'], 0, 'rgba(255,235,59,0)', 0.2, 'rgba(255,213,79,0.55)', 0.5, 'rgba(239,108,0,0.75)', 0.8, 'rgba(198,40,40,0.85)', 1, 'rgba(120,0,0,0.9)'],
          'heatmap-opacity': 0.85,
        } },
      { id: 'entity-clusters', type: 'circle', source: 'entities', 'source-layer': 'entities', filter: ['has', 'count'],
        paint: {
          'circle-color': shareStep(1),
          'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 8, 10, 15, 40, 27],
          'circle-opacity': 0.9, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5,
        } },
      { id: 'entity-cluster-count', type: 'symbol', source: 'entities', 'source-layer': 'entities', filter: ['has', 'count'],
        layout: { 'text-field': ['case', ['>=', ['get', 'count'], 10000], ['concat', ['to-string', ['/', ['round', ['/', ['get', 'count'], 1000]], 10]], '万'], ['to-string', ['get', 'count']]],
          'text-size': 11, 'text-allow-overlap': false, 'text-ignore-placement': true },
        paint: { 'text-color': shareStep(2) } },
      { id: 'entities', type: 'circle', source: 'entities', 'source-layer': 'entities', filter: ['!', ['has', 'count']],
        paint: {
          'circle-color': ['match', ['get', 'risk'], ...Object.entries(RISK).flatMap(([k, v]) => [k, v.color]), UNRATED],
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 14, 4, 18, 8],
          'circle-stroke-color': '#fff', 'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 12, 0.3, 16, 1.2],
        } },
      { id: 'entities-highlight', type: 'circle', source: 'entities', 'source-layer': 'entities', filter: ['in', ['get', 'id'], ['literal', []]],
        paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': 9, 'circle-stroke-color': '#ffb300', 'circle-stroke-width': 3 } },
      { id: 'radius-center', type: 'circle', source: 'radius', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 7, 'circle-color': '#f9a825', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
      // labels: drawn from the browser's own fonts (no glyph server)
      { id: 'road-label', type: 'symbol', source: 'roads', 'source-layer': 'roads', minzoom: 13,
        layout: { 'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-size': ['interpolate', ['linear'], ['zoom'], 13, 11, 17, 14], 'symbol-spacing': 320, 'text-max-angle': 35 },
        paint: { 'text-color': '#5d4a2a', ...textHalo } },
      { id: 'district-label', type: 'symbol', source: 'zones', 'source-layer': 'zones', minzoom: 7, maxzoom: 12.5, filter: labelOf('district'),
        layout: { 'text-field': ['get', 'name'], 'text-size': 16, 'text-letter-spacing': 0.2 },
        paint: { 'text-color': '#37474f', ...textHalo } },
      { id: 'ftz-label', type: 'symbol', source: 'zones', 'source-layer': 'zones', minzoom: 9, filter: labelOf('ftz'),
        layout: { 'text-field': ['get', 'name'], 'text-size': 13, 'text-max-width': 8 },
        paint: { 'text-color': '#ad1457', ...textHalo } },
      { id: 'street-label', type: 'symbol', source: 'zones', 'source-layer': 'zones', minzoom: 11.5, maxzoom: 15, filter: labelOf('street'),
        layout: { 'text-field': ['get', 'name'], 'text-size': 12 },
        paint: { 'text-color': '#546e7a', ...textHalo } },
      { id: 'grid-label', type: 'symbol', source: 'zones', 'source-layer': 'zones', minzoom: 14, filter: labelOf('grid'),
        layout: { 'text-field': ['get', 'name'], 'text-size': 10, 'text-max-width': 7 },
        paint: { 'text-color': '#455a64', ...textHalo } },
      { id: 'place-label', type: 'symbol', source: 'places', 'source-layer': 'places', minzoom: 14,
        layout: { 'text-field': ['get', 'name'], 'text-size': 11, 'text-offset': [0, 0.9], 'text-anchor': 'top', 'text-max-width': 8, 'text-optional': true },
        paint: { 'text-color': '#4e342e', ...textHalo } },
      { id: 'radius-label', type: 'symbol', source: 'radius', filter: ['all', ['==', ['geometry-type'], 'Point'], ['has', 'name']],
        layout: { 'text-field': ['get', 'name'], 'text-size': 13, 'text-offset': [0, 1.1], 'text-anchor': 'top', 'text-allow-overlap': true },
        paint: { 'text-color': '#3e2723', 'text-halo-color': '#fff8e1', 'text-halo-width': 2 } },
    ],
  };
  // What each layer switch shows.
  const SWITCHES = {
    entities: ['entity-clusters', 'entity-cluster-count', 'entities', 'entities-highlight'],
    heat: ['cd-heat'],
    grid: ['grid-fill', 'grid-line', 'grid-label'],
    ftz: ['ftz-fill', 'ftz-line', 'ftz-label'],
    buildings: ['buildings-3d'],
    places: ['places', 'place-label'],
    roads: ['road-casing', 'road-line', 'road-label'],
    labels: ['road-label', 'district-label', 'ftz-label', 'street-label', 'grid-label', 'place-label'],
  };

  const map = new maplibregl.Map({
    container: 'map', style, center: [106.6, 29.72], zoom: 10.5, maxZoom: 19, attributionControl: { compact: true },
    pitch: 0, hash: 'map',
    transformRequest: (url) => (window.mgAuth ? window.mgAuth.transformRequest(url) : { url }), // auth.js: the signed-in token
  });
  const state = { radiusCenter: null, radiusLabel: '', sel: null };
  window.mgMap = map; // for the browser test and for debugging
  window.mgState = state;
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right');
  map.on('dataloading', () => { mapBusy = true; updateLoading(); });
  map.on('idle', () => { mapBusy = false; updateLoading(); });
  map.on('error', (e) => {
    const st = e && e.error && e.error.status;
    console.warn('map error:', e && e.error && e.error.message);
    toast(st ? `地图数据加载失败：${HTTP_ZH[st] || 'HTTP ' + st}` : '地图数据加载失败，请稍后刷新重试');
  });

  // Fit the data once its bounds are known (unless the URL has a view).
  if (!hashParams().get('map')) {
    entitiesTJ.then((tj) => {
      // keep the data clear of the panel (left on a desktop, a bottom sheet on a phone)
      const pr = $('panel').getBoundingClientRect(), narrow = pr.width < window.innerWidth * 0.6;
      const padding = narrow ? { top: 20, bottom: 20, right: 60, left: pr.right + 20 } : { top: 20, left: 20, right: 20, bottom: window.innerHeight - pr.top + 20 };
      if (tj && tj.bounds) map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding, duration: 0 });
    }).catch((e) => toast('无法获取数据范围：' + e.message));
  }

  // ---- legend ---------------------------------------------------------------
  $('legend-risk').innerHTML = Object.values(RISK).map((r) => `<div><i class="dot" style="background:${r.color}"></i>${esc(r.name)}</div>`).join('');
  $('legend-share').innerHTML = CD_SHARE.map((s) => `<div><i class="dot" style="background:${s[1]}"></i>${esc(s[3])}</div>`).join('');
  if (window.matchMedia('(min-width: 641px)').matches) $('legend').open = true;

  // ---- layer switches ---------------------------------------------------------
  function applySwitches() {
    const off = [];
    const vis = {};
    for (const cb of document.querySelectorAll('#layer-switches input')) {
      if (!cb.checked) off.push(cb.dataset.layer);
      for (const id of SWITCHES[cb.dataset.layer]) vis[id] = (vis[id] !== false) && cb.checked;
    }
    // labels follow their own layer's switch as well
    for (const [id, v] of Object.entries(vis)) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', v ? 'visible' : 'none');
    const heat = !off.includes('heat');
    if (map.getLayer('entity-clusters')) map.setPaintProperty('entity-clusters', 'circle-opacity', heat ? 0.35 : 0.9);
    setHashParam('off', off.filter((l) => l !== 'heat').join(','));
    setHashParam('heat', heat ? '1' : '');
  }
  (function initSwitches() {
    const p = hashParams();
    const off = (p.get('off') || '').split(',');
    for (const cb of document.querySelectorAll('#layer-switches input')) {
      if (cb.dataset.layer === 'heat') cb.checked = p.get('heat') === '1';
      else if (off.includes(cb.dataset.layer)) cb.checked = false;
      cb.addEventListener('change', applySwitches);
    }
  })();

  // ---- optional base layers from the deployment's config ----------------------
  // /webmap/config.json: {"base_layers": [{"name", "type": "raster", "tiles": [...],
  // "attribution"} | {"name", "type": "style", "url"}]} (docs/webmap.md).
  let baseLayers = [];
  async function loadConfig() {
    let cfg;
    try {
      const r = await fetch('/webmap/config.json');
      if (!r.ok) return;
      cfg = await r.json();
    } catch (_) { return; }
    baseLayers = Array.isArray(cfg.base_layers) ? cfg.base_layers.filter((b) => b && b.name) : [];
    if (!baseLayers.length) return;
    const sel = $('base-select');
    baseLayers.forEach((b, i) => { const o = document.createElement('option'); o.value = String(i); o.textContent = b.name; sel.appendChild(o); });
    $('base-row').hidden = false;
    sel.addEventListener('change', () => setBase(sel.value));
    const want = hashParams().get('base');
    if (want && baseLayers[Number(want)]) { sel.value = want; setBase(want); }
  }
  const OUR_LAYERS = style.layers.map((l) => l.id), OUR_SOURCES = Object.keys(style.sources);
  // withBase keeps our sources and layers (as they are now: filters,
  // visibility, radius) over a base style's (none: an empty one).
  function withBase(base, fillOpacity) {
    const fill = (l) => (l.id === 'district-fill' ? { ...l, paint: { ...l.paint, 'fill-opacity': fillOpacity } } : l);
    map.setStyle(base, {
      diff: false,
      transformStyle: (prev, next) => ({
        ...next,
        sources: { ...next.sources, ...Object.fromEntries(OUR_SOURCES.map((k) => [k, prev.sources[k]])) },
        layers: [...next.layers.filter((l) => !OUR_LAYERS.includes(l.id)), ...prev.layers.filter((l) => OUR_LAYERS.includes(l.id)).map(fill)],
      }),
    });
  }
  let styleBase = false;
  async function setBase(v) {
    if (map.getLayer('user-base')) map.removeLayer('user-base');
    if (map.getSource('user-base')) map.removeSource('user-base');
    if (styleBase) { withBase({ version: 8, sources: {}, layers: [] }, 0.95); styleBase = false; } else map.setPaintProperty('district-fill', 'fill-opacity', 0.95);
    setHashParam('base', v);
    const b = baseLayers[Number(v)];
    if (v === '' || !b) return;
    try {
      if (b.type === 'style') {
        const st = await api(b.url); // a vector (or raster) style: its layers under ours
        withBase(st, 0.3);
        styleBase = true;
      } else {
        map.addSource('user-base', { type: 'raster', tiles: b.tiles, tileSize: b.tile_size || 256, attribution: b.attribution || '' });
        map.addLayer({ id: 'user-base', type: 'raster', source: 'user-base', paint: { 'raster-opacity': 0.85 } }, 'district-fill');
        map.setPaintProperty('district-fill', 'fill-opacity', 0.3);
      }
    } catch (e) {
      toast('底图加载失败：' + e.message);
    }
  }

  // ---- the card: everything clickable says what it is -------------------------
  // Each kind has a list of section renderers (async (ctx) => html). Another
  // module may add one: window.mgApp.card.addSection('entity', fn).
  const cardSections = { entity: [], cluster: [], grid: [], zone: [], building: [], place: [] };
  let cardReturnFocus = null, cardSeq = 0;
  function mixHTML(by, total) {
    total = total || ['A', 'B', 'C', 'D'].reduce((s, k) => s + (by[k] || 0), 0);
    const pct = (n) => (total ? Math.round((1000 * n) / total) / 10 : 0);
    const cd = (by.C || 0) + (by.D || 0);
    return `<div class="mix" role="img" aria-label="风险等级构成">${['A', 'B', 'C', 'D'].map((k) => `<span style="width:${pct(by[k] || 0)}%;background:${RISK[k].color}"></span>`).join('')}</div>` +
      `<div class="mixrow">${['A', 'B', 'C', 'D'].map((k) => `<span data-risk="${k}"><i class="dot" style="background:${RISK[k].color}"></i>${k} <b>${fmtN(by[k] || 0)}</b></span>`).join('')}</div>` +
      `<div class="meta">共 <b data-total>${fmtN(total)}</b> 个市场主体；C+D 占 <b data-cd-share>${pct(cd)}%</b></div>`;
  }
  async function openCard(kind, id, ctx = {}) {
    const seq = ++cardSeq;
    const card = $('card'), body = $('card-body');
    if (card.hidden) cardReturnFocus = document.activeElement;
    card.hidden = false;
    card.dataset.kind = kind;
    body.innerHTML = '<div class="status">加载中…</div>';
    state.sel = { kind, id };
    if (kind !== 'cluster') setHashParam('sel', kind + ':' + id);
    try {
      const parts = [];
      for (const fn of cardSections[kind]) {
        const html = await fn({ id, ...ctx });
        if (seq !== cardSeq) return; // another card was opened meanwhile
        if (html) parts.push(html);
      }
      body.innerHTML = parts.join('');
    } catch (e) {
      if (seq !== cardSeq) return;
      body.innerHTML = `<h3 id="card-title">无法加载</h3><div class="status error">${esc(e.message)}</div>`;
    }
    card.focus();
  }
  function closeCard() {
    $('card').hidden = true;
    cardSeq++;
    state.sel = null;
    setHashParam('sel', '');
    if (cardReturnFocus && document.contains(cardReturnFocus)) cardReturnFocus.focus();
  }
  $('card-close').addEventListener('click', closeCard);
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && !$('card').hidden) closeCard(); });
  $('card-body').addEventListener('click', (ev) => {
    const a = ev.target.closest('[data-open]');
    if (a) { const [k, ...rest] = a.dataset.open.split(':'); openCard(k, rest.join(':')); return; }
    const act = ev.target.closest('[data-act]');
    if (act && actions[act.dataset.act]) actions[act.dataset.act](act.dataset);
  });
  const actions = {
    zoom: (d) => map.easeTo({ center: [Number(d.lon), Number(d.lat)], zoom: Math.min(map.getZoom() + 2, 16) }),
    around: (d) => radiusQuery(Number(d.lon), Number(d.lat), 'wgs84', Number(d.m), d.name),
    supervise: () => { const l = $('card-body').querySelector('.supervise'); if (l) l.hidden = !l.hidden; },
  };
  const row = (dt, dd) => `<dt>${dt}</dt><dd>${dd}</dd>`;
  const li = (e) => `<li tabindex="0" role="button" data-open="entity:${esc(e.id)}"><i class="dot" style="background:${riskColor(e.risk)}"></i>${esc(e.name)} <span class="meta">${esc(e.status || '')}</span></li>`;

  function flag(ok, yes, no, cls) { return `<span class="badge ${ok ? 'flag-ok' : cls}">${ok ? yes : no}</span>`; }
  cardSections.entity.push(async ({ id }) => {
    const j = await api('/api/v1/entities/' + encodeURIComponent(id));
    const p = j.properties || {};
    const ind = p.industry ? (p.industry_name ? `${esc(p.industry_name)}（${esc(p.industry)}）` : esc(p.industry)) : '—';
    return `<div class="kind">市场主体</div><h3 id="card-title">${esc(p.name)}</h3><dl>
      ${row('统一社会信用代码', esc(p.id))}
      ${p.short_name ? row('简称', esc(p.short_name)) : ''}
      ${row('住所', esc(p.address || '—'))}
      ${row('登记状态', esc(p.status || '—'))}
      ${riskShown ? row('风险等级', `<span class="badge" style="background:${riskColor(p.risk)}">${esc(RISK[p.risk] ? RISK[p.risk].name : '未评级')}</span>`) : ''}
      ${row('行业', ind)}
      ${p.grid_id ? row('监管网格', `<button type="button" class="link" data-open="grid:${esc(p.grid_id)}">${esc(p.grid_id)}</button>`) : ''}
      ${p.building_id ? row('所在楼宇', `<button type="button" class="link" data-open="building:${esc(p.building_id)}">${esc(p.building_id)}</button>`) : ''}
      ${row('标记', flag(p.annual_report, '已报年报', '未报年报', 'flag-warn') + flag(!p.abnormal, '正常经营', '经营异常名录', 'flag-bad') + flag(!p.blacklisted, '非失信', '严重违法失信名单', 'flag-bad'))}
    </dl>`;
  });
  cardSections.cluster.push(async ({ props, lngLat }) => {
    const by = { A: props.count_A, B: props.count_B, C: props.count_C, D: props.count_D };
    return `<div class="kind">聚合点</div><h3 id="card-title">${fmtN(props.count)} 个市场主体</h3>${riskShown ? mixHTML(by, props.count) : ''}
      <div class="actions"><button type="button" data-act="zoom" data-lon="${lngLat[0]}" data-lat="${lngLat[1]}">放大查看</button></div>`;
  });
  cardSections.grid.push(async ({ id, props }) => {
    if (!can('GET', '/api/v1/grids/{id}/summary')) return zoneCardBasic('grid', id, props);
    const j = await api('/api/v1/grids/' + encodeURIComponent(id) + '/summary');
    const g = j.grid || {};
    const sup = j.supervise || [];
    return `<div class="kind">监管网格</div><h3 id="card-title">${esc(g.name || id)}</h3><dl>
      ${row('网格编号', esc(g.id || id))}
      ${row('网格员', esc(g.inspector || '—'))}
      ${row('责任团队', esc(g.team || '—'))}
      ${g.street ? row('所属街道', esc(g.street)) : ''}
    </dl>${mixHTML(j.by_risk || {}, j.entities)}
    <div class="actions"><button type="button" data-act="supervise">需重点监管主体（${sup.length}）</button></div>
    <ul class="results supervise" hidden>${sup.map(li).join('')}</ul>`;
  });
  // zoneCardBasic is a zone's card from its tile fields alone, where the
  // summary routes are not served (the public profile).
  function zoneCardBasic(layer, id, props) {
    const p = props || {};
    return `<div class="kind">${esc(ZONE_LAYERS[p.layer || layer] || '区域')}</div><h3 id="card-title">${esc(p.name || id)}</h3><dl>${row('编号', esc(id))}</dl>`;
  }
  cardSections.zone.push(async ({ id, props }) => {
    if (!can('GET', '/api/v1/zones/{id}/summary')) return zoneCardBasic('ftz', id, props);
    const s = await api('/api/v1/zones/' + encodeURIComponent(id) + '/summary');
    const z = s.zone || {};
    return `<div class="kind">${esc(ZONE_LAYERS[z.layer] || '区域')}</div><h3 id="card-title">${esc(z.name || id)}</h3><dl>
      ${row('编号', esc(id))}
      ${z.area_km2 ? row('官方面积', esc(z.area_km2) + ' 平方公里') : ''}
      ${z.district ? row('所属区', esc(z.district)) : ''}
    </dl>${mixHTML(s.by_risk || {}, s.entities)}`;
  });
  cardSections.building.push(async ({ id, props, lngLat }) => {
    let p = props;
    if ((!p || !lngLat) && canFeature('buildings')) { // opened from a link or the URL
      const j = await api('/api/v1/buildings/' + encodeURIComponent(id));
      p = j.properties || {};
      const c = (j.geometry && j.geometry.coordinates && j.geometry.coordinates[0]) || [];
      lngLat = c.length ? [c.reduce((s, q) => s + q[0], 0) / c.length, c.reduce((s, q) => s + q[1], 0) / c.length] : null;
    }
    p = p || {};
    let ents = [];
    const listed = lngLat && can('GET', '/api/v1/nearby');
    if (listed) {
      const j = await api('/api/v1/nearby?' + new URLSearchParams({ lon: lngLat[0], lat: lngLat[1], radius: 300, limit: 10000, layer: 'entities' }));
      ents = (j.features || []).map((f) => f.properties).filter((e) => e.building_id === id);
    }
    const by = { A: 0, B: 0, C: 0, D: 0 };
    for (const e of ents) if (by[e.risk] != null) by[e.risk]++;
    return `<div class="kind">楼宇</div><h3 id="card-title">${esc(p.name || id)}</h3><dl>
      ${row('楼宇编号', esc(id))}
      ${p.height ? row('高度', esc(p.height) + ' 米') : ''}
      ${p.floors ? row('层数', esc(p.floors)) : ''}
      ${['output', 'employment', 'tax'].filter((k) => p[k] != null && !can('GET', '/api/v1/buildings/{id}/economy')).map((k) => row({ output: '产值', employment: '就业人数', tax: '税收' }[k], fmtN(p[k]))).join('')}
    </dl>${listed ? `${mixHTML(by, ents.length)}<ul class="results building-entities">${ents.map(li).join('')}</ul>` : ''}`;
  });
  cardSections.place.push(async ({ id, props, lngLat }) => {
    if (!props || !lngLat) { // opened from a link or the URL
      if (!canFeature('places')) throw Object.assign(new Error(HTTP_ZH[404]), { status: 404 });
      const j = await api('/api/v1/places/' + encodeURIComponent(id));
      props = j.properties || {};
      lngLat = (j.geometry && j.geometry.coordinates) || [0, 0];
    }
    const kind = PLACE_KINDS[props.kind] || props.kind || '地点';
    return `<div class="kind">地点 · ${esc(kind)}</div><h3 id="card-title">${esc(props.name || id)}</h3><dl>
      ${row('类别', esc(kind))}${row('位置', `${lngLat[0].toFixed(6)}, ${lngLat[1].toFixed(6)}（WGS-84）`)}</dl>
      ${!can('GET', '/api/v1/nearby') ? '' : `<div class="actions"><button type="button" data-act="around" data-m="200" data-lon="${lngLat[0]}" data-lat="${lngLat[1]}" data-name="${esc(props.name || '')}">查看周边 200 米</button></div>`}`;
  });

  // ---- radius tool ------------------------------------------------------------
  let picking = false;
  // circle is a radius's ring (WGS-84 degrees, metres) as a GeoJSON polygon
  // Feature; mgApp.circle for the other modules (the incident view).
  function circle(center, radiusM, n = 64) {
    const coords = [];
    const lat = center[1] * Math.PI / 180;
    for (let i = 0; i <= n; i++) {
      const a = (i / n) * 2 * Math.PI;
      coords.push([center[0] + radiusM * Math.cos(a) / (111320 * Math.cos(lat)), center[1] + radiusM * Math.sin(a) / 110540]);
    }
    return { type: 'Feature', geometry: { type: 'Polygon', coordinates: [coords] }, properties: {} };
  }
  function highlight(ids) { map.setFilter('entities-highlight', ['in', ['get', 'id'], ['literal', ids]]); }
  // radiusQuery lists the entities within the radius of a point given in
  // crs; the map shows the point converted to WGS-84, named when it is a place.
  async function radiusQuery(lon, lat, crs, radiusM, name) {
    if (radiusM) $('radius-m').value = String(radiusM);
    const radius = Number($('radius-m').value);
    const wgs = window.mgCRS.toWGS84(crs, lon, lat);
    state.radiusCenter = wgs;
    state.radiusLabel = name || '';
    const pt = { type: 'Feature', geometry: { type: 'Point', coordinates: wgs }, properties: name ? { name } : {} };
    map.getSource('radius').setData({ type: 'FeatureCollection', features: [circle(wgs, radius), pt] });
    setHashParam('r', `${wgs[0].toFixed(6)},${wgs[1].toFixed(6)},${radius}`);
    if (map.getZoom() < 15) map.easeTo({ center: wgs, zoom: radius > 500 ? 14.5 : 15.5 });
    const status = $('radius-status'), list = $('radius-results');
    status.className = 'status'; status.textContent = '查询中…'; list.innerHTML = '';
    if ($('panel').classList.contains('collapsed')) $('toggle').click();
    try {
      const j = await api('/api/v1/nearby?' + new URLSearchParams({ lon, lat, radius, layer: 'entities', limit: 500, crs }));
      const fs = j.features || [];
      status.textContent = (name ? `${name} 周边` : '') + `${radius >= 1000 ? radius / 1000 + ' 公里' : radius + ' 米'}内共 ${j.total ?? fs.length} 个市场主体` + (j.truncated ? `（显示前 ${fs.length} 个）` : '') +
        `；中心 WGS-84 ${wgs[0].toFixed(6)}, ${wgs[1].toFixed(6)}`;
      list.innerHTML = fs.map((f) => `<li tabindex="0" role="button" data-id="${esc(f.properties.id)}"><i class="dot" style="background:${riskColor(f.properties.risk)}"></i>${esc(f.properties.name)} <span class="meta">${Math.round(f.properties.distance_m)} 米 · ${esc(f.properties.status || '')}</span></li>`).join('');
      highlight(fs.map((f) => f.properties.id));
    } catch (e) {
      status.className = 'status error'; status.textContent = '周边查询失败：' + e.message;
    }
  }
  function stopPicking() {
    picking = false;
    $('radius-pick').classList.remove('active'); $('radius-pick').textContent = '在地图上选点';
    map.getCanvas().style.cursor = '';
  }
  $('radius-pick').addEventListener('click', () => {
    if (picking) { stopPicking(); return; }
    picking = true;
    $('radius-pick').classList.add('active');
    $('radius-pick').textContent = '点击地图选择中心…';
    map.getCanvas().style.cursor = 'crosshair';
  });
  $('radius-m').addEventListener('change', () => {
    if (state.radiusCenter) radiusQuery(state.radiusCenter[0], state.radiusCenter[1], 'wgs84', 0, state.radiusLabel);
  });
  function activate(listEl, fn) { // click and Enter/Space on a list's items
    listEl.addEventListener('click', (ev) => { const it = ev.target.closest('li'); if (it) fn(it); });
    listEl.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' && ev.key !== ' ') return;
      const it = ev.target.closest('li'); if (!it) return;
      ev.preventDefault(); fn(it);
    });
  }
  activate($('radius-results'), (it) => openCard('entity', it.dataset.id));
  $('card-body').addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ' ') && ev.target.matches('li[data-open]')) { ev.preventDefault(); ev.target.click(); }
  });
  $('coord-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const m = $('coord-input').value.trim().match(/^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/);
    if (!m) { $('radius-status').className = 'status error'; $('radius-status').textContent = '请输入“经度,纬度”，如 106.5516,29.6655'; return; }
    let lon = Number(m[1]), lat = Number(m[2]);
    if (Math.abs(lon) <= 90 && Math.abs(lat) > 90) [lon, lat] = [lat, lon]; // pasted as lat,lon
    radiusQuery(lon, lat, $('coord-crs').value);
  });

  // ---- clicks -----------------------------------------------------------------
  const present = (ids) => ids.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  const clickHooks = []; // fn(ev) → true when it handled the click
  map.on('click', (ev) => {
    const ll = [ev.lngLat.lng, ev.lngLat.lat];
    if (picking) { stopPicking(); radiusQuery(ll[0], ll[1], 'wgs84'); return; }
    if (clickHooks.some((h) => h(ev))) return; // layers of other modules first (mgApp.onClick)
    const box = [[ev.point.x - 5, ev.point.y - 5], [ev.point.x + 5, ev.point.y + 5]];
    const first = (layers, where = box) => { const l = present(layers); return l.length ? map.queryRenderedFeatures(where, { layers: l })[0] : null; };
    let f;
    if ((f = first(['entities']))) { highlight([f.properties.id]); openCard('entity', f.properties.id); return; }
    if ((f = first(['entity-clusters']))) {
      const c = f.geometry.coordinates;
      openCard('cluster', 'c', { props: f.properties, lngLat: c });
      return;
    }
    if ((f = first(['places']))) { openCard('place', f.properties.id, { props: f.properties, lngLat: f.geometry.coordinates }); return; }
    if ((f = first(['buildings-3d'], ev.point))) { openCard('building', f.properties.id, { props: f.properties, lngLat: ll }); return; }
    if ((f = first(['grid-fill'], ev.point))) { openCard('grid', f.properties.id, { props: f.properties }); return; }
    if ((f = first(['ftz-fill'], ev.point))) { openCard('zone', f.properties.id, { props: f.properties }); return; }
  });
  for (const l of ['entities', 'entity-clusters', 'places', 'buildings-3d', 'grid-fill', 'ftz-fill']) {
    map.on('mouseenter', l, () => { if (!picking) map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { if (!picking) map.getCanvas().style.cursor = ''; });
  }

  // ---- search: one box, results grouped by kind -------------------------------
  const USCC_PREFIX = /^[0-9A-HJ-NPQRTUWXY]{4,18}$/i; // GB 32100 characters
  const OLD_REGNO = /^\d{13}$|^\d{15}$/;             // 注册号 before the USCC
  const ADDRESS_LIKE = /[路街道巷号弄栋楼层室]|(?:区|县|镇).{2,}/;
  let searchHits = [];
  async function runSearch(q) {
    const status = $('search-status'), out = $('search-results');
    out.innerHTML = '';
    if (!q) { status.textContent = ''; return; }
    status.className = 'status'; status.textContent = '搜索中…';
    const groups = { entities: [], places: [], buildings: [], zones: [], addresses: [] };
    const errors = [];
    const jobs = [api('/api/v1/search?' + new URLSearchParams({ q, limit: 30 })).then((j) => {
      for (const f of j.features || j.hits || []) {
        const p = f.properties || f;
        (groups[p.layer || 'entities'] || groups.entities).push({ kind: p.layer || 'entities', p, g: f.geometry });
      }
    }).catch((e) => errors.push('搜索：' + e.message))];
    await apiReady;
    if (USCC_PREFIX.test(q) && q.length === 18 && canFeature('entities')) {
      jobs.push(api('/api/v1/entities/' + encodeURIComponent(q.toUpperCase())).then((f) => {
        const p = f.properties || {};
        if (!groups.entities.some((h) => h.p.id === p.id)) groups.entities.unshift({ kind: 'entities', p, g: f.geometry });
      }).catch((e) => { if (e.status !== 404) errors.push('信用代码：' + e.message); }));
    }
    if (ADDRESS_LIKE.test(q) && !USCC_PREFIX.test(q) && !OLD_REGNO.test(q) && can('POST', '/api/v1/address/geocode')) {
      jobs.push(api('/api/v1/address/geocode', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ address: q }) }).then((j) => {
        if (Array.isArray(j.location) && (j.location[0] || j.location[1])) {
          groups.addresses.push({ kind: 'addresses', p: { name: j.address || q, precision: j.precision }, g: { type: 'Point', coordinates: j.location } });
        }
      }).catch((e) => { if (e.status !== 404 && e.status !== 422) errors.push('地址：' + e.message); }));
    }
    await Promise.all(jobs);
    searchHits = [];
    let html = '';
    for (const [kind, hs] of Object.entries(groups)) {
      if (!hs.length) continue;
      html += `<div class="group-title" data-group="${kind}">${SEARCH_KINDS[kind]}（${hs.length}）</div><ul class="results" data-group="${kind}">`;
      for (const h of hs) {
        const i = searchHits.push(h) - 1;
        const meta = kind === 'entities' ? [h.p.id, h.p.address].filter(Boolean).join(' · ')
          : kind === 'places' ? (PLACE_KINDS[h.p.kind] || h.p.kind || '')
            : kind === 'zones' ? (ZONE_LAYERS[h.p.layer_name || h.p.zone_layer] || h.p.address || '')
              : kind === 'addresses' ? ({ address: '门牌', road: '道路', street: '街道', district: '区县' }[h.p.precision] || h.p.precision || '') : (h.p.address || '');
        html += `<li tabindex="0" role="button" data-i="${i}">${kind === 'entities' ? `<i class="dot" style="background:${riskColor(h.p.risk)}"></i>` : ''}${esc(h.p.name)} <span class="meta">${esc(meta)}</span></li>`;
      }
      html += '</ul>';
    }
    out.innerHTML = html;
    const n = searchHits.length;
    if (errors.length && !n) { status.className = 'status error'; status.textContent = '搜索失败：' + errors.join('；'); return; }
    status.textContent = n ? `找到 ${n} 条结果` + (errors.length ? `（部分失败：${errors.join('；')}）` : '') : '没有找到匹配的结果';
  }
  activate($('search-results'), (it) => {
    const h = searchHits[Number(it.dataset.i)]; if (!h) return;
    const g = h.g;
    const c = g && g.type === 'Point' ? g.coordinates : (h.p.center || null);
    if (c) map.easeTo({ center: c, zoom: Math.max(map.getZoom(), h.kind === 'zones' ? 14 : 16) });
    if (h.kind === 'entities' && h.p.id) { highlight([h.p.id]); openCard('entity', h.p.id); }
    else if (h.kind === 'places' && c) openCard('place', h.p.id, { props: h.p, lngLat: c });
    else if (h.kind === 'buildings') openCard('building', h.p.id, c ? { props: h.p, lngLat: c } : {});
    else if (h.kind === 'addresses' && c) radiusQuery(c[0], c[1], 'wgs84', 200, h.p.name);
  });
  $('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); runSearch($('search-q').value.trim()); });

  // ---- address check ------------------------------------------------------------
  let addrMarker = null;
  $('address-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const address = $('address-input').value.trim();
    const out = $('address-result');
    if (!address) return;
    out.className = 'status'; out.textContent = '核验中…';
    await apiReady;
    if (!can('POST', '/api/v1/address/check')) { ftzQuestion(address, out); return; }
    try {
      const j = await api('/api/v1/address/check', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ address }) });
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

  // ftzQuestion answers "is this address in the FTZ?" from /api/v1/zones
  // (the public face's address form).
  async function ftzQuestion(address, out) {
    try {
      const j = await api('/api/v1/zones?' + new URLSearchParams({ address }));
      const loc = Array.isArray(j.location) && j.location.length === 2 ? j.location : null;
      const zs = (j.zones || []).filter((z) => z.layer === 'district' || z.layer === 'street').map((z) => z.name);
      const far = j.ftz_boundary_m != null ? `距自贸区边界约 ${fmtN(Math.round(j.ftz_boundary_m))} 米` : '';
      const where = [j.in_ftz && j.ftz_area ? j.ftz_area.name || '' : '', far].filter(Boolean).join('，');
      out.innerHTML = `<div class="verdict ${j.in_ftz ? 'matched' : 'outside'}" data-in-ftz="${j.in_ftz ? 1 : 0}">${j.in_ftz ? '位于自贸区内' : '不在自贸区内'}</div>` +
        `<div>${esc(where)}</div>` +
        (j.address ? `<div class="meta">定位：${esc(j.address)}${zs.length ? '（' + esc(zs.join(' ')) + '）' : ''}</div>` : '');
      if (addrMarker) { addrMarker.remove(); addrMarker = null; }
      if (loc) {
        addrMarker = new maplibregl.Marker({ color: j.in_ftz ? '#c2185b' : '#546e7a' }).setLngLat(loc).addTo(map);
        map.easeTo({ center: loc, zoom: Math.max(map.getZoom(), 15) });
      }
    } catch (e) {
      out.className = 'status error'; out.textContent = '查询失败：' + e.message;
    }
  }
  // The panel shows only what the server serves (see can).
  apiReady.then(() => {
    if (!can('GET', '/api/v1/nearby')) $('radius-section').hidden = true;
    if (!can('POST', '/api/v1/address/check') && can('GET', '/api/v1/zones')) {
      $('address-h').textContent = '地址是否在自贸区内';
      $('address-input').placeholder = '输入地址，如 重庆市渝北区…';
      $('address-form').querySelector('button').textContent = '查询';
      $('address-form').querySelector('label').textContent = '地址';
    } else if (!can('POST', '/api/v1/address/check')) $('address-section').hidden = true;
  });
  const mapLoad = new Promise((res) => map.once('load', res));
  Promise.all([entitiesTJ, mapLoad]).then(([tj]) => {
    const fields = ((tj.vector_layers || [])[0] || {}).fields || {};
    if ('risk' in fields) return;
    riskShown = false; // tiles without risk: no colours that would all say "unrated"
    for (const id of ['legend-risk', 'legend-share']) { $(id).hidden = true; $(id).previousElementSibling.hidden = true; }
    const heat = document.querySelector('#layer-switches input[data-layer="heat"]');
    heat.checked = false; heat.closest('label').hidden = true;
    map.setPaintProperty('entity-clusters', 'circle-color', '#546e7a');
    map.setPaintProperty('entity-cluster-count', 'text-color', '#ffffff');
    map.setPaintProperty('entities', 'circle-color', '#455a64');
  }).catch(() => {});

  $('toggle').addEventListener('click', () => {
    const c = $('panel').classList.toggle('collapsed');
    $('toggle').setAttribute('aria-expanded', String(!c));
  });

  // ---- restore from the URL ------------------------------------------------------
  map.once('load', () => {
    applySwitches();
    loadConfig();
    const p = hashParams();
    const r = (p.get('r') || '').split(',').map(Number);
    if (r.length === 3 && r.every(Number.isFinite)) radiusQuery(r[0], r[1], 'wgs84', r[2]);
    const sel = p.get('sel');
    if (sel && /^(entity|grid|zone|building|place):/.test(sel)) {
      const [k, ...rest] = sel.split(':');
      const id = rest.join(':');
      openCard(k, id);
    }
  });
  window.mgApp = { card: { addSection: (kind, fn) => { (cardSections[kind] = cardSections[kind] || []).push(fn); } }, openCard, closeCard, radiusQuery, RISK, CD_SHARE, can, ready: apiReady, onClick: (fn) => clickHooks.push(fn), toast, api, mapLoad, circle };
})();
