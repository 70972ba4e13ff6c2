// suit's review page: sessions of `suit serve` (/v1/sessions), their
// events, and the pending step's hunks to accept or reject. Every action is
// one call of the HTTP API (see the README). Text from the repository and
// the model is untrusted: it is only ever set as textContent, or given to
// highlight.js, which escapes it and adds only its own spans.
"use strict";

const LEVELS = ["tab", "edit", "file", "repo", "auto"];
const $ = (id) => document.getElementById(id);

let key = sessionStorage.getItem("suit-key") || "";
let current = null; // the session shown
let view = null; // its latest SessionView
let events = []; // its events, in order
let streaming = null; // AbortController of its event stream
let focus = 0; // the focused hunk
let shownReview = ""; // the review last drawn, to keep focus across redraws
let shownStep = null; // the step of the review last drawn

function say(text) {
  $("status").textContent = text;
}

function headers(json) {
  const h = {};
  if (key) h["Authorization"] = "Bearer " + key;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    $("key-label").hidden = false;
    throw new Error("this server needs its API key: enter it above");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(data && data.error ? data.error.message : "HTTP " + response.status);
  }
  return data;
}

function element(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

// --- the session list and the new-session form

async function refreshList() {
  let list;
  try {
    list = await api("GET", "/v1/sessions");
  } catch (e) {
    say(e.message);
    return;
  }
  const ul = $("sessions");
  ul.replaceChildren();
  for (const s of list.data) {
    const li = element("li");
    const button = element("button", s.id + ": " + s.task.slice(0, 60) + " (" + s.state + ")");
    button.setAttribute("aria-current", s.id === current ? "true" : "false");
    button.addEventListener("click", () => select(s.id));
    li.append(button);
    ul.append(li);
  }
}

$("new-session").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const list = (text, sep) => text.split(sep).map((s) => s.trim()).filter((s) => s);
  const request = {
    task: form.get("task"),
    repo: form.get("repo"),
    autonomy: form.get("autonomy"),
    files: list(form.get("files"), ","),
    checks: list(form.get("checks"), "\n"),
  };
  const steps = parseInt(form.get("max_steps"), 10);
  if (steps > 0) request.max_steps = steps;
  try {
    const created = await api("POST", "/v1/sessions", request);
    localStorage.setItem("suit-repo", request.repo);
    say("Session " + created.id + " started.");
    await select(created.id);
  } catch (e) {
    say("Not started: " + e.message);
  }
});

$("key").addEventListener("change", (event) => {
  key = event.target.value;
  sessionStorage.setItem("suit-key", key);
  refreshList();
});

// --- one session: its view, its event stream

async function select(id) {
  if (streaming) streaming.abort();
  current = id;
  view = null;
  events = [];
  focus = 0;
  shownReview = "";
  shownStep = null;
  $("session").hidden = false;
  streaming = new AbortController();
  stream(id, streaming.signal);
  await refresh();
  refreshList();
}

async function refresh() {
  if (!current) return;
  try {
    view = await api("GET", "/v1/sessions/" + current);
  } catch (e) {
    say(e.message);
    return;
  }
  render();
}

// Server-sent events read with fetch (so the key can go in a header);
// after a broken connection the stream resumes with Last-Event-ID.
async function stream(id, signal) {
  let last = null;
  while (!signal.aborted) {
    try {
      const h = headers(false);
      if (last !== null) h["Last-Event-ID"] = String(last);
      const response = await fetch("/v1/sessions/" + id + "/events", { headers: h, signal });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let index = null;
          let data = null;
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) index = parseInt(line.slice(4), 10);
            else if (line.startsWith("data: ")) data = line.slice(6);
          }
          if (data !== null && index === events.length) {
            last = index;
            events.push(JSON.parse(data));
            scheduleRender();
          }
        }
      }
      await refresh();
      if (view && view.state === "finished") return;
    } catch (e) {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  setTimeout(async () => {
    pending = false;
    await refresh();
  }, 100);
}

// Other tabs decide too: while a step waits, the view is read twice a second.
setInterval(() => {
  if (current && view && view.state !== "finished") refresh();
}, 500);
setInterval(refreshList, 3000);

function render() {
  if (!view) return;
  $("task").textContent = view.task;
  const outcome = view.outcome ? ", " + view.outcome.replace("_", " ") : "";
  $("meta").textContent = view.repo + " · " + view.state + outcome + " · " + view.events + " events";
  $("autonomy").textContent = view.autonomy;
  const over = view.state === "finished";
  for (const id of ["up", "down", "stop"]) $(id).disabled = over;
  renderReview();
  renderTimeline();
  renderContext();
  renderChecks();
  renderUsage();
}

