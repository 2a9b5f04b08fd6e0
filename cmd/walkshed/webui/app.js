// The what-if page: a MapLibre map of vector tiles made by walkshed serve,
// and a panel over its JSON API. Every edit goes to the server, which
// answers with the new summary; the map then reloads its tiles (the server
// remakes only those the edit touched).

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat('en');
const people = (v) => fmt.format(Math.round(v));
const pct = (v) => (100 * v).toFixed(1) + '%';

// The QGIS style's colours: greens up to the threshold, reds beyond it.
const greens = ['rgb(26,152,80)', 'rgb(102,189,99)', 'rgb(166,217,106)'];
const reds = ['rgb(253,174,97)', 'rgb(244,109,67)', 'rgb(215,48,39)'];
const noReach = 'rgb(170,170,170)';
const tierColours = ['#08306b', '#1f5ac8', '#4292c6', '#6baed6', '#9ecae1'];

const state = { info: null, summary: null, version: 0, markers: [], siteMarkers: [], busy: false, errors: [] };
window.walkshed = state;

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
  if (!r.ok) throw new Error((data && data.error) || r.statusText);
  return data;
}

function say(msg, isError) {
  const m = $('message');
  m.textContent = msg;
  m.className = isError ? 'error' : '';
}

function minutesColour(t) {
  return ['case', ['!', ['has', 'minutes']], noReach,
    ['<=', ['get', 'minutes'], t / 3], greens[0],
    ['<=', ['get', 'minutes'], 2 * t / 3], greens[1],
    ['<=', ['get', 'minutes'], t], greens[2],
    ['<=', ['get', 'minutes'], 1.5 * t], reds[0],
    ['<=', ['get', 'minutes'], 2 * t], reds[1],
    reds[2]];
}

function tileURL(layer) {
  return `${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt?v=${state.version}`;
}

function buildStyle(info) {
  const sources = {};
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } }];
  if (info.basemap) {
    sources.basemap = { type: 'raster', tiles: [info.basemap], tileSize: 256 };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  for (const l of ['cells', 'gaps', 'stations', 'areas', 'streets']) {
    sources[l] = { type: 'vector', tiles: [tileURL(l)], minzoom: 0, maxzoom: info.max_zoom };
  }
  const t = info.minutes;
  layers.push(
    { id: 'cells', type: 'fill', source: 'cells', 'source-layer': 'cells',
      paint: { 'fill-color': minutesColour(t), 'fill-opacity': info.basemap ? 0.55 : 0.75 } });
  if (info.streets) {
    layers.push({ id: 'streets', type: 'line', source: 'streets', 'source-layer': 'streets', minzoom: info.streets_min_zoom,
      paint: { 'line-color': '#555', 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0.3, 17, 2], 'line-opacity': 0.6 } });
  }
  layers.push(
    { id: 'areas', type: 'line', source: 'areas', 'source-layer': 'areas',
      paint: { 'line-color': 'rgb(60,60,60)', 'line-width': ['case', ['==', ['get', 'level'], 'parent'], 2.5, 1.2] } },
    { id: 'gaps', type: 'line', source: 'gaps', 'source-layer': 'gaps', filter: ['==', ['get', 'kind'], 'outline'],
      paint: { 'line-color': 'rgb(200,0,40)', 'line-width': 1.6 } },
    { id: 'stations', type: 'circle', source: 'stations', 'source-layer': 'stations',
      paint: {
        'circle-color': ['match', ['get', 'level'], 0, tierColours[0], 1, tierColours[1], 2, tierColours[2], 3, tierColours[3], tierColours[1]],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, ['case', ['==', ['get', 'level'], 0], 4, 2], 15, ['case', ['==', ['get', 'level'], 0], 9, 6]],
        'circle-stroke-color': '#fff', 'circle-stroke-width': 1.2 } });
  return { version: 8, sources, layers };
}

function refreshTiles() {
  state.version++;
  for (const l of ['cells', 'gaps', 'stations', 'areas']) {
    const src = state.map.getSource(l);
    if (src) src.setTiles([tileURL(l)]);
  }
}

