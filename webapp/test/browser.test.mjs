// Browser test of the web map: Debian's chromium driven by playwright-core
// (never a downloaded browser). Needs a running server:
//
//   BASE_URL=http://127.0.0.1:18383 OUT_DIR=out node test/browser.test.mjs
//
// Checks: the page loads without console errors, tiles are requested and
// rendered (queryRenderedFeatures is non-empty), clicking an entity opens its
// card, search shows a hit (or, when the search endpoint answers 404/503, the
// page shows that error), the radius tool lists entities (map click and a
// pasted GCJ-02 coordinate), and the address form shows a verdict. Screenshots
// go to OUT_DIR. Exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:18383';
const OUT = resolve(process.env.OUT_DIR || 'out');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// A dense part of the demo region (tile 14/13042/6776).
const DENSE = [106.5784, 29.6785];
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

async function searchState() {
  // The search index may still be building: wait up to 90 s for it.
  for (let i = 0; i < 90; i++) {
    try {
      const r = await fetch(`${BASE}/api/v1/search?q=${encodeURIComponent('科技')}&limit=1`);
      if (r.status !== 503) return r.status;
    } catch (_) { /* server not up yet */ }
    await new Promise((res) => setTimeout(res, 1000));
  }
  return 503;
}

async function waitForMap(page) {
  await page.waitForFunction(() => window.mgMap && window.mgMap.loaded() && window.mgMap.areTilesLoaded(), null, { timeout: 60000 });
}

const userDataDir = mkdtempSync(join(tmpdir(), 'mg-chromium-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1280, height: 800 },
});
const consoleErrors = [];
const tileResponses = [];
const external = [];
function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' || (m.type() === 'warning' && m.text().startsWith('map error'))) consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });
  page.on('response', (r) => { if (/\/tiles\/[a-z]+\/\d+\/\d+\/\d+\.mvt/.test(r.url())) tileResponses.push([r.status(), r.url()]); });
}

