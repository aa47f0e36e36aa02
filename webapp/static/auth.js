// Sign-in of the web map on a server with tokens (issue 19, item 6): the
// token is kept in sessionStorage (this tab only, gone when it closes) and
// never in the URL; it is sent as "Authorization: Bearer …" with the
// page's own requests to its origin (fetch, and the map's tiles through
// MapLibre's transformRequest, app.js's hook). Loaded before app.js.
(function () {
  'use strict';
  const KEY = 'marketgeo.token';
  const origin = window.location.origin;
  const get = () => { try { return window.sessionStorage.getItem(KEY) || ''; } catch (_) { return ''; } };
  const sameOrigin = (u) => { try { return new URL(u, window.location.href).origin === origin; } catch (_) { return false; } };
  const raw = window.fetch.bind(window);
  // fetch with the token on requests to the page's origin (unless the
  // caller set its own Authorization)
  window.fetch = function (input, init) {
    const t = get();
    const url = typeof input === 'string' ? input : input && input.url;
    if (!t || !sameOrigin(url)) return raw(input, init);
    const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
    if (!headers.has('Authorization')) headers.set('Authorization', 'Bearer ' + t);
    return raw(input, { ...(init || {}), headers });
  };
  window.mgAuth = {
    token: get,
    // set keeps t for this tab ('' signs out)
    set(t) {
      try {
        if (t) window.sessionStorage.setItem(KEY, t); else window.sessionStorage.removeItem(KEY);
      } catch (_) { /* storage refused: the token lives as long as the page */ }
    },
    // transformRequest is MapLibre's hook: the tiles and TileJSON of the
    // page's origin carry the token
    transformRequest(url) {
      const t = get();
      return t && sameOrigin(url) ? { url, headers: { Authorization: 'Bearer ' + t } } : { url };
    },
  };
})();
