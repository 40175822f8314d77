// The tabadul console: a client of the node's public HTTP API (/api/v1), nothing more.
//
// Security: the session token lives in sessionStorage (gone with the tab) and is sent in the
// Authorization header, never in a cookie, so another site cannot make the browser act with
// it (no CSRF); the server's Content-Security-Policy allows scripts from this origin only,
// and every piece of data is put into the page as text, never as HTML. No personal data goes
// into a URL: searches and checks are sent in request bodies; routes name views and ids.

import {
  ACTIONS, CATEGORIES, DOC_STATUSES, DOC_TYPES, GENDERS, HANDLING, HIT_LEVEL_AR, INSTRUCTIONS_AR, LINK_KINDS, MARKERS,
  MESSAGES, ROLES, VALUES,
} from "./i18n.js";

const SESSION_KEY = "tabadul.session";
const state = {
  session: readJson(sessionStorage, SESSION_KEY),
  lang: localStorage.getItem("tabadul.lang") === "ar" ? "ar" : "en",
  notice: null,
  agencies: null,
  // The node's status (GET /api/v1/node), read once a session: on a border post it says so.
  node: undefined,
};

function readJson(storage, key) {
  try {
    return JSON.parse(storage.getItem(key) || "null");
  } catch {
    return null;
  }
}

// --- words -----------------------------------------------------------------------------

function t(key) {
  return MESSAGES[state.lang][key] ?? MESSAGES.en[key] ?? key;
}

function v(value) {
  return VALUES[state.lang][value] ?? value;
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "ar" ? "rtl" : "ltr";
  document.title = t("app.name");
}

// --- the page, built as elements (data only ever as text) -----------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let fieldCount = 0;

