// Package webapp embeds the regulator's web app, the map a clerk or an
// inspector opens in a browser: a single page built on MapLibre GL JS
// (pinned in package.json and vendored into static/vendor/maplibre-gl by
// `npm run vendor`) that draws the tiles of package tiles and calls the
// server's search, nearby and address-check endpoints. No file is fetched
// from the internet. Its browser test is test/browser.test.mjs
// (docs/webmap.md, .ci/steps/20-webmap.sh).
//
// Serve it with the server:
//
//	h, _ := server.New(server.Deps{Index: idx, Tiles: tr, WebMap: webapp.Files()}, server.Options{})
package webapp

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the web app's files with index.html at the root. The
// returned file system is read-only and safe for concurrent use.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil { // cannot happen: "static" is a valid embedded directory
		return static
	}
	return sub
}
