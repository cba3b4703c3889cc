// Keeps a campaign's progress page up to date: asks for its figures every 2 seconds until
// the campaign has ended.
(function () {
  const EVERY = 2000;

  function valueAt(data, path) {
    return path.split(".").reduce(function (value, key) {
      return value == null ? value : value[key];
    }, data);
  }

  function show(root, data) {
    const locale = document.documentElement.lang || undefined;
    root.querySelectorAll("[data-wp-progress]").forEach(function (element) {
      const key = element.dataset.wpProgress;
      if (key === "status") {
        element.textContent = data.status_label;
        element.className = element.className.replace(
          /wp-campaign-status--\S+/, "wp-campaign-status--" + data.status
        );
        return;
      }
      const value = valueAt(data, key);
      if (element.dataset.wpTemplate) {
        element.hidden = !value;
        element.textContent = element.dataset.wpTemplate.replace("%(at)s", value);
        return;
      }
      element.textContent = Number(value).toLocaleString(locale);
      const row = element.closest(".wp-figures__reason");
      if (row) row.hidden = !value;
    });
    root.querySelectorAll("[data-wp-progress-when]").forEach(function (form) {
      form.hidden = form.dataset.wpProgressWhen.split(" ").indexOf(data.status) < 0;
    });
  }

  function follow(root) {
    const url = root.dataset.wpProgressUrl;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.statusText);
          return response.json();
        })
        .then(function (data) {
          show(root, data);
          if (!data.ended) setTimeout(poll, EVERY);
        })
        .catch(function () { setTimeout(poll, EVERY * 5); });
    }
    setTimeout(poll, EVERY);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-wp-progress-url]").forEach(function (root) {
      if (root.dataset.wpProgressUrl) follow(root);
    });
  });
})();