/// A labelled control; `control` is an element without an id.
function field(label, control, hint) {
  const id = `f${++fieldCount}`;
  control.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

function input(name, attrs = {}) {
  return h("input", { name, type: "text", autocomplete: "off", ...attrs });
}

function select(name, options, { value = "", empty = null } = {}) {
  return h(
    "select",
    { name },
    empty !== null ? h("option", { value: "" }, empty) : null,
    options.map((o) => h("option", { value: o, selected: o === value }, v(o))),
  );
}

function checkboxes(name, legend, options, chosen = []) {
  return h(
    "fieldset",
    { class: "checks" },
    h("legend", {}, legend),
    options.map((o) => {
      const id = `f${++fieldCount}`;
      return h(
        "span",
        { class: "check" },
        h("input", { type: "checkbox", id, name, value: o, checked: chosen.includes(o) }),
        h("label", { for: id }, v(o)),
      );
    }),
  );
}

function chosen(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function list(text) {
  return text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

/// Text in its own script and direction (a name in Arabic inside an English page).
function bidi(text) {
  return h("bdi", { dir: "auto" }, text);
}

/// Text that reads left to right whatever the page's direction: ISO dates, codes, numbers.
function ltr(text) {
  return h("bdi", { dir: "ltr" }, text);
}

function when(unixUs) {
  if (unixUs === null || unixUs === undefined) return "";
  return new Date(unixUs / 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function shortId(id) {
  return String(id).slice(-12);
}

/// Replaces what `el` holds with `content` (elements, text, arrays of them).
function put(el, ...content) {
  el.replaceChildren(...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

function status(message, kind = "info") {
  return h("p", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
}

// --- the API ----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body, contentType = "application/json") {
  const headers = { Accept: "application/json" };
  if (state.session) headers.Authorization = `Bearer ${state.session.token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType;
    payload = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const response = await fetch(path, { method, headers, body: payload, cache: "no-store", credentials: "omit" });
  if (response.status === 401 && state.session && !path.endsWith("/sessions")) {
    endSession(true);
    throw new ApiError(401, "unauthenticated", t("login.expired"));
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, data?.code ?? "error", data?.message ?? response.statusText);
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, val] of Object.entries(params)) if (val !== "" && val !== null && val !== undefined) q.set(k, val);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/// Runs `work` with the button disabled; shows its error in `out`.
async function busy(control, out, work) {
  if (control.disabled) return; // already at work: a second click or scan waits for the first
  control.disabled = true;
  const isButton = control.tagName === "BUTTON";
  const label = control.textContent;
  if (isButton) control.textContent = t("busy");
  control.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (error) {
    put(out, status(`${t("error")}: ${error.message}`, "error"));
  } finally {
    control.disabled = false;
    control.removeAttribute("aria-busy");
    if (isButton) control.textContent = label;
  }
}

// --- session ----------------------------------------------------------------------------

let expiryTimer = null;

function startSession(session) {
  state.session = session;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  watchExpiry();
}

function watchExpiry() {
  clearTimeout(expiryTimer);
  if (!state.session) return;
  const left = Date.parse(state.session.expires_at) - Date.now();
  if (!(left > 0)) {
    endSession(true);
    return;
  }
  expiryTimer = setTimeout(() => endSession(true), Math.min(left, 2 ** 31 - 1));
}

function endSession(expired) {
  state.session = null;
  state.agencies = null;
  state.node = undefined;
  sessionStorage.removeItem(SESSION_KEY);
  clearTimeout(expiryTimer);
  state.notice = expired ? t("login.expired") : null;
  location.hash = "#/login";
  render();
}

async function logout() {
  try {
    await api("DELETE", "/api/v1/sessions");
  } catch {
    // The token may have expired already; the session ends either way.
  }
  endSession(false);
}

function has(...roles) {
  return Boolean(state.session) && roles.some((r) => state.session.roles.includes(r));
}

async function agencies() {
  if (!state.agencies) state.agencies = await api("GET", "/api/v1/agencies");
  return state.agencies;
}

// --- views ------------------------------------------------------------------------------

const VIEWS = [
  { route: "check", label: "nav.check", roles: ["officer"], view: checkView },
  { route: "dashboard", label: "nav.dashboard", roles: ["analyst", "supervisor", "auditor"], view: dashboardView },
  { route: "alerts", label: "nav.alerts", roles: ["analyst"], view: alertsView },
  { route: "inbox", label: "nav.inbox", roles: ["analyst"], view: inboxView },
  { route: "manifests", label: "nav.manifests", roles: ["analyst", "officer"], view: manifestsView },
  { route: "agreements", label: "nav.agreements", roles: ["supervisor", "administrator"], view: agreementsView },
  { route: "users", label: "nav.users", roles: ["supervisor", "administrator"], view: usersView },
  { route: "audit", label: "nav.audit", roles: ["auditor"], view: auditView },
];

function render() {
  applyLanguage();
  const header = document.getElementById("top");
  const main = document.getElementById("main");
  document.querySelector(".skip").textContent = t("skip");
  const languageButton = h(
    "button",
    { type: "button", class: "lang", lang: state.lang === "ar" ? "en" : "ar", "aria-label": t("lang.switch.label"), onclick: switchLanguage },
    t("lang.switch"),
  );
  if (!state.session) {
    put(header, h("div", { class: "brand" }, h("span", { class: "logo" }, t("app.name"))), languageButton);
    put(main, loginView());
    return;
  }
  const allowed = VIEWS.filter((item) => has(...item.roles));
  const route = location.hash.replace(/^#\//, "").split("/")[0];
  const current = allowed.find((item) => item.route === route) ?? allowed[0];
  put(header, 
    h(
      "div",
      { class: "brand" },
      h("span", { class: "logo" }, t("app.name")),
      h("span", { class: "agency" }, state.session.agency),
      h("span", { id: "replica-badge" }, replicaBadge()),
    ),
    h(
      "nav",
      { "aria-label": t("nav.label") },
      h(
        "ul",
        {},
        allowed.map((item) =>
          h("li", {}, h("a", { href: `#/${item.route}`, "aria-current": item === current ? "page" : false }, t(item.label))),
        ),
      ),
    ),
    h(
      "div",
      { class: "who" },
      h("span", {}, `${t("signed.in.as")} `, h("strong", { class: "user" }, state.session.user)),
      languageButton,
      h("button", { type: "button", class: "secondary", onclick: logout }, t("logout")),
    ),
  );
  put(main, current ? current.view() : status(t("none")));
  if (state.node === undefined) loadNode();
}

// Why a person hit, in the console's language (the engine writes both).
function explanation(hit) {
  return state.lang === "ar" && hit.explanation_ar?.length ? hit.explanation_ar : hit.explanation;
}

// A border post's officers see that they work on a replica of their national node, and how
// far its data goes (hover: the last change of each origin applied).
function replicaBadge() {
  const replica = state.node?.replica;
  if (!replica) return null;
  const version = replica.data_version.map((d) => `${d.owner} #${d.seq}`).join(", ");
  return h(
    "span",
    { class: "replica", title: `${t("replica.data")}: ${version || "-"}` },
    `${t("replica.post")} ${replica.post} · ${t("replica.of")} ${replica.agency}`,
  );
}

async function loadNode() {
  state.node = null;
  try {
    state.node = await api("GET", "/api/v1/node");
  } catch {
    return;
  }
  const slot = document.getElementById("replica-badge");
  if (slot) put(slot, replicaBadge());
}

function switchLanguage() {
  state.lang = state.lang === "ar" ? "en" : "ar";
  localStorage.setItem("tabadul.lang", state.lang);
  render();
}

function loginView() {
  const out = h("div", { "aria-live": "polite" }, state.notice ? status(state.notice, "warning") : null);
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, t("login.title")),
    h("p", { class: "tagline" }, t("app.tagline")),
    field(t("login.user"), input("user", { autocomplete: "username", required: true, autofocus: true })),
    field(t("login.password"), input("password", { type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, t("login.submit")),
    out,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    busy(button, out, async () => {
      const session = await api("POST", "/api/v1/sessions", {
        user: form.elements.user.value.trim(),
        password: form.elements.password.value,
      });
      state.notice = null;
      startSession(session);
      location.hash = "#/";
      render();
    });
  });
  return form;
}

// --- border check -----------------------------------------------------------------------

const MRZ_SHAPES = [[44, 2], [36, 2], [30, 3]];

function completeMrz(text) {
  const lines = text.toUpperCase().split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return MRZ_SHAPES.some(([width, count]) => lines.length === count && lines.every((l) => l.length === width));
}

function checkView() {
  const out = h("section", { class: "result", "aria-live": "polite", "aria-label": t("check.title") });
  const post = input("post", { value: localStorage.getItem("tabadul.post") || "", required: true });
  const mrz = h("textarea", { name: "mrz", rows: 3, spellcheck: "false", autocapitalize: "characters", class: "mrz", dir: "ltr" });
  const form = h(
    "form",
    { class: "card check-form", "aria-labelledby": "check-title" },
    h("h1", { id: "check-title" }, t("check.title")),
    field(t("check.post"), post),
    field(t("check.mrz"), mrz, t("check.mrz.hint")),
    h(
      "fieldset",
      {},
      h("legend", {}, t("check.or")),
      h(
        "div",
        { class: "grid" },
        field(t("check.name"), input("name", { dir: "auto" })),
        field(t("check.birth"), input("birth", { inputmode: "numeric", dir: "ltr" })),
        field(t("check.nationality"), input("nationality", { maxlength: 3, dir: "ltr" })),
        field(t("check.document"), input("document", { dir: "ltr" })),
        field(t("check.document.state"), input("documentState", { maxlength: 3, dir: "ltr" })),
      ),
    ),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, t("check.submit")),
      h("button", { type: "reset", class: "secondary" }, t("check.clear")),
    ),
  );
  form.addEventListener("reset", () => {
    put(out, );
    setTimeout(() => {
      post.value = localStorage.getItem("tabadul.post") || "";
      mrz.focus();
    });
  });
  // A passport reader types the zone like a keyboard: check as soon as it is complete.
  let lastZone = "";
  mrz.addEventListener("input", () => {
    const zone = mrz.value.trim();
    if (zone !== lastZone && completeMrz(zone) && post.value.trim()) {
      lastZone = zone;
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = { post: f.post.value.trim() };
    if (f.mrz.value.trim()) body.mrz = f.mrz.value.trim();
    if (f.name.value.trim()) body.names = [f.name.value.trim()];
    if (f.birth.value.trim()) body.birth_dates = [f.birth.value.trim()];
    if (f.nationality.value.trim()) body.nationalities = [f.nationality.value.trim().toUpperCase()];
    if (f.document.value.trim()) body.document_number = f.document.value.trim();
    if (f.documentState.value.trim()) body.document_state = f.documentState.value.trim().toUpperCase();
    if (!body.mrz && !body.names && !body.document_number) {
      put(out, status(t("check.need"), "warning"));
      return;
    }
    localStorage.setItem("tabadul.post", body.post);
    busy(form.querySelector("button[type=submit]"), out, async () => {
      const answer = await api("POST", "/api/v1/checks", body);
      put(out, checkResult(answer));
      out.querySelector("h2")?.focus();
    });
  });
  setTimeout(() => (post.value ? mrz : post).focus());
  agencies().catch(() => {}); // owners' names for the answers; the check works without them
  return h("div", {}, form, out);
}

function checkResult(answer) {
  const { check, receipt } = answer;
  const result = check.result;
  const traveller = check.traveller;
  const parts = [];
  const seen = [
    traveller.names?.map(bidi),
    traveller.birth_dates?.length ? ltr(traveller.birth_dates.join(", ")) : null,
    traveller.nationalities?.join(", "),
    traveller.document ? ltr(`${traveller.document.number} (${traveller.document.issuing_state ?? "?"})`) : null,
  ].filter((p) => p && (!Array.isArray(p) || p.length));
  parts.push(h("p", { class: "traveller" }, h("strong", {}, `${t("check.traveller")}: `), seen.map((p, i) => [i ? " · " : "", p])));
  if (traveller.mrz) {
    const m = traveller.mrz;
    const words = m.checks_valid ? t("check.mrz.valid") : t("check.mrz.invalid");
    parts.push(status(`${m.format}: ${words}${m.diagnostics?.length ? ` — ${m.diagnostics.join("; ")}` : ""}`, m.checks_valid ? "info" : "warning"));
    if (m.expired) parts.push(status(t("check.mrz.expired"), "warning"));
  }
  const total = result.documents.length + result.persons.length + result.vehicles.length;
  if (total === 0) parts.push(h("h2", { tabindex: -1, class: "clear" }, t("check.clear.result")));
  const sections = [["check.documents", result.documents, false], ["check.persons", result.persons, true], ["check.vehicles", result.vehicles, false]];
  for (const [key, hits, person] of sections) {
    if (!hits.length) continue;
    parts.push(h("h2", { tabindex: -1 }, `${t(key)} (${hits.length})`));
    parts.push(hits.map((hit) => hitCard(hit, person)));
  }
  parts.push(
    h("p", { class: "receipt" }, `${t("check.receipt")}: `, h("code", { class: "receipt-id" }, receipt.id), ` · audit #${receipt.audit_seq}`),
  );
  return parts;
}

function hitCard(hit, person = true) {
  const out = h("div", { "aria-live": "polite" });
  const details = [
    [t("hit.owner"), hit.owner],
    [t("hit.level"), hit.level === "full" ? t("hit.level.full") : t("hit.level.hit")],
    hit.status ? [t("hit.status"), v(hit.status)] : null,
    hit.handling ? [t("hit.handling"), hit.handling] : null,
    hit.refer_to ? [t("hit.refer"), hit.refer_to] : null,
  ].filter(Boolean);
  // Outcomes are the checking officer's to record.
  const actions = has("officer")
    ? h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", class: "confirm", onclick: () => confirmForm(hit, out, actions) }, t(person ? "hit.confirm" : "hit.confirm.other")),
        h("button", { type: "button", class: "secondary", onclick: (e) => rejectHit(hit, out, actions, e.target) }, t(person ? "hit.reject" : "hit.reject.other")),
      )
    : null;
  return h(
    "article",
    { class: `hit action-${hit.action}`, "data-hit": hit.hit_id, "data-alert": hit.alert_id },
    h(
      "header",
      {},
      h("span", { class: "badge" }, v(hit.action)),
      hit.category ? h("strong", {}, v(hit.category)) : null,
      hit.score !== undefined ? h("span", { class: "score" }, `${t("hit.score")} ${hit.score.toFixed(2)}`) : null,
    ),
    instruction(hit),
    hit.markers?.length ? h("p", { class: "markers" }, `${t("hit.markers")}: `, hit.markers.map((m) => h("span", { class: "marker" }, v(m)))) : null,
    hit.names?.length ? h("p", { class: "names" }, `${t("hit.names")}: `, hit.names.map((n, i) => [i ? " · " : "", bidi(n)])) : null,
    explanation(hit)?.length ? h("details", { open: true }, h("summary", {}, t("hit.why")), h("ul", {}, explanation(hit).map((e) => h("li", {}, bidi(e))))) : null,
    hit.remarks ? h("p", { class: "remarks" }, bidi(hit.remarks)) : null,
    h("dl", {}, details.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)])),
    actions,
    out,
  );
}

