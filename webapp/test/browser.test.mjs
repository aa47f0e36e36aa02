// Browser test of the web map: Debian's chromium driven by playwright-core
// (never a downloaded browser). Needs a running server on the demo region:
//
//   BASE_URL=http://127.0.0.1:18383 OUT_DIR=out node test/browser.test.mjs
//
// Every check runs at a desktop (1400×900) and a phone (390×844) viewport
// and leaves screenshots in OUT_DIR (<viewport>-NN-<what>.png). The oracles
// are the server's API (nearby, grids/{id}/summary, entities/{id},
// /healthz), the demo's own figures (a building's entity_count) and
// WCAG 2.x contrast computed from the colours the map really uses. Exits
// non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:18383';
const OUT = resolve(process.env.OUT_DIR || 'out');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// A dense part of the demo region (tile 14/13042/6776).
const DENSE = [106.5784, 29.6785];
// a deployment's base map in the base-layer check (answered by page.route;
// on the server's origin, which the server's Content-Security-Policy allows)
const BASEMAP = BASE + '/basemap-test';
const VIEWPORTS = [{ name: 'desktop', width: 1400, height: 900 }, { name: 'phone', width: 390, height: 844 }];
mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0;
const log = (...a) => console.log(...a);
let beforeEach = async () => {};
// WEBMAP_ONLY=regexp runs only the matching checks (and the page load).
const ONLY = process.env.WEBMAP_ONLY ? new RegExp(process.env.WEBMAP_ONLY) : null;
async function check(name, fn) {
  if (ONLY && !ONLY.test(name) && !/page loads/.test(name)) return;
  const t0 = Date.now();
  try {
    await beforeEach();
    await fn();
    passed++;
    log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${e && e.stack || e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const isNearby = (u) => new URL(u).pathname === '/api/v1/nearby';
const getJSON = async (path, init) => { const r = await fetch(BASE + path, init); return { status: r.status, body: await r.json().catch(() => null) }; };

// WCAG 2.x relative luminance and contrast ratio.
function luminance(hex) {
  const m = hex.replace('#', '').match(/../g).map((h) => parseInt(h, 16) / 255);
  const c = m.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function contrast(a, b) { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); }

async function waitSearchReady() {
  for (let i = 0; i < 120; i++) {
    try {
      const r = await fetch(`${BASE}/api/v1/search?q=${encodeURIComponent('科技')}&limit=1`);
      if (r.status !== 503) return r.status;
    } catch (_) { /* not up yet */ }
    await new Promise((res) => setTimeout(res, 1000));
  }
  return 503;
}
// waitStill waits until the index's version (/healthz) has not changed for
// three seconds: the data the tiles and the oracles read is then the same.
async function waitStill() {
  let last = -1, still = 0;
  for (let i = 0; i < 300 && still < 3; i++) {
    const v = (await getJSON('/healthz')).body.version;
    still = v === last ? still + 1 : 0;
    last = v;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return last;
}
async function waitForMap(page) {
  await page.waitForFunction(() => window.mgMap && window.mgMap.loaded() && window.mgMap.areTilesLoaded(), null, { timeout: 60000 });
  await page.waitForFunction(() => new Promise((res) => { const m = window.mgMap; if (!m.isMoving() && m.areTilesLoaded()) res(true); else m.once('idle', () => res(true)); }), null, { timeout: 60000 });
}
async function jump(page, center, zoom, pitch = 0) {
  await page.evaluate(([c, z, p]) => new Promise((res) => {
    const m = window.mgMap;
    const t = setTimeout(res, 60000);
    m.once('idle', () => { clearTimeout(t); res(); });
    m.jumpTo({ center: c, zoom: z, pitch: p, bearing: 0 });
    m.triggerRepaint();
  }), [center, zoom, pitch]);
  await waitForMap(page);
}
// free returns the part of the map not covered by the panel, the card or
// the controls, as {x0, y0, x1, y1} in page pixels.
async function free(page) {
  return page.evaluate(() => {
    const vw = window.innerWidth, vh = window.innerHeight;
    let r = { x0: 0, y0: 0, x1: vw, y1: vh };
    const cut = (el, side) => {
      if (!el || el.hidden) return;
      const b = el.getBoundingClientRect();
      if (b.width === 0) return;
      const narrow = b.width < vw * 0.6;
      if (side === 'panel') { if (narrow) r.x0 = Math.max(r.x0, b.right); else r.y1 = Math.min(r.y1, b.top); } // left panel or bottom sheet
      else if (narrow) r.x1 = Math.min(r.x1, b.left); else r.y0 = Math.max(r.y0, b.bottom); // right card or top card
    };
    cut(document.getElementById('panel'), 'panel'); cut(document.getElementById('card'), 'card');
    r = { x0: r.x0 + 12, y0: r.y0 + 12, x1: Math.min(r.x1, vw - 60) - 12, y1: r.y1 - 40 };
    return r;
  });
}
// findPoint returns a page point inside the free area where a feature of
// layer is rendered and no feature of the other clickable layers is near.
async function findPoint(page, layer, { want, ok } = {}) {
  const area = await free(page);
  return page.evaluate(([layer, area, want, okSrc]) => {
    const ok = okSrc ? eval(okSrc) : () => true; // eslint-disable-line no-eval
    const m = window.mgMap, rect = m.getCanvas().getBoundingClientRect();
    // the app's click priority: a point must have nothing of the layers before layer
    const order = ['entities', 'entity-clusters', 'places', 'buildings-3d', 'grid-fill', 'ftz-fill'];
    const prio = order.slice(0, order.indexOf(layer)).filter((l) => m.getLayer(l) && m.getLayoutProperty(l, 'visibility') !== 'none');
    for (let y = area.y0; y < area.y1; y += 9) {
      for (let x = area.x0; x < area.x1; x += 9) {
        const px = x - rect.left, py = y - rect.top;
        const fs = m.queryRenderedFeatures([px, py], { layers: [layer] });
        if (!fs.length || (want && fs[0].properties.id !== want) || !ok(fs[0].properties)) continue;
        if (prio.length && m.queryRenderedFeatures([[px - 7, py - 7], [px + 7, py + 7]], { layers: prio }).length) continue;
        return { x, y, props: fs[0].properties };
      }
    }
    return null;
  }, [layer, area, want, ok ? ok.toString() : null]);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'mg-chromium-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1400, height: 900 },
});
const consoleErrors = [];
const tileResponses = [];
const external = [];
function watch(page, expectErrors) {
  page.on('console', (m) => {
    if (expectErrors.on) return;
    if (m.type() === 'error' || (m.type() === 'warning' && m.text().startsWith('map error'))) consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });
  page.on('response', (r) => { if (/\/tiles\/[a-z]+\/\d+\/\d+\/\d+\.mvt/.test(r.url())) tileResponses.push([r.status(), r.url()]); });
}

// The oracle of the region's totals by risk class: nearby over a radius
// that holds every entity (checked against /healthz).
async function regionTotals() {
  const tj = (await getJSON('/tiles/entities.json')).body;
  const c = [(tj.bounds[0] + tj.bounds[2]) / 2, (tj.bounds[1] + tj.bounds[3]) / 2];
  const out = {};
  for (const r of ['A', 'B', 'C', 'D', '']) {
    const j = (await getJSON(`/api/v1/nearby?lon=${c[0]}&lat=${c[1]}&radius=50000&limit=1${r ? '&risk=' + r : ''}`)).body;
    out[r || 'all'] = j.total;
  }
  return out;
}

try {
  const searchStatus = await waitSearchReady();
  log(`search endpoint answers HTTP ${searchStatus}`);
  log(`     index still at version ${await waitStill()}`);
  const health = (await getJSON('/healthz')).body;
  const totals = await regionTotals();
  log(`     region: ${JSON.stringify(totals)}, /healthz entities ${health.entities}`);
  // a known entity with an address and an industry name
  const known = (await getJSON(`/api/v1/nearby?lon=${DENSE[0]}&lat=${DENSE[1]}&radius=300&limit=50`)).body.features.map((f) => f.properties).find((p) => p.industry_name && p.short_name);

  for (const vp of VIEWPORTS) {
    const V = vp.name;
    const shot = (page, n, what) => page.screenshot({ path: join(OUT, `${V}-${n}-${what}.png`) });
    const expectErrors = { on: false };
    let entityAt = DENSE, entityID = known.id;
    // every check starts with the default layers and no card
    beforeEach = async () => {
      if (page.isClosed() || page.url() === 'about:blank') return;
      await page.evaluate(() => {
        for (const cb of document.querySelectorAll('#layer-switches input')) {
          const want = cb.dataset.layer !== 'heat';
          if (cb.checked !== want) { cb.checked = want; cb.dispatchEvent(new Event('change')); }
        }
        if (!document.getElementById('card').hidden) document.getElementById('card-close').click();
      });
    };
    const page = await ctx.newPage();
    watch(page, expectErrors);
    await page.setViewportSize({ width: vp.width, height: vp.height });

    await check(`${V}: page loads, tiles render, the loading indicator goes`, async () => {
      await page.goto(BASE + '/', { waitUntil: 'load' });
      await waitForMap(page);
      const ok = tileResponses.filter(([s]) => s === 200);
      assert(ok.length > 0, `no tile answered 200 (${tileResponses.length} tile responses)`);
      const ents = await page.evaluate(() => window.mgMap.queryRenderedFeatures({ layers: ['entities', 'entity-clusters'] }).length);
      assert(ents > 0, 'no entity or cluster rendered');
      await page.waitForFunction(() => document.getElementById('loading').hidden, null, { timeout: 10000 });
      await shot(page, '01', 'overview');
    });

    await check(`${V}: 1 clusters coloured by their C+D share, with counts`, async () => {
      await jump(page, DENSE, 13);
      const res = await page.evaluate(() => {
        const m = window.mgMap, steps = window.mgApp.CD_SHARE;
        const fs = m.queryRenderedFeatures({ layers: ['entity-clusters'] });
        const pts = m.queryRenderedFeatures({ layers: ['entities'] }).map((f) => m.project(f.geometry.coordinates));
        const labels = m.queryRenderedFeatures({ layers: ['entity-cluster-count'] });
        // circle-radius of the style: linear in sqrt(count) through (1, 8), (10, 15), (40, 27)
        const radius = (n) => { const q = Math.sqrt(n); return q <= 10 ? 8 + (q - 1) * 7 / 9 : q <= 40 ? 15 + (q - 10) * 12 / 30 : 27; };
        const exp = (p) => { const s = (p.count_C + p.count_D) / p.count; let c = steps[0][1]; for (const st of steps) if (s >= st[0]) c = st[1]; return c; };
        return { n: fs.length, labels: labels.length, sums: fs.every((f) => f.properties.count_A + f.properties.count_B + f.properties.count_C + f.properties.count_D <= f.properties.count),
          sample: fs.map((f) => ({ p: m.project(f.geometry.coordinates), want: exp(f.properties), count: f.properties.count }))
            // the sample point (9 px above the centre) must be under no other cluster
            .filter((q, i, all) => q.count >= 20 && q.p.x > 20 && q.p.y > 30 && q.p.x < window.innerWidth - 20 && q.p.y < window.innerHeight - 20 &&
              all.every((o, j) => j === i || (Math.hypot(o.p.x - q.p.x, o.p.y - 9 - q.p.y) > radius(o.count) + 2 && !(Math.abs(o.p.x - q.p.x) < 24 && Math.abs(o.p.y - q.p.y + 9) < 10))) &&
              !pts.some((e) => Math.hypot(e.x - q.p.x, e.y - q.p.y + 9) < 8)).slice(0, 40) };
      });
      assert(res.n > 0 && res.labels > 0, `clusters ${res.n}, count labels ${res.labels}`);
      assert(res.sums, 'a cluster whose class counts exceed its count');
      // read the rendered pixels above each cluster's label: the nearest of
      // the share colours must be the expected one
      const pix = await page.evaluate((pts) => new Promise((resolve) => {
        const m = window.mgMap;
        m.once('render', () => {
          const gl = m.painter.context.gl, dpr = window.devicePixelRatio || 1, h = gl.drawingBufferHeight;
          resolve(pts.map((q) => { const px = new Uint8Array(4); gl.readPixels(Math.round(q.p.x * dpr), Math.round(h - (q.p.y - 9) * dpr), 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px); return [...px]; }));
        });
        m.triggerRepaint();
      }), res.sample);
      const steps = await page.evaluate(() => window.mgApp.CD_SHARE.map((s) => s[1]));
      const rgb = (h) => h.replace('#', '').match(/../g).map((x) => parseInt(x, 16));
      let good = 0, tried = 0;
      res.sample.forEach((q, i) => {
        const p = pix[i];
        const nearest = steps.map((s) => [s, rgb(s).reduce((d, v, k) => d + (v - p[k]) ** 2, 0)]).sort((a, b) => a[1] - b[1])[0][0];
        tried++; if (nearest === q.want) good++; else log(`     cluster of ${q.count} at ${q.p.x.toFixed(0)},${q.p.y.toFixed(0)}: pixel ${p} is nearest ${nearest}, want ${q.want}`);
      });
      assert(tried >= 3, `only ${tried} isolated clusters of 20+ entities to sample`);
      // a sampled pixel may still meet a label's halo: 90 % must match
      assert(good >= Math.ceil(0.9 * tried), `only ${good} of ${tried} clusters show the colour of their C+D share`);
      log(`     ${res.n} clusters; ${good}/${tried} sampled show their share colour`);
      await shot(page, '02', 'clusters');
    });

    await check(`${V}: 1 cluster counts add up to the API (nearby over the region, /healthz)`, async () => {
      if (V === 'phone') await page.setViewportSize({ width: 1400, height: 900 }); // the whole region in one view
      const tj = (await getJSON('/tiles/entities.json')).body;
      await jump(page, [(tj.bounds[0] + tj.bounds[2]) / 2, (tj.bounds[1] + tj.bounds[3]) / 2], 9);
      const sum = await page.evaluate(() => {
        const out = { A: 0, B: 0, C: 0, D: 0, all: 0 };
        const seen = new Set();
        for (const f of window.mgMap.querySourceFeatures('entities', { sourceLayer: 'entities' })) {
          const p = f.properties;
          const key = f.id != null ? 'f' + f.id : `${p.id || ''}|${f.geometry.coordinates}|${p.count || 1}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (p.count) { for (const k of 'ABCD') out[k] += p['count_' + k]; out.all += p.count; } else { out[p.risk] = (out[p.risk] || 0) + 1; out.all++; }
        }
        return out;
      });
      if (V === 'phone') await page.setViewportSize({ width: vp.width, height: vp.height });
      assert(totals.all === health.entities, `nearby over the region ${totals.all} ≠ /healthz ${health.entities}`);
      for (const k of ['A', 'B', 'C', 'D', 'all']) assert(sum[k] === totals[k], `class ${k}: the tiles' clusters add up to ${sum[k]}, nearby says ${totals[k]}`);
      log(`     z9 tiles: ${JSON.stringify(sum)}`);
    });

    await check(`${V}: 1 C+D heat mode, switched on and in the URL`, async () => {
      await jump(page, DENSE, 12.5);
      await page.locator('#layer-switches input[data-layer="heat"]').check();
      await waitForMap(page);
      const vis = await page.evaluate(() => window.mgMap.getLayoutProperty('cd-heat', 'visibility'));
      assert(vis === 'visible', 'heat layer is ' + vis);
      assert(/heat=1/.test(await page.evaluate(() => location.hash)), 'URL lacks heat=1');
      await shot(page, '03', 'heat');
      await page.locator('#layer-switches input[data-layer="heat"]').uncheck();
    });

    await check(`${V}: 2 roads with names along the line, zone labels`, async () => {
      await jump(page, DENSE, 15);
      const r = await page.evaluate(() => ({
        roads: window.mgMap.queryRenderedFeatures({ layers: ['road-line'] }).length,
        labels: window.mgMap.queryRenderedFeatures({ layers: ['road-label'] }).map((f) => f.properties.name),
        grid: window.mgMap.queryRenderedFeatures({ layers: ['grid-label'] }).length,
      }));
      assert(r.roads > 0 && r.labels.length > 0 && r.labels.every((n) => n), `roads ${r.roads}, road labels ${r.labels}`);
      assert(r.grid > 0, 'no grid name at z15');
      assert(tileResponses.some(([s, u]) => s === 200 && /\/tiles\/roads\//.test(u)), 'no roads tile answered 200');
      await shot(page, '04', 'roads');
      await jump(page, DENSE, 10.5);
      const z = await page.evaluate(() => ({ d: window.mgMap.queryRenderedFeatures({ layers: ['district-label'] }).map((f) => f.properties.name), f: window.mgMap.queryRenderedFeatures({ layers: ['ftz-label'] }).length }));
      assert(z.d.length > 0, 'no district name at z10.5');
      await jump(page, DENSE, 12.5);
      const s = await page.evaluate(() => window.mgMap.queryRenderedFeatures({ layers: ['street-label'] }).length);
      assert(s > 0, 'no street name at z12.5');
      log(`     ${r.labels.length} road labels (${[...new Set(r.labels)].slice(0, 3).join('、')}…), districts ${z.d.join('、')}, ${s} street labels`);
      await shot(page, '05', 'labels');
    });

    await check(`${V}: 3 entity card: USCC, industry with its name, links`, async () => {
      await jump(page, DENSE, 16.5, 45);
      const pt = await findPoint(page, 'entities');
      assert(pt, 'no clickable entity in view');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForSelector('#card dl', { timeout: 10000 });
      const text = await page.textContent('#card');
      const clicked = await page.evaluate(() => window.mgState.sel.id);
      const ent = (await getJSON('/api/v1/entities/' + clicked)).body;
      const api = ent.properties;
      entityAt = ent.geometry.coordinates;
      entityID = clicked;
      assert(text.includes(api.id), 'card shows no USCC: ' + text);
      if (api.industry_name) assert(text.includes(api.industry_name) && text.includes(api.industry), `card lacks ${api.industry} ${api.industry_name}`);
      assert(/sel=entity:/.test(await page.evaluate(() => location.hash)), 'URL lacks the open card');
      await shot(page, '06', 'entity-card');
    });

    await check(`${V}: 3 grid card: inspector, team, counts by class = nearby's count of its entities`, async () => {
      await page.evaluate((id) => window.mgApp.openCard('entity', id), entityID); // the entity card of the check before
      await page.locator('#card button[data-open^="grid:"]').click();
      await page.waitForSelector('#card[data-kind="grid"] .mixrow', { timeout: 10000 });
      const id = await page.evaluate(() => window.mgState.sel.id);
      const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#card .mixrow [data-risk]')].map((e) => [e.dataset.risk, Number(e.querySelector('b').textContent.replace(/,/g, ''))])));
      const text = await page.textContent('#card');
      const sum = (await getJSON(`/api/v1/grids/${encodeURIComponent(id)}/summary`)).body;
      assert(text.includes(sum.grid.inspector) && text.includes(sum.grid.team), 'card lacks inspector or team');
      // oracle: the geo index's entities of each class within 1 km of the
      // clicked entity (a 700 m grid lies within 990 m of any point of it)
      // whose grid_id is the grid's
      const want = { A: 0, B: 0, C: 0, D: 0 };
      for (const k of 'ABCD') {
        const near = (await getJSON(`/api/v1/nearby?lon=${entityAt[0]}&lat=${entityAt[1]}&radius=1000&limit=10000&risk=${k}`)).body;
        assert(!near.truncated, 'nearby truncated');
        want[k] = near.features.filter((f) => f.properties.grid_id === id).length;
      }
      for (const k of 'ABCD') assert(shown[k] === want[k], `grid ${id} class ${k}: card ${shown[k]}, nearby ${want[k]}`);
      log(`     grid ${id}: ${JSON.stringify(shown)}`);
      await shot(page, '07', 'grid-card');
      await page.keyboard.press('Escape');
      assert(await page.locator('#card').isHidden(), 'Escape does not close the card');
    });

    await check(`${V}: 3 building card lists its entities (= the demo's entity_count)`, async () => {
      await jump(page, DENSE, 17, 0);
      await page.locator('#layer-switches input[data-layer="entities"]').uncheck();
      await waitForMap(page);
      const pt = await findPoint(page, 'buildings-3d', { ok: (p) => Number(p.entity_count) > 0 });
      assert(pt, 'no clickable building');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForSelector('#card[data-kind="building"] .mixrow', { timeout: 10000 });
      const id = await page.evaluate(() => window.mgState.sel.id);
      const b = (await getJSON('/api/v1/buildings/' + encodeURIComponent(id))).body.properties;
      const n = await page.locator('#card .building-entities li').count();
      // the demo's entity_count counts the entities not cancelled or moved out
      const live = await page.evaluate(() => [...document.querySelectorAll('#card .building-entities li .meta')].filter((m) => !/注销|迁出/.test(m.textContent)).length);
      assert(n > 0 && String(live) === String(b.entity_count), `building ${id}: card lists ${n} (${live} not cancelled or moved out), the demo says entity_count ${b.entity_count}`);
      log(`     building ${b.name || id}: ${n} entities`);
      await shot(page, '08', 'building-card');
      await page.locator('#layer-switches input[data-layer="entities"]').check();
      await page.click('#card-close');
    });

    await check(`${V}: 3 FTZ area card: name, official area, entities by class`, async () => {
      await page.locator('#layer-switches input[data-layer="entities"]').uncheck();
      await page.locator('#layer-switches input[data-layer="grid"]').uncheck();
      await jump(page, DENSE, 11);
      const pt = await findPoint(page, 'ftz-fill');
      assert(pt, 'no FTZ area in view');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForSelector('#card[data-kind="zone"] h3', { timeout: 10000 });
      await page.waitForFunction(() => !/加载中/.test(document.getElementById('card').textContent), null, { timeout: 10000 });
      const text = await page.textContent('#card');
      assert(text.includes(pt.props.name), 'card lacks the area name ' + pt.props.name);
      assert(/官方面积/.test(text), 'card lacks the official area: ' + text);
      const zid = await page.evaluate(() => window.mgState.sel.id);
      const zs = (await getJSON(`/api/v1/zones/${encodeURIComponent(zid)}/summary`)).body;
      const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#card .mixrow [data-risk]')].map((e) => [e.dataset.risk, Number(e.querySelector('b').textContent.replace(/,/g, ''))])));
      for (const k of 'ABCD') assert(shown[k] === zs.by_risk[k], `FTZ ${zid} class ${k}: card ${shown[k]}, zones/{id}/summary ${zs.by_risk[k]}`);
      log(`     ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
      await shot(page, '09', 'ftz-card');
      await page.locator('#layer-switches input[data-layer="entities"]').check();
      await page.locator('#layer-switches input[data-layer="grid"]').check();
      await page.click('#card-close');
    });

    await check(`${V}: 3 place card and "look 200 m around", the centre marked and named`, async () => {
      const school = (await getJSON(`/api/v1/nearby?lon=${DENSE[0]}&lat=${DENSE[1]}&radius=3000&layer=places&kind=school&limit=1`)).body.features[0];
      assert(school, 'no school near DENSE');
      await jump(page, school.geometry.coordinates, 16);
      await page.locator('#layer-switches input[data-layer="entities"]').uncheck();
      await waitForMap(page);
      const pt = await findPoint(page, 'places', { want: school.properties.id });
      assert(pt, 'school not clickable');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForSelector('#card[data-kind="place"] [data-act="around"]', { timeout: 10000 });
      assert((await page.textContent('#card')).includes('学校'), 'place card lacks its kind');
      const url = page.url();
      assert(url.includes('sel=place:' + school.properties.id), 'URL lacks the place card: ' + url);
      const other = await ctx.newPage();
      watch(other, { on: false });
      await other.setViewportSize({ width: vp.width, height: vp.height });
      await other.goto(url, { waitUntil: 'load' });
      await waitForMap(other);
      await other.waitForSelector('#card[data-kind="place"] [data-act="around"]', { timeout: 10000 });
      const shared = await other.textContent('#card h3');
      await other.close();
      assert(shared === school.properties.name, `a shared place link opens "${shared}", want "${school.properties.name}"`);
      await page.locator('#layer-switches input[data-layer="entities"]').check();
      await page.click('#card [data-act="around"]');
      await page.waitForFunction(() => /共 \d+ 个/.test(document.getElementById('radius-status').textContent), null, { timeout: 15000 });
      const status = await page.textContent('#radius-status');
      const want = (await getJSON(`/api/v1/nearby?lon=${school.geometry.coordinates[0]}&lat=${school.geometry.coordinates[1]}&radius=200&limit=1`)).body.total;
      assert(status.includes(school.properties.name) && status.includes(`共 ${want} 个`), `radius status "${status}", nearby says ${want}`);
      await waitForMap(page);
      const lab = await page.evaluate(() => window.mgMap.queryRenderedFeatures({ layers: ['radius-label'] }).map((f) => f.properties.name));
      assert(lab.includes(school.properties.name), 'the radius centre is not named on the map: ' + lab);
      await page.click('#card-close');
      await shot(page, '10', 'place-around');
    });

    await check(`${V}: 4 search: USCC, its first characters, short name, place, address — grouped`, async () => {
      if (searchStatus !== 200) throw new Error('search endpoint answers ' + searchStatus);
      const run = async (q) => {
        await page.fill('#search-q', q);
        await page.press('#search-q', 'Enter');
        await page.waitForFunction(() => { const s = document.getElementById('search-status').textContent; return s && s !== '搜索中…'; }, null, { timeout: 15000 });
        return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#search-results ul')].map((u) => [u.dataset.group, [...u.querySelectorAll('li')].map((l) => l.textContent)])));
      };
      let g = await run(known.id);
      assert((g.entities || [])[0] && g.entities[0].includes(known.name), 'USCC: ' + JSON.stringify(g));
      g = await run(known.id.slice(0, 10));
      assert((g.entities || []).length > 0 && g.entities.every((t) => t.includes(known.id.slice(0, 10))), 'USCC prefix: ' + JSON.stringify(g).slice(0, 300));
      g = await run(known.short_name);
      assert((g.entities || []).some((t) => t.includes(known.name)), `short name ${known.short_name}: ` + JSON.stringify(g).slice(0, 300));
      g = await run('中学');
      assert((g.places || []).length > 0, 'place: ' + JSON.stringify(g).slice(0, 300));
      const addr = known.address.replace(/\d+层.*$/, '');
      g = await run(addr);
      assert((g.addresses || []).length > 0, `address ${addr}: ` + JSON.stringify(g).slice(0, 300));
      await shot(page, '11', 'search');
    });

    await check(`${V}: 5 loading indicator while a query is pending; errors in Chinese`, async () => {
      await jump(page, DENSE, 15.5);
      await page.route(isNearby, async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); });
      await page.fill('#coord-input', `${DENSE[0]},${DENSE[1]}`);
      await page.selectOption('#coord-crs', 'wgs84');
      await page.click('#coord-form button[type=submit]');
      await page.waitForFunction(() => !document.getElementById('loading').hidden, null, { timeout: 5000, polling: 50 });
      await page.waitForFunction(() => /共 \d+ 个/.test(document.getElementById('radius-status').textContent), null, { timeout: 15000 });
      await page.waitForFunction(() => document.getElementById('loading').hidden, null, { timeout: 15000 });
      await page.unroute(isNearby);
      expectErrors.on = true;
      await page.route(isNearby, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"service unavailable"}' }));
      await page.click('#coord-form button[type=submit]');
      await page.waitForFunction(() => /失败/.test(document.getElementById('radius-status').textContent), null, { timeout: 10000 });
      const msg = await page.textContent('#radius-status');
      await page.unroute(isNearby);
      expectErrors.on = false;
      assert(/服务暂不可用/.test(msg), 'the error is not in Chinese: ' + msg);
      await shot(page, '12', 'error');
    });

    await check(`${V}: 5 the URL reflects the view and the open card (shareable)`, async () => {
      await jump(page, DENSE, 16.5);
      const pt = await findPoint(page, 'entities');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForSelector('#card dl', { timeout: 10000 });
      await page.locator('#layer-switches input[data-layer="places"]').uncheck();
      const url = page.url();
      assert(/map=16\.5\//.test(url) && /sel=entity:/.test(url) && /off=places/.test(url), 'URL: ' + url);
      const other = await ctx.newPage();
      watch(other, { on: false });
      await other.setViewportSize({ width: vp.width, height: vp.height });
      await other.goto(url, { waitUntil: 'load' });
      await waitForMap(other);
      await other.waitForSelector('#card dl', { timeout: 10000 });
      const [a, b] = [await page.textContent('#card h3'), await other.textContent('#card h3')];
      const z = await other.evaluate(() => window.mgMap.getZoom());
      const places = await other.evaluate(() => window.mgMap.getLayoutProperty('places', 'visibility'));
      await other.close();
      assert(a === b && Math.abs(z - 16.5) < 0.01 && places === 'none', `shared link opens "${b}" at z${z}, places ${places}; want "${a}" at z16.5, places none`);
      await page.locator('#layer-switches input[data-layer="places"]').check();
      await page.click('#card-close');
    });

    await check(`${V}: 5 layer switches, legend off the map, coordinate placeholder not cut`, async () => {
      for (const [sw, layer] of [['grid', 'grid-line'], ['ftz', 'ftz-line'], ['buildings', 'buildings-3d'], ['places', 'places'], ['roads', 'road-line'], ['entities', 'entities']]) {
        await page.locator(`#layer-switches input[data-layer="${sw}"]`).uncheck();
        const v = await page.evaluate((l) => window.mgMap.getLayoutProperty(l, 'visibility'), layer);
        await page.locator(`#layer-switches input[data-layer="${sw}"]`).check();
        const v2 = await page.evaluate((l) => window.mgMap.getLayoutProperty(l, 'visibility'), layer);
        assert(v === 'none' && v2 === 'visible', `switch ${sw}: ${layer} ${v} / ${v2}`);
      }
      const geo = await page.evaluate(() => {
        const r = (s) => { const e = document.querySelector(s); if (!e) return null; const b = e.getBoundingClientRect(); return { x0: b.left, y0: b.top, x1: b.right, y1: b.bottom }; };
        // every visible text box's placeholder must fit its box
        const cv = document.createElement('canvas').getContext('2d');
        const cut = [...document.querySelectorAll('input[placeholder]')].filter((i) => i.offsetParent).map((inp) => {
          const cs = getComputedStyle(inp);
          cv.font = `${cs.fontSize} ${cs.fontFamily}`;
          return { id: inp.id, ph: cv.measureText(inp.placeholder).width, room: inp.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) };
        }).filter((x) => x.ph > x.room);
        const pb = r('#panel-body'), lg = r('#legend');
        // the part of the legend not scrolled out of the panel (null: none)
        const legendVisible = lg.y0 >= pb.y1 || lg.y1 <= pb.y0 ? null : { x0: Math.max(lg.x0, pb.x0), y0: Math.max(lg.y0, pb.y0), x1: Math.min(lg.x1, pb.x1), y1: Math.min(lg.y1, pb.y1) };
        return { inPanel: document.getElementById('panel').contains(document.getElementById('legend')), legend: lg, legendVisible, panel: r('#panel'), scale: r('.maplibregl-ctrl-scale'), nav: r('.maplibregl-ctrl-group'),
          cut, base: !document.getElementById('base-row').offsetParent };
      });
      const inside = (a, b) => !a || a.x0 >= b.x0 - 1 && a.y0 >= b.y0 - 1 && a.x1 <= b.x1 + 1 && a.y1 <= b.y1 + 1;
      const overlap = (a, b) => a && b && a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
      assert(geo.inPanel, 'the legend is not in the panel');
      assert(inside(geo.legendVisible, geo.panel), 'the legend shows outside the panel: ' + JSON.stringify(geo));
      assert(!overlap(geo.legendVisible, geo.scale) && !overlap(geo.panel, geo.scale) && !overlap(geo.panel, geo.nav), 'legend/panel cover the scale bar or the controls: ' + JSON.stringify(geo));
      assert(geo.cut.length === 0, 'placeholders cut: ' + JSON.stringify(geo.cut));
      assert(geo.base, 'the base map choice shows though no base layer is configured');
      await shot(page, '13', 'panel');
    });

    await check(`${V}: 2 a deployment's own base layer (XYZ raster) from config.json`, async () => {
      const bp = await ctx.newPage();
      watch(bp, { on: false });
      await bp.setViewportSize({ width: vp.width, height: vp.height });
      const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
      let baseTiles = 0;
      await bp.route((u) => new URL(u).pathname === '/webmap/config.json', (r) => r.fulfill({ contentType: 'application/json',
        body: JSON.stringify({ base_layers: [{ name: '测试影像', type: 'raster', tiles: [BASEMAP + '/{z}/{x}/{y}.png'], attribution: '测试' }] }) }));
      await bp.route((u) => u.toString().startsWith(BASEMAP), (r) => { baseTiles++; return r.fulfill({ contentType: 'image/png', body: PNG }); });
      await bp.goto(`${BASE}/#map=13/${DENSE[1]}/${DENSE[0]}`, { waitUntil: 'load' });
      await waitForMap(bp);
      await bp.waitForSelector('#base-row:not([hidden])', { timeout: 10000 });
      await bp.selectOption('#base-select', '0');
      await bp.waitForFunction(() => window.mgMap.getSource('user-base') && window.mgMap.isSourceLoaded('user-base'), null, { timeout: 30000 });
      const st = await bp.evaluate(() => ({ layer: !!window.mgMap.getLayer('user-base'), hash: location.hash, below: window.mgMap.getStyle().layers.findIndex((l) => l.id === 'user-base') < window.mgMap.getStyle().layers.findIndex((l) => l.id === 'district-fill') }));
      await bp.close();
      assert(st.layer && st.below && baseTiles > 0 && /base=0/.test(st.hash), `base layer ${JSON.stringify(st)}, ${baseTiles} tiles`);
    });

    await check(`${V}: 6 accessibility: labels, keyboard, contrast of the risk colours`, async () => {
      const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, button')].filter((e) => {
        if (e.type === 'hidden' || !e.offsetParent) return false;
        const name = e.getAttribute('aria-label') || (e.labels && [...e.labels].map((l) => l.textContent).join('')) || (e.getAttribute('aria-labelledby') && document.getElementById(e.getAttribute('aria-labelledby')).textContent) || (e.tagName === 'BUTTON' && e.textContent);
        return !name || !name.trim();
      }).map((e) => e.id || e.outerHTML.slice(0, 60)));
      assert(unlabeled.length === 0, 'controls without a label: ' + unlabeled.join(', '));
      // keyboard: Tab to the search box, search, Tab to the first hit, Enter opens the card, Escape closes it
      // a fresh page, as a keyboard user opens it
      const kb = await ctx.newPage();
      watch(kb, { on: false });
      await kb.setViewportSize({ width: vp.width, height: vp.height });
      await kb.goto(`${BASE}/#map=14/${DENSE[1]}/${DENSE[0]}`, { waitUntil: 'load' });
      await waitForMap(kb);
      let tabs = 0;
      while (tabs < 6 && await kb.evaluate(() => document.activeElement && document.activeElement.id) !== 'search-q') { await kb.keyboard.press('Tab'); tabs++; }
      assert(tabs < 6, 'the search box is not reachable with Tab');
      await kb.keyboard.type(known.id);
      await kb.keyboard.press('Enter');
      await kb.waitForSelector('#search-results li', { timeout: 15000 });
      await kb.keyboard.press('Tab'); // the submit button
      await kb.keyboard.press('Tab'); // the first hit
      assert(await kb.evaluate(() => document.activeElement.matches('#search-results li')), 'Tab does not reach the first hit');
      await kb.keyboard.press('Enter');
      await kb.waitForSelector('#card dl', { timeout: 10000 });
      assert(await kb.evaluate(() => document.getElementById('card').contains(document.activeElement)), 'the card does not take the focus');
      await kb.keyboard.press('Escape');
      assert(await kb.locator('#card').isHidden(), 'Escape does not close the card');
      assert(await kb.evaluate(() => document.activeElement.matches('#search-results li')), 'focus does not return to the hit');
      await kb.close();
      // contrast, from the colours the map and the legend use
      const c = await page.evaluate(() => ({ risk: Object.fromEntries(Object.entries(window.mgApp.RISK).map(([k, v]) => [k, v.color])), share: window.mgApp.CD_SHARE,
        bg: window.mgMap.getPaintProperty('district-fill', 'fill-color') }));
      const rows = [];
      for (const [k, col] of Object.entries(c.risk)) {
        rows.push([`point ${k} on the map`, contrast(col, c.bg), 3]); // WCAG 1.4.11 graphics
        rows.push([`white badge text on ${k}`, contrast(col, '#ffffff'), 4.5]);
      }
      for (const s of c.share) rows.push([`cluster count text on ${s[3]}`, contrast(s[1], s[2]), 4.5]);
      const bad = rows.filter((r) => r[1] < r[2]);
      log('     contrast: ' + rows.map((r) => `${r[0]} ${r[1].toFixed(1)}`).join('; '));
      assert(bad.length === 0, 'contrast too low: ' + bad.map((r) => `${r[0]} ${r[1].toFixed(2)} < ${r[2]}`).join('; '));
    });

    await check(`${V}: radius tool by map click and pasted GCJ-02; address check`, async () => {
      await jump(page, DENSE, 15.5);
      await page.selectOption('#radius-m', '200');
      await page.click('#radius-pick');
      const area = await free(page);
      await page.mouse.click((area.x0 + area.x1) / 2, (area.y0 + area.y1) / 2);
      await page.waitForFunction(() => /共 \d+ 个/.test(document.getElementById('radius-status').textContent) && !/周边/.test(document.getElementById('radius-status').textContent), null, { timeout: 15000 });
      assert(await page.locator('#radius-results li').count() > 0, 'radius tool lists nothing');
      const gcj = await page.evaluate((c) => {
        const PI = Math.PI, A = 6378245.0, EE = 0.00669342162296594323;
        const tLat = (x, y) => { let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)); r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3; r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3; r += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3; return r; };
        const tLon = (x, y) => { let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)); r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3; r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3; r += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3; return r; };
        let dLat = tLat(c[0] - 105, c[1] - 35), dLon = tLon(c[0] - 105, c[1] - 35);
        const rad = c[1] / 180 * PI; let m = Math.sin(rad); m = 1 - EE * m * m; const sm = Math.sqrt(m);
        dLat = (dLat * 180) / ((A * (1 - EE)) / (m * sm) * PI); dLon = (dLon * 180) / (A / sm * Math.cos(rad) * PI);
        return [c[0] + dLon, c[1] + dLat];
      }, DENSE);
      await page.fill('#coord-input', `${gcj[0].toFixed(6)},${gcj[1].toFixed(6)}`);
      await page.selectOption('#coord-crs', 'gcj02');
      await page.click('#coord-form button[type=submit]');
      await page.waitForFunction((c) => { const s = window.mgState.radiusCenter; return s && Math.abs(s[0] - c[0]) < 1e-4; }, DENSE, { timeout: 15000 });
      const center = await page.evaluate(() => window.mgState.radiusCenter);
      const d = Math.hypot((center[0] - DENSE[0]) * 111320 * Math.cos(DENSE[1] * Math.PI / 180), (center[1] - DENSE[1]) * 110540);
      assert(d < 5, `pasted GCJ-02 point shown ${d.toFixed(1)} m from its WGS-84 position`);
      await page.fill('#address-input', known.address);
      await page.click('#address-form button');
      await page.waitForSelector('#address-result .verdict', { timeout: 15000 });
      await shot(page, '14', 'radius-address');
    });

    await check(`${V}: issue 18 entity card's risk section = /api/v1/entities/{id}/risk (class, score, each reason and its evidence)`, async () => {
      // a C or D entity (it has reasons) near the dense part, its assessment from the API
      let a = null;
      for (const k of ['C', 'D']) {
        const near = (await getJSON(`/api/v1/nearby?lon=${DENSE[0]}&lat=${DENSE[1]}&radius=3000&limit=50&risk=${k}`)).body.features;
        for (const f of near) {
          const r = (await getJSON('/api/v1/entities/' + encodeURIComponent(f.properties.id) + '/risk')).body;
          if (r && (r.reasons || []).length) { a = r; break; }
        }
        if (a) break;
      }
      assert(a, 'no C or D entity with reasons near the dense part');
      await page.evaluate((id) => window.mgApp.openCard('entity', id), a.entity_id);
      await page.waitForSelector('#card .risk', { timeout: 15000 });
      const shown = await page.evaluate(() => {
        const r = document.querySelector('#card .risk');
        return { cls: r.dataset.class, computed: r.dataset.computed, score: Number(r.dataset.score), text: r.innerText,
          reasons: [...r.querySelectorAll('ol.reasons > li')].map((li) => ({ rule: li.dataset.rule, name: li.querySelector('b').textContent, records: [...li.querySelectorAll('[data-record]')].map((e) => e.dataset.record) })) };
      });
      assert(shown.cls === a.class && shown.computed === a.computed_class && shown.score === a.score, `card class ${shown.cls}/${shown.computed} score ${shown.score}; API ${a.class}/${a.computed_class} ${a.score}`);
      assert(shown.reasons.length === a.reasons.length, `card shows ${shown.reasons.length} reasons, the API gives ${a.reasons.length}`);
      a.reasons.forEach((x, i) => {
        const c = shown.reasons[i];
        assert(c.rule === x.rule, `reason ${i}: card ${c.rule}, API ${x.rule}`);
        const zh = String(x.description || '').split(/\s*[(（]/)[0].trim();
        if (/[\u4e00-\u9fff]/.test(zh)) assert(c.name === zh, `reason ${x.rule}: card names it "${c.name}", the rule set "${zh}"`);
        const want = (x.evidence || []).map((e) => e.record_id);
        assert(JSON.stringify(c.records) === JSON.stringify(want), `reason ${x.rule}: card evidence ${c.records}, API ${want}`);
        for (const e of x.evidence || []) if (e.date) assert(shown.text.includes(e.date), `reason ${x.rule}: evidence date ${e.date} not shown`);
      });
      assert(!!a.override === /人工调整/.test(shown.text), `override ${JSON.stringify(a.override)} but the card ${/人工调整/.test(shown.text) ? 'says' : 'does not say'} 人工调整`);
      log(`     ${a.entity_id}: ${a.class} ${a.score}, ${a.reasons.map((x) => x.rule).join(', ')}`);
      await shot(page, '15', 'risk-reasons');
    });

    await check(`${V}: issue 18 warnings list: counts by type = /api/v1/warnings; an item flies to its location and opens its entity`, async () => {
      const api = (await getJSON('/api/v1/warnings?limit=10000')).body;
      await page.waitForSelector('#warnings-section:not([hidden])', { timeout: 10000 });
      if (!(await page.evaluate(() => document.getElementById('warnings-section').open))) await page.click('#warnings-section summary');
      await page.waitForFunction(() => document.getElementById('warnings-section').dataset.total !== undefined, null, { timeout: 30000 });
      const ui = await page.evaluate(() => ({
        total: Number(document.querySelector('#warnings-status [data-total]').textContent),
        groups: Object.fromEntries([...document.querySelectorAll('#warnings-list .group-title')].map((g) => [g.dataset.type, Number(g.querySelector('[data-count]').textContent)])),
        items: Object.fromEntries([...document.querySelectorAll('#warnings-list ul[data-type]')].map((u) => [u.dataset.type, u.querySelectorAll('li').length])),
      }));
      assert(ui.total === api.total, `the list says ${ui.total} warnings, the API ${api.total}`);
      const want = Object.fromEntries(Object.entries(api.by_type).filter(([, n]) => n > 0));
      assert(JSON.stringify(Object.keys(ui.groups).sort()) === JSON.stringify(Object.keys(want).sort()), `types shown ${Object.keys(ui.groups)}, API ${Object.keys(want)}`);
      for (const [t, n] of Object.entries(want)) {
        assert(ui.groups[t] === n, `${t}: list says ${ui.groups[t]}, API ${n}`);
        const listed = api.warnings.filter((w) => w.type === t).length;
        assert(ui.items[t] === Math.min(30, listed), `${t}: ${ui.items[t]} items listed of the API's ${listed}`);
      }
      // the first item of the first group: fly there, open its first entity
      const first = await page.evaluate(() => { const li = document.querySelector('#warnings-list li[data-i]'); return li ? Number(li.dataset.i) : -1; });
      assert(first >= 0, 'no warning listed');
      const w = api.warnings.filter((x) => x.type === Object.keys(ui.groups)[0])[0];
      await page.click('#warnings-list li[data-i]');
      await page.waitForFunction((loc) => { const c = window.mgMap.getCenter(); return !window.mgMap.isMoving() && Math.abs(c.lng - loc[0]) < 1e-4 && Math.abs(c.lat - loc[1]) < 1e-4; }, w.location, { timeout: 20000 });
      if ((w.entities || []).length) {
        await page.waitForFunction((id) => window.mgState.sel && window.mgState.sel.id === id && document.getElementById('card-title'), w.entities[0], { timeout: 15000 });
      }
      log(`     ${api.total} warnings: ${JSON.stringify(api.by_type)}`);
      await shot(page, '16', 'warnings');
    });

    await check(`${V}: issue 18 warnings layer: one point per warning of /api/v1/warnings, coloured by type as the legend says; a click on a point flies to the warning and opens its evidence`, async () => {
      const api = (await getJSON('/api/v1/warnings?limit=10000')).body;
      assert(!api.truncated, `more warnings (${api.total}) than one answer holds`);
      await page.evaluate(() => { const cb = document.getElementById('warnings-layer'); if (!cb.checked) { cb.checked = true; cb.dispatchEvent(new Event('change')); } });
      await page.waitForFunction(() => document.getElementById('warnings-section').dataset.layerCount !== undefined, null, { timeout: 30000 });
      const drawn = await page.evaluate(() => {
        const by = {};
        for (const w of window.mgRisk.layer()) by[w.type] = (by[w.type] || 0) + 1;
        const paint = window.mgMap.getPaintProperty('warnings-points', 'circle-color');
        const legend = Object.fromEntries([...document.querySelectorAll('#legend-warnings [data-type]')].map((d) => [d.dataset.type, d.querySelector('.dot').style.background]));
        return { n: Number(document.getElementById('warnings-section').dataset.layerCount), by, paint, legend, visible: window.mgMap.getLayoutProperty('warnings-points', 'visibility') };
      });
      const located = api.warnings.filter((w) => Array.isArray(w.location)).length;
      assert(drawn.visible === 'visible', 'the warnings layer is not shown');
      assert(drawn.n === located && located === api.total, `${drawn.n} points drawn, the API has ${api.total} warnings (${located} with a location)`);
      assert(JSON.stringify(drawn.by) === JSON.stringify(Object.fromEntries(Object.keys(drawn.by).map((t) => [t, api.by_type[t]]))) && Object.keys(drawn.by).length === Object.keys(api.by_type).filter((t) => api.by_type[t]).length,
        `points by type ${JSON.stringify(drawn.by)}, API ${JSON.stringify(api.by_type)}`);
      // the paint's colour of each type is the legend's (a match expression: type, colour, …)
      const rgb = (hex) => `rgb(${hex.match(/[0-9a-f]{2}/gi).map((h) => parseInt(h, 16)).join(', ')})`;
      assert(drawn.paint[0] === 'match', 'circle-color is not a match on the type');
      for (const t of Object.keys(api.by_type)) {
        const i = drawn.paint.indexOf(t);
        assert(i > 0 && drawn.legend[t] && rgb(drawn.paint[i + 1]) === drawn.legend[t], `${t}: the map paints ${drawn.paint[i + 1]}, the legend shows ${drawn.legend[t]}`);
      }
      // click the planted registration cluster's point (else the first warning)
      const w = api.warnings.find((x) => x.type === 'registration_cluster') || api.warnings[0];
      const area = await free(page);
      await page.evaluate(([loc, a]) => new Promise((res) => {
        const m = window.mgMap, r = m.getCanvas().getBoundingClientRect();
        m.once('idle', res);
        m.easeTo({ center: loc, zoom: 16, pitch: 0, bearing: 0, duration: 0, offset: [(a.x0 + a.x1) / 2 - r.left - r.width / 2, (a.y0 + a.y1) / 2 - r.top - r.height / 2] });
      }), [w.location, area]);
      await waitForMap(page);
      const pt = await page.evaluate((loc) => { const p = window.mgMap.project(loc), r = window.mgMap.getCanvas().getBoundingClientRect(); return { x: p.x + r.left, y: p.y + r.top }; }, w.location);
      // the warnings drawn within 12 px of the click (before the map flies)
      const near = await page.evaluate(([ws, pt]) => {
        const m = window.mgMap, r = m.getCanvas().getBoundingClientRect();
        return ws.filter((x) => { const p = m.project(x.location); return Math.hypot(p.x + r.left - pt.x, p.y + r.top - pt.y) < 12; }).map((x) => x.id);
      }, [api.warnings, pt]);
      await page.mouse.click(pt.x, pt.y);
      await page.waitForFunction(() => window.mgRisk.picked, null, { timeout: 10000 });
      const picked = await page.evaluate(() => window.mgRisk.picked);
      assert(api.warnings.some((x) => x.id === picked.id), `the clicked point is no warning of the API: ${picked.id}`);
      assert(near.includes(picked.id), `the picked warning ${picked.id} is not one drawn at the click (${near})`);
      await page.waitForFunction((loc) => { const c = window.mgMap.getCenter(); return !window.mgMap.isMoving() && Math.abs(c.lng - loc[0]) < 1e-4 && Math.abs(c.lat - loc[1]) < 1e-4; }, picked.location, { timeout: 20000 });
      const sel = (picked.entities || []).length ? ['entity', picked.entities[0]] : picked.building_id ? ['building', picked.building_id] : ['grid', picked.grid_id];
      await page.waitForFunction(([k, id]) => window.mgState.sel && window.mgState.sel.kind === k && window.mgState.sel.id === id && document.getElementById('card-title'), sel, { timeout: 15000 });
      log(`     ${drawn.n} points; clicked ${picked.id} → ${sel.join(' ')}`);
      await shot(page, '17', 'warnings-layer');
      await page.evaluate(() => { const cb = document.getElementById('warnings-layer'); cb.checked = false; cb.dispatchEvent(new Event('change')); });
    });

    await check(`${V}: issue 18 3D buildings coloured by output per floor, tax and entity count: each drawn building's figure = /api/v1/buildings/{id}/economy, the legend is the paint's; a click opens the economy card whose sums = the API's`, async () => {
      await page.waitForSelector('#building-figure', { timeout: 10000 });
      await jump(page, DENSE, 16, 0);
      const area = await free(page);
      let checked = 0, withOutput = 0;
      for (const fig of ['output_per_floor', 'tax', 'entity_count']) {
        await page.selectOption('#building-figure', fig);
        await waitForMap(page);
        const st = await page.evaluate(([fig, a]) => {
          const m = window.mgMap, r = m.getCanvas().getBoundingClientRect(), F = window.mgEconomy.FIGURES[fig];
          const fs = m.queryRenderedFeatures([[a.x0 - r.left, a.y0 - r.top], [a.x1 - r.left, a.y1 - r.top]], { layers: ['buildings-3d'] });
          const seen = {};
          for (const f of fs) if (!seen[f.properties.id]) seen[f.properties.id] = f.properties;
          return { paint: m.getPaintProperty('buildings-3d', 'fill-extrusion-color'), F,
            legend: [...document.querySelectorAll('#legend-buildings [data-class] .box')].map((b) => b.style.background), legendFig: document.getElementById('legend-buildings').dataset.figure,
            props: Object.values(seen) };
        }, [fig, area]);
        // the paint is a step on the figure with the table's breaks and colours, the legend the same colours
        assert(JSON.stringify(st.paint) === JSON.stringify(['step', ['to-number', ['coalesce', ['get', fig], 0]], st.F.colors[0], ...st.F.breaks.flatMap((b, i) => [b, st.F.colors[i + 1]])]), `${fig}: paint ${JSON.stringify(st.paint)}`);
        const rgb = (hex) => `rgb(${hex.match(/[0-9a-f]{2}/gi).map((h) => parseInt(h, 16)).join(', ')})`;
        assert(st.legendFig === fig && JSON.stringify(st.legend) === JSON.stringify(st.F.colors.map(rgb)), `${fig}: legend ${st.legend} for ${st.legendFig}`);
        assert(st.props.length > 0, `${fig}: no building drawn`);
        // the tiles' figures (what the colours are computed from) = the economy API's
        const sample = [...st.props.filter((p) => Number(p.output) > 0).slice(0, 6), ...st.props.filter((p) => !(Number(p.output) > 0)).slice(0, 3)];
        for (const p of sample) {
          const ec = (await getJSON('/api/v1/buildings/' + encodeURIComponent(p.id) + '/economy')).body;
          const api = { entity_count: ec.entities, output: ec.output, output_per_floor: ec.output_per_floor, tax: ec.tax, employment: ec.employment };
          for (const [k, v] of Object.entries(api)) assert(Math.abs(Number(p[k]) - v) < 1e-6, `building ${p.id}: the tile's ${k} ${p[k]}, the economy API's ${v}`);
          checked++;
          if (ec.output > 0) withOutput++;
        }
      }
      assert(withOutput > 0, 'no drawn building with an output: the figures were not compared');
      // click a building with an output: the economy card's sums = the API's
      const pt = await findPoint(page, 'buildings-3d', { ok: (p) => Number(p.output) > 0 });
      assert(pt, 'no clickable building with an output');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForSelector('#card[data-kind="building"] .economy', { timeout: 15000 });
      const card = await page.evaluate(() => {
        const e = document.querySelector('#card .economy');
        return { id: e.dataset.building, v: Object.fromEntries([...e.querySelectorAll('[data-f]')].map((x) => [x.dataset.f, Number(x.dataset.v)])),
          section: Object.fromEntries([...e.querySelectorAll('[data-by="section"] [data-key]')].map((x) => [x.dataset.key, Number(x.querySelector('b').textContent)])),
          status: Object.fromEntries([...e.querySelectorAll('[data-by="status"] [data-key]')].map((x) => [x.dataset.key, Number(x.querySelector('b').textContent)])),
          cls: e.querySelector('[data-class]') && Number(e.querySelector('[data-class]').dataset.class) };
      });
      const ec = (await getJSON('/api/v1/buildings/' + encodeURIComponent(pt.props.id) + '/economy')).body;
      assert(card.id === pt.props.id, `clicked ${pt.props.id}, the card is of ${card.id}`);
      for (const k of ['entities', 'output', 'output_per_floor', 'employment', 'tax', 'reporting'].filter((x) => x !== 'output_per_floor' || ec.floors)) assert(card.v[k] === ec[k], `card ${k} ${card.v[k]}, API ${ec[k]}`);
      assert(JSON.stringify(Object.entries(card.section).sort()) === JSON.stringify(Object.entries(ec.by_section).sort()), `card sections ${JSON.stringify(card.section)}, API ${JSON.stringify(ec.by_section)}`);
      assert(JSON.stringify(Object.entries(card.status).sort()) === JSON.stringify(Object.entries(ec.by_status).sort()), `card statuses ${JSON.stringify(card.status)}, API ${JSON.stringify(ec.by_status)}`);
      const cls = await page.evaluate((v) => window.mgEconomy.classOf('entity_count', v), ec.entities);
      assert(card.cls === cls, `the card's colour class ${card.cls}, the entity count ${ec.entities} is class ${cls}`);
      log(`     ${checked} drawn buildings' figures = the API's (${withOutput} with an output); card of ${ec.building_id}: ${ec.entities} entities, output ${ec.output}, tax ${ec.tax}`);
      await shot(page, '18', 'building-economy');
      await page.selectOption('#building-figure', 'height');
    });

    await page.close();
  }
  beforeEach = async () => {};

  await check('no console errors, no request outside the server', async () => {
    assert(consoleErrors.length === 0, 'console errors:\n' + consoleErrors.join('\n'));
    assert(external.length === 0, 'requests outside the server:\n' + external.join('\n'));
  });
} finally {
  await ctx.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
log(`screenshots in ${OUT}`);
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
