package gpkg

import (
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/walkshed/walkshed/coverage"
)

// Default QGIS styles, stored as QML in layer_styles so that QGIS opens every
// layer with a meaningful look. The cells style breaks exactly at the
// threshold: green shades up to it, oranges and reds beyond it, grey where no
// station is reached.

type rgb [3]uint8

func (c rgb) String() string { return fmt.Sprintf("%d,%d,%d,255", c[0], c[1], c[2]) }

var (
	greens   = []rgb{{26, 152, 80}, {102, 189, 99}, {166, 217, 106}}
	reds     = []rgb{{253, 174, 97}, {244, 109, 67}, {215, 48, 39}}
	noReach  = rgb{170, 170, 170}
	gapLine  = rgb{200, 0, 40}
	gapFill  = rgb{255, 200, 200}
	areaLine = rgb{60, 60, 60}
	station  = rgb{31, 90, 200}
	proposed = rgb{160, 30, 190}
	loadOK   = rgb{26, 152, 80}
	loadHigh = rgb{253, 141, 60}
	loadOver = rgb{215, 48, 39}
)

// noReachValue stands for NULL minutes in the renderer's expression.
const noReachValue = -1

func qmlDoc(body string, labels bool) string {
	l := "0"
	if labels {
		l = "1"
	}
	return `<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>` + "\n" +
		`<qgis version="3.22.0" styleCategories="AllStyleCategories" labelsEnabled="` + l + `">` + "\n" +
		body + "</qgis>\n"
}

func props(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, `<prop k="%s" v="%s"/>`, kv[i], html.EscapeString(kv[i+1]))
	}
	return b.String()
}

func fillSymbol(name string, fill rgb, fillStyle string, line rgb, lineStyle string, width float64) string {
	return `<symbol type="fill" name="` + name + `" alpha="1" clip_to_extent="1" force_rhr="0">` +
		`<layer class="SimpleFill" enabled="1" locked="0" pass="0">` +
		props("color", fill.String(), "style", fillStyle,
			"outline_color", line.String(), "outline_style", lineStyle,
			"outline_width", strconv.FormatFloat(width, 'f', -1, 64), "outline_width_unit", "MM",
			"joinstyle", "bevel", "offset", "0,0", "offset_unit", "MM") +
		`</layer></symbol>`
}

func markerSymbol(name, shape string, fill rgb, size float64) string {
	return `<symbol type="marker" name="` + name + `" alpha="1" clip_to_extent="1" force_rhr="0">` +
		`<layer class="SimpleMarker" enabled="1" locked="0" pass="0">` +
		props("name", shape, "color", fill.String(), "outline_color", "255,255,255,255",
			"outline_style", "solid", "outline_width", "0.4", "outline_width_unit", "MM",
			"size", strconv.FormatFloat(size, 'f', -1, 64), "size_unit", "MM",
			"scale_method", "diameter", "angle", "0", "offset", "0,0", "offset_unit", "MM") +
		`</layer></symbol>`
}

func singleSymbol(sym string) string {
	return `<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>` +
		sym + `</symbols><rotation/><sizescale/></renderer-v2>` + "\n"
}

