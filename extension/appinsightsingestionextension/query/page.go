// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"embed"
	"net/http"
)

//go:embed page/index.html page/page.js page/page.css
var pageFiles embed.FS

// Page serves the query page (page/): a query box with the seed's queries,
// the result as a table and a chart, and the runs of the store. Its
// assets are in the binary; it fetches nothing from elsewhere, and runs
// no script but its own (Content-Security-Policy).
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if CrossSite(r) {
			http.Error(w, "cross-site requests are refused", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "GET", http.StatusMethodNotAllowed)
			return
		}
		name, ok := pageAssets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, err := pageFiles.ReadFile("page/" + name[0])
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Type", name[1])
		_, _ = w.Write(body)
	})
}

// pageAssets are the page's paths: file and content type.
var pageAssets = map[string][2]string{
	"/":         {"index.html", "text/html; charset=utf-8"},
	"/page.js":  {"page.js", "text/javascript; charset=utf-8"},
	"/page.css": {"page.css", "text/css; charset=utf-8"},
}

// IsPagePath reports whether a request is for the page.
func IsPagePath(path string) bool {
	_, ok := pageAssets[path]
	return ok
}
