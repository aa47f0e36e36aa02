// Browser test of the web map on the public profile (issue 16): the page a
// server started with `serve --profile public` hands out must call only the
// routes that profile documents, show no internal field, and answer the
// public's question "is this address in the FTZ?". Needs a running public
// server on the demo region:
//
//   BASE_URL=http://127.0.0.1:18385 OUT_DIR=out node test/public.test.mjs
//
// The oracles are the server's own OpenAPI document (every request the page
// makes must match one of its routes, with the {layer} values it allows) and
// its /api/v1/zones answer for the same address. Runs at a desktop and a
// phone viewport; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:18385';
const OUT = resolve(process.env.OUT_DIR || 'out');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DENSE = [106.5784, 29.6785];
const VIEWPORTS = [{ name: 'desktop', width: 1400, height: 900 }, { name: 'phone', width: 390, height: 844 }];
// Words that name internal fields in the web map's Chinese, and the
// internal fields' JSON names: none may appear on the public page.
const INTERNAL = ['风险等级', '网格员', '责任团队', '需重点监管', '部门数据', 'C+D', 'inspector', 'risk'];
mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0;
const log = (...a) => console.log(...a);
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${e && e.stack || e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const getJSON = async (path) => { const r = await fetch(BASE + path); return { status: r.status, body: await r.json().catch(() => null) }; };

// waitReady waits for /readyz (the search and address indexes built).
async function waitReady() {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${BASE}/readyz`);
      if (r.status === 200) return r.status;
    } catch (_) { /* not up yet */ }
    await new Promise((res) => setTimeout(res, 1000));
  }
  return 503;
}
async function waitForMap(page) {
  await page.waitForFunction(() => window.mgMap && window.mgMap.loaded() && window.mgMap.areTilesLoaded(), null, { timeout: 60000 });
  await page.waitForFunction(() => new Promise((res) => { const m = window.mgMap; if (!m.isMoving() && m.areTilesLoaded()) res(true); else m.once('idle', () => res(true)); }), null, { timeout: 60000 });
}
async function jump(page, center, zoom) {
  await page.evaluate(([c, z]) => new Promise((res) => {
    const m = window.mgMap;
    const t = setTimeout(res, 60000);
    m.once('idle', () => { clearTimeout(t); res(); });
    m.jumpTo({ center: c, zoom: z, pitch: 0, bearing: 0 });
    m.triggerRepaint();
  }), [center, zoom]);
  await waitForMap(page);
}

// documented(doc) returns a function telling whether METHOD URL is a route of
// the OpenAPI document (path templates as patterns; a {layer} path
// parameter's enum, when the document gives one, restricts its values).
function documented(doc) {
  const routes = [];
  for (const [tpl, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const names = [];
      const re = new RegExp('^' + tpl.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-z_]+)\}/g, (_, n) => { names.push(n); return '([^/]+)'; }) + '$');
      const enums = Object.fromEntries((op.parameters || []).filter((p) => p.in === 'path' && p.schema && p.schema.enum).map((p) => [p.name, p.schema.enum]));
      routes.push({ method: m.toUpperCase(), re, names, enums });
    }
  }
  return (method, url) => {
    const path = decodeURIComponent(new URL(url).pathname);
    return routes.some((r) => {
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) return false;
      const mm = path.match(r.re);
      return mm && r.names.every((n, i) => !r.enums[n] || r.enums[n].includes(mm[i + 1]));
    });
  };
}

const userDataDir = mkdtempSync(join(tmpdir(), 'mg-chromium-public-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1400, height: 900 },
});
try {
  log(`/readyz answers HTTP ${await waitReady()}`);
  const doc = (await getJSON('/api/v1/openapi.json')).body;
  assert(doc && /public/.test(doc.info.title), `not a public server: ${doc && doc.info && doc.info.title}`);
  const isDocumented = documented(doc);
  // The oracle's addresses: entities' addresses that /api/v1/zones puts
  // inside and outside the FTZ.
  const inside = [], outside = [];
  for (const q of ['科技', '贸易', '商贸', '餐饮', '物流', '建筑']) {
    const hits = (await getJSON(`/api/v1/search?q=${encodeURIComponent(q)}&limit=30`)).body.features || [];
    for (const f of hits) {
      const a = f.properties.address;
      if (!a || inside.length >= 2 && outside.length >= 2) continue;
      const z = (await getJSON(`/api/v1/zones?address=${encodeURIComponent(a)}`)).body;
      if (!z || z.precision !== 'address') continue;
      (z.in_ftz ? inside : outside).push({ address: a, name: f.properties.name, id: f.properties.id });
    }
  }
  log(`     oracle addresses: ${inside.length} inside, ${outside.length} outside the FTZ`);

  for (const vp of VIEWPORTS) {
    const V = vp.name;
    const bad = [], undocumented = [], errors = [];
    const page = await ctx.newPage();
    await page.setViewportSize({ width: vp.width, height: vp.height });
    page.on('console', (m) => { if (m.type() === 'error' || (m.type() === 'warning' && m.text().startsWith('map error'))) errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(BASE)) return;
      const p = new URL(r.url()).pathname;
      if (p.startsWith('/api/') || p.startsWith('/tiles/')) { if (!isDocumented(r.method(), r.url())) undocumented.push(`${r.method()} ${p}`); }
    });
    page.on('response', (r) => { if (r.url().startsWith(BASE) && r.status() >= 400) bad.push(`${r.status()} ${new URL(r.url()).pathname}`); });
    const shot = (n, what) => page.screenshot({ path: join(OUT, `public-${V}-${n}-${what}.png`) });

    await check(`${V}: public page loads and draws tiles, shows no risk legend, heat map or radius tool`, async () => {
      await page.goto(BASE + '/', { waitUntil: 'load' });
      await waitForMap(page);
      await page.waitForFunction(() => document.getElementById('address-h').textContent === '地址是否在自贸区内', null, { timeout: 15000 });
      const ui = await page.evaluate(() => ({
        radius: document.getElementById('radius-section').hidden,
        riskLegend: document.getElementById('legend-risk').hidden,
        heat: document.querySelector('#layer-switches input[data-layer="heat"]').closest('label').hidden,
        drawn: window.mgMap.queryRenderedFeatures({ layers: ['entities', 'entity-clusters'] }).length,
      }));
      assert(ui.radius && ui.riskLegend && ui.heat, `internal tools shown: ${JSON.stringify(ui)}`);
      assert(ui.drawn > 0, 'no entity or cluster drawn');
      await shot('01', 'overview');
    });

    await check(`${V}: the address form answers "in the FTZ?" as /api/v1/zones does`, async () => {
      assert(inside.length && outside.length, `oracle found ${inside.length} inside and ${outside.length} outside`);
      for (const a of [inside[0], outside[0]]) {
        const want = (await getJSON(`/api/v1/zones?address=${encodeURIComponent(a.address)}`)).body;
        if (await page.evaluate(() => document.getElementById('panel').classList.contains('collapsed'))) await page.click('#toggle');
        await page.fill('#address-input', a.address);
        await page.click('#address-form button');
        await page.waitForFunction((addr) => { const v = document.querySelector('#address-result .verdict'); return v && document.getElementById('address-result').textContent.includes(addr.slice(-6)); }, want.address || a.address, { timeout: 15000 });
        const got = await page.evaluate(() => document.querySelector('#address-result .verdict').dataset.inFtz);
        assert(got === (want.in_ftz ? '1' : '0'), `${a.address}: page says in_ftz=${got}, the API ${want.in_ftz}`);
      }
      await shot('02', 'ftz-question');
    });

    await check(`${V}: an entity found by name opens its public card, without internal fields`, async () => {
      const e = inside[0] || outside[0];
      await page.fill('#search-q', e.name);
      await page.click('#search-form button');
      await page.waitForSelector('#search-results li', { timeout: 15000 });
      await page.evaluate((id) => {
        const items = [...document.querySelectorAll('#search-results ul[data-group="entities"] li')];
        (items.find((li) => li.textContent.includes(id)) || items[0]).click();
      }, e.id);
      await page.waitForFunction((name) => { const t = document.getElementById('card-title'); return t && t.textContent === name; }, e.name, { timeout: 15000 });
      await page.waitForTimeout(300); // the records section, if any, comes after
      const text = await page.evaluate(() => document.getElementById('card').innerText + document.getElementById('panel').innerText);
      for (const w of INTERNAL) assert(!text.includes(w), `the public page shows "${w}"`);
      await shot('03', 'entity-card');
    });

    await check(`${V}: a grid clicked on the map opens a card from its tile`, async () => {
      await page.evaluate(() => { if (!document.getElementById('card').hidden) document.getElementById('card-close').click(); });
      await jump(page, DENSE, 14.5);
      const pt = await page.evaluate(() => {
        const m = window.mgMap, r = m.getCanvas().getBoundingClientRect(), pr = document.getElementById('panel').getBoundingClientRect();
        for (let y = r.top + 40; y < r.bottom - 40; y += 11) {
          for (let x = r.left + 40; x < r.right - 60; x += 11) {
            if (x >= pr.left && x <= pr.right && y >= pr.top && y <= pr.bottom) continue;
            const px = x - r.left, py = y - r.top;
            const g = m.queryRenderedFeatures([px, py], { layers: ['grid-fill'] });
            if (!g.length) continue;
            if (m.queryRenderedFeatures([[px - 8, py - 8], [px + 8, py + 8]], { layers: ['entities', 'entity-clusters', 'places', 'buildings-3d'] }).length) continue;
            return { x, y, name: g[0].properties.name };
          }
        }
        return null;
      });
      assert(pt, 'no free point on a grid');
      await page.mouse.click(pt.x, pt.y);
      await page.waitForFunction((name) => { const t = document.getElementById('card-title'); return t && t.textContent === name; }, pt.name, { timeout: 15000 });
      const text = await page.evaluate(() => document.getElementById('card').innerText);
      for (const w of INTERNAL) assert(!text.includes(w), `the grid card shows "${w}"`);
      await shot('04', 'grid-card');
    });

    await check(`${V}: every request was a documented public route, none failed, no console error`, async () => {
      assert(undocumented.length === 0, 'requests to routes the public profile does not document:\n' + [...new Set(undocumented)].join('\n'));
      assert(bad.length === 0, 'failed responses:\n' + [...new Set(bad)].join('\n'));
      assert(errors.length === 0, 'console errors:\n' + errors.join('\n'));
    });
    await page.close();
  }
} finally {
  await ctx.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