function renderReview() {
  const review = view.state === "review" ? view.review : null;
  $("review").hidden = !review;
  const drawn = JSON.stringify(review);
  if (drawn === shownReview) return;
  shownReview = drawn;
  const box = $("hunks");
  box.replaceChildren();
  if (!review) return;
  const all = review.files.flatMap((f) => f.hunks.map((h, i) => ({ file: f, hunk: h, i })));
  $("review-title").textContent =
    "Step " + review.step + ": " + all.length + " hunk(s) in " + review.files.length + " file(s)";
  $("escalation").hidden = !review.escalation;
  $("escalation").textContent = review.escalation ? "Sent to you by the policy gate: " + review.escalation : "";
  // A new step takes the focus to its first hunk.
  const fresh = review.step !== shownStep;
  shownStep = review.step;
  if (fresh) focus = 0;
  focus = Math.min(focus, all.length - 1);
  all.forEach(({ file, hunk, i }, n) => {
    const item = element("div", undefined, "hunk" + (hunk.verdict ? " " + hunk.verdict : ""));
    item.setAttribute("role", "listitem");
    item.tabIndex = n === focus ? 0 : -1;
    item.dataset.index = String(n);
    const label = file.path + ", hunk " + (i + 1) + " of " + file.hunks.length + " (+" + hunk.added + " −" + hunk.removed + ")";
    item.setAttribute("aria-label", label + (hunk.verdict ? ", " + hunk.verdict + "ed" : ", undecided"));
    item.append(element("h4", label + (hunk.verdict ? ": " + hunk.verdict + "ed" : "")));
    const pre = element("pre");
    const language = languageOf(file.path);
    for (const line of hunk.text.split("\n")) {
      if (!line) continue;
      const kind = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "at" : "ctx";
      const row = element("span", undefined, kind);
      if (kind === "at") row.textContent = line;
      else row.append(line[0], highlighted(line.slice(1), language));
      row.append("\n");
      pre.append(row);
    }
    item.append(pre);
    const accept = element("button", "Accept (a)");
    accept.addEventListener("click", () => decide(hunk.id, "accept"));
    const reject = element("button", "Reject (r)");
    reject.addEventListener("click", () => decide(hunk.id, "reject"));
    accept.disabled = reject.disabled = Boolean(hunk.verdict);
    accept.setAttribute("aria-label", "Accept " + label);
    reject.setAttribute("aria-label", "Reject " + label);
    item.append(accept, reject);
    item.addEventListener("focus", () => (focus = n));
    box.append(item);
  });
  moveFocus(0, fresh);
}

/** highlight.js's name for a file's language, from its extension. */
const LANGUAGES = {
  py: "python", rs: "rust", js: "javascript", mjs: "javascript", cjs: "javascript", jsx: "javascript",
  ts: "typescript", tsx: "typescript", go: "go", c: "c", h: "c", cc: "cpp", cpp: "cpp", hpp: "cpp",
  java: "java", kt: "kotlin", cs: "csharp", rb: "ruby", php: "php", swift: "swift", lua: "lua",
  sh: "bash", bash: "bash", json: "json", toml: "ini", ini: "ini", yaml: "yaml", yml: "yaml",
  md: "markdown", css: "css", scss: "scss", html: "xml", xml: "xml", sql: "sql", r: "r",
};

function languageOf(path) {
  const name = path.split("/").pop().toLowerCase();
  if (name === "makefile") return "makefile";
  const language = LANGUAGES[name.includes(".") ? name.split(".").pop() : ""];
  return language && window.hljs && hljs.getLanguage(language) ? language : null;
}

/** A line of code, coloured when its language is known. highlight.js
 * escapes the text it is given, so its markup holds the line only as text. */
function highlighted(code, language) {
  const out = document.createElement("span");
  if (!language) {
    out.textContent = code;
    return out;
  }
  out.innerHTML = hljs.highlight(code, { language, ignoreIllegals: true }).value;
  return out;
}

function hunkItems() {
  return Array.from(document.querySelectorAll("#hunks .hunk"));
}

function moveFocus(delta, announce) {
  const items = hunkItems();
  if (!items.length) return;
  focus = Math.max(0, Math.min(items.length - 1, focus + delta));
  items.forEach((item, n) => (item.tabIndex = n === focus ? 0 : -1));
  items[focus].classList.add("focused");
  items.forEach((item, n) => n !== focus && item.classList.remove("focused"));
  if (announce || document.activeElement === document.body || items.includes(document.activeElement)) {
    items[focus].focus();
  }
}

async function decide(id, verdict) {
  const body = { hunks: [{ id, verdict }] };
  const note = $("note").value.trim();
  const open = view.review.files.flatMap((f) => f.hunks).filter((h) => !h.verdict);
  if (note && open.length === 1) body.note = note;
  try {
    await api("POST", "/v1/sessions/" + current + "/review", body);
    say("Hunk " + verdict + "ed.");
    if (open.length === 1) $("note").value = "";
  } catch (e) {
    say(e.message);
  }
  await refresh();
  const next = hunkItems().findIndex((item, n) => n > focus && !item.classList.contains("accept") && !item.classList.contains("reject"));
  if (next > 0) moveFocus(next - focus, true);
}

