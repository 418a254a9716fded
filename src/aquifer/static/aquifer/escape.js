/*
 * The one way Aquifer's scripts build HTML from data: every interpolated value is escaped.
 *
 *   Aquifer.esc(value)            -> the value as HTML text ("" for null/undefined)
 *   Aquifer.html`<b>${name}</b>`  -> the template (a string) with each ${…} escaped
 *   Aquifer.raw(fragment)         -> marks a fragment made by Aquifer.html, so that it can be
 *                                    interpolated into another Aquifer.html template unescaped
 *
 * So a record named `<img src=x onerror=…>` shows as that text in a popup or tooltip, never as
 * markup. HTML is built only from Aquifer.html results (joined with +, or nested with raw()).
 * Load this file before any script that uses it (map.js, analysis-map.js, health-map.js).
 */
(function () {
  "use strict";

  var REPLACEMENTS = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };

  function Raw(text) { this.text = String(text); }

  function esc(value) {
    if (value instanceof Raw) return value.text;
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"']/g, function (c) { return REPLACEMENTS[c]; });
  }

  function html(strings) {
    var out = strings[0];
    for (var i = 1; i < strings.length; i++) {
      out += esc(arguments[i]) + strings[i];
    }
    return out;
  }

  window.Aquifer = window.Aquifer || {};
  window.Aquifer.esc = esc;
  window.Aquifer.html = html;
  window.Aquifer.raw = function (fragment) { return new Raw(fragment); };
})();