/// What to do: the node's words, or in Arabic the same said from the action and the owner.
function instruction(hit) {
  const say = INSTRUCTIONS_AR[hit.action];
  if (state.lang !== "ar" || !say) return h("p", { class: "instruction" }, hit.instruction);
  const agency = state.agencies?.find((a) => a.code === hit.owner);
  const owner = agency?.name_ar || agency?.name || hit.owner;
  const words = [hit.level === "hit" ? HIT_LEVEL_AR(owner, hit.alert_id) : null, say(owner, hit.refer_to)];
  return [
    h("p", { class: "instruction" }, words.filter(Boolean).join(" ")),
    h("p", { class: "original", lang: "en", dir: "ltr" }, hit.instruction),
  ];
}

function confirmForm(hit, out, actions) {
  const form = h(
    "form",
    { class: "inline" },
    field(t("hit.action.taken"), input("actionTaken", { required: true })),
    field(t("hit.remarks"), input("remarks")),
    h("button", { type: "submit", class: "confirm" }, t("save")),
    h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button[type=submit]"), out, async () => {
      await api("POST", `/api/v1/hits/${hit.hit_id}/confirm`, {
        action_taken: form.elements.actionTaken.value.trim(),
        remarks: form.elements.remarks.value.trim(),
      });
      actions?.remove();
      form.remove();
      put(out, status(t("hit.confirmed"), "success"));
    });
  });
  put(out, form);
  form.elements.actionTaken.focus();
}

