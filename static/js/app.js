// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";

  // Phone navigation: the menu button appears only when scripts run, and toggles the menu.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("navigation-principale");
  if (toggle && nav) {
    toggle.hidden = false;
    nav.classList.add("collapsible");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      nav.classList.toggle("open", !open);
    });
  }

  // Move focus to the error summary of a form sent back with errors, so that it is announced.
  var summary = document.getElementById("erreurs-formulaire");
  if (summary) {
    summary.focus();
  }

  // Buttons that ask for confirmation before a consequential action: data-confirm="Message".
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // The htmx request carries the CSRF token from the cookie-less meta-free form field.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) {
      event.detail.headers["X-CSRFToken"] = token.value;
    }
  });
  // Drafts of long forms (data-draft-key): every answer is kept on this device as it is typed, so that a lost
  // connection, a closed tab or a failed submit loses nothing. The saved page clears the draft (data-draft-clear).
  var DRAFT_PREFIX = "brouillon:";
  var DRAFT_MAX_AGE = 7 * 24 * 3600 * 1000;

  function readDraft(key) {
    try {
      var draft = JSON.parse(window.localStorage.getItem(DRAFT_PREFIX + key) || "null");
      if (draft && Date.now() - draft.savedAt < DRAFT_MAX_AGE) {
        return draft;
      }
    } catch (error) { /* storage refused or corrupt: no draft */ }
    return null;
  }

  function clearDraft(key) {
    try { window.localStorage.removeItem(DRAFT_PREFIX + key); } catch (error) { /* nothing to clear */ }
  }

  function serialise(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.name || element.name === "csrfmiddlewaretoken" || element.type === "submit") { return; }
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) { return; }
      (values[element.name] = values[element.name] || []).push(element.value);
    });
    return values;
  }

  function sameValues(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function restore(form, values) {
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.name || element.name === "csrfmiddlewaretoken") { return; }
      var wanted = values[element.name] || [];
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = wanted.indexOf(element.value) !== -1;
      } else if (element.tagName === "SELECT" && element.multiple) {
        Array.prototype.forEach.call(element.options, function (option) {
          option.selected = wanted.indexOf(option.value) !== -1;
        });
      } else if (element.type !== "file") {
        element.value = wanted.length ? wanted[0] : "";
      }
    });
    // Let the page show the fields that apply to the restored answers.
    var controller = form.querySelector("[hx-post]");
    if (controller && window.htmx) { window.htmx.trigger(controller, "change"); }
  }

  document.querySelectorAll("[data-draft-clear]").forEach(function (marker) {
    clearDraft(marker.getAttribute("data-draft-clear"));
  });

  document.querySelectorAll("form[data-draft-key]").forEach(function (form) {
    var key = form.getAttribute("data-draft-key");
    var pristine = serialise(form);
    var banner = document.getElementById("brouillon");
    var offline = document.getElementById("hors-connexion");
    var draft = readDraft(key);
    var returnedWithErrors = !!document.getElementById("erreurs-formulaire");
    if (draft && banner && !returnedWithErrors && !sameValues(draft.values, pristine)) {
      var when = banner.querySelector("[data-draft-date]");
      if (when) { when.textContent = " le " + new Date(draft.savedAt).toLocaleString("fr-FR"); }
      banner.hidden = false;
      banner.querySelector("[data-draft-restore]").addEventListener("click", function () {
        restore(form, draft.values);
        banner.hidden = true;
        var first = form.querySelector("input, select, textarea");
        if (first) { first.focus(); }
      });
      banner.querySelector("[data-draft-discard]").addEventListener("click", function () {
        clearDraft(key);
        banner.hidden = true;
      });
    }
    var timer = null;
    function save() {
      var values = serialise(form);
      if (sameValues(values, pristine)) { return; }
      try {
        window.localStorage.setItem(DRAFT_PREFIX + key, JSON.stringify({ savedAt: Date.now(), values: values }));
      } catch (error) { /* storage full or refused: the form still works */ }
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 400);
    });
    form.addEventListener("change", save);
    form.addEventListener("submit", function (event) {
      save();
      if (navigator.onLine === false && offline) {
        event.preventDefault();
        offline.hidden = false;
        offline.focus();
      }
    });
    window.addEventListener("online", function () { if (offline) { offline.hidden = true; } });
  });
})();
