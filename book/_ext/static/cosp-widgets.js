// What the ipywidgets HTML manager needs from a page that uses MathJax 3 (the book's pages and the slides).
//
// 1. The manager typesets a widget's label with MathJax 2's call, MathJax.Hub.Queue(["Typeset", MathJax.Hub, node]),
//    which fails under MathJax 3 ("Cannot read properties of undefined (reading 'Queue')"). Give it that call,
//    done with MathJax 3's typesetPromise.
// 2. Figures drawn inside a widget (an explorer's output area) keep their text alternative in the page's widget state,
//    which the manager does not copy onto the image it draws. Copy it there, as each image appears.
(function () {
  "use strict";

  function provideHubQueue() {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub) return;
    mathjax.Hub = {
      Queue: function (job) {
        var node = Array.isArray(job) ? job[2] : undefined;
        if (window.MathJax && window.MathJax.typesetPromise) {
          window.MathJax.typesetPromise(node ? [node] : undefined).catch(function () {});
        }
      }
    };
  }

  var PREFIX = "data:image/png;base64,";
  var alts = new Map();

  function collectAlts() {
    var scripts = document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]');
    scripts.forEach(function (script) {
      var state = JSON.parse(script.textContent).state || {};
      Object.keys(state).forEach(function (id) {
        var outputs = (state[id].state && state[id].state.outputs) || [];
        outputs.forEach(function (output) {
          var png = output.data && output.data["image/png"];
          var meta = output.metadata && output.metadata["image/png"];
          if (png && meta && meta.alt) alts.set(String(png).replace(/\s/g, ""), meta.alt);
        });
      });
    });
  }

  function labelImages() {
    document.querySelectorAll('img[src^="' + PREFIX + '"]:not([alt])').forEach(function (img) {
      var alt = alts.get(img.getAttribute("src").slice(PREFIX.length).replace(/\s/g, ""));
      if (alt) img.alt = alt;
    });
  }

  provideHubQueue();  // MathJax 3 has replaced the configuration object by now if it loaded before this script
  document.addEventListener("DOMContentLoaded", function () {
    provideHubQueue();
    collectAlts();
    if (alts.size === 0) return;
    labelImages();
    new MutationObserver(labelImages).observe(document.body, { childList: true, subtree: true });
  });
})();
