// The Constellation dashboard. Plain JavaScript, no libraries: it reads
// the nodes' API and draws what they say.
//
// Data flow:
//   GET /v1/network (the serving node)      -> the list of nodes and their API addresses
//   every 2 s, from each node itself        -> GET /v1/status, /v1/health; /metrics every 4 s (peers)
//   every 5 s, from the serving node        -> GET /v1/clusters (topology), /v1/memes (scores)
//   every 30 s                              -> GET /v1/contracts (404 "not served yet" today)
//   the serving node's /v1/events (SSE)     -> the stream of blocks and black holes, the tx/s
//                                              chart and the average block time
// Other nodes answer this page's GETs because every node allows pages from
// loopback and from its manifest's API addresses (CORS); a node that does
// not answer is shown as down.
(function () {
  "use strict";

  const POLL_MS = 2000;
  const SLOW_MS = 5000;
  const FETCH_TIMEOUT_MS = 4000;
  const TPS_WINDOW_S = 10;
  const CHART_POINTS = 120;
  const STREAM_ROWS = 60;

  const $ = (id) => document.getElementById(id);

  const state = {
    origin: window.location.origin,
    nodes: [],            // {name, api, roles, cluster, star, self, base, live:{...}}
    starNames: new Map(), // star id -> node name
    best: new Map(),      // chain -> best height seen
    streamed: new Set(),  // cluster chains whose blocks the stream carries
    counted: new Set(),   // "cluster:height" already counted into tx/s
    arrivals: [],         // {t, n}: committed transactions by arrival time
    chainTimes: new Map(),// chain -> [block timestamps], newest last
    points: [],           // tx/s samples {t, v}
    streamOpened: 0,
    blocks: 0,
    blackholes: 0,
    memes: null,
    clusters: null,
    tick: 0,
  };

  // ---- fetching --------------------------------------------------------

  async function fetchWithTimeout(url) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      return await fetch(url, { signal: ctl.signal, cache: "no-store" });
    } finally {
      clearTimeout(timer);
    }
  }

  // getJSON answers {status, body}; it throws only when the node does not
  // answer at all (refused, timed out, not JSON).
  async function getJSON(url) {
    const resp = await fetchWithTimeout(url);
    const body = await resp.json();
    return { status: resp.status, body: body };
  }

  async function getText(url) {
    const resp = await fetchWithTimeout(url);
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    return resp.text();
  }

  function baseOf(node) {
    if (node.self || !node.api) return state.origin;
    return window.location.protocol + "//" + node.api;
  }

  // ---- small helpers ---------------------------------------------------

  function short(star) {
    if (!star) return "";
    const name = state.starNames.get(star);
    if (name) return name;
    const hex = star.replace(/^ed25519:/, "");
    return hex.slice(0, 8);
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function ago(ms) {
    if (ms < 0) ms = 0;
    if (ms < 10000) return (ms / 1000).toFixed(1) + " s ago";
    if (ms < 120000) return Math.round(ms / 1000) + " s ago";
    return Math.round(ms / 60000) + " min ago";
  }

  function fmtRate(v) {
    if (v >= 100) return v.toFixed(0);
    return v.toFixed(1);
  }

  // ---- the nodes -------------------------------------------------------

  async function loadNetwork() {
    try {
      const r = await getJSON(state.origin + "/v1/network");
      const net = r.body;
      $("network").textContent = net.network ? "network " + net.network : "this node only (no manifest's nodes)";
      state.nodes = (net.nodes || []).filter((n) => n.api).map((n) => Object.assign({}, n, { live: { health: "unknown" } }));
    } catch (e) {
      $("network").textContent = "GET /v1/network failed: " + e.message;
      state.nodes = [{ name: "this node", api: window.location.host, roles: [], cluster: -1, self: true, live: { health: "unknown" } }];
    }
    for (const n of state.nodes) {
      n.base = baseOf(n);
      if (n.star) state.starNames.set(n.star, n.name);
      if (n.self) {
        $("served-by").textContent = "served by " + (n.name || n.api);
        // The stream carries the blocks of the serving node's cluster.
        if (n.cluster >= 0 && (n.roles || []).some((r) => r === "cluster" || r === "candidate")) state.streamed.add("cluster/" + n.cluster);
      }
    }
    buildNodeRows();
  }

  function buildNodeRows() {
    const body = $("nodes").tBodies[0];
    body.textContent = "";
    for (const n of state.nodes) {
      const tr = el("tr", { "data-node": n.name || n.api, "data-health": "unknown", "data-self": n.self ? "true" : "false" });
      tr.appendChild(el("td", { class: "name", title: n.api }, n.name || n.api));
      tr.appendChild(el("td", { class: "role" }, (n.roles || []).filter((r) => r !== "star").join(", ") || "star"));
      tr.appendChild(el("td", { class: "cluster" }, n.cluster >= 0 ? String(n.cluster) : "–"));
      tr.appendChild(el("td", { class: "height num" }, "–"));
      tr.appendChild(el("td", { class: "peers num" }, "–"));
      tr.appendChild(el("td", { class: "last" }, "–"));
      tr.appendChild(el("td", { class: "health" }, "…"));
      body.appendChild(tr);
      n.row = tr;
    }
  }

  async function pollNode(n, withMetrics) {
    const live = n.live;
    try {
      const [st, he] = await Promise.all([getJSON(n.base + "/v1/status"), getJSON(n.base + "/v1/health")]);
      live.reachedAt = Date.now();
      live.error = "";
      if (st.status === 200) {
        const s = st.body;
        live.status = s;
        if (n.self && s.tiers && s.tiers.cluster >= 0) state.streamed.add("cluster/" + s.tiers.cluster);
        if (s.star) {
          state.starNames.set(s.star, n.name || short(s.star));
          n.star = s.star;
        }
        if (live.height !== s.height) {
          live.height = s.height;
          live.rose = Date.now();
          try {
            const b = await getJSON(n.base + "/v1/blocks/" + s.height);
            if (b.status === 200) live.lastBlockTs = b.body.timestamp;
          } catch (e) { /* the next poll tries again */ }
        }
      }
      const h = he.body || {};
      live.health = h.healthy ? "healthy" : "unhealthy";
      live.reasons = (h.reasons || []).join("\n");
      if (withMetrics) {
        try {
          const text = await getText(n.base + "/metrics");
          const m = /^constellation_p2p_peers\s+([0-9.e+]+)\s*$/m.exec(text);
          live.peers = m ? Number(m[1]) : undefined;
        } catch (e) { /* peers stay as they were */ }
      }
      live.timeouts = 0;
    } catch (e) {
      // A refused connection is a node that is not there: down at once. A
      // node that is only slow to answer (a busy machine) is down after
      // two polls in a row without an answer.
      const timedOut = e.name === "AbortError";
      live.timeouts = timedOut ? (live.timeouts || 0) + 1 : 0;
      live.error = timedOut ? "no answer within " + FETCH_TIMEOUT_MS / 1000 + " s" : "not answering (" + e.message + ")";
      if (!timedOut || live.timeouts >= 2 || live.health === "unknown") live.health = "down";
      live.reasons = live.error;
    }
    renderNode(n);
  }

  function renderNode(n) {
    const live = n.live;
    const tr = n.row;
    if (!tr) return;
    tr.setAttribute("data-health", live.health);
    const cells = tr.cells;
    const s = live.status;
    if (s) {
      const cl = s.tiers ? s.tiers.cluster : n.cluster;
      cells[2].textContent = cl >= 0 ? String(cl) : (s.tiers && s.tiers.galaxy !== undefined ? "galaxy" : "–");
      cells[3].textContent = String(s.height);
      tr.setAttribute("data-height", String(s.height));
    }
    cells[4].textContent = live.peers === undefined ? "–" : String(live.peers);
    if (live.lastBlockTs) cells[5].textContent = ago(Date.now() - live.lastBlockTs);
    const text = { healthy: "healthy", unhealthy: "unhealthy", down: "down", unknown: "…" }[live.health];
    cells[6].textContent = text;
    cells[6].title = live.reasons || "";
  }

  async function pollNodes() {
    state.tick++;
    const withMetrics = state.tick % 2 === 1;
    await Promise.all(state.nodes.map((n) => pollNode(n, withMetrics)));
    renderTiles();
    const down = state.nodes.filter((n) => n.live.health === "down").length;
    const sick = state.nodes.filter((n) => n.live.health === "unhealthy").length;
    $("nodes-note").textContent = state.nodes.length + " nodes: " +
      (state.nodes.length - down - sick) + " healthy, " + sick + " unhealthy, " + down + " not answering. " +
      "Hover a health cell for the node's reasons (GET /v1/health).";
  }

  // ---- tiles -----------------------------------------------------------

  function renderTiles() {
    // Best block: the highest block of each cluster chain, from the nodes'
    // statuses and the stream.
    const byCluster = new Map();
    let bhHeard = 0;
    const finalized = new Map();
    for (const n of state.nodes) {
      const s = n.live.status;
      if (!s || n.live.health === "down") continue;
      const t = s.tiers;
      if (t) {
        bhHeard = Math.max(bhHeard, t.black_holes || 0);
        if (t.cluster >= 0) {
          byCluster.set(t.cluster, Math.max(byCluster.get(t.cluster) || 0, s.height));
          finalized.set(t.cluster, Math.max(finalized.get(t.cluster) || 0, t.finalized || 0));
        }
      } else {
        byCluster.set(0, Math.max(byCluster.get(0) || 0, s.height));
      }
    }
    for (const [chain, h] of state.best) {
      const m = /^cluster\/(\d+)$/.exec(chain);
      if (m) byCluster.set(Number(m[1]), Math.max(byCluster.get(Number(m[1])) || 0, h));
      // A black hole on the stream is not final yet (its certificate comes
      // after it): the finalized tile reads the nodes' statuses only.
    }
    if (byCluster.size > 0) {
      const keys = Array.from(byCluster.keys()).sort((a, b) => a - b);
      const best = Math.max.apply(null, keys.map((k) => byCluster.get(k)));
      $("best-block").textContent = "#" + best;
      $("best-block").setAttribute("data-height", String(best));
      $("best-block-sub").textContent = keys.map((k) => "cluster " + k + " #" + byCluster.get(k)).join(" · ");
    }
    const hasGalaxy = state.nodes.some((n) => n.live.status && n.live.status.tiers) || state.best.has("galaxy");
    if (hasGalaxy) {
      $("finalized").textContent = bhHeard > 0 ? "#" + bhHeard : "none yet";
      const keys = Array.from(finalized.keys()).sort((a, b) => a - b);
      $("finalized-sub").textContent = keys.length
        ? "final up to " + keys.map((k) => "cluster " + k + " #" + finalized.get(k)).join(" · ")
        : "";
    } else {
      $("finalized").textContent = "–";
      $("finalized-sub").textContent = "no galaxy in this network";
    }
    // Average block time, by the blocks' agreed timestamps.
    let shown = false;
    for (const [chain, ts] of state.chainTimes) {
      if (chain === "galaxy" || ts.length < 2) continue;
      const avg = (ts[ts.length - 1] - ts[0]) / (ts.length - 1);
      $("block-time").textContent = (avg / 1000).toFixed(2) + " s";
      $("block-time-sub").textContent = chain + ", last " + ts.length + " blocks";
      shown = true;
      break;
    }
    if (!shown) $("block-time-sub").textContent = "waiting for blocks on the stream";
  }

  // ---- the event stream ------------------------------------------------

  function openStream() {
    const es = new EventSource(state.origin + "/v1/events");
    const pill = $("stream-state");
    es.onopen = () => {
      pill.setAttribute("data-state", "open");
      pill.textContent = "stream: open";
      if (!state.streamOpened) state.streamOpened = Date.now();
    };
    es.onerror = () => {
      // EventSource reconnects by itself, sending Last-Event-ID: the node
      // resends what was missed.
      pill.setAttribute("data-state", "reconnecting");
      pill.textContent = "stream: reconnecting";
    };
    es.addEventListener("block", (ev) => onBlock(JSON.parse(ev.data)));
    es.addEventListener("blackhole", (ev) => onBlackHole(JSON.parse(ev.data)));
    es.addEventListener("fault", (ev) => onFault(JSON.parse(ev.data)));
  }

  function noteTime(chain, ts) {
    let a = state.chainTimes.get(chain);
    if (!a) state.chainTimes.set(chain, (a = []));
    a.push(ts);
    if (a.length > 20) a.shift();
  }

  function noteBest(chain, h) {
    state.best.set(chain, Math.max(state.best.get(chain) || 0, h));
  }

  function onBlock(e) {
    const b = e.block || {};
    const n = (b.txs || []).length;
    state.streamed.add(e.chain);
    const m = /^cluster\/(\d+)$/.exec(e.chain);
    const key = (m ? m[1] : e.chain) + ":" + e.height;
    if (!state.counted.has(key)) {
      state.counted.add(key);
      state.arrivals.push({ t: Date.now(), n: n });
    }
    noteTime(e.chain, b.timestamp);
    noteBest(e.chain, e.height);
    state.blocks++;
    const list = $("blocks");
    list.setAttribute("data-count", String(state.blocks));
    addStreamRow("block", e.chain, "#" + e.height, n + " txs", b.hash, b.timestamp);
    renderTiles();
  }

  function onBlackHole(e) {
    const bh = e.blackhole || {};
    // Transactions of clusters this stream carries no blocks of are counted
    // from the checkpoints the black hole orders. The first black hole's
    // checkpoints may hold blocks made before the page opened: they are
    // the baseline, not counted.
    let n = 0;
    for (const cp of bh.checkpoints || []) {
      if (state.streamed.has("cluster/" + cp.cluster)) continue;
      const key = cp.cluster + ":" + cp.height;
      if (state.counted.has(key)) continue;
      state.counted.add(key);
      if (state.blackholes > 0) n += cp.txs;
    }
    if (n > 0) state.arrivals.push({ t: Date.now(), n: n });
    noteTime("galaxy", bh.timestamp);
    noteBest("galaxy", e.height);
    state.blackholes++;
    $("blocks").setAttribute("data-blackholes", String(state.blackholes));
    const cps = (bh.checkpoints || []).length;
    addStreamRow("blackhole", "black hole", "#" + e.height, cps + " checkpoints", bh.hash, bh.timestamp);
  }

  function onFault(e) {
    const f = e.fault || {};
    addStreamRow("fault", e.chain, "#" + e.height, "fault: " + f.kind, short(f.star), null);
  }

  function addStreamRow(kind, chain, height, what, hash, ts) {
    const list = $("blocks");
    const li = el("li", { class: kind });
    li.appendChild(el("span", null, chain));
    li.appendChild(el("span", null, height));
    li.appendChild(el("span", null, what));
    li.appendChild(el("span", { class: "hash" }, hash || ""));
    li.appendChild(el("span", { class: "muted" }, ts ? new Date(ts).toLocaleTimeString() : ""));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > STREAM_ROWS) list.removeChild(list.lastChild);
  }

  // ---- the tx/s chart --------------------------------------------------

  function sampleRate() {
    const now = Date.now();
    if (!state.streamOpened) return;
    state.arrivals = state.arrivals.filter((a) => a.t > now - TPS_WINDOW_S * 1000);
    const span = Math.min(TPS_WINDOW_S, Math.max(1, (now - state.streamOpened) / 1000));
    const total = state.arrivals.reduce((s, a) => s + a.n, 0);
    const v = total / span;
    state.points.push({ t: now, v: v });
    if (state.points.length > CHART_POINTS) state.points.shift();
    $("tps").textContent = fmtRate(v);
    const chains = Array.from(state.streamed).sort();
    $("tps-sub").textContent = "last " + TPS_WINDOW_S + " s";
    $("tps-note").textContent = "Committed transactions per second over the last " + TPS_WINDOW_S +
      " s, one point a second: the blocks of " + (chains.length ? chains.join(", ") : "no chain yet") +
      " on this node's stream" + (state.best.has("galaxy") ? ", and the other clusters' checkpoints its black holes order" : "") + ".";
    drawChart();
  }

  function drawChart() {
    const c = $("tps-chart");
    const ctx = c.getContext("2d");
    const W = c.width, H = c.height;
    const padL = 44, padR = 10, padT = 12, padB = 22;
    const pts = state.points;
    const max = Math.max(1, ...pts.map((p) => p.v));
    // A round top for the axis.
    const mag = Math.pow(10, Math.floor(Math.log10(max)));
    const top = Math.ceil(max / mag) * mag;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px sans-serif";
    ctx.strokeStyle = "#30363d";
    ctx.fillStyle = "#8b949e";
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = padT + (H - padT - padB) * (i / 4);
      ctx.beginPath();
      ctx.moveTo(padL, y + 0.5);
      ctx.lineTo(W - padR, y + 0.5);
      ctx.stroke();
      const label = top * (1 - i / 4);
      ctx.fillText(label >= 10 ? label.toFixed(0) : label.toFixed(1), 4, y + 4);
    }
    ctx.fillText("now", W - padR - 20, H - 6);
    ctx.fillText("-" + CHART_POINTS + " s", padL, H - 6);
    if (pts.length > 1) {
      const x = (i) => padL + (W - padL - padR) * ((CHART_POINTS - pts.length + i) / (CHART_POINTS - 1));
      const y = (v) => padT + (H - padT - padB) * (1 - v / top);
      ctx.beginPath();
      ctx.moveTo(x(0), y(pts[0].v));
      for (let i = 1; i < pts.length; i++) ctx.lineTo(x(i), y(pts[i].v));
      ctx.strokeStyle = "#58a6ff";
      ctx.lineWidth = 2;
      ctx.stroke();
      ctx.lineTo(x(pts.length - 1), y(0));
      ctx.lineTo(x(0), y(0));
      ctx.closePath();
      ctx.fillStyle = "rgba(88, 166, 255, 0.15)";
      ctx.fill();
    }
    const last = pts.length ? pts[pts.length - 1].v : 0;
    c.setAttribute("data-points", String(pts.length));
    c.setAttribute("data-last", last.toFixed(2));
    c.setAttribute("data-max", Math.max(0, ...pts.map((p) => p.v)).toFixed(2));
  }

  // ---- topology, memes, contracts (from one node) ----------------------

  // fromAny asks the serving node, else any node that answered lately.
  async function fromAny(path) {
    const order = state.nodes.slice().sort((a, b) => (b.self ? 1 : 0) - (a.self ? 1 : 0));
    let last;
    for (const n of order) {
      if (!n.self && n.live.health === "down") continue;
      try {
        const r = await getJSON(n.base + path);
        r.from = n.name || n.api;
        return r;
      } catch (e) {
        last = e;
      }
    }
    throw last || new Error("no node answers");
  }

  function healthOfStar(star) {
    const name = state.starNames.get(star);
    const n = state.nodes.find((x) => x.star === star || (name && x.name === name));
    return n ? n.live.health : "unknown";
  }

  async function loadClusters() {
    try {
      const r = await fromAny("/v1/clusters");
      if (r.status !== 200) {
        $("topology-note").textContent = "GET /v1/clusters: " + (r.body.error || r.status);
        return;
      }
      state.clusters = r.body;
      drawTopology(r.body);
      const g = r.body.galaxy;
      $("topology-note").textContent = "From " + r.from + "'s GET /v1/clusters: " + r.body.clusters.length + " cluster(s)" +
        (g ? ", a galaxy of " + g.members.length + " (black hole #" + g.black_holes + ")" : "") +
        "; delegates as " + Array.from(new Set(r.body.clusters.map((c) => c.source))).join(", ") + " knows them.";
    } catch (e) {
      $("topology-note").textContent = "GET /v1/clusters failed: " + e.message;
    }
  }

  function drawStar(parent, x, y, star, kind) {
    const health = healthOfStar(star);
    const cls = "star " + (health === "down" ? "down" : kind);
    const c = svg("circle", { cx: x, cy: y, r: 7, class: cls, "data-star": star, "data-kind": kind });
    c.appendChild(svg("title", null, (state.starNames.get(star) || "") + " " + star + " (" + kind + (health === "down" ? ", not answering" : "") + ")"));
    parent.appendChild(c);
    parent.appendChild(svg("text", { x: x, y: y + 19, class: "small" }, short(star)));
  }

  function ringOf(parent, cx, cy, r, stars, kind) {
    stars.forEach((s, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, stars.length);
      drawStar(parent, cx + r * Math.cos(a), cy + r * Math.sin(a), s, kind);
    });
  }

  // drawTopology lays the galaxy out in the middle and the clusters on an
  // ellipse around it (side by side when there is one of each).
  function drawTopology(cl) {
    const root = $("topology");
    root.textContent = "";
    const W = 640, H = 420, cx = W / 2, cy = H / 2;
    const clusters = cl.clusters || [];
    const k = clusters.length;
    let galaxyAt = cl.galaxy ? [cx, cy] : null;
    let centers;
    if (k === 1) {
      centers = [galaxyAt ? [cx - 150, cy] : [cx, cy]];
      if (galaxyAt) galaxyAt = [cx + 150, cy];
    } else {
      centers = clusters.map((c, i) => {
        const a = Math.PI + (2 * Math.PI * i) / k;
        return [cx + 230 * Math.cos(a), cy + 130 * Math.sin(a)];
      });
    }
    if (galaxyAt) {
      for (const p of centers) root.appendChild(svg("line", { x1: galaxyAt[0], y1: galaxyAt[1], x2: p[0], y2: p[1], class: "link" }));
    }
    clusters.forEach((c, i) => {
      const [x, y] = centers[i];
      const g = svg("g", { "data-cluster": String(c.cluster) });
      g.appendChild(svg("circle", { cx: x, cy: y, r: 58, class: "hub" }));
      g.appendChild(svg("text", { x: x, y: y - 2, class: "title" }, "cluster " + c.cluster));
      g.appendChild(svg("text", { x: x, y: y + 12, class: "small" }, c.source + (c.finalized ? " · final #" + c.finalized : "")));
      ringOf(g, x, y, 58, c.delegates || [], "delegate");
      const cands = (c.candidates || []).filter((s) => !(c.delegates || []).includes(s));
      ringOf(g, x, y, 84, cands, "candidate");
      root.appendChild(g);
    });
    if (galaxyAt) {
      const [gx, gy] = galaxyAt;
      const g = svg("g", { "data-galaxy": "true" });
      g.appendChild(svg("circle", { cx: gx, cy: gy, r: 52, class: "hub galaxy" }));
      g.appendChild(svg("text", { x: gx, y: gy - 2, class: "title" }, "galaxy"));
      g.appendChild(svg("text", { x: gx, y: gy + 12, class: "small" }, "black hole #" + cl.galaxy.black_holes));
      ringOf(g, gx, gy, 52, cl.galaxy.members || [], "delegate");
      root.appendChild(g);
    }
  }

  async function loadMemes() {
    const note = $("memes-note");
    try {
      const r = await fromAny("/v1/memes");
      const body = $("memes").tBodies[0];
      if (r.status !== 200) {
        body.textContent = "";
        note.textContent = "GET /v1/memes: " + (r.body.error || r.status);
        return;
      }
      const list = r.body.memes || [];
      const one = r.body.score_one || 1e9;
      const max = Math.max(one, ...list.map((m) => m.score));
      list.sort((a, b) => b.score - a.score);
      body.textContent = "";
      for (const m of list) {
        const tr = el("tr", { "data-star": m.star });
        tr.appendChild(el("td", { title: m.star }, short(m.star)));
        tr.appendChild(el("td", { class: "num" }, m.score_text));
        const bar = el("div", { class: "bar" });
        bar.style.width = Math.max(0, (100 * m.score) / max).toFixed(1) + "%";
        const td = el("td", { class: "bar-cell" });
        td.appendChild(bar);
        tr.appendChild(td);
        body.appendChild(tr);
      }
      note.textContent = "From " + r.from + "'s GET /v1/memes: the " + r.body.chain + " chain's reputation state at height " +
        r.body.height + "; 1 is a score of one (fixed point, score_one = " + one + ").";
    } catch (e) {
      note.textContent = "GET /v1/memes failed: " + e.message;
    }
  }

  async function loadContracts() {
    const box = $("contracts");
    try {
      const r = await fromAny("/v1/contracts");
      box.textContent = "";
      if (r.status === 404) {
        box.setAttribute("data-state", "not-served");
        box.appendChild(el("p", null, "Not served yet. The node says: " + (r.body.error || "404")));
        return;
      }
      if (r.status !== 200) {
        box.setAttribute("data-state", "error");
        box.textContent = "GET /v1/contracts: " + (r.body.error || r.status);
        return;
      }
      box.setAttribute("data-state", "listed");
      const ids = Array.isArray(r.body) ? r.body : [];
      if (!ids.length) box.textContent = "No contract deployed.";
      const ul = el("ul");
      for (const id of ids) ul.appendChild(el("li", null, String(id)));
      box.appendChild(ul);
    } catch (e) {
      box.setAttribute("data-state", "error");
      box.textContent = "GET /v1/contracts failed: " + e.message;
    }
  }

  // ---- start -----------------------------------------------------------

  function every(ms, fn) {
    let busy = false;
    const run = async () => {
      if (busy) return;
      busy = true;
      try { await fn(); } finally { busy = false; }
    };
    run();
    setInterval(run, ms);
  }

  async function start() {
    await loadNetwork();
    openStream();
    every(POLL_MS, pollNodes);
    every(SLOW_MS, async () => { await loadClusters(); await loadMemes(); });
    every(30000, loadContracts);
    setInterval(sampleRate, 1000);
    setInterval(() => { for (const n of state.nodes) renderNode(n); }, 500);
  }

  start();
})();
