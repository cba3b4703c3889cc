// Live count of the contacts matching a segment's criteria while the editor builds them.
(function () {
  function start(output) {
    const form = output.closest("form");
    let timer = null;
    let running = null;
    function update() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (running) running.abort();
        running = new AbortController();
        fetch(output.dataset.segmentCountUrl, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          signal: running.signal,
        })
          .then(function (response) { return response.json(); })
          .then(function (data) { output.textContent = data.message; })
          .catch(function (error) { if (error.name !== "AbortError") output.textContent = ""; });
      }, 400);
    }
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    // Adding, removing or moving criteria changes the form's elements without input events.
    // The count's own text is left out, or every answer would ask again.
    new MutationObserver(function (records) {
      if (records.some(function (record) { return !output.contains(record.target); })) update();
    }).observe(form, { subtree: true, childList: true });
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-segment-count-url]").forEach(start);
  });
})();
