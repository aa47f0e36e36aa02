// Chinese map-app coordinate systems (GCJ-02, BD-09) to WGS-84, for
// placing a pasted coordinate on the WGS-84 map. The server does the same
// conversion (geo/crs) for the queries: this is only for display.
(function (global) {
  'use strict';
  const PI = Math.PI, A = 6378245.0, EE = 0.00669342162296594323, XPI = PI * 3000.0 / 180.0;
  function tLat(x, y) {
    let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }
  function wgsToGcj(lon, lat) {
    let dLat = tLat(lon - 105.0, lat - 35.0), dLon = tLon(lon - 105.0, lat - 35.0);
    const rad = lat / 180.0 * PI;
    let m = Math.sin(rad); m = 1 - EE * m * m;
    const sm = Math.sqrt(m);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (m * sm) * PI);
    dLon = (dLon * 180.0) / (A / sm * Math.cos(rad) * PI);
    return [lon + dLon, lat + dLat];
  }
  function gcjToWgs(lon, lat) {
    let w = [lon, lat];
    for (let i = 0; i < 30; i++) {
      const g = wgsToGcj(w[0], w[1]);
      const dx = g[0] - lon, dy = g[1] - lat;
      w = [w[0] - dx, w[1] - dy];
      if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
    }
    return w;
  }
  function bdToGcj(lon, lat) {
    const x = lon - 0.0065, y = lat - 0.006;
    const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * XPI);
    const t = Math.atan2(y, x) - 0.000003 * Math.cos(x * XPI);
    return [z * Math.cos(t), z * Math.sin(t)];
  }
  global.mgCRS = {
    toWGS84(crs, lon, lat) {
      if (crs === 'gcj02') return gcjToWgs(lon, lat);
      if (crs === 'bd09') { const g = bdToGcj(lon, lat); return gcjToWgs(g[0], g[1]); }
      return [lon, lat];
    },
  };
})(window);
