// Draws the plan chart (SVG) and the status table from the page's embedded data, then
// refreshes both from the REST API. No library, no network beyond our own relative URLs.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 1000;
  const MARGIN = { left: 56, right: 64 };
  const POWER = { top: 16, height: 250 };
  const ENERGY = { top: 300, height: 200 };
  const HEIGHT = 540;
  const COLORS = {
    soe: "#2f6fdf", charge: "#2e9d5b", discharge: "#e07b24", pv: "#e3b505",
    load: "#6b3fa0", price: "#c0392b", past: "#e4e8ee", grid: "#edf0f4", axis: "#8a96a6",
  };
  const REFRESH_MS = 60000;

  const data = JSON.parse(document.getElementById("page-data").textContent);

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG_NS, name);
    for (const key of Object.keys(attrs)) node.setAttribute(key, String(attrs[key]));
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    const node = el("text", Object.assign({ x: x, y: y, "font-size": 11, fill: COLORS.axis }, attrs || {}), parent);
    node.textContent = content;
    return node;
  }

  // The site's UTC offset (minutes) from an ISO time, so labels show the site's clock.
  function offsetMinutes(iso) {
    const match = /([+-])(\d\d):(\d\d)$/.exec(iso);
    if (!match) return 0;
    const minutes = Number(match[2]) * 60 + Number(match[3]);
    return match[1] === "-" ? -minutes : minutes;
  }

  function siteClock(ms, offset) {
    const d = new Date(ms + offset * 60000);
    const pad = (n) => String(n).padStart(2, "0");
    return {
      hm: pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()),
      md: pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()),
      hours: d.getUTCHours(), minutes: d.getUTCMinutes(),
    };
  }

  // About `count` round tick values covering [lo, hi].
  function niceTicks(lo, hi, count) {
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw);
    // From the step at or below lo up to the first step at or above hi.
    const ticks = [];
    for (let i = Math.floor(lo / step + 1e-9); ; i++) {
      ticks.push(i * step);
      if (i * step >= hi - step * 1e-9) break;
    }
    return ticks;
  }

  function formatNumber(v) {
    return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toFixed(2)).toString();
  }

  function linearScale(domainLo, domainHi, rangeLo, rangeHi) {
    const span = domainHi - domainLo || 1;
    return (v) => rangeLo + ((v - domainLo) / span) * (rangeHi - rangeLo);
  }

  function drawAxisY(svg, panel, ticks, scale, side, label, color) {
    const x = side === "left" ? MARGIN.left : WIDTH - MARGIN.right;
    for (const t of ticks) {
      const y = scale(t);
      if (side === "left") {
        el("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, stroke: COLORS.grid }, svg);
      }
      text(svg, side === "left" ? x - 6 : x + 6, y + 4, formatNumber(t), {
        "text-anchor": side === "left" ? "end" : "start", fill: color,
      });
    }
    const lx = side === "left" ? 14 : WIDTH - 12;
    const ly = panel.top + panel.height / 2;
    text(svg, lx, ly, label, {
      "text-anchor": "middle", fill: color, transform: "rotate(-90 " + lx + " " + ly + ")",
    });
  }

  function pathOf(points) {
    return points.map((p, i) => (i === 0 ? "M" : "L") + p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ");
  }

  // A step line: the value holds for the whole slot.
  function stepPoints(slots, value, x, y) {
    const out = [];
    for (const s of slots) {
      out.push([x(s.t0), y(value(s))]);
      out.push([x(s.t1), y(value(s))]);
    }
    return out;
  }

  function drawChart(plan) {
    const host = document.getElementById("chart");
    host.textContent = "";
    const points = plan.points;
    host.dataset.points = String(points.length);
    if (points.length === 0) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = "No plan yet for this site.";
      host.appendChild(empty);
      host.dataset.drawn = "empty";
      return;
    }
    const times = points.map((p) => Date.parse(p.start));
    // Slot length from the spacing of the points (the last slot repeats the previous one).
    const slotMs = times.length > 1 ? times[1] - times[0] : 30 * 60000;
    const slots = points.map((p, i) => ({
      p: p, t0: times[i], t1: i + 1 < times.length ? times[i + 1] : times[i] + slotMs,
    }));
    const t0 = slots[0].t0;
    const t1 = slots[slots.length - 1].t1;
    const offset = offsetMinutes(points[0].start);
    const x = linearScale(t0, t1, MARGIN.left, WIDTH - MARGIN.right);

    const svg = el("svg", {
      viewBox: "0 0 " + WIDTH + " " + HEIGHT, role: "img", "aria-label": "Plan chart",
      "font-family": "DejaVu Sans, sans-serif",
    });

    // Past slots (history) behind everything, with the "now" line where the plan starts.
    const firstPlanned = slots.findIndex((s) => !s.p.past);
    const pastEnd = firstPlanned === -1 ? t1 : slots[firstPlanned].t0;
    const pastGroup = el("g", { class: "past-shade" }, svg);
    if (pastEnd > t0) {
      for (const panel of [POWER, ENERGY]) {
        el("rect", {
          x: x(t0), y: panel.top, width: x(pastEnd) - x(t0), height: panel.height,
          fill: COLORS.past,
        }, pastGroup);
      }
      el("line", {
        x1: x(pastEnd), x2: x(pastEnd), y1: POWER.top - 6, y2: ENERGY.top + ENERGY.height,
        stroke: "#1c2430", "stroke-dasharray": "4 3",
      }, svg);
      text(svg, x(pastEnd) - 4, POWER.top - 4, "past", { "text-anchor": "end" });
      if (pastEnd < t1) text(svg, x(pastEnd) + 4, POWER.top - 4, "plan", {});
    }

    // Power panel: battery bars, PV and load lines, one kW axis.
    const powerValues = [0];
    for (const s of slots) powerValues.push(s.p.battery_kw, s.p.pv_kw, s.p.load_kw);
    const powerTicks = niceTicks(Math.min.apply(null, powerValues), Math.max.apply(null, powerValues), 5);
    const yPower = linearScale(powerTicks[0], powerTicks[powerTicks.length - 1], POWER.top + POWER.height, POWER.top);
    drawAxisY(svg, POWER, powerTicks, yPower, "left", "power (kW)", COLORS.axis);
    const bars = el("g", { class: "battery" }, svg);
    for (const s of slots) {
      const v = s.p.battery_kw;
      const top = Math.min(yPower(v), yPower(0));
      const bar = el("rect", {
        x: x(s.t0) + 0.5, width: Math.max(0.5, x(s.t1) - x(s.t0) - 1), y: top,
        height: Math.abs(yPower(v) - yPower(0)), fill: v >= 0 ? COLORS.charge : COLORS.discharge,
        "fill-opacity": s.p.past ? 0.45 : 0.9,
      }, bars);
      el("title", {}, bar).textContent = siteClock(s.t0, offset).hm + " battery " + formatNumber(v) + " kW";
    }
    el("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: yPower(0), y2: yPower(0), stroke: COLORS.axis }, svg);
    el("path", { class: "series pv", d: pathOf(stepPoints(slots, (s) => s.p.pv_kw, x, yPower)),
      fill: "none", stroke: COLORS.pv, "stroke-width": 2 }, svg);
    el("path", { class: "series load", d: pathOf(stepPoints(slots, (s) => s.p.load_kw, x, yPower)),
      fill: "none", stroke: COLORS.load, "stroke-width": 2 }, svg);

    // Energy panel: SoE (left axis, at slot starts) and price (right axis, per slot).
    const soeValues = slots.map((s) => s.p.soe_kwh);
    const soeTicks = niceTicks(0, Math.max.apply(null, soeValues.concat([1])), 4);
    const ySoe = linearScale(soeTicks[0], soeTicks[soeTicks.length - 1], ENERGY.top + ENERGY.height, ENERGY.top);
    drawAxisY(svg, ENERGY, soeTicks, ySoe, "left", "SoE (kWh)", COLORS.soe);
    const prices = slots.map((s) => s.p.price);
    const priceTicks = niceTicks(Math.min.apply(null, prices.concat([0])), Math.max.apply(null, prices), 4);
    const yPrice = linearScale(priceTicks[0], priceTicks[priceTicks.length - 1], ENERGY.top + ENERGY.height, ENERGY.top);
    drawAxisY(svg, ENERGY, priceTicks, yPrice, "right", "price", COLORS.price);
    const soeLine = slots.map((s) => [x(s.t0), ySoe(s.p.soe_kwh)]);
    const soeArea = soeLine.concat([[soeLine[soeLine.length - 1][0], ySoe(soeTicks[0])], [soeLine[0][0], ySoe(soeTicks[0])]]);
    el("path", { d: pathOf(soeArea) + " Z", fill: COLORS.soe, "fill-opacity": 0.12, stroke: "none" }, svg);
    el("path", { class: "series soe", d: pathOf(soeLine), fill: "none", stroke: COLORS.soe, "stroke-width": 2.5 }, svg);
    el("path", { class: "series price", d: pathOf(stepPoints(slots, (s) => s.p.price, x, yPrice)),
      fill: "none", stroke: COLORS.price, "stroke-width": 1.5 }, svg);

    // Time axis under both panels: ticks on whole hours, dates at midnight.
    const hours = (t1 - t0) / 3600000;
    const everyHours = [1, 2, 3, 6, 12, 24, 48, 168].find((h) => hours / h <= 12) || 336;
    const firstTick = Math.ceil((t0 + offset * 60000) / 3600000) * 3600000 - offset * 60000;
    for (let t = firstTick; t <= t1; t += 3600000) {
      const clock = siteClock(t, offset);
      const localDay = Math.floor((t + offset * 60000) / 86400000);
      const shown = everyHours <= 24
        ? clock.hours % everyHours === 0
        : clock.hours === 0 && localDay % (everyHours / 24) === 0;
      if (!shown) continue;
      const xt = x(t);
      for (const panel of [POWER, ENERGY]) {
        el("line", { x1: xt, x2: xt, y1: panel.top, y2: panel.top + panel.height, stroke: COLORS.grid }, svg);
      }
      text(svg, xt, ENERGY.top + ENERGY.height + 15, clock.hm, { "text-anchor": "middle" });
      if (clock.hours === 0 || t === firstTick) {
        text(svg, xt, ENERGY.top + ENERGY.height + 29, clock.md, { "text-anchor": "middle", "font-weight": "bold" });
      }
    }
    for (const panel of [POWER, ENERGY]) {
      el("rect", { x: MARGIN.left, y: panel.top, width: WIDTH - MARGIN.left - MARGIN.right,
        height: panel.height, fill: "none", stroke: COLORS.axis }, svg);
    }

    // Hover readout: the slot under the pointer.
    const readout = document.getElementById("readout");
    svg.addEventListener("mousemove", (event) => {
      const box = svg.getBoundingClientRect();
      const t = t0 + ((event.clientX - box.left) / box.width * WIDTH - MARGIN.left) /
        (WIDTH - MARGIN.left - MARGIN.right) * (t1 - t0);
      const slot = slots.find((s) => t >= s.t0 && t < s.t1);
      if (!slot) { readout.textContent = ""; return; }
      const c = siteClock(slot.t0, offset);
      const p = slot.p;
      readout.textContent = c.md + " " + c.hm + (p.past ? " (past)" : " (plan)") +
        ": SoE " + formatNumber(p.soe_kwh) + " kWh, battery " + formatNumber(p.battery_kw) +
        " kW, PV " + formatNumber(p.pv_kw) + " kW, load " + formatNumber(p.load_kw) +
        " kW, price " + formatNumber(p.price);
    });

    host.appendChild(svg);
    host.dataset.drawn = "true";
  }

  function age(iso) {
    if (!iso) return "never";
    const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 90) return iso + " (" + Math.max(0, seconds) + " s ago)";
    if (seconds < 5400) return iso + " (" + Math.round(seconds / 60) + " min ago)";
    return iso + " (" + Math.round(seconds / 3600) + " h ago)";
  }

  // The optimizer always answers within its time budget; this says how good the answer is.
  function planQuality(quality) {
    if (!quality) return "no plan yet";
    const seconds = " (" + formatNumber(quality.solve_seconds) + " s)";
    const gap = quality.gap === null ? "" : ", within " + (100 * quality.gap).toFixed(2) + " % of optimal";
    if (quality.status === "optimal") return "optimal" + seconds;
    if (quality.status === "feasible") return "best found in the time budget" + gap + seconds;
    if (quality.status === "relaxation_repaired") return "relaxation, repaired" + gap + seconds;
    return "self-consumption rule (no solver answer in time)" + seconds;
  }

  // Expected over the plan's horizon on its own forecasts; the rule is the battery alone.
  function planSaving(economics) {
    if (!economics) return "no plan yet";
    return formatNumber(economics.saving_vs_rule) + " vs the rule, " +
      formatNumber(economics.saving_vs_no_battery) + " vs no battery (next " +
      formatNumber(economics.horizon_hours) + " h)";
  }

  function policyMisses(misses) {
    if (!misses.length) return "met (or none)";
    return misses.map((miss) => "missed at " + miss.at + ": planned " +
      formatNumber(miss.planned_kwh) + " kWh, wanted " + formatNumber(miss.min_kwh) + "-" +
      formatNumber(miss.max_kwh) + " kWh").join("; ");
  }

  // Measured: what the site's grid exchange cost against the rule and no battery on the
  // same measured PV and load.
  function realisedSaving(realised) {
    if (!realised) return "not enough measured slots yet";
    return formatNumber(realised.saving_vs_rule) + " vs the rule, " +
      formatNumber(realised.saving_vs_no_battery) + " vs no battery (last " +
      formatNumber(realised.hours) + " measured h of 7 days)";
  }

  // Inputs the plan could not trust: the battery runs its own rule there.
  function planAlerts(alerts) {
    if (!alerts.length) return "none";
    return alerts.map(function (alert) { return alert.code + ": " + alert.message; }).join("; ");
  }

  function drawStatus(status) {
    const table = document.getElementById("status");
    table.textContent = "";
    const rows = [
      ["site", status.site_id],
      ["gateway", status.connected ? "online" : "offline", status.connected ? "online" : "offline"],
      ["state of energy", status.soe_kwh === null ? "unknown" : formatNumber(status.soe_kwh) + " kWh"],
      ["last telemetry", age(status.last_telemetry)],
      ["last plan", age(status.last_plan_at)],
      ["plan quality", planQuality(status.plan_quality)],
      ["expected saving", planSaving(status.plan_economics)],
      ["SoC policies", policyMisses(status.policy_misses), status.policy_misses.length ? "error" : ""],
      ["realised saving", realisedSaving(status.realised_economics)],
      ["p2 (3 h)", status.layers.p2 || "none"],
      ["p1 (48 h)", status.layers.p1 || "none"],
      ["p0 (1 year)", status.layers.p0 || "none"],
      ["alerts", planAlerts(status.alerts), status.alerts.length ? "error" : ""],
      ["last error", status.last_error || "none", status.last_error ? "error" : ""],
    ];
    for (const row of rows) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = row[0];
      const td = document.createElement("td");
      td.textContent = row[1];
      if (row[2]) td.className = row[2];
      tr.append(th, td);
      table.appendChild(tr);
    }
  }

  function showUpdated(note) {
    document.getElementById("updated").textContent = note + " " + new Date().toISOString();
  }

  // Relative URLs: resolved against <base>, i.e. the ingress path under Home Assistant.
  async function refresh() {
    const base = "api/v1/sites/" + encodeURIComponent(data.site_id) + "/";
    try {
      const [plan, status] = await Promise.all(["plan", "status"].map(async (what) => {
        const response = await fetch(base + what, { cache: "no-store" });
        if (!response.ok) throw new Error(what + ": HTTP " + response.status);
        return response.json();
      }));
      drawChart(plan);
      drawStatus(status);
      document.getElementById("chart").dataset.refreshed = "true";
      showUpdated("updated");
    } catch (error) {
      showUpdated("refresh failed (" + error.message + "), last try");
    }
  }

  if (data.site_id === null) {
    document.getElementById("chart").innerHTML = '<div class="empty">No site is configured.</div>';
    document.getElementById("chart").dataset.drawn = "empty";
    return;
  }
  document.getElementById("chart-title").textContent = "Plan of " + data.site_id;
  drawChart(data.plan);
  drawStatus(data.status);
  showUpdated("page loaded");
  // One refresh at once: the page may have sat in a cache or a background tab.
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
