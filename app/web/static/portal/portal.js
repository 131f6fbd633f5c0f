// Progressive enhancement only: every flow works without this file.
// Move keyboard focus to the error summary so screen readers announce the problems first.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
