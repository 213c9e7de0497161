"""The demo page at GET /: a moderator types a text and sees the six scores as bars.

The script is served separately (`/demo.js`) so the page's Content-Security-Policy can forbid
inline scripts; nothing is loaded from anywhere else.
"""

from __future__ import annotations

DEMO_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Toxicity scores</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
  textarea { width: 100%; height: 6rem; font-size: 1rem; }
  .row { display: flex; align-items: center; margin: .3rem 0; }
  .name { width: 10rem; }
  .track { flex: 1; background: #eee; height: 1.2rem; }
  .fill { background: #c0392b; height: 100%; width: 0; }
  .value { width: 4rem; text-align: right; font-variant-numeric: tabular-nums; }
  pre { background: #f6f6f6; padding: .6rem; white-space: pre-wrap; }
  #error { color: #c0392b; }
  #highlighted { white-space: pre-wrap; line-height: 1.6; }
  mark { background: #f5b7b1; }
</style>
</head>
<body>
<h1>Toxicity scores</h1>
<label for="text">Text</label>
<textarea id="text" placeholder="Type a comment"></textarea>
<p><label>API key (if the server needs one) <input id="key" type="password" autocomplete="off"></label></p>
<button id="score" type="button">Score</button>
<p id="error" role="alert"></p>
<div id="bars"></div>
<h2>Toxic spans</h2>
<p id="highlighted"></p>
<h2>Request sent</h2>
<pre id="request"></pre>
<script src="/demo.js"></script>
</body>
</html>
"""

DEMO_SCRIPT = """"use strict";
const LABELS = ["toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat"];
const bars = document.getElementById("bars");
for (const label of LABELS) {
  const row = document.createElement("div");
  row.className = "row";
  row.dataset.label = label;
  for (const part of ["name", "track", "value"]) {
    const cell = document.createElement("span");
    cell.className = part;
    if (part === "track") {
      const fill = document.createElement("span");
      fill.className = "fill";
      cell.appendChild(fill);
    }
    row.appendChild(cell);
  }
  row.querySelector(".name").textContent = label;
  bars.appendChild(row);
}
document.getElementById("score").addEventListener("click", async () => {
  const text = document.getElementById("text").value;
  const body = JSON.stringify({text: text, spans: true});
  const headers = {"Content-Type": "application/json"};
  const key = document.getElementById("key").value;
  if (key) headers["Authorization"] = "Bearer " + key;
  document.getElementById("request").textContent =
    "POST /predict\\nContent-Type: application/json\\n\\n" + body;
  document.getElementById("error").textContent = "";
  const answer = await fetch("/predict", {method: "POST", headers, body});
  const payload = await answer.json();
  if (!answer.ok) {
    document.getElementById("error").textContent = payload.error ? payload.error.message : answer.status;
    return;
  }
  for (const label of LABELS) {
    const row = bars.querySelector('[data-label="' + label + '"]');
    const value = payload.response[label];
    row.querySelector(".fill").style.width = (100 * value).toFixed(1) + "%";
    row.querySelector(".value").textContent = value.toFixed(3);
  }
  // The scored text with its toxic spans marked (offsets are code points, as the server counts).
  const shown = document.getElementById("highlighted");
  shown.replaceChildren();
  const points = Array.from(text);
  let at = 0;
  for (const span of payload.spans || []) {
    shown.append(points.slice(at, span.begin).join(""));
    const mark = document.createElement("mark");
    mark.textContent = points.slice(span.begin, span.end).join("");
    mark.title = "score " + span.score.toFixed(3);
    shown.append(mark);
    at = span.end;
  }
  shown.append(points.slice(at).join(""));
  document.body.dataset.scored = "true";
});
"""
