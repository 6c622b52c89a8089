// Loaded before the page renders (not deferred): marks that scripts run, so that the CSS may hide the fields that
// do not apply (they all show when scripts are off).
document.documentElement.classList.add("js");
