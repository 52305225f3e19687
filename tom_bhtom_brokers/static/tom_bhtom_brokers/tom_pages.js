// Two things on TOM's own pages, which TOM 3.1 offers no setting for (its navbar template and its target form are
// fixed; an app may only add navbar items, which is how this script reaches every page):
// 1. The Data Services menu lists every data service, ours one per archive: with over twelve entries it is laid out
//    in two compact columns, so the menu fits an 800 px screen and TOM's "Saved Queries" stays reachable.
// 2. TOM's target form renders each EXTRA_FIELDS "string" as a tall textarea labelled by Django's re-casing
//    ("Ztf name"): the survey-name fields become one-line inputs labelled as written, with their example, and the
//    browser refuses a value that breaks the field's rule (survey_names.BROWSER_PATTERNS, the tab's form's rules).
(function () {
  "use strict";
  var LONG_MENU = 12;

  function compactDataServicesMenu() {
    var style = document.createElement("style");
    // two columns where the navbar is expanded (Bootstrap's md and up); a collapsed navbar on a phone scrolls
    style.textContent =
      "@media (min-width: 768px) {" +
      ".navbar .dropdown-menu.bhtom-long-menu { columns: 2; column-gap: 0; min-width: 26rem; }" +
      ".navbar .dropdown-menu.bhtom-long-menu > * { break-inside: avoid; } }" +
      ".navbar .dropdown-menu.bhtom-long-menu .nav-link { padding-top: .2rem; padding-bottom: .2rem; }";
    document.head.appendChild(style);
    document.querySelectorAll(".navbar .dropdown-menu").forEach(function (menu) {
      var services = menu.querySelectorAll("a[href*='data_service=']").length;
      if (services > LONG_MENU) {
        menu.classList.add("bhtom-long-menu");
        menu.setAttribute("data-bhtom-services", String(services));
      }
    });
  }

  function surveyNameFields() {
    var source = document.getElementById("bhtom-name-fields");
    if (!source) {
      return;
    }
    JSON.parse(source.textContent).forEach(function (field) {
      var area = document.querySelector("textarea[name='" + CSS.escape(field.label) + "']");
      if (!area) {
        return;
      }
      var input = document.createElement("input");
      input.type = "text";
      input.name = area.name;
      input.id = area.id;
      input.value = area.value.trim();
      input.className = "form-control bhtom-survey-name";
      // a name pasted with spaces around it is the name: accepted, and trimmed as the field is left (the
      // brokers read names trimmed too)
      input.pattern = "\\s*(?:" + field.pattern + ")\\s*";
      input.addEventListener("change", function () {
        input.value = input.value.trim();
      });
      input.title = field.refusal;
      input.maxLength = 500;
      // the refusal is said under the field, as the tab's own form says it (the browser's bubble fades)
      var feedback = document.createElement("div");
      feedback.className = "invalid-feedback bhtom-field-error";
      feedback.textContent = field.refusal;
      input.addEventListener("input", function () {
        input.setCustomValidity("");
        if (input.checkValidity()) {
          input.classList.remove("is-invalid");
        }
      });
      input.addEventListener("invalid", function () {
        input.setCustomValidity(field.refusal);
        input.classList.add("is-invalid");
      });
      area.replaceWith(input);
      var label = document.querySelector("label[for='" + CSS.escape(input.id) + "']");
      if (label) {
        label.textContent = field.label;
      }
      var help = document.createElement("div");
      help.className = "form-text";
      help.textContent = field.help;
      input.insertAdjacentElement("afterend", help);
      input.insertAdjacentElement("afterend", feedback);
    });
  }

  // 3. TOM's target page lists the survey names in a narrow column (dl.row, half of it for the value): a 19-digit
  //    Gaia DR3 id or an ASAS-SN URL ran under the tab beside it. They wrap, whole on hover (and copied whole).
  function wrapSurveyNames() {
    var source = document.getElementById("bhtom-name-fields");
    if (!source) {
      return;
    }
    var labels = JSON.parse(source.textContent).map(function (field) { return field.label; });
    Array.prototype.forEach.call(document.querySelectorAll("dl.row > dt"), function (term) {
      var value = term.nextElementSibling;
      if (labels.indexOf(term.textContent.trim()) < 0 || !value || value.tagName !== "DD") {
        return;
      }
      value.style.overflowWrap = "anywhere";
      value.style.minWidth = "0";
      value.title = value.textContent.trim();
      value.classList.add("bhtom-survey-name-value");
    });
  }

  function run() {
    compactDataServicesMenu();
    surveyNameFields();
    wrapSurveyNames();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
}());