function rejectHit(hit, out, actions, button) {
  busy(button, out, async () => {
    await api("POST", `/api/v1/hits/${hit.hit_id}/reject`, {});
    actions?.remove();
    put(out, status(t("hit.rejected"), "info"));
  });
}

// --- dashboard --------------------------------------------------------------------------

function dashboardView() {
  const out = h("div", { "aria-live": "polite" });
  const days = select("days", ["7", "30", "90", "365"], { value: "30" });
  const load = () =>
    busy(days, out, async () => {
      const board = await api("GET", `/api/v1/dashboard${query({ days: days.value })}`);
      put(out, dashboard(board));
    });
  days.addEventListener("change", load);
  load();
  return h("div", {}, h("div", { class: "card" }, h("h1", {}, `${t("dashboard.title")} — ${state.session.agency}`), field(t("dashboard.days"), days)), out);
}

function dashboard(board) {
  const tiles = [
    ["dashboard.checks", board.checks],
    ["dashboard.with.hits", board.checks_with_hits],
    ["dashboard.hits", board.hits],
    ["dashboard.confirmed", board.confirmed],
    ["dashboard.false", board.false_positives],
  ];
  const named = (key) => (key === "undisclosed" ? t("undisclosed") : v(key) || "—");
  return [
    h("p", { class: "period" }, ltr(`${board.from} — ${board.to}`)),
    h("div", { class: "tiles" }, tiles.map(([key, n]) => h("div", { class: "tile" }, h("span", { class: "n" }, String(n)), h("span", {}, t(key))))),
    h("section", { class: "card" }, h("h2", {}, t("dashboard.by.day")), dayChart(board.days)),
    h(
      "div",
      { class: "grid charts" },
      h("section", { class: "card" }, h("h2", {}, t("dashboard.by.post")), bars(board.posts, "checks", (k) => ltr(k || "—"))),
      h("section", { class: "card" }, h("h2", {}, t("dashboard.by.category")), bars(board.categories, "hits", named)),
      h("section", { class: "card" }, h("h2", {}, t("dashboard.by.action")), bars(board.actions, "hits", named)),
    ),
  ];
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, val] of Object.entries(attrs)) el.setAttribute(k, val);
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/// Checks and hits per day as bars (an SVG chart, with a table of the figures for screen readers).
function dayChart(days) {
  if (!days.some((d) => d.checks || d.hits)) return status(t("dashboard.empty"));
  const width = 720;
  const height = 180;
  const max = Math.max(1, ...days.map((d) => d.checks));
  const step = width / days.length;
  const barWidth = Math.max(1, step * 0.4);
  const rtl = state.lang === "ar";
  const x = (i) => (rtl ? width - (i + 1) * step : i * step);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height + 20}`, class: "chart", role: "img", "aria-label": t("dashboard.by.day"), direction: "ltr" },
    days.map((d, i) => [
      svg("rect", { x: x(i) + step * 0.1, y: height - (d.checks / max) * height, width: barWidth, height: (d.checks / max) * height, class: "checks" }, svg("title", {}, `${d.date}: ${d.checks} ${t("dashboard.checks")}`)),
      svg("rect", { x: x(i) + step * 0.1 + barWidth, y: height - (d.hits / max) * height, width: barWidth, height: (d.hits / max) * height, class: "hits" }, svg("title", {}, `${d.date}: ${d.hits} ${t("dashboard.hits")}`)),
    ]),
    svg("text", { x: rtl ? width : 0, y: height + 16, class: "axis", "text-anchor": rtl ? "end" : "start" }, days[0].date),
    svg("text", { x: rtl ? 0 : width, y: height + 16, class: "axis", "text-anchor": rtl ? "start" : "end" }, days[days.length - 1].date),
  );
  const legend = h("p", { class: "legend" }, h("span", { class: "swatch checks" }), t("dashboard.checks"), " ", h("span", { class: "swatch hits" }), t("dashboard.hits"));
  const table = h(
    "table",
    { class: "visually-hidden" },
    h("caption", {}, t("dashboard.by.day")),
    h("tr", {}, h("th", {}, "date"), h("th", {}, t("dashboard.checks")), h("th", {}, t("dashboard.hits"))),
    days.filter((d) => d.checks || d.hits).map((d) => h("tr", {}, h("td", {}, d.date), h("td", {}, d.checks), h("td", {}, d.hits))),
  );
  return [chart, legend, table];
}

/// Horizontal bars of one measure of tallies.
function bars(tallies, measure, name) {
  if (!tallies.length) return status(t("dashboard.empty"));
  const max = Math.max(1, ...tallies.map((tally) => tally[measure]));
  return h(
    "ul",
    { class: "bars" },
    tallies.slice(0, 12).map((tally) => {
      const bar = h("span", { class: `bar ${measure}` });
      bar.style.inlineSize = `${(tally[measure] / max) * 100}%`;
      return h("li", {}, h("span", { class: "key" }, name(tally.key)), h("span", { class: "track" }, bar), h("span", { class: "n" }, String(tally[measure])));
    }),
  );
}

// --- alerts -----------------------------------------------------------------------------

function subjectSummary(subject) {
  if (subject.kind === "person") return subject.names.map((n, i) => [i ? " · " : "", bidi(n.full)]);
  if (subject.kind === "document") return `${v(subject.doc_type)} ${subject.number} (${subject.issuing_state}) — ${v(subject.status)}`;
  return [subject.vin, subject.plate?.number ?? subject.plate].filter(Boolean).join(" · ");
}

function alertsView() {
  const out = h("div", { "aria-live": "polite" });
  const owner = h("select", { name: "owner" }, h("option", { value: "" }, t("alerts.any")));
  const category = select("category", CATEGORIES, { empty: t("alerts.any") });
  let after = null;
  const table = h("div");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("alerts.next"));
  const load = async (reset) => {
    if (reset) after = null;
    const page = await api("GET", `/api/v1/alerts${query({ owner: owner.value, category: category.value, after, limit: 50 })}`);
    if (reset) put(table, );
    table.append(alertRows(page, out));
    after = page.length === 50 ? page[page.length - 1].alert.id : null;
    more.hidden = !after;
  };
  const form = h(
    "form",
    { class: "card filters", "aria-labelledby": "alerts-title" },
    h("h1", { id: "alerts-title" }, t("alerts.title")),
    h("div", { class: "grid" }, field(t("alerts.owner"), owner), field(t("alerts.category"), category)),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, t("search")),
      h("button", { type: "button", class: "secondary", onclick: () => put(out, alertForm(null, out, () => load(true))) }, t("alerts.new")),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), out, () => load(true));
  });
  more.addEventListener("click", () => busy(more, out, () => load(false)));
  agencies().then((all) => {
    for (const a of all) owner.append(h("option", { value: a.code, selected: a.code === state.session.agency }, `${a.code} — ${state.lang === "ar" && a.name_ar ? a.name_ar : a.name}`));
    busy(form.querySelector("button[type=submit]"), out, () => load(true));
  }, (error) => put(out, status(error.message, "error")));
  return h("div", {}, form, out, h("div", { class: "card" }, table, more));
}

function alertRows(page, out) {
  if (!page.length) return status(t("alerts.empty"));
  return h(
    "table",
    { class: "list" },
    h("thead", {}, h("tr", {}, [t("alert.id"), t("alerts.category"), t("alerts.subject"), t("alerts.owner"), t("alerts.version"), ""].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      page.map((stored) => {
        const a = stored.alert;
        const mine = a.owner === state.session.agency;
        return h(
          "tr",
          {},
          h("td", {}, h("code", { title: a.id }, shortId(a.id))),
          h("td", {}, v(a.category)),
          h("td", {}, subjectSummary(a.subject)),
          h("td", {}, a.owner),
          h("td", {}, String(stored.version)),
          h(
            "td",
            { class: "row-actions" },
            h("button", { type: "button", class: "link", onclick: () => showAlert(a.id, out) }, t("show")),
            mine ? h("button", { type: "button", class: "link", onclick: () => put(out, alertForm(stored, out, () => showAlert(a.id, out))) }, t("edit")) : null,
            mine ? h("button", { type: "button", class: "link danger", onclick: (e) => deleteAlert(stored, out, e.target) }, t("delete")) : null,
          ),
        );
      }),
    ),
  );
}

async function showAlert(id, out) {
  try {
    const stored = await api("GET", `/api/v1/alerts/${id}`);
    const a = stored.alert;
    const s = a.subject;
    const rows = [
      [t("alert.id"), h("code", {}, a.id)],
      [t("alerts.owner"), a.owner],
      [t("alerts.category"), v(a.category)],
      [t("alerts.subject"), subjectSummary(s)],
      s.birth_dates?.length ? [t("alert.birth"), ltr(s.birth_dates.join(", "))] : null,
      s.nationalities?.length ? [t("alert.nationalities"), s.nationalities.join(", ")] : null,
      s.gender ? [t("alert.gender"), v(s.gender)] : null,
      s.markers?.length ? [t("alert.markers"), s.markers.map(v).join(", ")] : null,
      a.action ? [t("alert.action"), v(a.action)] : null,
      a.handling ? [t("alert.handling"), a.handling.code ?? ""] : null,
      a.expires ? [t("alert.expires"), ltr(a.expires)] : null,
      a.review_date ? [t("alert.review"), ltr(a.review_date)] : null,
      a.refer_to ? [t("alert.refer"), a.refer_to] : null,
      a.remarks ? [t("alert.remarks"), bidi(a.remarks)] : null,
      [t("alerts.version"), String(stored.version)],
    ].filter(Boolean);
    const links = stored.links ?? [];
    const panel = h(
      "section",
      { class: "card", "aria-labelledby": "alert-title" },
      h("h2", { id: "alert-title", tabindex: -1 }, v(a.category)),
      h("dl", {}, rows.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)])),
      h("h3", {}, t("alert.links")),
      links.length
        ? h("ul", {}, links.map((l) => h("li", {}, `${v(l.kind)}: `, h("code", {}, l.from === a.id ? l.to : l.from))))
        : h("p", {}, t("none")),
      linkForm(a.id, out),
    );
    put(out, panel);
    panel.querySelector("h2").focus();
  } catch (error) {
    put(out, status(error.message, "error"));
  }
}

function linkForm(id, out) {
  const msg = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "inline" },
    field(t("alert.link.to"), input("to", { required: true, dir: "ltr" })),
    field(t("alert.link.kind"), select("kind", LINK_KINDS)),
    h("button", { type: "submit" }, t("alert.link.add")),
    msg,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), msg, async () => {
      await api("POST", `/api/v1/alerts/${id}/links`, { to: form.elements.to.value.trim(), kind: form.elements.kind.value });
      await showAlert(id, out);
    });
  });
  return form;
}

async function deleteAlert(stored, out, button) {
  if (!window.confirm(t("confirm.delete"))) return;
  busy(button, out, async () => {
    await api("DELETE", `/api/v1/alerts/${stored.alert.id}${query({ version: stored.version })}`);
    button.closest("tr")?.remove();
    put(out, status(t("deleted"), "success"));
  });
}

/// The form to create an alert (`stored` null) or to edit one; fields it does not show are kept.
function alertForm(stored, out, done) {
  const a = stored?.alert;
  const s = a?.subject ?? { kind: "person" };
  const kind = select("kind", ["person", "document"], { value: s.kind === "document" ? "document" : "person" });
  kind.querySelectorAll("option").forEach((o) => (o.textContent = t(`alert.kind.${o.value}`)));
  if (a) kind.disabled = true;
  const person = h(
    "fieldset",
    { class: "person" },
    h("legend", {}, t("alert.kind.person")),
    field(t("alert.names"), h("textarea", { name: "names", rows: 3, dir: "auto", value: s.names?.map((n) => n.full).join("\n") ?? "" })),
    h(
      "div",
      { class: "grid" },
      field(t("alert.birth"), input("birth", { dir: "ltr", value: s.birth_dates?.join(", ") ?? "" })),
      field(t("alert.nationalities"), input("nationalities", { dir: "ltr", value: s.nationalities?.join(", ") ?? "" })),
      field(t("alert.gender"), select("gender", GENDERS, { value: s.gender ?? "", empty: "—" })),
    ),
    checkboxes("markers", t("alert.markers"), MARKERS, s.markers ?? []),
  );
  const documentFields = h(
    "fieldset",
    { class: "document" },
    h("legend", {}, t("alert.kind.document")),
    h(
      "div",
      { class: "grid" },
      field(t("alert.doc.number"), input("number", { dir: "ltr", value: s.number ?? "" })),
      field(t("alert.doc.state"), input("state", { dir: "ltr", maxlength: 3, value: s.issuing_state ?? "" })),
      field(t("alert.doc.type"), select("docType", DOC_TYPES, { value: s.doc_type ?? "passport" })),
      field(t("alert.doc.status"), select("docStatus", DOC_STATUSES, { value: s.status ?? "stolen-from-holder" })),
    ),
  );
  const msg = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "alert-form-title" },
    h("h2", { id: "alert-form-title", tabindex: -1 }, a ? `${t("edit")} ${shortId(a.id)}` : t("alerts.new")),
    h(
      "div",
      { class: "grid" },
      field(t("alert.kind"), kind),
      field(t("alerts.category"), select("category", CATEGORIES, { value: a?.category ?? "wanted-for-arrest" })),
      field(t("alert.action"), select("action", ACTIONS, { value: a?.action ?? "", empty: "—" })),
      field(t("alert.handling"), select("handling", HANDLING, { value: a?.handling?.code ?? "H0" })),
      field(t("alert.review"), input("review", { type: "date", value: a?.review_date ?? "" })),
      field(t("alert.expires"), input("expires", { type: "date", value: a?.expires ?? "" })),
    ),
    person,
    documentFields,
    field(t("alert.refer"), input("referTo", { value: a?.refer_to ?? "" })),
    field(t("alert.remarks"), h("textarea", { name: "remarks", rows: 2, dir: "auto", value: a?.remarks ?? "" })),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("save")), h("button", { type: "button", class: "secondary", onclick: () => put(out, ) }, t("cancel"))),
    msg,
  );
  const showKind = () => {
    person.hidden = kind.value !== "person";
    documentFields.hidden = kind.value !== "document";
  };
  kind.addEventListener("change", showKind);
  showKind();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = form.elements;
    let subject;
    if (kind.value === "person") {
      const previous = new Map((s.names ?? []).map((n) => [n.full, n]));
      subject = {
        ...(s.kind === "person" ? s : {}),
        kind: "person",
        names: f.names.value.split("\n").map((n) => n.trim()).filter(Boolean).map((full, i) => previous.get(full) ?? { full, kind: i === 0 ? "primary" : "alias" }),
        birth_dates: list(f.birth.value),
        nationalities: list(f.nationalities.value).map((c) => c.toUpperCase()),
        markers: chosen(form, "markers"),
      };
      if (f.gender.value) subject.gender = f.gender.value;
      else delete subject.gender;
    } else {
      subject = {
        ...(s.kind === "document" ? s : {}),
        kind: "document",
        number: f.number.value.trim(),
        issuing_state: f.state.value.trim().toUpperCase(),
        doc_type: f.docType.value,
        status: f.docStatus.value,
      };
    }
    const body = {
      category: f.category.value,
      subject,
      handling: { ...(a?.handling ?? {}), code: f.handling.value },
      remarks: f.remarks.value.trim(),
    };
    if (f.action.value) body.action = f.action.value;
    if (f.review.value) body.review_date = f.review.value;
    if (f.expires.value) body.expires = f.expires.value;
    if (f.referTo.value.trim()) body.refer_to = f.referTo.value.trim();
    busy(form.querySelector("button[type=submit]"), msg, async () => {
      const saved = a
        ? await api("PUT", `/api/v1/alerts/${a.id}${query({ version: stored.version })}`, body)
        : await api("POST", "/api/v1/alerts", body);
      put(msg, status(t("saved"), "success"));
      await showAlert(saved.alert.id, out);
      done?.();
    });
  });
  setTimeout(() => form.querySelector("h2").focus());
  return form;
}

// --- hit inbox --------------------------------------------------------------------------

function inboxView() {
  const out = h("div", { "aria-live": "polite" });
  const all = h("input", { type: "checkbox", id: "inbox-all" });
  const load = () =>
    busy(all, out, async () => {
      const notes = await api("GET", `/api/v1/hits/inbox${query({ all: all.checked ? "true" : "" })}`);
      put(out, notes.length ? notes.map(notification) : status(t("inbox.empty")));
    });
  all.addEventListener("change", load);
  load();
  return h("div", {}, h("div", { class: "card" }, h("h1", {}, t("inbox.title")), h("span", { class: "check" }, all, h("label", { for: "inbox-all" }, t("inbox.all")))), out);
}

function notification(note) {
  const msg = h("div", { "aria-live": "polite" });
  const traveller = note.traveller ?? {};
  const button = note.acknowledged
    ? h("p", { class: "acked" }, `${t("inbox.acked")}: ${note.acknowledged.user}, ${when(note.acknowledged.at_unix_us)}`)
    : h("button", { type: "button", class: "primary", onclick: (e) => busy(e.target, msg, async () => {
        const acked = await api("POST", `/api/v1/notifications/${note.id}/ack`);
        e.target.replaceWith(h("p", { class: "acked" }, `${t("inbox.acked")}: ${acked.acknowledged.user}`));
      }) }, t("inbox.ack"));
  return h(
    "article",
    { class: "card notification", "data-notification": note.id },
    h("h2", {}, `${t("alert.id")} `, h("code", {}, note.alert_id)),
    h(
      "dl",
      {},
      [
        [t("inbox.traveller"), [traveller.names?.map((n, i) => [i ? " · " : "", bidi(n)]), traveller.birth_dates?.length ? ` · ${traveller.birth_dates.join(", ")}` : ""]],
        [t("inbox.where"), `${note.post} (${note.agency})`],
        [t("inbox.who"), note.user],
        [t("inbox.when"), ltr(when(note.confirmed_at_unix_us))],
        [t("inbox.done"), bidi(note.action_taken)],
        note.remarks ? [t("hit.remarks"), bidi(note.remarks)] : null,
      ].filter(Boolean).map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)]),
    ),
    button,
    msg,
  );
}

// --- manifests --------------------------------------------------------------------------

function manifestsView() {
  const out = h("div", { "aria-live": "polite" });
  const file = h("input", { type: "file", name: "file", accept: ".edi,.txt,.paxlst,text/plain" });
  const text = h("textarea", { name: "text", rows: 6, dir: "ltr", spellcheck: "false", class: "mrz" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "manifests-title" },
    h("h1", { id: "manifests-title" }, t("manifests.title")),
    field(t("manifests.file"), file),
    field(t("manifests.text"), text),
    h("button", { type: "submit", class: "primary" }, t("manifests.submit")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), out, async () => {
      const message = file.files[0] ? await file.files[0].text() : text.value;
      if (!message.trim()) throw new Error(t("manifests.file"));
      const reports = await api("POST", "/api/v1/manifests", message, "text/plain");
      put(out, reports.map(manifestReport));
    });
  });
  return h("div", {}, form, out);
}

/** How many travellers the carrier is told to board, not to board, or to hold, in words. */
function directiveCounts(boarding) {
  const counts = new Map();
  for (const b of boarding ?? []) counts.set(b.directive, (counts.get(b.directive) ?? 0) + 1);
  return ["board", "no_board", "contact_government"]
    .filter((d) => counts.has(d))
    .map((d) => `${t(`directive.${d}`)} ${counts.get(d)}`)
    .join(" · ");
}

function manifestReport(report) {
  const legs = report.legs.map((l) => `${l.flight} ${l.departure?.airport ?? "?"} → ${l.arrival?.airport ?? "?"}`).join(", ");
  return h(
    "section",
    { class: "card" },
    h("h2", {}, `${t("manifests.flight")}: ${legs || report.reference}`),
    h("p", {}, `${t("manifests.travellers")}: ${report.travellers}${report.declared !== undefined ? ` / ${report.declared}` : ""} · ${t("manifests.with.hits")}: ${report.hits.length}`),
    h("p", { class: "carrier-told" }, `${t("manifests.carrier")}: ${directiveCounts(report.boarding)}`),
    report.hits.length
      ? report.hits.map((traveller) =>
          h(
            "article",
            { class: `traveller action-${traveller.action}` },
            h("h3", {}, h("span", { class: "badge" }, v(traveller.action)), " ", bidi(traveller.name), ` · ${traveller.birth_date ?? ""} · ${traveller.nationality ?? ""} · ${traveller.document ?? ""}`),
            traveller.documents.map((hit) => hitCard(hit, false)),
            traveller.persons.map((hit) => hitCard(hit, true)),
          ),
        )
      : status(t("manifests.none"), "success"),
    report.problems.length || report.not_screened.length
      ? h("details", {}, h("summary", {}, t("manifests.problems")), h("ul", {}, [...report.problems, ...report.not_screened].map((p) => h("li", {}, p))))
      : null,
  );
}

// --- agreements -------------------------------------------------------------------------

function agreementsView() {
  const out = h("div", { "aria-live": "polite" });
  const table = h("div", { class: "card" });
  const load = async () => {
    const all = await api("GET", "/api/v1/agreements");
    put(table, 
      h(
        "table",
        { class: "list" },
        h("thead", {}, h("tr", {}, [t("agreements.title.field"), t("agreements.parties"), t("agreements.levels"), t("agreements.from"), ""].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          all.map((ag) =>
            h(
              "tr",
              {},
              h("td", {}, h("strong", {}, ag.title), h("br"), h("small", {}, ag.legal_reference)),
              h("td", {}, ag.parties.join(", ")),
              h("td", {}, h("ul", { class: "plain" }, Object.entries(ag.levels).map(([c, l]) => h("li", {}, `${v(c)}: ${v(l)}`)))),
              h("td", {}, ltr(`${ag.valid_from}${ag.valid_until ? ` — ${ag.valid_until}` : ""}`)),
              h(
                "td",
                {},
                ag.awaiting?.length ? h("p", { class: "awaiting" }, `${t("agreements.awaiting")}: ${ag.awaiting.join(", ")}`) : null,
                ag.awaiting?.includes(state.session.agency)
                  ? h("button", { type: "button", class: "primary", onclick: (e) => busy(e.target, out, async () => {
                      await api("POST", `/api/v1/agreements/${ag.id}/consent`);
                      await load();
                    }) }, t("agreements.consent"))
                  : null,
                ag.revoked_on
                  ? `${t("agreements.revoked")} ${ag.revoked_on}`
                  : h("button", { type: "button", class: "link danger", onclick: (e) => {
                      if (!window.confirm(t("agreements.confirm.revoke"))) return;
                      busy(e.target, out, async () => {
                        await api("POST", `/api/v1/agreements/${ag.id}/revoke`, {});
                        await load();
                      });
                    } }, t("agreements.revoke")),
              ),
            ),
          ),
        ),
      ),
    );
  };
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "agreement-new" },
    h("h2", { id: "agreement-new" }, t("agreements.new")),
    h(
      "div",
      { class: "grid" },
      field(t("agreements.title.field"), input("title", { required: true })),
      field(t("agreements.parties"), input("parties", { required: true, dir: "ltr", value: state.session.agency })),
      field(t("agreements.from"), input("from", { type: "date" })),
      field(t("agreements.until"), input("until", { type: "date" })),
      field(t("agreements.legal"), input("legal", { required: true })),
    ),
    field(t("agreements.levels"), h("textarea", { name: "levels", rows: 3, dir: "ltr", required: true, placeholder: "suspected-smuggler=full\ntrafficking-risk=hit" })),
    h("button", { type: "submit", class: "primary" }, t("save")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = form.elements;
    const levels = Object.fromEntries(list(f.levels.value).map((line) => line.split("=").map((s) => s.trim())));
    busy(form.querySelector("button[type=submit]"), out, async () => {
      await api("POST", "/api/v1/agreements", {
        title: f.title.value.trim(),
        parties: list(f.parties.value).map((p) => p.toUpperCase()),
        levels,
        valid_from: f.from.value || null,
        valid_until: f.until.value || null,
        legal_reference: f.legal.value.trim(),
      });
      form.reset();
      put(out, status(t("saved"), "success"));
      await load();
    });
  });
  busy(form.querySelector("button[type=submit]"), out, load);
  return h("div", {}, h("h1", { class: "page-title" }, t("agreements.title")), out, table, form);
}

// --- users ------------------------------------------------------------------------------

function usersView() {
  const out = h("div", { "aria-live": "polite" });
  const table = h("div", { class: "card" });
  const load = async () => {
    const users = await api("GET", "/api/v1/users");
    put(table, 
      h(
        "table",
        { class: "list" },
        h("thead", {}, h("tr", {}, [t("users.name"), t("users.full"), t("alerts.owner"), t("users.roles"), ""].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          users.map((u) =>
            h(
              "tr",
              { class: u.disabled ? "disabled" : "" },
              h("td", {}, u.name, u.disabled ? ` (${t("users.disabled")})` : ""),
              h("td", {}, bidi(u.full_name ?? "")),
              h("td", {}, u.agency),
              h("td", {}, u.roles.map(v).join(", ")),
              h("td", {}, u.name === state.session.user ? null : h("button", { type: "button", class: "link", onclick: (e) => busy(e.target, out, async () => {
                await api("PATCH", `/api/v1/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled });
                await load();
              }) }, u.disabled ? t("users.enable") : t("users.disable"))),
            ),
          ),
        ),
      ),
    );
  };
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "user-new" },
    h("h2", { id: "user-new" }, t("users.new")),
    h(
      "div",
      { class: "grid" },
      field(t("users.name"), input("name", { required: true, dir: "ltr", autocomplete: "off" })),
      field(t("users.full"), input("full", { dir: "auto" })),
      field(t("users.password"), input("password", { type: "password", required: true, minlength: 12, autocomplete: "new-password" })),
    ),
    checkboxes("roles", t("users.roles"), ROLES.filter((r) => r !== "administrator" || has("administrator")), ["officer"]),
    h("button", { type: "submit", class: "primary" }, t("save")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = form.elements;
    busy(form.querySelector("button[type=submit]"), out, async () => {
      await api("POST", "/api/v1/users", {
        name: f.name.value.trim(),
        agency: state.session.agency,
        full_name: f.full.value.trim(),
        roles: chosen(form, "roles"),
        password: f.password.value,
      });
      form.reset();
      put(out, status(t("saved"), "success"));
      await load();
    });
  });
  busy(form.querySelector("button[type=submit]"), out, load);
  return h("div", {}, h("h1", { class: "page-title" }, t("users.title")), out, table, form);
}