try {
  const searchStatus = await searchState();
  log(`search endpoint answers HTTP ${searchStatus}`);
  const page = ctx.pages()[0] || await ctx.newPage();
  watch(page);

  await check('page loads and tiles render', async () => {
    await page.goto(BASE + '/', { waitUntil: 'load' });
    await waitForMap(page);
    const ok = tileResponses.filter(([s]) => s === 200);
    assert(ok.length > 0, `no tile answered 200 (${tileResponses.length} tile responses)`);
    const n = await page.evaluate(() => window.mgMap.queryRenderedFeatures().length);
    assert(n > 0, 'queryRenderedFeatures is empty');
    const ents = await page.evaluate(() => window.mgMap.queryRenderedFeatures({ layers: ['entities', 'entity-clusters'] }).length);
    assert(ents > 0, 'no entity or cluster rendered');
    log(`     ${ok.length} tiles, ${n} rendered features, ${ents} entity/cluster features`);
    await page.screenshot({ path: join(OUT, '01-overview.png') });
  });

  await check('zoomed in: points, buildings and entity card', async () => {
    await page.evaluate((c) => window.mgMap.jumpTo({ center: c, zoom: 16.5, pitch: 45 }), DENSE);
    await waitForMap(page);
    const pt = await page.evaluate(() => {
      const m = window.mgMap;
      const fs = m.queryRenderedFeatures({ layers: ['entities'] });
      const w = m.getCanvas().clientWidth, h = m.getCanvas().clientHeight;
      for (const f of fs) {
        const p = m.project(f.geometry.coordinates);
        if (p.x > 400 && p.x < w - 360 && p.y > 60 && p.y < h - 200) return { x: p.x, y: p.y, id: f.properties.id, n: fs.length };
      }
      return { n: fs.length };
    });
    assert(pt.n > 0, 'no entity point rendered at z16.5');
    const blds = await page.evaluate(() => window.mgMap.queryRenderedFeatures({ layers: ['buildings-3d'] }).length);
    assert(blds > 0, 'no building rendered');
    assert(pt.id, 'no clickable entity in view');
    await page.mouse.click(pt.x, pt.y);
    await page.waitForSelector('#card dl', { timeout: 10000 });
    const text = await page.textContent('#card');
    assert(/[0-9A-Z]{18}/.test(text), 'card shows no USCC: ' + text);
    assert(text.includes('风险等级') && text.includes('住所'), 'card lacks fields');
    await page.screenshot({ path: join(OUT, '02-entity-card.png') });
    await page.click('#card-close');
  });

  await check('search box', async () => {
    await page.fill('#search-q', '科技');
    await page.click('#search-form button');
    await page.waitForFunction(() => {
      const s = document.getElementById('search-status').textContent;
      return s && s !== '搜索中…';
    }, null, { timeout: 15000 });
    const status = await page.textContent('#search-status');
    const hits = await page.locator('#search-results li').count();
    if (searchStatus === 200) {
      assert(hits > 0, `search shows no hit: ${status}`);
      await page.locator('#search-results li').first().click();
    } else {
      assert(/不可用|失败/.test(status), `search endpoint answers ${searchStatus} but the page shows: ${status}`);
      log(`     search endpoint not available (HTTP ${searchStatus}); the page shows: ${status}`);
    }
    await page.screenshot({ path: join(OUT, '03-search.png') });
  });

  await check('radius tool by map click', async () => {
    await page.evaluate((c) => window.mgMap.jumpTo({ center: c, zoom: 15.5, pitch: 0 }), DENSE);
    await waitForMap(page);
    await page.selectOption('#radius-m', '200');
    await page.click('#radius-pick');
    const box = await page.locator('#map').boundingBox();
    await page.mouse.click(box.x + box.width / 2 + 150, box.y + box.height / 2);
    await page.waitForSelector('#radius-results li', { timeout: 15000 });
    const n = await page.locator('#radius-results li').count();
    const status = await page.textContent('#radius-status');
    assert(n > 0 && /共 \d+ 个/.test(status), `radius tool: ${n} items, status ${status}`);
    log(`     ${status}`);
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(OUT, '04-radius.png') });
  });

  await check('radius tool with a pasted GCJ-02 coordinate', async () => {
    // GCJ-02 of DENSE (about 500 m off in WGS-84): the map must put the
    // centre back on DENSE.
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
    await page.click('#coord-form button');
    await page.waitForFunction(() => /共 \d+ 个/.test(document.getElementById('radius-status').textContent), null, { timeout: 15000 });
    const center = await page.evaluate(() => window.mgState.radiusCenter);
    const dx = (center[0] - DENSE[0]) * 111320 * Math.cos(DENSE[1] * Math.PI / 180), dy = (center[1] - DENSE[1]) * 110540;
    assert(Math.hypot(dx, dy) < 5, `pasted GCJ-02 point shown ${Math.hypot(dx, dy).toFixed(1)} m from its WGS-84 position`);
    assert(await page.locator('#radius-results li').count() > 0, 'no entity listed for the pasted point');
  });

  await check('address check form', async () => {
    const r = await fetch(`${BASE}/api/v1/nearby?lon=${DENSE[0]}&lat=${DENSE[1]}&radius=300&limit=1`);
    const j = await r.json();
    const address = j.features[0].properties.address;
    await page.fill('#address-input', address);
    await page.click('#address-form button');
    await page.waitForSelector('#address-result .verdict', { timeout: 15000 });
    const v = await page.textContent('#address-result');
    assert(v.length > 0, 'no verdict');
    log(`     ${address} → ${v.replace(/\s+/g, ' ').slice(0, 80)}`);
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(OUT, '05-address.png') });
  });

  await check('phone-sized layout', async () => {
    const phone = await ctx.newPage();
    watch(phone);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(BASE + '/#14.5/' + DENSE[1] + '/' + DENSE[0], { waitUntil: 'load' });
    await waitForMap(phone);
    const n = await phone.evaluate(() => window.mgMap.queryRenderedFeatures({ layers: ['entities', 'entity-clusters'] }).length);
    assert(n > 0, 'nothing rendered on the phone layout');
    const panel = await phone.locator('#panel').boundingBox();
    assert(panel.width <= 390 && panel.y > 300, `panel is not a bottom sheet: ${JSON.stringify(panel)}`);
    await phone.screenshot({ path: join(OUT, '06-phone.png') });
    await phone.close();
  });

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
