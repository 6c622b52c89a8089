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
})();
