// The "Survey light curves" figure: one request for every stored point (columns, see export.plot_payload),
// one WebGL trace per survey, bandpass and kind (detection / limit); magnitudes on an inverted axis above,
// fluxes (radio, mJy) in their own panel below; x in UTC dates, MJD on hover.
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

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function traceFor(spec) {
    var unit = spec.flux ? spec.unit : "mag";
    var value = spec.limit ? "limit " + (spec.flux ? "< " : "> ") + "%{y:.3f} " + unit
                           : "%{y:.3f} ± %{customdata[1]} " + unit;
    return {
      type: "scattergl", mode: "markers", x: [], y: [], customdata: [],
      name: spec.bandpass + (spec.limit ? " limit" : ""),
      legendgroup: spec.source, legendgrouptitle: {text: spec.source},
      yaxis: spec.flux ? "y2" : "y",
      marker: {symbol: spec.symbol, color: spec.colour, size: spec.limit ? 8 : 6,
               line: {color: spec.colour, width: 1}},
      error_y: {type: "data", array: [], visible: !spec.limit, thickness: 1, width: 0, color: spec.colour},
      hovertemplate: "<b>" + escapeHtml(spec.source) + "</b> " + escapeHtml(spec.bandpass) +
        "<br>%{x|%Y-%m-%d %H:%M:%S} UTC" +
        "<br>MJD %{customdata[0]:.5f}<br>" + value + "<br>%{customdata[2]}<extra></extra>"
    };
  }

  function figure(payload) {
    var points = payload.points;
    var traces = payload.traces.map(traceFor);
    for (var k = 0; k < points.mjd.length; k++) {
      var trace = traces[points.trace[k]];
      trace.x.push(new Date((points.mjd[k] - UNIX_EPOCH_MJD) * 86400000).toISOString());
      trace.y.push(points.y[k]);
      trace.error_y.array.push(points.error[k]);
      trace.customdata.push([points.mjd[k], points.error[k] === null ? "" : points.error[k],
                             payload.notes[points.note[k]]]);
    }
    var hasFlux = payload.traces.some(function (t) { return t.flux; });
    var layout = {
      margin: {l: 60, r: 10, t: 10, b: 50}, height: hasFlux ? 620 : 480, hovermode: "closest",
      legend: {groupclick: "toggleitem"},
      xaxis: {type: "date", title: {text: "UTC"}},
      yaxis: {title: {text: "magnitude"}, autorange: "reversed", domain: hasFlux ? [0.34, 1] : [0, 1]}
    };
    if (hasFlux) {
      layout.yaxis2 = {title: {text: "flux (mJy)"}, domain: [0, 0.24], anchor: "x"};
    }
    return {data: traces, layout: layout};
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
        return loadPlotly().then(function () {
          var fig = figure(payload);
          container.innerHTML = "";
          return window.Plotly.newPlot(container, fig.data, fig.layout, {responsive: true, displaylogo: false});
        });
      })
      .then(function () {
        container.setAttribute("data-rendered-traces", String(container.data.length));
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
          window.Plotly.Plots.resize(container);
        }
      });
    });
  }
}());