// cellsQML grades cells by minutes with the threshold as the break between
// the green and the red families. Ranges are tested in order and the first
// match wins, so a cell at exactly the threshold is green, as it is covered.
func cellsQML(threshold coverage.Minutes) string {
	t := float64(threshold)
	if !(t > 0) || !threshold.Reached() {
		t = float64(coverage.DefaultSettings.Minutes)
	}
	type rng struct {
		lo, hi float64
		c      rgb
		label  string
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	rs := []rng{
		{noReachValue, noReachValue, noReach, "no station reached"},
		{0, t / 3, greens[0], "≤ " + f(t/3) + " min"},
		{t / 3, 2 * t / 3, greens[1], f(t/3) + "–" + f(2*t/3) + " min"},
		{2 * t / 3, t, greens[2], f(2*t/3) + "–" + f(t) + " min (covered)"},
		{t, 1.5 * t, reds[0], f(t) + "–" + f(1.5*t) + " min"},
		{1.5 * t, 2 * t, reds[1], f(1.5*t) + "–" + f(2*t) + " min"},
		{2 * t, 1e12, reds[2], "> " + f(2*t) + " min"},
	}
	var ranges, syms strings.Builder
	for i, r := range rs {
		n := strconv.Itoa(i)
		fmt.Fprintf(&ranges, `<range lower="%s" upper="%s" symbol="%s" label="%s" render="true"/>`,
			f(r.lo), f(r.hi), n, html.EscapeString(r.label))
		syms.WriteString(fillSymbol(n, r.c, "solid", r.c, "no", 0))
	}
	attr := html.EscapeString(fmt.Sprintf(`coalesce("minutes", %d)`, noReachValue))
	return qmlDoc(`<renderer-v2 type="graduatedSymbol" attr="`+attr+`" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">`+
		`<ranges>`+ranges.String()+`</ranges><symbols>`+syms.String()+`</symbols><mode name="manual"/><rotation/><sizescale/></renderer-v2>`+"\n", false)
}

func gapsQML() string {
	return qmlDoc(singleSymbol(fillSymbol("0", gapFill, "solid", gapLine, "solid", 0.8)), false)
}

func areasQML() string {
	return qmlDoc(singleSymbol(fillSymbol("0", areaLine, "no", areaLine, "solid", 0.6)), false)
}

func stationsQML() string {
	return qmlDoc(singleSymbol(markerSymbol("0", "circle", station, 2.6)), false)
}

// proposalsQML draws proposed sites as stars labelled by rank.
func proposalsQML() string {
	label := `<labeling type="simple"><settings calloutType="simple">` +
		`<text-style fieldName="rank" isExpression="0" fontFamily="Sans Serif" fontSize="9" fontSizeUnit="Point" fontWeight="75" fontItalic="0" textColor="` + proposed.String() + `" textOpacity="1" namedStyle="Bold" blendMode="0" multilineHeight="1" allowHtml="0" capitalization="0" previewBkgrdColor="255,255,255,255">` +
		`<text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1" bufferNoFill="1" bufferJoinStyle="128" bufferBlendMode="0"/>` +
		`</text-style>` +
		`<text-format wrapChar="" multilineAlign="0" plussign="0" formatNumbers="0" decimals="0"/>` +
		`<placement placement="0" dist="1.5" distUnits="MM" offsetType="0" quadOffset="4" priority="5"/>` +
		`<rendering drawLabels="1" obstacle="1" obstacleFactor="1" obstacleType="0" scaleVisibility="0" upsidedownLabels="0" displayAll="1" limitNumLabels="0" mergeLines="0" minFeatureSize="0" fontLimitPixelSize="0" zIndex="0"/>` +
		`</settings></labeling>` + "\n"
	return qmlDoc(singleSymbol(markerSymbol("0", "star", proposed, 4.5))+label, true)
}

// stationLoadQML grades stations by load (served ÷ capacity): green below
// 0.8, orange up to 1, red above, grey where the capacity is unknown.
func stationLoadQML() string {
	type rng struct {
		lo, hi float64
		c      rgb
		label  string
	}
	rs := []rng{
		{noReachValue, noReachValue, noReach, "capacity unknown"},
		{0, 0.8, loadOK, "load < 0.8"},
		{0.8, 1, loadHigh, "load 0.8–1"},
		{1, 1e12, loadOver, "overloaded (load > 1)"},
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	var ranges, syms strings.Builder
	for i, r := range rs {
		n := strconv.Itoa(i)
		fmt.Fprintf(&ranges, `<range lower="%s" upper="%s" symbol="%s" label="%s" render="true"/>`,
			f(r.lo), f(r.hi), n, html.EscapeString(r.label))
		syms.WriteString(markerSymbol(n, "circle", r.c, 2.6))
	}
	attr := html.EscapeString(fmt.Sprintf(`coalesce("load", %d)`, noReachValue))
	return qmlDoc(`<renderer-v2 type="graduatedSymbol" attr="`+attr+`" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">`+
		`<ranges>`+ranges.String()+`</ranges><symbols>`+syms.String()+`</symbols><mode name="manual"/><rotation/><sizescale/></renderer-v2>`+"\n", false)
}

// catchmentsQML draws catchments as outlines in the stations' colour.
func catchmentsQML() string {
	return qmlDoc(singleSymbol(fillSymbol("0", station, "no", station, "solid", 0.5)), false)
}