function showSummary(s) {
  state.summary = s;
  $('covered').textContent = people(s.population_covered);
  $('covered').dataset.value = String(s.population_covered);
  $('share').textContent = pct(s.share_covered);
  $('population').textContent = people(s.population_total);
  $('stations').textContent = fmt.format(s.stations);
  // With tiers: each tier's coverage from the top, then the fully served.
  const tl = $('tiers');
  tl.textContent = '';
  tl.hidden = !s.tiers;
  for (const t of s.tiers || []) {
    const li = document.createElement('li');
    li.className = 'tier-line';
    li.dataset.tier = t.name;
    li.textContent = `${t.name} (${t.minutes} min): ${pct(t.share_covered)}, ${people(t.population_covered)} people, ${fmt.format(t.stations)} stations, ${fmt.format(t.gaps)} gaps`;
    tl.appendChild(li);
  }
  if (s.tiers) {
    const li = document.createElement('li');
    li.className = 'tier-line';
    li.textContent = `fully served: ${pct(s.fully_served_share)}, ${people(s.fully_served_population)} people`;
    tl.appendChild(li);
  }
  // With several populations: each one's covered people and share.
  const ll = $('layers');
  ll.textContent = '';
  ll.hidden = !s.layers;
  for (const l of s.layers || []) {
    const li = document.createElement('li');
    li.className = 'layer-line';
    li.textContent = `${l.name}: ${people(l.population_covered)} of ${people(l.population)} covered, ${pct(l.share_covered)}`;
    ll.appendChild(li);
  }
  // Gaps, ranked; a click flies to one.
  const gl = $('gaps');
  gl.textContent = '';
  for (const g of s.gaps.slice(0, 50)) {
    const li = document.createElement('li');
    li.textContent = `${people(g.population)} ${Math.round(g.population) === 1 ? 'person' : 'people'}, ${g.cells} ${g.cells === 1 ? 'cell' : 'cells'}`;
    if (g.layers) {
      li.textContent += ` (${Object.entries(g.layers).map(([k, v]) => `${k} ${people(v)}`).join(', ')}; weighted ${people(g.weighted)})`;
    }
    li.dataset.rank = g.id;
    li.onclick = () => state.map.flyTo({ center: [g.lon, g.lat], zoom: Math.max(state.map.getZoom(), 14) });
    gl.appendChild(li);
  }
  for (const m of state.markers) m.remove();
  state.markers = s.gaps.slice(0, 20).map((g) => {
    const el = document.createElement('div');
    el.className = 'gap-marker';
    el.textContent = '#' + g.id;
    return new maplibregl.Marker({ element: el }).setLngLat([g.lon, g.lat]).addTo(state.map);
  });
  showAreas(s.areas || []);
}

// showAreas nests the by-area summary: the city, its parents, their areas.
function showAreas(areas) {
  $('areas-section').hidden = areas.length === 0;
  const root = $('areas');
  root.textContent = '';
  if (areas.length === 0) return;
  const line = (a) => `${a.name}: ${pct(a.share_covered)} of ${people(a.population)}`;
  const city = document.createElement('li');
  city.textContent = `All: ${pct(state.summary.share_covered)} of ${people(state.summary.population_total)}`;
  const top = document.createElement('ul');
  city.appendChild(top);
  root.appendChild(city);
  const parents = new Map();
  for (const a of areas.filter((a) => a.level === 'parent')) {
    const li = document.createElement('li');
    li.textContent = line(a);
    const ul = document.createElement('ul');
    li.appendChild(ul);
    top.appendChild(li);
    parents.set(a.name, ul);
  }
  for (const a of areas.filter((a) => a.level === 'area')) {
    const li = document.createElement('li');
    li.textContent = line(a);
    (parents.get(a.parent) || top).appendChild(li);
  }
}

async function showHistory() {
  const h = await api('GET', '/api/history');
  const ol = $('changes');
  ol.textContent = '';
  for (const e of h.edits) {
    const li = document.createElement('li');
    li.textContent = `${e.action} ${e.station.id}${e.station.name ? ' (' + e.station.name + ')' : ''}`;
    li.onclick = () => state.map.flyTo({ center: [e.station.lon, e.station.lat] });
    ol.appendChild(li);
  }
  $('undo').disabled = h.edits.length === 0;
  $('redo').disabled = h.redo === 0;
}

async function edit(method, path, body) {
  if (state.busy) return;
  state.busy = true;
  try {
    const ch = await api(method, path, body);
    const net = ch.gained - ch.lost;
    say(`${ch.action} ${ch.station.id}: ${net >= 0 ? '+' : ''}${people(net)} people covered`);
    showSummary(ch.summary);
    refreshTiles();
    await showHistory();
  } catch (e) {
    say(e.message, true);
  } finally {
    state.busy = false;
  }
}

function onClick(e) {
  const pad = 6;
  const hit = state.map.queryRenderedFeatures(
    [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]], { layers: ['stations'] });
  if (hit.length > 0) {
    const id = hit[0].properties.id;
    edit('DELETE', '/api/stations/' + encodeURIComponent(id));
    return;
  }
  const body = { lon: e.lngLat.lng, lat: e.lngLat.lat, name: $('new-name').value.trim() };
  if (state.info.tiers.length > 0) body.tier = $('new-tier').value;
  edit('POST', '/api/stations', body);
}

