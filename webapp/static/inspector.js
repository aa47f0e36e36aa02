// The inspector's phone (issue 19, item 6): field work on the web map.
// The inspector signs in with their token (auth.js keeps it in
// sessionStorage, never in the URL); then the panel shows their inbox
// (GET /api/v1/inbox: complaints, task parts, spot checks, incidents) kept
// live by the SSE stream (GET /api/v1/inbox/stream, read with fetch so
// that the token goes in a header), their grids on the map, and each
// item opens a card: a complaint with its log, an entity's profile (the
// app's card with records.js and risk.js sections) and "record a check
// result" with the phone's current location (navigator.geolocation,
// WGS-84). "我的位置周边" runs the radius tool around the inspector.
// Only where the server's OpenAPI document lists the inbox (never on the
// public profile).
(function () {
  'use strict';
  const app = window.mgApp, auth = window.mgAuth;
  if (!app || !app.card || !auth) return;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  // One table per rule: statuses, hotlines, result choices, event kinds.
  const STATUS = { new: '新登记', assigned: '已派发', handled: '已处理', replied: '已答复' };
  const HOTLINE = { 12315: '12315 市场监管', 12365: '12365 质量监督', 12331: '12331 食品药品', 12358: '12358 价格' };
  const RESULTS = ['未发现问题', '发现问题，责令整改', '发现问题，立案查处', '无法核查（未找到主体）'];
  const EVENT = { complaint: '投诉', task: '任务', spotcheck: '抽查', incident: '突发事件' };
  const field = { inbox: null, events: [], grids: [], connected: false };
  window.mgField = field; // for the browser test and debugging

  // ---- the panel section --------------------------------------------------
  const sec = document.createElement('section');
  sec.id = 'field-section';
  sec.hidden = true;
  sec.setAttribute('aria-labelledby', 'field-h');
  sec.innerHTML = `<h2 id="field-h">外勤 · 我的待办</h2>
    <form id="field-signin" autocomplete="off">
      <label for="field-token" class="sr-only">登录令牌</label>
      <input id="field-token" type="password" placeholder="登录令牌（仅保存在本标签页）" autocomplete="off">
      <button type="submit">登录</button>
    </form>
    <div id="field-who" class="status" hidden></div>
    <div id="field-actions" class="row" hidden>
      <button id="field-grid" type="button">我的网格</button>
      <button id="field-near" type="button">我的位置周边</button>
      <button id="field-signout" type="button" class="link">退出</button>
    </div>
    <div id="field-live" class="status" aria-live="polite"></div>
    <ul id="field-events" class="results"></ul>
    <div id="field-inbox"></div>`;
  $('panel-body').prepend(sec);
  const status = (el, msg, err) => { el.className = 'status' + (err ? ' error' : ''); el.textContent = msg; };

  // here is the phone's current position, [lon, lat] WGS-84 (the
  // Geolocation API's datum), or null when refused or unavailable.
  function here() {
    return new Promise((res) => {
      if (!navigator.geolocation) { res(null); return; }
      navigator.geolocation.getCurrentPosition((p) => res([Number(p.coords.longitude.toFixed(7)), Number(p.coords.latitude.toFixed(7))]),
        () => res(null), { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
    });
  }

  // ---- sign-in ---------------------------------------------------------------
  $('field-signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = $('field-token').value.trim();
    const out = $('field-live');
    if (!t) { status(out, '请输入登录令牌', true); return; }
    status(out, '登录中…');
    let r;
    try { r = await fetch('/api/v1/inbox', { headers: { Authorization: 'Bearer ' + t } }); } catch (_) { status(out, '无法连接服务器', true); return; }
    if (!r.ok) {
      const j = await r.json().catch(() => ({}));
      status(out, (r.status === 401 ? '令牌无效' : r.status === 400 ? '此服务器未启用令牌，不能以网格员身份登录' : '登录失败') + (j.error ? `（${j.error}）` : ''), true);
      return;
    }
    $('field-token').value = '';
    auth.set(t);
    window.location.reload(); // the map and every request start again with the token
  });
  $('field-signout').addEventListener('click', () => { auth.set(''); window.location.reload(); });

  // ---- the inbox ---------------------------------------------------------------
  async function loadInbox() {
    let ib;
    try {
      ib = await app.api('/api/v1/inbox');
    } catch (e) {
      status($('field-live'), '待办加载失败：' + e.message, true);
      if (e.status === 401) { $('field-signin').hidden = false; }
      return;
    }
    field.inbox = ib;
    $('field-signin').hidden = true;
    $('field-who').hidden = false;
    $('field-actions').hidden = false;
    document.body.classList.add('field-mode');
    $('field-who').innerHTML = `网格员 <b data-inspector>${esc(ib.inspector)}</b> · 网格 ${ib.grids.map((g) => `<button type="button" class="link" data-open="grid:${esc(g)}">${esc(g)}</button>`).join('、') || '无'}`;
    const cs = ib.complaints || [], ts = ib.tasks || [], ss = ib.spotchecks || [], is = ib.incidents || [];
    const group = (kind, title, n, items) => `<div class="group-title" data-group="${kind}">${title}（<span data-count>${n}</span>）</div>` +
      (items.length ? `<ul class="results" data-group="${kind}">${items.join('')}</ul>` : '<div class="meta">暂无</div>');
    $('field-inbox').innerHTML =
      group('complaints', '投诉举报', cs.length, cs.map((c) => `<li tabindex="0" role="button" data-open="complaint:${esc(c.id)}" data-id="${esc(c.id)}" data-status="${esc(c.status)}">
        <span class="tag st-${esc(c.status)}">${esc(STATUS[c.status] || c.status)}</span> ${esc(c.text)}
        <div class="meta">${esc(HOTLINE[c.hotline] || c.hotline)} · ${esc(c.entity_name || c.address || '')} · ${esc(c.id)}</div></li>`)) +
      group('tasks', '专项任务', ts.length, ts.map((t) => `<li data-task="${esc(t.id)}"><b>${esc(t.title)}</b> <span class="meta">${t.done}/${t.total} · 截止 ${esc(t.deadline)}${t.overdue ? ' · <span class="error">已逾期</span>' : ''}</span>
        <ul class="sub">${(t.pending || []).slice(0, 20).map((id) => `<li tabindex="0" role="button" data-open="entity:${esc(id)}">${esc(id)}</li>`).join('')}</ul></li>`)) +
      group('spotchecks', '双随机抽查', ss.length, ss.map((s) => `<li data-spot="${esc(s.id)}"><b>${esc(s.title || (s.items || []).join('、'))}</b> <span class="meta">已查 ${s.done} · ${esc(s.id)}</span>
        <ul class="sub">${(s.pending || []).slice(0, 20).map((id) => `<li tabindex="0" role="button" data-open="entity:${esc(id)}">${esc(id)}</li>`).join('')}</ul></li>`)) +
      group('incidents', '突发事件', is.length, is.map((i) => `<li tabindex="0" role="button" data-incident="${esc(i.id)}"><b>${esc(i.title || i.kind)}</b> <span class="meta">${i.entities} 个主体 · ${esc(i.id)}</span></li>`));
    if (JSON.stringify(ib.grids) !== JSON.stringify(field.grids)) { field.grids = ib.grids.slice(); drawGrids(); }
    sec.dataset.loaded = String(Date.now());
  }
  let reloadTimer = 0;
  const reloadSoon = () => { clearTimeout(reloadTimer); reloadTimer = setTimeout(loadInbox, 150); };
  function openItem(el) {
    if (el.dataset.open) { const [k, ...rest] = el.dataset.open.split(':'); app.openCard(k, rest.join(':')); return; }
    if (el.dataset.incident && window.mgConsole) window.mgConsole.showIncident(el.dataset.incident);
  }
  for (const id of ['field-inbox', 'field-events', 'field-who']) {
    $(id).addEventListener('click', (ev) => { const el = ev.target.closest('[data-open], [data-incident]'); if (el) openItem(el); });
    $(id).addEventListener('keydown', (ev) => {
      const el = ev.target.closest('[data-open], [data-incident]');
      if (el && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); openItem(el); }
    });
  }

  // ---- live: the SSE stream, read with fetch (the token goes in a header) ------
  function onEvent(ev) {
    field.events.push(ev);
    const open = ev.kind === 'complaint' ? `data-open="complaint:${esc(ev.id)}"` : ev.kind === 'incident' ? `data-incident="${esc(ev.id)}"` : '';
    $('field-events').insertAdjacentHTML('afterbegin', `<li tabindex="0" role="button" class="event" data-kind="${esc(ev.kind)}" data-id="${esc(ev.id)}" ${open}>
      <span class="tag new">新${esc(EVENT[ev.kind] || ev.kind)}</span> ${esc(ev.summary)}</li>`);
    while ($('field-events').children.length > 5) $('field-events').lastElementChild.remove();
    reloadSoon();
  }
  async function stream() {
    let last = '';
    for (let tries = 0; ; tries++) {
      try {
        const r = await fetch('/api/v1/inbox/stream', { headers: last ? { 'Last-Event-ID': last } : {}, cache: 'no-store' });
        if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
        field.connected = true;
        sec.dataset.live = '1';
        status($('field-live'), '实时推送已连接');
        if (tries > 0) reloadSoon(); // what came while away
        const rd = r.body.getReader(), dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await rd.read();
          if (done) break;
          buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const f = {};
            for (const line of block.split('\n')) {
              const m = line.match(/^([a-z]+): ?(.*)$/i);
              if (m) f[m[1]] = f[m[1]] != null ? f[m[1]] + '\n' + m[2] : m[2];
            }
            if (f.id) last = f.id;
            if (f.data && f.event !== 'overflow') { try { onEvent(JSON.parse(f.data)); } catch (_) { /* not an event */ } }
          }
        }
      } catch (_) { /* reconnect below */ }
      field.connected = false;
      sec.dataset.live = '0';
      status($('field-live'), '实时推送已断开，正在重连…', true);
      await sleep(Math.min(30000, 2000 * (tries + 1)));
    }
  }

  // ---- my grids on the map -----------------------------------------------------
  let gridBounds = null;
  async function drawGrids() {
    await app.mapLoad;
    const map = window.mgMap;
    const feats = [];
    for (const g of field.grids) {
      try {
        const f = await app.api('/api/v1/zones/' + encodeURIComponent(g));
        if (f && f.geometry) feats.push({ type: 'Feature', geometry: f.geometry, properties: { id: g } });
      } catch (_) { /* a grid gone since: skip */ }
    }
    const data = { type: 'FeatureCollection', features: feats };
    if (map.getSource('my-grid')) map.getSource('my-grid').setData(data);
    else {
      map.addSource('my-grid', { type: 'geojson', data });
      map.addLayer({ id: 'my-grid-fill', type: 'fill', source: 'my-grid', paint: { 'fill-color': '#1565c0', 'fill-opacity': 0.08 } });
      map.addLayer({ id: 'my-grid-line', type: 'line', source: 'my-grid', paint: { 'line-color': '#1565c0', 'line-width': 3 } });
    }
    gridBounds = null;
    const walk = (c) => { if (typeof c[0] === 'number') { gridBounds = gridBounds ? [Math.min(gridBounds[0], c[0]), Math.min(gridBounds[1], c[1]), Math.max(gridBounds[2], c[0]), Math.max(gridBounds[3], c[1])] : [c[0], c[1], c[0], c[1]]; } else c.forEach(walk); };
    feats.forEach((f) => walk(f.geometry.coordinates));
    field.gridFeatures = feats.map((f) => f.properties.id);
    sec.dataset.grids = field.gridFeatures.join(',');
  }
  function showGrids() {
    if (!gridBounds) return;
    const map = window.mgMap;
    const narrow = window.innerWidth <= 640;
    const pr = $('panel').getBoundingClientRect();
    map.fitBounds([[gridBounds[0], gridBounds[1]], [gridBounds[2], gridBounds[3]]], { padding: narrow ? { top: 30, left: 30, right: 50, bottom: window.innerHeight - pr.top + 20 } : { top: 40, bottom: 40, right: 60, left: pr.right + 30 }, duration: 0, maxZoom: 17 });
  }
  $('field-grid').addEventListener('click', showGrids);
  $('field-near').addEventListener('click', async () => {
    status($('field-live'), '正在获取当前位置…');
    const p = await here();
    if (!p) { status($('field-live'), '无法获取当前位置（请允许定位）', true); return; }
    status($('field-live'), field.connected ? '实时推送已连接' : '');
    app.radiusQuery(p[0], p[1], 'wgs84', 500, '我的位置');
  });

  // ---- record a check result -------------------------------------------------
  // form is the result form of one target (a complaint, a task's or a spot
  // check's entity).
  const form = (target, id, entity) => `<form class="check-form" data-target="${target}" data-id="${esc(id)}" data-entity="${esc(entity || '')}">
    <label>检查结果 <select name="result">${RESULTS.map((r) => `<option>${esc(r)}</option>`).join('')}</select></label>
    <label class="sr-only" for="notes-${target}-${esc(id)}">备注</label>
    <textarea id="notes-${target}-${esc(id)}" name="notes" rows="2" maxlength="500" placeholder="备注（可选）"></textarea>
    <button type="submit">记录检查结果（含当前位置）</button>
    <div class="status check-status" aria-live="polite"></div></form>`;
  $('card-body').addEventListener('submit', async (ev) => {
    const f = ev.target.closest('form.check-form');
    if (!f) return;
    ev.preventDefault();
    const out = f.querySelector('.check-status'), btn = f.querySelector('button');
    const result = f.result.value, notes = f.notes.value.trim();
    btn.disabled = true;
    status(out, '正在获取当前位置…');
    const location = await here();
    status(out, '提交中…');
    const id = encodeURIComponent(f.dataset.id);
    const post = (path, body) => app.api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    try {
      if (f.dataset.target === 'complaint') {
        await post(`/api/v1/complaints/${id}/status`, { status: 'handled', note: notes ? `${result}：${notes}` : result, ...(location ? { location } : {}) });
      } else {
        const path = f.dataset.target === 'task' ? `/api/v1/tasks/${id}/done` : `/api/v1/spotchecks/${id}/results`;
        await post(path, { entity_id: f.dataset.entity, result, notes, ...(location ? { location } : {}) });
      }
      f.dataset.done = '1';
      status(out, '已记录' + (location ? `（位置 WGS-84 ${location[0].toFixed(6)}, ${location[1].toFixed(6)}）` : '（未能获取位置）'));
      f.querySelectorAll('select, textarea, button').forEach((el) => { el.disabled = true; });
      reloadSoon();
    } catch (e) {
      btn.disabled = false;
      status(out, '记录失败：' + e.message, true);
    }
  });

  // ---- cards: a complaint; an entity's pending checks ------------------------
  app.card.addSection('complaint', async ({ id }) => {
    const c = await app.api('/api/v1/complaints/' + encodeURIComponent(id));
    const row = (dt, dd) => `<dt>${dt}</dt><dd>${dd}</dd>`;
    const mine = field.inbox && c.inspector === field.inbox.inspector;
    return `<div class="kind">投诉举报 · ${esc(HOTLINE[c.hotline] || c.hotline)}</div><h3 id="card-title">${esc(c.id)}</h3><dl>
      ${row('诉求', esc(c.text))}
      ${row('状态', `<span class="tag st-${esc(c.status)}" data-status="${esc(c.status)}">${esc(STATUS[c.status] || c.status)}</span>`)}
      ${c.address ? row('地址', esc(c.address)) : ''}
      ${c.entity ? row('涉及主体', `<button type="button" class="link" data-open="entity:${esc(c.entity)}">${esc(c.entity_name || c.entity)}</button>`) : ''}
      ${c.grid ? row('网格', `<button type="button" class="link" data-open="grid:${esc(c.grid)}">${esc(c.grid)}</button>`) : ''}
      ${row('分派', esc(c.inspector || c.routing))}
      ${c.duplicate_of ? row('重复投诉', `<button type="button" class="link" data-open="complaint:${esc(c.duplicate_of)}">${esc(c.duplicate_of)}</button>`) : ''}
    </dl>
    <ol class="log">${(c.log || []).map((s) => `<li>${esc(STATUS[s.status] || s.status)} <span class="meta">${esc(String(s.at || '').replace('T', ' ').replace('Z', ''))} ${esc(s.by)}${s.note ? ' · ' + esc(s.note) : ''}${s.location ? ` · 位置 ${s.location.map((v) => v.toFixed(5)).join(', ')}` : ''}</span></li>`).join('')}</ol>
    ${c.location ? `<div class="actions"><button type="button" data-act="around" data-m="200" data-lon="${c.location[0]}" data-lat="${c.location[1]}" data-name="投诉地点">投诉地点周边 200 米</button></div>` : ''}
    ${mine && c.status === 'assigned' ? `<h4>处理结果</h4>${form('complaint', c.id)}` : ''}`;
  });
  app.card.addSection('entity', async ({ id }) => {
    const ib = field.inbox;
    if (!ib) return '';
    const parts = [];
    for (const t of ib.tasks || []) if ((t.pending || []).includes(id)) parts.push(`<div class="meta">专项任务：${esc(t.title)}（截止 ${esc(t.deadline)}）</div>${form('task', t.id, id)}`);
    for (const s of ib.spotchecks || []) if ((s.pending || []).includes(id)) parts.push(`<div class="meta">双随机抽查：${esc(s.title || (s.items || []).join('、'))}</div>${form('spotcheck', s.id, id)}`);
    const cs = (ib.complaints || []).filter((c) => c.entity === id);
    if (!parts.length && !cs.length) return '';
    return `<div class="field-checks"><h4>外勤核查</h4>${cs.map((c) => `<div><button type="button" class="link" data-open="complaint:${esc(c.id)}">投诉 ${esc(c.id)}（${esc(STATUS[c.status] || c.status)}）</button></div>`).join('')}${parts.join('')}</div>`;
  });

  // ---- start -------------------------------------------------------------------
  app.ready.then(async () => {
    if (!app.can('GET', '/api/v1/inbox')) return; // the public profile: no field work
    if (!auth.token()) {
      // sign-in only where the server has tokens: its OpenAPI document
      // answers 401 without one, or says so (x-tokens)
      const r = await fetch('/api/v1/openapi.json').catch(() => null);
      const doc = r && r.ok ? await r.json().catch(() => ({})) : {};
      if (!r || (r.ok && !doc['x-tokens'])) return;
      sec.hidden = false;
      $('field-signin').hidden = false;
      return;
    }
    sec.hidden = false;
    loadInbox().then(() => { if (field.inbox) stream(); });
  });
})();
