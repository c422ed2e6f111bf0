// The dashboard's page: it follows the event stream at ./events and draws
// one card per dependency. Text reaches the page through textContent only.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const FIELDS = [
    ['total', 'calls'], ['timeouts', 'timeouts'], ['p50', 'p50'], ['limit', 'timeout limit'],
    ['breaker', 'breaker'], ['transitions', 'transitions'], ['hedges', 'hedges'],
    ['budget', 'retry budget'], ['bulkhead', 'bulkhead'], ['alerts', 'alerts'],
  ];
  const body = document.body;
  const main = document.getElementById('cards');
  const cards = new Map(); // name -> {el, fields, rate: [], p99: []}
  let points = 120; // sparkline points kept: history / tick
  let tick = 1; // seconds
  let es = null;
  let backoff = 500;
  let timer = 0;

  function setConn(state) {
    body.dataset.conn = state;
    document.getElementById('conn').textContent = state;
  }

  // Formatting. Every function returns a plain string.
  const DASH = '\u2014';
  function num(v, digits) {
    return v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits, useGrouping: false });
  }
  function pct(v) {
    if (v == null) return DASH;
    const p = v * 100;
    return num(p, p > 99.9 && p < 100 ? 2 : 1) + '%';
  }
  function dur(s) {
    if (s == null) return DASH;
    if (s === 0) return '0';
    if (s < 1e-3) return num(s * 1e6, s < 1e-5 ? 1 : 0) + ' \u00b5s';
    if (s < 1) return num(s * 1e3, s < 1e-2 ? 2 : s < 0.1 ? 1 : 0) + ' ms';
    return num(s, s < 10 ? 2 : 1) + ' s';
  }
  function rate(v) {
    if (v == null) return DASH;
    if (v === 0) return '0/s';
    return num(v, v < 10 ? 2 : v < 100 ? 1 : 0) + '/s';
  }
  function clock(t) {
    const d = new Date(t);
    return isNaN(d) ? '' : d.toLocaleTimeString('en-GB', { hour12: false });
  }

  function text(c) {
    const t = c.timeouts;
    let timeouts = pct(c.timeout_rate);
    if (t && t.total > 0) {
      timeouts += ' (' + t.total + ': limit ' + t.limit + ', deadline ' + t.deadline + ', upstream ' + t.propagated + ')';
    }
    const b = c.breaker;
    let transitions = DASH;
    if (b) {
      transitions = b.transitions.length === 0 ? 'none' :
        b.transitions.slice(-3).map((x) => x.to + ' ' + clock(x.time)).join(', ');
      if (b.rejected > 0) transitions += ' \u00b7 ' + b.rejected + ' rejected';
    }
    const h = c.hedge;
    let hedges = DASH;
    if (h) hedges = pct(h.rate) + ' (' + h.hedges + ' hedges, ' + h.wins + ' won, delay ' + dur(h.delay) + ')';
    const g = c.budget;
    let budget = DASH;
    if (g) {
      budget = 'headroom ' + num(g.headroom, 1);
      if (g.denied > 0) budget += ', ' + g.denied + ' denied';
      if (g.reject_rate > 0) budget += ', rejects ' + pct(g.reject_rate);
    }
    const k = c.bulkhead;
    let bulkhead = DASH;
    if (k) bulkhead = k.in_flight + '/' + k.max_concurrent + ' in flight, ' + k.queued + '/' + k.max_queue + ' queued' +
      (k.rejected > 0 ? ', ' + k.rejected + ' rejected' : '');
    let alerts = c.total == null ? DASH : 'none';
    if (c.alerts.length > 0) {
      alerts = c.alerts.map((a) => 'timeouts ' + pct(a.rate) + ' > ' + pct(a.threshold) + ' over ' + dur(a.window)).join('; ');
    }
    return {
      name: c.name,
      total: c.total == null ? DASH : String(c.total),
      rate: rate(c.rate),
      success: pct(c.success),
      timeouts: timeouts,
      p50: dur(c.p50),
      p99: dur(c.p99),
      limit: dur(c.limit),
      breaker: b ? b.state : DASH,
      transitions: transitions,
      hedges: hedges,
      budget: budget,
      bulkhead: bulkhead,
      alerts: alerts,
    };
  }

  function el(tag, cls, field) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (field) e.dataset.field = field;
    return e;
  }

  function spark(cls, field, label) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', cls);
    svg.setAttribute('viewBox', '0 0 100 30');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.dataset.field = field;
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label + ' over the last ' + Math.round(points * tick) + ' s');
    const line = document.createElementNS(SVG, 'path');
    svg.appendChild(line);
    const legend = el('div', 'legend');
    const l = el('span');
    l.textContent = label;
    const peak = el('span');
    legend.append(l, peak);
    return { svg, line, legend, peak };
  }

  function makeCard(name) {
    const art = el('article', 'card');
    art.dataset.name = name;
    art.dataset.health = 'ok';
    const fields = {};
    const h2 = el('h2', '', 'name');
    fields.name = h2;
    const big = el('div', 'big');
    for (const [f, label] of [['rate', 'calls/s'], ['success', 'success'], ['p99', 'p99']]) {
      const d = el('div');
      const v = el('span', '', f);
      const l = el('span');
      l.textContent = label;
      d.append(v, l);
      big.appendChild(d);
      fields[f] = v;
    }
    const sr = spark('rate', 'spark-rate', 'calls/s');
    const sl = spark('latency', 'spark-latency', 'p99 latency');
    const dl = el('dl');
    for (const [f, label] of FIELDS) {
      const dt = el('dt');
      dt.textContent = label;
      const dd = el('dd', '', f);
      dl.append(dt, dd);
      fields[f] = dd;
    }
    art.append(h2, big, sr.svg, sr.legend, sl.svg, sl.legend, dl);
    return { el: art, fields, sparkRate: sr, sparkLat: sl, rate: [], p99: [] };
  }

  // draw sets the line of a sparkline to values, newest at the right
  // edge, scaled to their maximum; a null (no calls in the tick) leaves a
  // gap.
  function draw(s, values, fmt) {
    let peak = 0;
    let any = false;
    for (const v of values) {
      if (v != null) any = true;
      if (v != null && v > peak) peak = v;
    }
    const step = 100 / Math.max(points - 1, 1);
    const off = 100 - (values.length - 1) * step;
    let d = '';
    let pen = 'M';
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v == null) {
        pen = 'M';
        continue;
      }
      const y = peak > 0 ? 29 - (v / peak) * 27 : 29;
      d += pen + (off + i * step).toFixed(2) + ' ' + y.toFixed(2);
      pen = 'L';
    }
    s.line.setAttribute('d', d);
    s.peak.textContent = 'max ' + fmt(any ? peak : null);
  }

  function trim(a) {
    if (a.length > points) a.splice(0, a.length - points);
  }

  // apply brings the page to the event ev: "full" replaces every card and
  // its history; "tick" adds one point to each card.
  function apply(ev) {
    if (ev.tick > 0) {
      tick = ev.tick;
      points = Math.max(1, Math.ceil(ev.history / ev.tick - 1e-9));
    }
    document.title = ev.title;
    document.getElementById('title').textContent = ev.title;
    document.getElementById('updated').textContent = 'updated ' + clock(ev.time);
    const seen = new Set();
    let prev = null;
    for (const c of ev.cards) {
      seen.add(c.name);
      let card = cards.get(c.name);
      if (!card) {
        card = makeCard(c.name);
        cards.set(c.name, card);
      }
      if (ev.type === 'full' && c.history) {
        card.rate = c.history.rate.slice();
        card.p99 = c.history.p99.slice();
      } else {
        card.rate.push(c.rate == null ? 0 : c.rate);
        card.p99.push(c.p99);
      }
      trim(card.rate);
      trim(card.p99);
      const t = text(c);
      for (const f in t) {
        if (card.fields[f].textContent !== t[f]) card.fields[f].textContent = t[f];
      }
      card.el.dataset.health = c.health;
      card.fields.alerts.classList.toggle('firing', c.alerts.length > 0);
      draw(card.sparkRate, card.rate, rate);
      draw(card.sparkLat, card.p99, dur);
      // Keep the DOM in the events' order (by name).
      const want = prev ? prev.nextSibling : main.firstChild;
      if (want !== card.el) main.insertBefore(card.el, want);
      prev = card.el;
    }
    for (const [name, card] of cards) {
      if (!seen.has(name)) {
        card.el.remove();
        cards.delete(name);
      }
    }
  }

  function connect() {
    timer = 0;
    es = new EventSource('events');
    es.onopen = function () {
      backoff = 500;
      setConn('live');
    };
    es.onmessage = function (e) {
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      apply(ev);
      body.dataset.lastId = e.lastEventId;
      setConn('live');
    };
    es.onerror = function () {
      setConn('reconnecting');
      // The browser retries a dropped stream by itself; a refused one
      // (an error status, a server that is down) ends CLOSED, and is
      // opened again here, waiting longer each time up to 5 s.
      if (es.readyState === EventSource.CLOSED && !timer) {
        es.close();
        timer = setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    };
  }

  connect();
})();
