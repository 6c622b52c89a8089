// Copy buttons: <button data-copy="id of a field" hidden>. They appear only when the browser can copy; without
// them (or without scripts) the read-only field stays selectable. The result is announced in #copie-statut.
(function () {
  "use strict";

  var status = document.getElementById("copie-statut");

  function announce(text) {
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }

  function selectAll(field) {
    field.focus();
    field.select();
  }

  document.querySelectorAll("[readonly].secret").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });

  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var label = field.labels && field.labels.length ? field.labels[0].textContent.trim() : "Le texte";
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () { announce(label + " : copié dans le presse-papiers."); },
        function () {
          selectAll(field);
          announce("Copie impossible : le texte est sélectionné, copiez-le avec Ctrl+C (ou Cmd+C).");
        }
      );
    });
  });
})();
