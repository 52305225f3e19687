// The "Survey light curves" figure: one request for every stored point (columns, see export.plot_payload),
// one WebGL trace per survey, bandpass and kind (detection / limit); magnitudes on an inverted axis above,
// fluxes (radio, mJy) in their own panel below, each panel with its own UTC date axis (zoomed together);
// colours and markers from plot_style.py (payload.traces); the legend below, grouped by survey.
(function () {
  "use strict";
  var container = document.getElementById("bhtom-lightcurve-plot");
  if (!container) {
    return;
  }

  function loadPlotly() {
    if (window.Plotly) {
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = container.dataset.plotlyUrl;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load plotly.js")); };
      document.head.appendChild(script);
    });
  }

  var UNIX_EPOCH_MJD = 40587;
  var lastPayload = null;

  function toDate(mjd) {
    return new Date((mjd - UNIX_EPOCH_MJD) * 86400000).toISOString();
  }

  // plotly's pseudo-HTML knows &amp; &lt; &gt; and numeric entities, not &quot;
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}[c];
    });
  }

  function traceFor(spec) {
    var unit = spec.flux ? spec.unit : "mag";
    var value = spec.limit ? "limit " + (spec.flux ? "< " : "> ") + "%{y:.3f} " + unit
                           : "%{y:.3f} ± %{customdata[1]} " + unit;
    return {
      type: "scattergl", mode: "markers", x: [], y: [], customdata: [],
      // legend entries are rendered as (plotly's subset of) HTML: a bandpass or source name from an upload is text
      name: escapeHtml(spec.bandpass) + (spec.difference ? " difference" : "") + (spec.forced ? " forced" : "") +
        (spec.limit ? " limit" : ""),
      legendgroup: spec.source, legendgrouptitle: {text: escapeHtml(spec.source)},
      yaxis: spec.flux ? "y2" : "y",
      marker: {symbol: spec.symbol, color: spec.colour, size: spec.limit ? 8 : 6,
               line: {color: spec.colour, width: 1}},
      error_y: {type: "data", array: [], visible: !spec.limit, thickness: 1, width: 0, color: spec.colour},
      hovertemplate: "<b>" + escapeHtml(spec.source) + "</b> " + escapeHtml(spec.bandpass) +
        "<br>%{x|%Y-%m-%d %H:%M:%S} UTC" +
        "<br>MJD %{customdata[0]:.5f}<br>" + value + "<br>%{customdata[2]}<extra></extra>"
    };
  }

  // the newest points (those of each band's latest survey change) ringed in red, one overlay per panel
  function newestRings(points, specs) {
    var rings = [false, true].map(function (flux) {
      return {type: "scattergl", mode: "markers", x: [], y: [], name: "newest points", legendgroup: "newest",
              showlegend: !flux, hoverinfo: "skip", xaxis: flux ? "x2" : "x", yaxis: flux ? "y2" : "y",
              marker: {symbol: "circle-open", size: 13, color: "#d62728", line: {width: 2, color: "#d62728"}}};
    });
    (points.new || []).forEach(function (k) {
      var ring = rings[specs[points.trace[k]].flux ? 1 : 0];
      ring.x.push(toDate(points.mjd[k]));
      ring.y.push(points.y[k]);
    });
    return rings.filter(function (ring) { return ring.x.length; });
  }

  function figure(payload) {
    var points = payload.points;
    var traces = payload.traces.map(traceFor);
    for (var k = 0; k < points.mjd.length; k++) {
      var trace = traces[points.trace[k]];
      trace.x.push(toDate(points.mjd[k]));
      trace.y.push(points.y[k]);
      trace.error_y.array.push(points.error[k]);
      trace.customdata.push([points.mjd[k], points.error[k] === null ? "" : points.error[k],
                             payload.notes[points.note[k]]]);
    }
    var hasFlux = payload.traces.some(function (t) { return t.flux; });
    traces.forEach(function (trace, k) {
      if (payload.traces[k].flux) {
        trace.xaxis = "x2";
      }
    });
    traces = traces.concat(newestRings(points, payload.traces));
    // the legend lies below the figure, one block per survey (its title, then its bands), across the full width,
    // shown even for one trace; fitLegend then sizes the figure to it so the panels keep their height
    var layout = {
      margin: {l: 60, r: 10, t: 10}, hovermode: "closest", showlegend: true,
      legend: {orientation: "h", x: 0, xanchor: "left", yanchor: "top", yref: "container",
               groupclick: "toggleitem", tracegroupgap: 12},
      xaxis: {type: "date", title: {text: hasFlux ? "" : "UTC"}, anchor: "y", showticklabels: true},
      yaxis: {title: {text: "magnitude"}, autorange: "reversed", domain: hasFlux ? [0.42, 1] : [0, 1], anchor: "x"}
    };
    if (hasFlux) {
      // the flux panel has its own date axis, bound to the magnitudes' one so zooming either zooms both
      layout.xaxis2 = {type: "date", title: {text: "UTC"}, matches: "x", anchor: "y2", showticklabels: true};
      layout.yaxis2 = {title: {text: "flux (mJy)"}, domain: [0, 0.28], anchor: "x2"};
    }
    placeLegend(layout, hasFlux, 300);  // a first guess at the legend's height: fitLegend corrects it
    return {data: traces, layout: layout};
  }

  // pixels from the top: the panels end at PANELS, their date labels and the "UTC" title take AXIS_LABELS, then
  // the legend
  var PANELS = {true: 560, false: 420}, AXIS_LABELS = 55;

  function placeLegend(layout, hasFlux, legendHeight) {
    var panels = PANELS[hasFlux];
    layout.height = panels + AXIS_LABELS + legendHeight + 10;
    layout.margin.b = layout.height - panels;
    layout.legend.y = (layout.height - panels - AXIS_LABELS) / layout.height;
  }

  // the legend's height is known once drawn (it depends on the width): make the figure exactly that much taller
  function fitLegend() {
    var legend = container.querySelector(".legend");
    if (!legend) {
      return null;
    }
    var layout = container.layout, height = Math.ceil(legend.getBBox().height);
    var hasFlux = Boolean(layout.yaxis2);
    if (Math.abs(layout.height - (PANELS[hasFlux] + AXIS_LABELS + height + 10)) < 4) {
      return null;
    }
    var update = {margin: Object.assign({}, layout.margin), legend: Object.assign({}, layout.legend)};
    placeLegend(update, hasFlux, height);
    return window.Plotly.relayout(container, {"height": update.height, "margin.b": update.margin.b,
                                              "legend.y": update.legend.y});
  }

  function draw() {
    return fetch(container.dataset.url, {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the light curve request failed (HTTP " + response.status + ")");
        }
        return response.json();
      })
      .then(function (payload) {
        lastPayload = payload;
        return loadPlotly().then(function () {
          var fig = figure(payload);
          container.innerHTML = "";
          return window.Plotly.newPlot(container, fig.data, fig.layout, {responsive: true, displaylogo: false});
        }).then(fitLegend);
      })
      .then(function () {
        container.setAttribute("data-rendered-traces", String(container.data.length));
        // the period panel (period_search.js) folds the same points with the same trace styles
        window.bhtomSurveyFigure = {payload: lastPayload, traceFor: traceFor, toDate: toDate, escapeHtml: escapeHtml};
        document.dispatchEvent(new CustomEvent("bhtom:figure"));
      })
      .catch(function (error) {
        container.textContent = "Could not draw the survey light curves: " + error.message;
        container.setAttribute("data-error", "1");
      });
  }

  // The tab is hidden when the page loads: draw now, resize when it is shown.
  var drawn = draw();
  var tabLink = document.getElementById("survey-light-curves-tab");
  if (tabLink) {
    tabLink.addEventListener("shown.bs.tab", function () {
      drawn.then(function () {
        if (window.Plotly && container.data) {
          window.Plotly.Plots.resize(container).then(fitLegend);
        }
      });
    });
  }
}());