function stepLine(e) {
  switch (e.event) {
    case "step_started": return "Step " + e.step + " started at " + e.autonomy + ".";
    case "proposal": return "Candidate " + e.candidate + ": " + (e.text.split("\n")[0] || "").slice(0, 140);
    case "edit_failed": return "Candidate " + e.candidate + " not usable: " + e.reason.split("\n")[0];
    case "candidate_checked": return "Candidate " + e.candidate + (e.passed ? " passed the checks" : " failed" + (e.failing !== undefined ? " (" + e.failing + " failing)" : "")) + ", " + e.changed_lines + " lines.";
    case "strategy_changed": return "Not kept: " + e.reason.split("\n")[0] + " Next: " + e.strategy + ".";
    case "diff": return "Proposed: " + e.files.map((f) => f.path + " +" + f.added + " −" + f.removed).join(", ") + (e.verified ? " (verified)" : "");
    case "approval": return "Decision: " + e.decision.decision + (e.decision.hunks ? " (hunks " + e.decision.hunks.join(", ") + ")" : "") + " by " + e.by + ".";
    case "applied": return "Written as checkpoint " + e.checkpoint + ".";
    case "check_result": return "Check `" + e.outcome.command + "`: " + e.outcome.status.status + ".";
    case "rolled_back": return "Rolled back: " + e.reason;
    case "finished": return "Finished: " + e.summary;
    default: return null;
  }
}

function renderTimeline() {
  const ol = $("timeline");
  const lines = events.map(stepLine).filter((l) => l !== null);
  if (ol.childElementCount === lines.length) return;
  ol.replaceChildren(...lines.map((l) => element("li", l)));
}

function renderContext() {
  const summary = events.filter((e) => e.event === "context_summary").pop();
  const body = $("context").tBodies[0];
  body.replaceChildren();
  if (!summary) return;
  for (const s of summary.segments) {
    const tr = element("tr");
    tr.append(element("td", s.source), element("td", s.trusted ? "yes" : "no"), element("td", String(s.tokens)), element("td", s.shortened ? "yes" : "no"));
    body.append(tr);
  }
  $("context-box").querySelector("summary").textContent =
    "Context window of step " + summary.step + ": " + summary.tokens + " of " + summary.budget + " tokens";
}

function renderChecks() {
  const checks = events.filter((e) => e.event === "check_result").slice(-3);
  const box = $("checks");
  if (box.childElementCount === checks.length * 2) return;
  box.replaceChildren();
  for (const c of checks) {
    box.append(element("h4", "Step " + c.step + ": `" + c.outcome.command + "` " + c.outcome.status.status));
    box.append(element("pre", c.outcome.output || "(no output)"));
  }
}

function renderUsage() {
  let tokens = 0;
  let cost = 0;
  for (const e of events) {
    if (e.event === "usage") {
      tokens += e.prompt_tokens + e.completion_tokens;
      cost += e.cost_usd;
    }
  }
  $("usage").textContent = "Model use so far: " + tokens + " tokens, $" + cost.toFixed(4) + ".";
}

// --- the slider, undo, stop

async function slide(delta) {
  if (!view || view.state === "finished") return;
  const level = LEVELS[Math.max(0, Math.min(LEVELS.length - 1, LEVELS.indexOf(view.autonomy) + delta))];
  try {
    await api("POST", "/v1/sessions/" + current + "/autonomy", { autonomy: level });
    say("Autonomy from the next step: " + level + ".");
  } catch (e) {
    say(e.message);
  }
  await refresh();
}

async function undo() {
  if (!current) return;
  try {
    const undone = await api("POST", "/v1/sessions/" + current + "/undo", { steps: 1 });
    say("Undone: checkpoint " + undone.checkpoints.join(", ") + ".");
  } catch (e) {
    say("Not undone: " + e.message);
  }
  await refresh();
}

$("up").addEventListener("click", () => slide(1));
$("down").addEventListener("click", () => slide(-1));
$("undo").addEventListener("click", undo);
$("stop").addEventListener("click", async () => {
  try {
    await api("POST", "/v1/sessions/" + current + "/stop", {});
    say("Stopped.");
  } catch (e) {
    say(e.message);
  }
  await refresh();
});

document.addEventListener("keydown", (event) => {
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.ctrlKey || event.metaKey || event.altKey) return;
  const items = hunkItems();
  const hunk = () => view && view.review && view.review.files.flatMap((f) => f.hunks)[focus];
  switch (event.key) {
    case "j": moveFocus(1, true); break;
    case "k": moveFocus(-1, true); break;
    case "a": if (items.length && hunk()) decide(hunk().id, "accept"); break;
    case "r": if (items.length && hunk()) decide(hunk().id, "reject"); break;
    case "u": undo(); break;
    case "+": slide(1); break;
    case "-": slide(-1); break;
    default: return;
  }
  event.preventDefault();
});

const params = new URLSearchParams(location.search);
$("new-session").elements.repo.value = localStorage.getItem("suit-repo") || "";
refreshList();
if (params.get("session")) select(params.get("session"));
