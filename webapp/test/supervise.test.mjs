// Browser test of supervision on the web map (issue 19, item 6): the
// inspector's phone at 390×844 and the office console at 1400×900, on a
// server with tokens (.ci/steps/22-webmap-supervise.sh starts it):
//
//   BASE_URL=http://127.0.0.1:18386 OUT_DIR=out CLERK_TOKEN=… FIELD_TOKEN=… FIELD_NAME=field-inspector \
//     node test/supervise.test.mjs
//
// The clerk (CLERK_TOKEN, scope write) gives a grid's inspector the login
// FIELD_NAME (the grid's inspector_id), then files a complaint through the
// API; the phone, signed in with FIELD_TOKEN, must see it arrive live in
// its inbox, open it and the entity's profile (records and risk), record a
// check result with the phone's position (Chromium's geolocation, a fixed
// position) and the test reads it back through the API; the same for a
// spot-check entity. The console's lists must be the API's lists, and the
// incident view must draw the incident's area. Oracles: the API's own
// answers (complaint, spot check, inbox, lists, nearby, risk). Exits
// non-zero on any failure; screenshots in OUT_DIR (sup-<viewport>-NN-*.png).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:18386';
const OUT = resolve(process.env.OUT_DIR || 'out');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CLERK = process.env.CLERK_TOKEN || '';
const FIELD = process.env.FIELD_TOKEN || '';
const FIELD_NAME = process.env.FIELD_NAME || 'field-inspector';
const DENSE = [106.5784, 29.6785]; // a dense part of the demo region
mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0, skipRest = false;
const log = (...a) => console.log(...a);
async function check(name, fn) {
  const t0 = Date.now();
  if (skipRest) { failed++; log(`FAIL ${name}: skipped after an earlier failure it depends on`); return; }
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
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
async function api(path, { method = 'GET', token = CLERK, body, type = 'application/json' } = {}) {
  const headers = { Authorization: 'Bearer ' + token };
  if (body) headers['Content-Type'] = type;
  const r = await fetch(BASE + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, body: await r.json().catch(() => null) };
}
async function waitMap(page) {
  await page.waitForFunction(() => window.mgMap && window.mgMap.loaded(), null, { timeout: 90000 });
  await page.waitForFunction(() => new Promise((res) => { const m = window.mgMap; if (!m.isMoving() && m.areTilesLoaded()) res(true); else m.once('idle', () => res(true)); }), null, { timeout: 60000 });
}
const shot = (page, vp, n, what) => page.screenshot({ path: join(OUT, `sup-${vp}-${n}-${what}.png`) });

assert(CLERK && FIELD, 'CLERK_TOKEN and FIELD_TOKEN are needed (a server with --tokens)');
// the server is up and its engines answer
for (let i = 0; i < 300; i++) {
  const r = await api(`/api/v1/nearby?lon=${DENSE[0]}&lat=${DENSE[1]}&radius=300&limit=50`).catch(() => ({ status: 0 }));
  if (r.status === 200) break;
  await sleep(1000);
}
const near = (await api(`/api/v1/nearby?lon=${DENSE[0]}&lat=${DENSE[1]}&radius=300&limit=50`)).body.features.map((f) => ({ ...f.properties, loc: f.geometry.coordinates }));
const ent = near.find((p) => p.grid_id);
assert(ent, 'no entity with a grid near the dense point');
const GRID = ent.grid_id;
// where the phone is: 20 m east of the entity
const PHONE = { longitude: Number((ent.loc[0] + 0.0002).toFixed(7)), latitude: Number(ent.loc[1].toFixed(7)) };
// the clerk gives the grid's inspector the login FIELD_NAME (inspector_id)
const patched = await api('/api/v1/zones/' + encodeURIComponent(GRID), { method: 'PATCH', type: 'application/merge-patch+json', body: { properties: { inspector_id: FIELD_NAME } } });
assert(patched.status === 200, `PATCH grid ${GRID}: ${patched.status} ${JSON.stringify(patched.body)}`);
const inbox0 = (await api('/api/v1/inbox', { token: FIELD })).body;
assert(inbox0 && inbox0.grids.includes(GRID), `the inbox of ${FIELD_NAME}: ${JSON.stringify(inbox0)}`);
log(`     grid ${GRID}, inspector ${inbox0.inspector} (grids ${inbox0.grids.join(',')}), entity ${ent.id}`);

const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
const errors = [], tokenInURL = [];
function watch(page) {
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push('console: ' + m.text()); });
  page.on('request', (r) => { if (r.url().includes(FIELD) || r.url().includes(CLERK)) tokenInURL.push(r.url()); });
}
// signIn loads the map and signs in with token through the panel's form.
async function signIn(page, token) {
  await page.goto(BASE + `/#map=15/${DENSE[1]}/${DENSE[0]}`);
  await page.waitForSelector('#field-signin:not([hidden]) #field-token', { timeout: 60000 });
  await page.fill('#field-token', token);
  await Promise.all([page.waitForEvent('load', { timeout: 60000 }), page.click('#field-signin button[type=submit]')]);
  await page.waitForSelector('#field-section[data-loaded]', { timeout: 60000 });
  await waitMap(page);
}