// --- audit ------------------------------------------------------------------------------

function auditView() {
  const out = h("div", { "aria-live": "polite" });
  const results = h("div", { class: "card" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "audit-title" },
    h("h1", { id: "audit-title" }, t("audit.title")),
    h(
      "div",
      { class: "grid" },
      field(t("audit.operation"), input("operation", { dir: "ltr" })),
      field(t("audit.user"), input("user", { dir: "ltr" })),
      field(t("audit.target"), input("target", { dir: "ltr" })),
      field(t("audit.after"), input("after", { inputmode: "numeric", dir: "ltr" })),
    ),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, t("search")),
      h("button", { type: "button", class: "secondary verify", onclick: (e) => busy(e.target, out, async () => {
        const report = await api("GET", "/api/v1/audit/verify");
        put(out, 
          report.broken
            ? status(`${t("audit.broken")}: ${report.broken.seq} — ${report.broken.reason}`, "error")
            : status(`${t("audit.intact")}: ${report.entries} ${t("audit.entries")}, ${t("audit.head")} ${String(report.head).slice(0, 16)}…`, "success"),
        );
      }) }, t("audit.verify")),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = form.elements;
    busy(form.querySelector("button[type=submit]"), out, async () => {
      // The search goes in the query string: operations, user names and alert ids, never a
      // traveller's data.
      const entries = await api("GET", `/api/v1/audit${query({ operation: f.operation.value.trim(), user: f.user.value.trim(), target: f.target.value.trim(), after: f.after.value.trim(), limit: 200 })}`);
      put(results, 
        entries.length
          ? h(
              "table",
              { class: "list audit" },
              h("thead", {}, h("tr", {}, [t("audit.seq"), t("audit.at"), t("audit.user"), t("alerts.owner"), t("audit.operation"), t("audit.results"), t("audit.targets")].map((c) => h("th", { scope: "col" }, c)))),
              h(
                "tbody",
                {},
                entries.map((en) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, String(en.seq)),
                    h("td", {}, ltr(when(en.at_unix_us))),
                    h("td", {}, en.user),
                    h("td", {}, en.agency ?? ""),
                    h("td", {}, h("code", {}, en.operation)),
                    h("td", {}, String(en.result_count)),
                    h("td", {}, en.targets.length ? h("details", {}, h("summary", {}, String(en.targets.length)), h("ul", { class: "plain" }, en.targets.slice(0, 50).map((x) => h("li", {}, h("code", {}, x))))) : ""),
                  ),
                ),
              ),
            )
          : status(t("none")),
      );
    });
  });
  return h("div", {}, form, out, results);
}

// --- start ------------------------------------------------------------------------------

window.addEventListener("hashchange", render);
watchExpiry();
render();
