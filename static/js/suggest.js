// Suggestions under the search box while a reader types: actors, events and headlines
// from /api/suggesties/. The WAI-ARIA 1.2 combobox pattern with a listbox: focus stays
// in the text field, arrow keys move the active option (aria-activedescendant), Enter
// opens it, Escape closes the list (a second Escape empties the field). Without this
// script the search box is the plain form it always was.
(function () {
  "use strict";

  var MIN_LETTERS = 2;
  var MAX_CHARS = 100; // the server offers nothing for longer input
  var DELAY = 150; // ms of quiet after a keystroke before asking
  var KINDS = { actor: "Actor", event: "Gebeurtenis", piece: "Stuk" };
  var LETTERS = /[\p{L}\p{N}]/gu;

  function setUp(input) {
    var form = input.form;
    var endpoint = input.getAttribute("data-suggest-url");
    if (!form || !endpoint || !window.fetch || !window.AbortController) {
      return;
    }
    var listId = input.id + "-suggesties";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggesties");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    form.classList.add("has-suggestions");
    form.appendChild(list);
    form.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    // The browser's own list of earlier entries would cover ours.
    input.setAttribute("autocomplete", "off");

    var items = []; // {url, element}
    var active = -1;
    var timer = null;
    var request = null;
    var shownFor = null; // the text the list was made for

    function letters(text) {
      var found = text.match(LETTERS);
      return found ? found.length : 0;
    }

    function announce(text) {
      status.textContent = text;
    }

    function setActive(index) {
      if (active >= 0 && items[active]) {
        items[active].element.classList.remove("is-active");
        items[active].element.setAttribute("aria-selected", "false");
      }
      active = index;
      if (active < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      var element = items[active].element;
      element.classList.add("is-active");
      element.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", element.id);
      element.scrollIntoView({ block: "nearest" });
    }

    function open() {
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function close() {
      setActive(-1);
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function isOpen() {
      return !list.hidden;
    }

    function cancel() {
      clearTimeout(timer);
      if (request) {
        request.abort();
        request = null;
      }
    }

    function option(suggestion, index) {
      var element = document.createElement("li");
      element.id = listId + "-" + index;
      element.className = "suggestion suggestion-" + suggestion.kind;
      element.setAttribute("role", "option");
      element.setAttribute("aria-selected", "false");
      var label = document.createElement("span");
      label.className = "suggestion-label";
      label.textContent = suggestion.label;
      var about = document.createElement("span");
      about.className = "suggestion-detail";
      var kind = document.createElement("span");
      kind.className = "suggestion-kind";
      kind.textContent = KINDS[suggestion.kind] || suggestion.kind;
      about.appendChild(kind);
      if (suggestion.detail) {
        about.appendChild(document.createTextNode(" " + suggestion.detail));
      }
      element.appendChild(label);
      element.appendChild(about);
      return element;
    }

    function show(text, suggestions) {
      setActive(-1);
      list.textContent = "";
      items = suggestions.map(function (suggestion, index) {
        var element = option(suggestion, index);
        list.appendChild(element);
        return { url: suggestion.url, element: element };
      });
      shownFor = text;
      if (items.length) {
        open();
        announce(items.length === 1 ? "1 suggestie" : items.length + " suggesties");
      } else {
        close();
        announce("Geen suggesties");
      }
    }

    function clear() {
      cancel();
      items = [];
      list.textContent = "";
      shownFor = null;
      close();
    }

    function ask(text) {
      cancel();
      var url;
      try {
        url = endpoint + "?q=" + encodeURIComponent(text);
      } catch (error) {
        clear(); // a lone surrogate (pasted): no URL can carry it
        return;
      }
      request = new AbortController();
      var signal = request.signal;
      fetch(url, {
        headers: { Accept: "application/json" },
        signal: signal,
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          // Typing went on while this was on its way: a newer request answers.
          if (signal.aborted || input.value !== text) {
            return;
          }
          request = null;
          if (data && Array.isArray(data.suggestions)) {
            show(text, data.suggestions);
          } else {
            clear();
          }
        })
        .catch(function () {
          // Aborted, offline or refused (too many requests): the form still works.
        });
    }

    function changed() {
      var text = input.value;
      if (text === shownFor) {
        return;
      }
      if (letters(text) < MIN_LETTERS || text.length > MAX_CHARS) {
        clear();
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(function () {
        ask(text);
      }, DELAY);
    }

    function go(index) {
      var url = items[index] && items[index].url;
      if (url) {
        close();
        window.location.assign(url);
      }
    }

    input.addEventListener("input", changed);

    input.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      switch (event.key) {
        case "ArrowDown":
          if (!items.length) {
            return;
          }
          event.preventDefault();
          if (!isOpen()) {
            open();
          }
          setActive(active + 1 < items.length ? active + 1 : 0);
          break;
        case "ArrowUp":
          if (!items.length) {
            return;
          }
          event.preventDefault();
          if (!isOpen()) {
            open();
          }
          setActive(active > 0 ? active - 1 : items.length - 1);
          break;
        case "Enter":
          // With no option chosen, Enter submits the search as it always did.
          if (isOpen() && active >= 0) {
            event.preventDefault();
            go(active);
          } else {
            cancel();
            close();
          }
          break;
        case "Escape":
          // Our own handling: a search field would otherwise empty itself at once.
          event.preventDefault();
          if (isOpen()) {
            cancel();
            close();
          } else if (input.value) {
            input.value = "";
            clear();
          }
          break;
        default:
          break;
      }
    });

    // Keep the focus in the text field when an option is pressed.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var element = event.target.closest("[role=option]");
      if (element) {
        go(items.findIndex(function (item) {
          return item.element === element;
        }));
      }
    });

    input.addEventListener("blur", function () {
      cancel();
      close();
    });
    input.addEventListener("focus", function () {
      if (items.length && input.value === shownFor) {
        open();
      }
    });
    form.addEventListener("submit", function () {
      cancel();
      close();
    });
  }

  var input = document.getElementById("zoekveld");
  if (input) {
    setUp(input);
  }
})();
