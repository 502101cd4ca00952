package people

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/tidy"
)

// The review page's layout is fixed (rows of RowHeight px under a header
// of HeaderHeight px), so a test can find what it drew in a screenshot.
const (
	HeaderHeight = 48
	RowHeight    = 104
	ThumbLeft    = 16  // x of the first thumbnail
	Thumb        = 96  // thumbnail side
	BarLeft      = 462 // x of the timeline bar
	BarWidth     = 280
	BarHeight    = 24
)

// Colours of the timeline segments.
const (
	KnownColour   = "#1f77b4"
	UnknownColour = "#d62728"
)

type pageRow struct {
	Name     string
	Known    bool
	Seconds  float64
	Duration float64
	Thumbs   []template.URL
	Segments []pageSeg
}

type pageSeg struct {
	Start, End  float64
	Left, Width float64 // percent of the bar
}

// thumbsOf is up to n of a person's best crops in v, as data URIs.
func thumbsOf(v *video, name string, n int) []template.URL {
	var ts []Track
	for _, t := range v.f.Tracks {
		if t.Crop != "" && trackName(t) == name {
			ts = append(ts, t)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Quality > ts[j].Quality })
	var out []template.URL
	for _, t := range ts {
		if len(out) == n {
			break
		}
		b, err := os.ReadFile(v.at(t.Crop))
		if err != nil {
			continue
		}
		out = append(out, template.URL("data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(b)))
	}
	return out
}

// trackName is who a track is, for its crop: its cluster when it was a
// stranger, else its label.
func trackName(t Track) string {
	if t.Unknown && t.Cluster > 0 {
		return ClusterName(t.Cluster)
	}
	if !t.Unknown {
		return t.Label
	}
	return gallery.Unknown // never described: in no cluster
}

func videoPage(v *video) ([]byte, error) {
	dur := 0.0
	if v.f.FrameRate > 0 {
		dur = float64(v.f.Frames) / v.f.FrameRate
	}
	// Strangers never described (in no cluster) get the last row, so the
	// page shows everyone who was on screen.
	names := make([]string, 0, len(v.all))
	for n := range v.all {
		names = append(names, n)
	}
	orderNames(names, v.all)
	var rows []pageRow
	for _, n := range names {
		p := v.all[n]
		r := pageRow{Name: n, Known: p.Cluster == 0 && n != gallery.Unknown, Seconds: p.Seconds, Thumbs: thumbsOf(v, n, 3)}
		if n == gallery.Unknown {
			r.Name = "Unknown, no group (never described)"
		}
		for _, rg := range p.Ranges {
			s := pageSeg{Start: rg[0], End: rg[1]}
			if dur > 0 {
				s.Left, s.Width = tidy.Round(100*rg[0]/dur, 3), tidy.Round(100*(rg[1]-rg[0])/dur, 3)
			}
			r.Segments = append(r.Segments, s)
		}
		rows = append(rows, r)
	}
	type cue struct {
		Start, End float64
		Name       string
	}
	var cues []cue
	for _, n := range names {
		for _, rg := range v.all[n].Ranges {
			cues = append(cues, cue{rg[0], rg[1], n})
		}
	}
	title := v.f.Name
	if title == "" {
		title = filepath.Base(v.f.Input)
	}
	data := map[string]any{"Title": title, "Video": v.f.Video, "Rows": rows, "Cues": cues, "Duration": tidy.Round(dur, 3),
		"Header": HeaderHeight, "Row": RowHeight, "ThumbLeft": ThumbLeft, "Thumb": Thumb, "BarLeft": BarLeft, "BarWidth": BarWidth,
		"BarHeight": BarHeight, "KnownColour": template.CSS(KnownColour), "UnknownColour": template.CSS(UnknownColour)}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}: people</title>
<style>
body{margin:0;font:14px/1.3 sans-serif;background:#fafafa;color:#222}
header{height:{{.Header}}px;line-height:{{.Header}}px;padding:0 16px;font-weight:bold;font-size:16px;box-sizing:border-box;white-space:nowrap;overflow:hidden}
main{display:flex;align-items:flex-start}
#people{width:760px;flex:none}
.row{height:{{.Row}}px;display:flex;align-items:center;padding:0 0 0 {{.ThumbLeft}}px;box-sizing:border-box;border-bottom:1px solid #ddd}
.thumbs{width:{{.BarLeft}}px;flex:none;display:flex;align-items:center}
.thumbs .pics{width:296px;flex:none;display:flex;gap:4px}
.thumbs img{width:{{.Thumb}}px;height:{{.Thumb}}px;object-fit:cover;display:block;background:#ccc}
.who{width:150px;flex:none;overflow:hidden}
.who b{display:block}
.bar{position:absolute;left:{{.BarLeft}}px;width:{{.BarWidth}}px;height:{{.BarHeight}}px;background:#e6e6e6}
.row{position:relative}
.seg{position:absolute;top:0;height:100%;min-width:2px;cursor:pointer;background:{{.UnknownColour}}}
.known .seg{background:{{.KnownColour}}}
#player{padding:0 16px;flex:1}
video{width:100%;max-width:640px;background:#000;display:block}
#now{min-height:1.3em;margin-top:6px}
.none{padding:16px}
</style></head>
<body>
<header>{{.Title}}</header>
<main>
<section id="people">
{{range .Rows}}<div class="row{{if .Known}} known{{end}}">
<div class="thumbs"><div class="pics">{{range .Thumbs}}<img alt="" src="{{.}}">{{end}}</div>
<div class="who"><b>{{.Name}}</b>{{printf "%.1f" .Seconds}} s on screen</div></div>
<div class="bar">{{range .Segments}}<div class="seg" style="left:{{.Left}}%;width:{{.Width}}%" data-start="{{.Start}}" title="{{.Start}}–{{.End}} s"></div>{{end}}</div>
</div>
{{else}}<p class="none">Nobody was found in this video.</p>
{{end}}</section>
<section id="player">{{if .Video}}<video id="video" src="{{.Video}}" controls preload="metadata"></video>{{else}}<p>No video (sidecar only).</p>{{end}}
<div id="now"></div></section>
</main>
<script>
(function(){
var cues = {{.Cues}};
var video = document.getElementById("video");
var now = document.getElementById("now");
// A segment links to its start: PAGE.html#t=6.6 (also from outside the page).
document.querySelectorAll(".seg").forEach(function(s){
  s.addEventListener("click", function(){ location.hash = "t=" + s.dataset.start; });
});
function fromHash(){
  var m = /^#t=([0-9.]+)$/.exec(location.hash);
  if (!m) { return; }
  var t = parseFloat(m[1]);
  show(t);
  if (video) { video.currentTime = t; }
}
function show(t){
  var on = [];
  (cues || []).forEach(function(c){ if (t >= c.Start && t < c.End && on.indexOf(c.Name) < 0) { on.push(c.Name); } });
  now.textContent = on.length ? "On screen: " + on.join(", ") : "";
}
if (video) { video.addEventListener("timeupdate", function(){ show(video.currentTime); }); }
window.addEventListener("hashchange", fromHash);
show(0);
fromHash();
})();
</script>
</body></html>
`))

type indexCell struct {
	Seconds float64
	Page    string
}

type indexRow struct {
	Name    string
	Known   bool
	Thumb   template.URL
	Seconds float64
	Cells   []*indexCell
}

// writeIndex writes dir/index.html: people x videos, each cell the
// seconds on screen linking to the video's page.
func writeIndex(dir string, vids []*video, sum *Summary) error {
	type best struct {
		q float64
		v *video
	}
	rows := map[string]*indexRow{}
	thumb := map[string]best{}
	all := map[string]Person{}
	for vi, v := range vids {
		for n, p := range people(v.all) {
			r := rows[n]
			if r == nil {
				r = &indexRow{Name: n, Known: p.Cluster == 0, Cells: make([]*indexCell, len(vids))}
				rows[n] = r
				all[n] = p
			}
			r.Seconds = tidy.Round(r.Seconds+p.Seconds, 2)
			r.Cells[vi] = &indexCell{Seconds: p.Seconds, Page: filepath.ToSlash(rel(dir, v.htmlPath()))}
		}
		for _, t := range v.f.Tracks {
			if n := trackName(t); n != gallery.Unknown && t.Crop != "" && t.Quality > thumb[n].q {
				thumb[n] = best{t.Quality, v}
			}
		}
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	orderNames(names, all)
	var list []*indexRow
	for _, n := range names {
		r := rows[n]
		if b := thumb[n]; b.v != nil {
			if th := thumbsOf(b.v, n, 1); len(th) > 0 {
				r.Thumb = th[0]
			}
		}
		list = append(list, r)
	}
	type col struct{ Name, Page string }
	var cols []col
	for _, v := range vids {
		n := v.f.Name
		if n == "" {
			n = v.name()
		}
		cols = append(cols, col{n, filepath.ToSlash(rel(dir, v.htmlPath()))})
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, map[string]any{"Rows": list, "Cols": cols, "Clusters": sum.Clusters}); err != nil {
		return err
	}
	path := filepath.Join(dir, "index.html")
	before, _ := os.ReadFile(path)
	if err := writeIfChanged(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	if !bytes.Equal(before, b.Bytes()) {
		sum.Written = append(sum.Written, path)
	}
	return nil
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{"base": func(s string) string {
	return strings.TrimSuffix(s, filepath.Ext(s))
}}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>People in these videos</title>
<style>
body{margin:0;padding:16px;font:14px/1.3 sans-serif;background:#fafafa;color:#222}
table{border-collapse:collapse}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;vertical-align:middle}
th.who,td.who{text-align:left}
td.who img{width:64px;height:64px;object-fit:cover;vertical-align:middle;margin-right:8px;background:#ccc}
.known b{color:` + KnownColour + `}
.stranger b{color:` + UnknownColour + `}
</style></head>
<body>
<h1>People in these videos</h1>
<p>{{len .Rows}} people ({{.Clusters}} groups of strangers) in {{len .Cols}} videos. Seconds on screen; a number opens the video's page.</p>
<table>
<tr><th class="who">person</th><th>total s</th>{{range .Cols}}<th><a href="{{.Page}}">{{.Name}}</a></th>{{end}}</tr>
{{range .Rows}}<tr class="{{if .Known}}known{{else}}stranger{{end}}"><td class="who">{{if .Thumb}}<img alt="" src="{{.Thumb}}">{{end}}<b>{{.Name}}</b></td><td>{{printf "%.1f" .Seconds}}</td>{{range .Cells}}<td>{{if .}}<a href="{{.Page}}">{{printf "%.1f" .Seconds}}</a>{{end}}</td>{{end}}</tr>
{{end}}</table>
</body></html>
`))