try {
  // ---------------------------------------------------------------- the phone
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    geolocation: PHONE, permissions: ['geolocation'] });
  const page = await phone.newPage();
  watch(page);
  let complaint = null, spot = null;

  await check('phone: sign in with the token (kept in sessionStorage, never in the URL); the inbox is the API\'s', async () => {
    await signIn(page, FIELD);
    const ui = await page.evaluate(() => ({ who: document.querySelector('#field-who [data-inspector]').textContent, stored: sessionStorage.getItem('marketgeo.token'), url: location.href,
      grids: [...document.querySelectorAll('#field-who [data-open]')].map((b) => b.dataset.open.slice(5)) }));
    assert(ui.stored === FIELD, 'the token is not in sessionStorage');
    assert(!ui.url.includes(FIELD), 'the token is in the URL');
    assert(ui.who === inbox0.inspector, `signed in as ${ui.who}, the API says ${inbox0.inspector}`);
    assert(JSON.stringify(ui.grids) === JSON.stringify(inbox0.grids), `grids ${ui.grids} vs ${inbox0.grids}`);
    await page.waitForSelector('#field-section[data-live="1"]', { timeout: 30000 });
    await shot(page, 'phone', '01', 'inbox');
  });

  await check('phone: my grid drawn on the map and shown', async () => {
    await page.waitForFunction((g) => document.getElementById('field-section').dataset.grids === g, inbox0.grids.join(','), { timeout: 30000 });
    await page.click('#field-grid');
    await waitMap(page);
    const zone = (await api('/api/v1/zones/' + encodeURIComponent(GRID))).body;
    const ring = zone.geometry.type === 'Polygon' ? zone.geometry.coordinates[0] : zone.geometry.coordinates[0][0];
    const c = [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
    const seen = await page.evaluate((c) => {
      const m = window.mgMap, b = m.getBounds();
      return { inView: b.contains(c), drawn: m.queryRenderedFeatures({ layers: ['my-grid-line'] }).map((f) => f.properties.id) };
    }, c);
    assert(seen.inView, `the grid's centre ${c} is not in the view`);
    assert(seen.drawn.includes(GRID), `my-grid-line draws ${seen.drawn}, not ${GRID}`);
    await shot(page, 'phone', '02', 'my-grid');
  });

  await check('phone: a complaint filed through the API arrives live in the inbox', async () => {
    const text = `浏览器测试：无照经营 ${Date.now()}`;
    const t0 = Date.now();
    const r = await api('/api/v1/complaints', { method: 'POST', body: { hotline: '12315', text, lon: ent.loc[0], lat: ent.loc[1], uscc: ent.id } });
    assert(r.status === 201, `POST complaint: ${r.status} ${JSON.stringify(r.body)}`);
    complaint = r.body;
    assert(complaint.grid === GRID && complaint.inspector === inbox0.inspector && complaint.status === 'assigned', `routed: ${JSON.stringify(complaint)}`);
    await page.waitForSelector(`#field-events li[data-id="${complaint.id}"]`, { timeout: 20000 });
    const pushed = Date.now() - t0;
    await page.waitForSelector(`#field-inbox li[data-id="${complaint.id}"]`, { timeout: 20000 });
    const ib = (await api('/api/v1/inbox', { token: FIELD })).body;
    const ui = await page.evaluate(() => [...document.querySelectorAll('#field-inbox ul[data-group="complaints"] > li')].map((li) => li.dataset.id + ':' + li.dataset.status));
    assert(JSON.stringify(ui) === JSON.stringify(ib.complaints.map((c) => c.id + ':' + c.status)), `inbox list ${ui} vs API ${ib.complaints.map((c) => c.id)}`);
    log(`     complaint ${complaint.id} pushed to the phone in ${pushed} ms`);
    await shot(page, 'phone', '03', 'complaint-arrived');
  });

  await check('phone: the complaint opens, and its entity\'s profile with records and risk reasons', async () => {
    assert(complaint, 'no complaint');
    await page.click(`#field-inbox li[data-id="${complaint.id}"]`);
    await page.waitForFunction((id) => document.getElementById('card').dataset.kind === 'complaint' && (document.getElementById('card-title') || {}).textContent === id, complaint.id, { timeout: 20000 });
    await page.click(`#card-body [data-open="entity:${ent.id}"]`);
    await page.waitForFunction((id) => document.getElementById('card').dataset.kind === 'entity' && document.querySelector('#card-body .risk') && document.querySelector('#card-body .records'), ent.id, { timeout: 30000 });
    const risk = (await api(`/api/v1/entities/${ent.id}/risk`)).body;
    const ui = await page.evaluate(() => ({ cls: document.querySelector('#card-body .risk').dataset.class, rules: [...document.querySelectorAll('#card-body .risk li[data-rule]')].map((l) => l.dataset.rule),
      title: document.getElementById('card-title').textContent, link: !!document.querySelector(`#card-body .field-checks [data-open^="complaint:"]`) }));
    assert(ui.title === ent.name, `entity card ${ui.title}, want ${ent.name}`);
    assert(ui.cls === risk.class, `risk class ${ui.cls}, API ${risk.class}`);
    assert(JSON.stringify(ui.rules) === JSON.stringify((risk.reasons || []).map((x) => x.rule)), `reasons ${ui.rules} vs ${(risk.reasons || []).map((x) => x.rule)}`);
    assert(ui.link, 'the entity card does not link its complaint');
    await shot(page, 'phone', '04', 'entity-profile');
  });

  await check('phone: record the complaint\'s check result with the current location; read back through the API', async () => {
    assert(complaint, 'no complaint');
    await page.click('#card-body .field-checks [data-open^="complaint:"]');
    await page.waitForSelector('#card-body form.check-form[data-target="complaint"]', { timeout: 20000 });
    await page.selectOption('#card-body form.check-form select[name=result]', { index: 1 });
    await page.fill('#card-body form.check-form textarea', '现场核查：无营业执照，已责令停止经营');
    await shot(page, 'phone', '05', 'check-form');
    await page.click('#card-body form.check-form button[type=submit]');
    await page.waitForSelector('#card-body form.check-form[data-done="1"]', { timeout: 30000 });
    const c = (await api('/api/v1/complaints/' + complaint.id)).body;
    const last = c.log[c.log.length - 1];
    assert(c.status === 'handled' && last.status === 'handled', `status ${c.status}`);
    assert(last.by === FIELD_NAME, `recorded by ${last.by}, want ${FIELD_NAME}`);
    assert(last.note === '发现问题，责令整改：现场核查：无营业执照，已责令停止经营', `note ${last.note}`);
    assert(last.location && Math.abs(last.location[0] - PHONE.longitude) < 1e-6 && Math.abs(last.location[1] - PHONE.latitude) < 1e-6, `location ${last.location}, phone at ${PHONE.longitude},${PHONE.latitude}`);
    await page.waitForSelector(`#field-inbox li[data-id="${complaint.id}"][data-status="handled"]`, { timeout: 20000 });
    await shot(page, 'phone', '06', 'check-recorded');
  });

  await check('phone: a spot check\'s entity checked from the phone; the result read back through the API', async () => {
    const r = await api('/api/v1/spotchecks', { method: 'POST', body: { title: '浏览器测试抽查', items: ['营业执照公示检查'], filter: { zone: GRID }, sample: 1, seed: 20261207,
      inspectors_per_entity: 1, inspectors: [{ name: inbox0.inspector }] } });
    assert(r.status === 201, `POST spot check: ${r.status} ${JSON.stringify(r.body)}`);
    spot = r.body;
    const eid = spot.entities[0].entity_id;
    await page.waitForSelector(`#field-inbox li[data-spot="${spot.id}"] [data-open="entity:${eid}"]`, { timeout: 20000 });
    await page.click(`#field-inbox li[data-spot="${spot.id}"] [data-open="entity:${eid}"]`);
    await page.waitForSelector('#card-body form.check-form[data-target="spotcheck"]', { timeout: 30000 });
    await page.fill('#card-body form.check-form[data-target="spotcheck"] textarea', '公示信息与实际一致');
    await page.click('#card-body form.check-form[data-target="spotcheck"] button[type=submit]');
    await page.waitForSelector('#card-body form.check-form[data-target="spotcheck"][data-done="1"]', { timeout: 30000 });
    const s = (await api('/api/v1/spotchecks/' + spot.id)).body;
    const res = (s.results || {})[eid];
    assert(res && res.result === '未发现问题' && res.notes === '公示信息与实际一致' && res.by === inbox0.inspector, `result ${JSON.stringify(res)}`);
    assert(res.location && Math.abs(res.location[0] - PHONE.longitude) < 1e-6 && Math.abs(res.location[1] - PHONE.latitude) < 1e-6, `location ${res.location}`);
    const recs = (await api(`/api/v1/entities/${eid}/records`)).body;
    const list = recs.records || recs.features || [];
    assert(JSON.stringify(list).includes(res.record), `the inspection record ${res.record} is not among the entity's records`);
  });

  await check('phone: the radius tool around the phone\'s position equals the API\'s nearby', async () => {
    await page.click('#card-close').catch(() => {});
    await page.click('#field-near');
    await page.waitForFunction(() => /共 \d+ 个市场主体/.test(document.getElementById('radius-status').textContent), null, { timeout: 30000 });
    const n = Number((await page.textContent('#radius-status')).match(/共 (\d+) 个市场主体/)[1]);
    const want = (await api(`/api/v1/nearby?lon=${PHONE.longitude}&lat=${PHONE.latitude}&radius=500&limit=1&crs=wgs84`)).body.total;
    assert(n === want, `radius tool says ${n}, the API ${want}`);
    await waitMap(page);
    await shot(page, 'phone', '07', 'radius');
  });
  await phone.close();

  // ------------------------------------------------------------ the console
  const desk = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const dp = await desk.newPage();
  watch(dp);
  // an incident and a task to list beside the complaint and the spot check
  const inc = await api('/api/v1/incidents', { method: 'POST', body: { kind: 'fire', title: '浏览器测试火情', lon: ent.loc[0], lat: ent.loc[1], radius: 300 } });
  const task = await api('/api/v1/tasks', { method: 'POST', body: { title: '浏览器测试专项检查', target: { zone: GRID }, deadline: '2027-01-31' } });

  await check('console: complaints, tasks, spot checks and incidents listed as the API lists them, with their state', async () => {
    assert(inc.status === 201 && task.status === 201, `POST incident ${inc.status}, task ${task.status}`);
    await signIn(dp, CLERK);
    await dp.click('#console-section summary');
    const tabs = {
      complaints: ['/api/v1/complaints?limit=200', 'complaints', (c) => `${c.id}|${c.status}`, (li) => `${li.dataset.id}|${li.dataset.status}`],
      tasks: ['/api/v1/tasks', 'tasks', (t) => `${t.id}|${t.done}/${t.total}`, (li) => `${li.dataset.id}|${li.dataset.done}/${li.dataset.total}`],
      spotchecks: ['/api/v1/spotchecks', 'spotchecks', (s) => `${s.id}|${s.done}/${s.sample}`, (li) => `${li.dataset.id}|${li.dataset.done}/${li.dataset.total}`],
      incidents: ['/api/v1/incidents?limit=200', 'incidents', (i) => `${i.id}|${i.entities.total}`, (li) => `${li.dataset.id}|${li.dataset.entities}`],
    };
    for (const [k, [path, key, fromAPI, fromLI]] of Object.entries(tabs)) {
      await dp.click(`#console-section [data-tab="${k}"]`);
      await dp.waitForFunction((k) => document.getElementById('console-section').dataset.tab === k, k, { timeout: 20000 });
      const ui = await dp.evaluate((src) => [...document.querySelectorAll('#console-list > li')].map(eval(src)), fromLI.toString()); // eslint-disable-line no-eval
      const want = ((await api(path)).body[key] || []).map(fromAPI);
      assert(want.length > 0, `${k}: the API lists none`);
      assert(JSON.stringify(ui) === JSON.stringify(want), `${k}: the console lists\n${ui.join('\n')}\nthe API\n${want.join('\n')}`);
      log(`     ${k}: ${ui.length} listed`);
    }
    await shot(dp, 'desktop', '01', 'console');
  });

  await check('console: the incident view draws the affected area and lists the nearest resources', async () => {
    const want = (await api('/api/v1/incidents/' + inc.body.id)).body;
    await dp.click(`#console-list li[data-id="${inc.body.id}"]`);
    await dp.waitForFunction((id) => document.getElementById('card').dataset.kind === 'incident' && (document.getElementById('card-title') || {}).textContent, inc.body.id, { timeout: 20000 });
    await waitMap(dp);
    const ui = await dp.evaluate(([c]) => {
      const m = window.mgMap, p = m.project(c);
      return { entities: document.querySelector('#card-body [data-entities]').textContent.replace(/,/g, ''), resources: [...document.querySelectorAll('#card-body [data-resource]')].map((l) => l.dataset.resource),
        areaAtCentre: m.queryRenderedFeatures([p.x, p.y], { layers: ['incident-fill'] }).length, outline: m.queryRenderedFeatures({ layers: ['incident-line'] }).length,
        edge: (() => { const q = m.project([c[0] + 300 / (111320 * Math.cos(c[1] * Math.PI / 180)) * 1.3, c[1]]); return m.queryRenderedFeatures([q.x, q.y], { layers: ['incident-fill'] }).length; })() };
    }, [want.center]);
    assert(Number(ui.entities) === want.entities.total, `card: ${ui.entities} entities, API ${want.entities.total}`);
    assert(JSON.stringify(ui.resources) === JSON.stringify(want.resources.map((r) => r.id)), `resources ${ui.resources} vs ${want.resources.map((r) => r.id)}`);
    assert(ui.areaAtCentre > 0 && ui.outline > 0, `the area is not drawn (${JSON.stringify(ui)})`);
    assert(ui.edge === 0, 'the drawn area reaches past its radius');
    await shot(dp, 'desktop', '02', 'incident');
  });
  await desk.close();

  await check('no page errors; no token in any URL', async () => {
    assert(errors.length === 0, errors.join('\n'));
    assert(tokenInURL.length === 0, 'token in URL: ' + tokenInURL.join('\n'));
  });
} finally {
  await browser.close();
}
log(`screenshots in ${OUT}`);
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
