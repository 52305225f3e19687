// The tab's "Period search" panel: the user picks bands (magnitude detections of the figure's traces) and a
// period range; the server runs astropy's Lomb–Scargle (periods.py, cached) and answers the periodogram, its best
// periods and, for one band, the 1% false-alarm level; the light curve is folded here, in the browser, from the
// points the figure already holds, two cycles wide, each survey and band styled as in the figure.
(function () {
  "use strict";
  var panel = document.getElementById("bhtom-period-panel");
  if (!panel) {
    return;
  }
  var bandsBox = document.getElementById("bhtom-period-bands");
  var status = document.getElementById("bhtom-period-status");
  var bestBox = document.getElementById("bhtom-period-best");
  var foldInput = document.getElementById("bhtom-fold-period");
  var lastResult = null;

  function figure() {
    return window.bhtomSurveyFigure;
  }

  function magnitudeBands() {
    var seen = {};
    return figure().payload.traces.filter(function (t) {
      if (t.flux || t.limit || seen[t.bandpass]) {
        return false;
      }
      seen[t.bandpass] = true;
      return true;
    });
  }

  // the band with the most magnitudes: a single-band search gives the exact periodogram and a false-alarm
  // level, so it is the default choice; the user may add others
  function richestBand() {
    var counts = {}, payload = figure().payload, best = null;
    payload.points.trace.forEach(function (k) {
      var t = payload.traces[k];
      if (!t.flux && !t.limit) {
        counts[t.bandpass] = (counts[t.bandpass] || 0) + 1;
      }
    });
    Object.keys(counts).forEach(function (b) {
      if (best === null || counts[b] > counts[best]) {
        best = b;
      }
    });
    return best;
  }

  function buildChoices() {
    var richest = richestBand();
    magnitudeBands().forEach(function (t, k) {
      var id = "bhtom-period-band-" + k;
      var wrap = document.createElement("div");
      wrap.className = "form-check form-check-inline";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.className = "form-check-input bhtom-period-band";
      box.id = id;
      box.value = t.bandpass;
      box.checked = t.bandpass === richest;
      var label = document.createElement("label");
      label.className = "form-check-label";
      label.htmlFor = id;
      label.textContent = t.bandpass;
      label.style.color = t.colour;
      wrap.appendChild(box);
      wrap.appendChild(label);
      bandsBox.appendChild(wrap);
    });
  }

  function chosenBands() {
    return Array.prototype.filter.call(panel.querySelectorAll(".bhtom-period-band"), function (box) {
      return box.checked;
    }).map(function (box) { return box.value; });
  }

  function drawPeriodogram(result) {
    var data = [{type: "scattergl", mode: "lines", x: result.periodogram.frequency, y: result.periodogram.power,
                 name: result.method, line: {color: "#1f77b4", width: 1},
                 hovertemplate: "period %{customdata:.6f} d<br>power %{y:.3f}<extra></extra>",
                 customdata: result.periodogram.frequency.map(function (f) { return 1 / f; })}];
    var shapes = [];
    if (result.false_alarm_level !== null) {
      shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, y0: result.false_alarm_level,
                   y1: result.false_alarm_level, line: {color: "#d62728", dash: "dash", width: 1}});
    }
    var layout = {height: 260, margin: {l: 60, r: 10, t: 10, b: 45}, showlegend: false, shapes: shapes,
                  xaxis: {title: {text: "frequency (1/d)"}}, yaxis: {title: {text: "power"}}};
    return window.Plotly.newPlot("bhtom-periodogram", data, layout, {responsive: true, displaylogo: false});
  }

  function listBest(result) {
    bestBox.innerHTML = "";
    var lead = document.createElement("span");
    lead.textContent = "Best periods (click to fold): ";
    bestBox.appendChild(lead);
    result.best.forEach(function (peak) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-link btn-sm p-0 me-3 bhtom-best-period";
      button.textContent = peak.period.toFixed(6) + " d (power " + peak.power.toFixed(3) + ")";
      button.addEventListener("click", function () {
        foldInput.value = peak.period.toFixed(8);
        fold();
      });
      bestBox.appendChild(button);
    });
  }

  function fold() {
    var period = parseFloat(foldInput.value);
    if (!(period > 0)) {
      status.textContent = "Give a period in days to fold at.";
      return null;
    }
    var fig = figure(), payload = fig.payload, chosen = chosenBands();
    // the search's first time, or the figure's (a loop: Math.min.apply fails on very long arrays)
    var t0 = lastResult ? lastResult.t0 : payload.points.mjd.reduce(function (a, b) { return Math.min(a, b); });
    var traces = payload.traces.map(function (spec) {
      var trace = fig.traceFor(spec);
      trace.visible = !spec.flux && !spec.limit && chosen.indexOf(spec.bandpass) >= 0;
      // hover text is (plotly's subset of) HTML: a bandpass from an upload is text, never markup
      trace.hovertemplate = "<b>" + fig.escapeHtml(spec.bandpass) + "</b><br>phase %{x:.4f}<br>%{y:.3f} mag" +
        "<extra></extra>";
      return trace;
    });
    var points = payload.points;
    for (var k = 0; k < points.mjd.length; k++) {
      var trace = traces[points.trace[k]];
      if (!trace.visible) {
        continue;
      }
      var phase = ((points.mjd[k] - t0) / period) % 1;
      phase = phase < 0 ? phase + 1 : phase;
      [phase, phase + 1].forEach(function (x) {  // two cycles, so a minimum at phase 0 is seen whole
        trace.x.push(x);
        trace.y.push(points.y[k]);
        trace.error_y.array.push(points.error[k]);
      });
    }
    traces = traces.filter(function (t) { return t.visible && t.x.length; });
    // the legend below the "phase" axis title, not across it
    var layout = {height: 420, margin: {l: 60, r: 10, t: 30, b: 90}, showlegend: true,
                  title: {text: "folded at " + period.toFixed(6) + " d", font: {size: 13}},
                  legend: {orientation: "h", x: 0, y: -0.32, yanchor: "top"}, hovermode: "closest",
                  xaxis: {title: {text: "phase"}, range: [0, 2]},
                  yaxis: {title: {text: "magnitude"}, autorange: "reversed"}};
    return window.Plotly.newPlot("bhtom-folded", traces, layout, {responsive: true, displaylogo: false})
      .then(function () {
        document.getElementById("bhtom-folded").setAttribute("data-folded-period", String(period));
      });
  }

  function run(event) {
    event.preventDefault();
    var params = new URLSearchParams();
    chosenBands().forEach(function (band) { params.append("band", band); });
    params.append("min_period", document.getElementById("bhtom-min-period").value);
    params.append("max_period", document.getElementById("bhtom-max-period").value);
    status.textContent = "Searching…";
    return fetch(panel.dataset.url + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.error || "HTTP " + response.status);
          }
          return body;
        });
      })
      .then(function (result) {
        lastResult = result;
        status.textContent = result.method + " over " + result.points + " points in " + result.bands.length +
          " band(s), " + result.frequencies + " frequencies" +
          (result.false_alarm_level === null ? " (no false-alarm level for several bands)"
                                             : "; dashed: 1% false-alarm level") +
          (Object.keys(result.left_out_bands || {}).length ? "; left out (too few points to fit): " +
            Object.keys(result.left_out_bands).map(function (b) {
              return b + " (" + result.left_out_bands[b] + ")";
            }).join(", ") : "");
        listBest(result);
        foldInput.value = result.best.length ? result.best[0].period.toFixed(8) : "";
        return drawPeriodogram(result).then(fold);
      })
      .then(function () {
        panel.setAttribute("data-searched", "1");
      })
      .catch(function (error) {
        status.textContent = "Period search failed: " + error.message;
        panel.setAttribute("data-error", "1");
      });
  }

  function ready() {
    buildChoices();
    document.getElementById("bhtom-period-form").addEventListener("submit", run);
    document.getElementById("bhtom-fold").addEventListener("click", fold);
  }

  if (window.bhtomSurveyFigure) {
    ready();
  } else {
    document.addEventListener("bhtom:figure", ready, {once: true});
  }
}());
