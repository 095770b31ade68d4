// Keyboard triage for the review desk (docs/review.md has the map). No inline handlers: the CSP forbids them.
(function () {
  "use strict";
  var selectedPk = null;
  var advanceFrom = null; // after a decision swaps a row in place, move on to the next one

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr.row")); }
  function selectedRow() { return selectedPk ? document.getElementById("row-" + selectedPk) : null; }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    selectedPk = row ? row.dataset.pk : null;
    if (row) {
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  // A decided row whose new status is not one this view shows (say, confirmed in "Open") stays visible, dimmed,
  // until the next j/k: so the reviewer sees what was just done, and then moves on through undecided rows only.
  function viewStatuses() {
    var table = document.getElementById("queue");
    return table && table.dataset.viewStatuses ? table.dataset.viewStatuses.split(" ") : null;
  }

  function markLeftView() {
    var statuses = viewStatuses();
    if (!statuses) return;
    rows().forEach(function (r) { r.classList.toggle("left-view", statuses.indexOf(r.dataset.status) < 0); });
  }

  function dropLeftView() {
    var current = selectedRow();
    rows().forEach(function (r) { if (r !== current && r.classList.contains("left-view")) r.remove(); });
  }

  function move(step) {
    dropLeftView();
    var list = rows();
    if (!list.length) return;
    var i = list.indexOf(selectedRow());
    var next = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(i + step, 0), list.length - 1);
    select(list[next]);
  }

  // The form a key acts on: the selected queue row's, else the listing page's decision form.
  function scope() {
    var row = selectedRow();
    if (row) return row.querySelector("form");
    return document.getElementById("decide-form");
  }

  function press(key) {
    var form = scope();
    if (!form) return;
    var button = form.querySelector('button[data-key="' + key + '"]');
    if (!button) return;
    if (selectedRow()) advanceFrom = selectedPk;
    button.click();
  }

  function showError(message) {
    var main = document.getElementById("main");
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    main.insertBefore(p, main.firstChild);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target.matches && target.matches("input, select, textarea");
    if (typing) {
      if (event.key === "Escape") target.blur();
      // Enter in a note box adds the note (never submits a decision by accident).
      if (event.key === "Enter" && target.classList.contains("note")) {
        event.preventDefault();
        var noteButton = target.form && target.form.querySelector('button[data-key="note"]');
        if (noteButton && target.value.trim()) {
          if (selectedRow()) advanceFrom = null;
          noteButton.click();
        }
      }
      return;
    }
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "c": press("c"); break;
      case "d": press("d"); break;
      case "e": press("e"); break;
      case "n": {
        var form = scope();
        var note = form && form.querySelector("input.note");
        if (!note) return;
        note.focus();
        break;
      }
      case "/": {
        var search = document.getElementById("search");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "Enter":
      case "o": {
        var row = selectedRow();
        if (!row) return;
        window.location.href = row.dataset.href;
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  // Clicking a row (outside its controls) selects it, so mouse and keyboard can be mixed.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#queue tbody tr.row");
    if (row && !event.target.closest("a, button, input, select, label")) select(row);
  });

  document.addEventListener("htmx:afterSettle", function () {
    markLeftView();
    if (selectedPk && !selectedRow()) selectedPk = null;
    var row = selectedRow();
    if (row && advanceFrom === selectedPk) {
      var later = rows().slice(rows().indexOf(row) + 1).filter(function (r) { return !r.classList.contains("left-view"); });
      select(later[0] || row);
    } else if (row) {
      select(row); // re-mark the swapped-in row
    }
    advanceFrom = null;
  });

  document.addEventListener("htmx:responseError", function (event) {
    advanceFrom = null;
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
      var p = doc.querySelector("main p");
      text = p ? p.textContent : "";
    } catch (e) { /* fall through to the status code */ }
    showError("Not recorded (HTTP " + event.detail.xhr.status + "): " + (text || "server error"));
  });
})();
