// The dashboard's only script: asks before a form changes anything, keeps an execution's page
// up to date from the daemon's event stream, and follows a running attempt's log.
"use strict";

document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

(function liveExecution() {
  var live = document.getElementById("live");
  if (!live) return;
  var banner = document.getElementById("connection");
  var kinds = live.getAttribute("data-kinds").split(" ");
  var source = null;
  var fetching = null;
  var again = false;
  var pollTimer = null;

  function follow() {
    var summary = live.querySelector("[data-follow]");
    return summary ? summary.getAttribute("data-follow") : "done";
  }

  function say(text) {
    if (banner) banner.textContent = text;
  }

  // Fetches the live part again and swaps it in, keeping open <details> and focus where they were.
  function refresh() {
    if (fetching) {
      again = true;
      return fetching;
    }
    fetching = fetch(live.getAttribute("data-fragment"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected || response.status === 401) {
          window.location.reload();
          throw new Error("logged out");
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        var open = Array.prototype.map.call(live.querySelectorAll("details[open]"), function (d) { return d.id; });
        var focused = document.activeElement && live.contains(document.activeElement) ? document.activeElement.id : null;
        live.innerHTML = text;
        open.forEach(function (id) {
          var d = id && document.getElementById(id);
          if (d) d.open = true;
        });
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      })
      .catch(function () {
        say("Could not fetch the execution; retrying…");
      })
      .then(function () {
        fetching = null;
        if (again) {
          again = false;
          return refresh();
        }
        settle();
      });
    return fetching;
  }

  // Decides, from the page as it is now, whether to stream, poll or stop.
  function settle() {
    var mode = follow();
    if (mode === "stream" && !source) connect();
    if (mode !== "stream" && source) {
      source.close();
      source = null;
    }
    if (mode === "wait" && !pollTimer) {
      say("Waiting for a person: retry a failed step or cancel.");
      pollTimer = window.setInterval(refresh, 5000);
    }
    if (mode !== "wait" && pollTimer) {
      window.clearInterval(pollTimer);
      pollTimer = null;
    }
    if (mode === "done") {
      say("");
      var cancel = document.getElementById("cancel");
      if (cancel) cancel.hidden = true;
    }
  }

  function connect() {
    source = new EventSource(live.getAttribute("data-events"));
    source.onopen = function () {
      say("Live: following the execution's events.");
    };
    kinds.forEach(function (kind) {
      source.addEventListener(kind, refresh);
    });
    // The stream ends with the execution, or the connection was lost: catch up, then decide.
    source.onerror = function () {
      if (source) source.close();
      source = null;
      say("Connection lost; reconnecting…");
      window.setTimeout(refresh, 1000);
    };
  }

  settle();
})();

(function followLog() {
  var log = document.getElementById("log");
  if (!log || !log.getAttribute("data-stream")) return;
  var ended = false;
  // The stream starts from the log's first line: it replaces what the page was sent with.
  function follow() {
    var source = new EventSource(log.getAttribute("data-stream"));
    var fresh = true;
    source.addEventListener("lines", function (event) {
      var entry = JSON.parse(event.data).data;
      if (fresh) {
        log.textContent = "";
        fresh = false;
        var empty = document.getElementById("log-empty");
        if (empty) empty.remove();
      }
      log.appendChild(document.createTextNode(entry.lines.join("\n") + "\n"));
    });
    source.addEventListener("end", function () {
      ended = true;
      source.close();
    });
    source.onerror = function () {
      source.close();
      if (!ended) window.setTimeout(follow, 1000);
    };
  }
  follow();
})();