async function propose() {
  const k = parseInt($('propose-k').value, 10);
  const box = $('proposal');
  box.textContent = 'proposing…';
  for (const m of state.siteMarkers) m.remove();
  state.siteMarkers = [];
  try {
    const p = await api('POST', '/api/propose', { add: k });
    box.textContent = '';
    const head = document.createElement('p');
    head.textContent = `${p.sites.length} sites newly cover ${people(p.objective)} people` +
      (p.upper_bound >= 0 ? `; no ${p.sites.length} sites can cover more than ${people(p.upper_bound)} (gap ${(100 * p.gap).toFixed(2)}%` +
        (p.optimal ? `: proven within ${(100 * p.gap_tolerance).toFixed(0)}% of the optimum)` : `, the search stopped after ${p.seconds.toFixed(0)} s)`) : '');
    box.appendChild(head);
    const ol = document.createElement('ol');
    for (const s of p.sites) {
      const li = document.createElement('li');
      li.textContent = `+${people(s.added_population)} `;
      const b = document.createElement('button');
      b.className = 'accept';
      b.type = 'button';
      b.textContent = 'accept';
      b.onclick = (ev) => { ev.stopPropagation(); edit('POST', '/api/stations', { lon: s.lon, lat: s.lat, name: `proposed #${s.rank}` }); };
      li.onclick = () => state.map.flyTo({ center: [s.lon, s.lat], zoom: Math.max(state.map.getZoom(), 14) });
      li.appendChild(b);
      ol.appendChild(li);
      const el = document.createElement('div');
      el.className = 'site-marker';
      el.textContent = '★' + s.rank;
      state.siteMarkers.push(new maplibregl.Marker({ element: el }).setLngLat([s.lon, s.lat]).addTo(state.map));
    }
    box.appendChild(ol);
    for (const st of p.status) {
      const n = document.createElement('p');
      n.className = 'muted';
      n.textContent = st;
      box.appendChild(n);
    }
  } catch (e) {
    box.textContent = '';
    say(e.message, true);
  }
}

function legend(info) {
  const t = info.minutes;
  const f = (x) => Number(x.toFixed(2)).toString();
  const rows = [
    [greens[0], `≤ ${f(t / 3)} min`], [greens[1], `${f(t / 3)}–${f(2 * t / 3)} min`], [greens[2], `${f(2 * t / 3)}–${f(t)} min (covered)`],
    [reds[0], `${f(t)}–${f(1.5 * t)} min`], [reds[1], `${f(1.5 * t)}–${f(2 * t)} min`], [reds[2], `> ${f(2 * t)} min`], [noReach, 'no station reached'],
  ];
  const box = $('legend');
  for (const [c, label] of rows) {
    const d = document.createElement('div');
    d.innerHTML = `<span class="swatch"></span>`;
    d.firstChild.style.background = c;
    d.appendChild(document.createTextNode(label));
    box.appendChild(d);
  }
  const tiers = info.tiers.length ? info.tiers : ['station'];
  tiers.forEach((name, i) => {
    const d = document.createElement('div');
    d.innerHTML = `<span class="swatch" style="border-radius:6px"></span>`;
    d.firstChild.style.background = tierColours[Math.min(i, tierColours.length - 1)];
    d.appendChild(document.createTextNode(name));
    box.appendChild(d);
  });
  const g = document.createElement('div');
  g.innerHTML = '<span class="swatch" style="border-color:rgb(200,0,40);border-width:2px"></span>';
  g.appendChild(document.createTextNode('gap (#rank by population)'));
  box.appendChild(g);
  const n = document.createElement('p');
  n.className = 'muted';
  n.textContent = 'At low zoom a hexagon shows the population-weighted mean minutes of the cells inside it.';
  box.appendChild(n);
}

async function main() {
  window.addEventListener('error', (e) => state.errors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => state.errors.push(String(e.reason)));
  const info = await api('GET', '/api/info');
  state.info = info;
  $('mode').textContent = info.mode === 'network' ? 'along streets' : 'straight line';
  $('settings').textContent = `${info.minutes}-minute walk at ${info.speed_kmh} km/h, H3 resolution ${info.res}`;
  if (info.tiers.length > 0) {
    $('tier-label').hidden = false;
    for (const t of info.tiers) {
      const o = document.createElement('option');
      o.value = o.textContent = t;
      $('new-tier').appendChild(o);
    }
    $('new-tier').value = info.tiers[info.tiers.length - 1];
  }
  legend(info);
  const [w, s, e, n] = info.bounds;
  state.map = new maplibregl.Map({
    container: 'map', style: buildStyle(info), bounds: [[w, s], [e, n]], fitBoundsOptions: { padding: 20 },
    maxZoom: info.max_zoom, attributionControl: false,
  });
  state.map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  state.map.on('error', (ev) => state.errors.push(String(ev.error && ev.error.message)));
  state.map.on('click', onClick);
  state.map.once('idle', () => { document.body.dataset.ready = '1'; });
  state.map.on('idle', () => { document.body.dataset.idle = String(state.version); });
  $('undo').onclick = () => edit('POST', '/api/undo');
  $('redo').onclick = () => edit('POST', '/api/redo');
  $('propose').onclick = propose;
  showSummary(await api('GET', '/api/summary'));
  await showHistory();
}

main().catch((e) => { state.errors.push(String(e)); say(e.message, true); });
