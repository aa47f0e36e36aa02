// Copies the pinned MapLibre GL JS build from node_modules into
// static/vendor/maplibre-gl/, where the Go package embeds it. Run after
// `npm ci` when package.json's maplibre-gl version changes, and commit the
// result (the server must work offline and from a fresh clone).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'node_modules', 'maplibre-gl');
const dst = join(root, 'static', 'vendor', 'maplibre-gl');
mkdirSync(dst, { recursive: true });
for (const f of ['dist/maplibre-gl.js', 'dist/maplibre-gl.css', 'LICENSE.txt']) {
  copyFileSync(join(src, f), join(dst, f.replace('dist/', '')));
}
const version = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')).version;
writeFileSync(join(dst, 'VERSION'), version + '\n');
console.log(`vendored maplibre-gl ${version} into ${dst}`);
