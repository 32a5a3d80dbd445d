/*  The central's dashboard: what the State Agency's annual report shows,
    for a period and a scope the account may see, read from the JSON API
    of the server that sent this file (views, quality, workforce,
    directives) and drawn here, charts as SVG, with nothing fetched from
    anywhere else.

    Each figure shown sits in an element with data-figure (its key in the
    view, "new_by_sex.F", or "trend.2022-Q1.new") and data-value (the
    figure as the API gave it), and each municipality's row has
    data-municipality and data-field cells, so that a test reads the page
    as a person would and compares it with the command line's figures.   */
"use strict";

//  =====================================================================
//  Texts, in Albanian (the default) and English

const TEXTS = {
    sq: {
        title: "Mbrojtja e fëmijëve: pasqyra kombëtare", login: "Hyrja", name: "Emri",
        password: "Fjalëkalimi", enter: "Hyr", logout: "Dil", year: "Viti",
        quarter: "Tremujori", whole_year: "i gjithë viti", scope: "Fusha", show: "Shfaq",
        summary: "Përmbledhje", trend: "Ecuria sipas tremujorëve", municipalities: "Bashkitë",
        trend_years: "Ecuria sipas viteve",
        municipalities_note: "Të theksuara: nyja me vonesë, raportim i vonuar ose që mungon, " +
            "shifra që nuk përputhen, mbi 3.000 fëmijë për punonjës.",
        directives: "Udhëzimet",
        public_note: "Shifrat për publikim: qelizat e vogla janë fshehur (c).",
        national: "Kombëtare", county: "Qarku", loading: "Duke lexuar…",
        wrong_login: "Emër ose fjalëkalim i gabuar",
        managed: "Raste të menaxhuara", new: "Raste të reja", closed: "Raste të mbyllura",
        home_visits: "Vizita në familje", municipalities_reporting: "Bashki që raportojnë",
        new_by_age_group: "Raste të reja sipas moshës", new_by_sex: "Raste të reja sipas gjinisë",
        new_by_ethnicity: "Raste të reja sipas etnisë",
        new_by_referral: "Raste të reja sipas burimit të referimit",
        managed_by_risk: "Raste të menaxhuara sipas nivelit të rrezikut",
        managed_by_problem: "Raste të menaxhuara sipas problemit",
        closed_by_reason: "Raste të mbyllura sipas arsyes", measures_taken: "Masa të marra",
        measures_court_confirmed: "Masa të konfirmuara nga gjykata",
        school_identified: "Të identifikuar në shkollë",
        unassessed: "pa vlerësim", unspecified: "pa problem të caktuar",
        municipality: "Bashkia", sync: "Sinkronizimi", lag: "Vonesa", timeliness: "Raportimi",
        reconciliation: "Përputhja", per_worker: "Fëmijë për punonjës",
        caught_up: "në kohë", lagging: "mbetet pas", never: "asnjëherë",
        on_time: "në afat", late: "me vonesë", missing: "mungon", pending: "në pritje",
        in_sync: "përputhet", diverged: "nuk përputhet", unknown: "e panjohur",
        no_report: "pa raport", completeness: "plotësia",
        days_late: "ditë vonesë", kind: "Lloji", to: "Për", due: "Afati", issued: "Lëshuar",
        text: "Teksti", referral: "referim", deadline: "afat", notice: "njoftim",
        sent: "dërguar", delivered: "dorëzuar", acknowledged: "marrë", done: "kryer",
        overdue: "me afat të kaluar", no_directives: "Asnjë udhëzim", total: "Gjithsej",
    },
    en: {
        title: "Child protection: the national picture", login: "Log in", name: "Name",
        password: "Password", enter: "Log in", logout: "Log out", year: "Year",
        quarter: "Quarter", whole_year: "whole year", scope: "Scope", show: "Show",
        summary: "Summary", trend: "Trend by quarter", municipalities: "Municipalities",
        trend_years: "Trend by year",
        municipalities_note: "Highlighted: a node lagging, reporting late or missing, figures " +
            "that diverged, over 3,000 children per worker.",
        directives: "Directives",
        public_note: "Figures for publication: small cells are hidden (c).",
        national: "National", county: "County", loading: "Reading…",
        wrong_login: "Wrong name or password",
        managed: "Cases managed", new: "New cases", closed: "Cases closed",
        home_visits: "Home visits", municipalities_reporting: "Municipalities reporting",
        new_by_age_group: "New cases by age group", new_by_sex: "New cases by sex",
        new_by_ethnicity: "New cases by ethnicity", new_by_referral: "New cases by referral source",
        managed_by_risk: "Managed cases by risk", managed_by_problem: "Managed cases by problem",
        closed_by_reason: "Closures by reason", measures_taken: "Measures taken",
        measures_court_confirmed: "Measures confirmed by a court",
        school_identified: "Identified at school",
        unassessed: "not assessed", unspecified: "no problem set",
        municipality: "Municipality", sync: "Sync", lag: "Lag", timeliness: "Reporting",
        reconciliation: "Reconciliation", per_worker: "Children per worker",
        caught_up: "caught up", lagging: "lagging", never: "never",
        on_time: "on time", late: "late", missing: "missing", pending: "pending",
        in_sync: "in sync", diverged: "diverged", unknown: "unknown",
        no_report: "no report", completeness: "completeness",
        days_late: "days late", kind: "Kind", to: "To", due: "Due", issued: "Issued",
        text: "Text", referral: "referral", deadline: "deadline", notice: "notice",
        sent: "sent", delivered: "delivered", acknowledged: "acknowledged", done: "done",
        overdue: "overdue", no_directives: "No directives", total: "Total",
    },
};

//  The view's breakdowns, in the report's order, and the catalogue
//  dimension that labels each.
const BREAKDOWNS = [
    ["new_by_age_group", "age_group"], ["new_by_sex", "sex"],
    ["new_by_ethnicity", "ethnicity"], ["new_by_referral", "referral"],
    ["managed_by_risk", "risk"], ["managed_by_problem", "problem"],
    ["closed_by_reason", "close_reason"], ["measures_taken", "measure"],
    ["measures_court_confirmed", "measure"], ["school_identified", "school"],
];
const SUMMARY = ["managed", "new", "closed", "home_visits", "municipalities_reporting"];
const TREND = ["managed", "new", "closed"];
const TREND_YEARS = 3;
//  The public's trend, by year: the public sees whole years only (its
//  quarters beside the year would give hidden cells away; the API
//  refuses them).
const TREND_YEARS_PUBLIC = 8;
const TARGET = 3000;            //  children per worker, the legal target

const state = {
    lang: "sq",
    token: sessionStorage.getItem("cpsync-token"),
    me: null,
    labels: {},                 //  dimension → code → {sq, en}
    places: [],                 //  [{code, name, county}] from municipalities.csv
    shown: null,                //  what was last drawn, to draw again in the other language
};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXTS [state.lang] [key] || key;

//  An element: tag, attributes (text: its text), children.
function element (tag, attributes, ...children) {
    const made = document.createElement (tag);
    for (const [key, value] of Object.entries (attributes || {})) {
        if (key === "text")
            made.textContent = value;
        else if (key === "class")
            made.className = value;
        else if (value !== null && value !== undefined)
            made.setAttribute (key, value);
    }
    for (const child of children)
        if (child)
            made.append (child);
    return made;
}

//  An SVG element, as element.
function svg (tag, attributes, ...children) {
    const made = document.createElementNS ("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries (attributes || {}))
        if (key === "text")
            made.textContent = value;
        else
            made.setAttribute (key, value);
    for (const child of children)
        made.append (child);
    return made;
}

function number (value) {
    return typeof value === "number" ? value.toLocaleString (state.lang === "sq" ? "sq-AL" : "en-GB")
                                     : String (value);
}

function label (dimension, code) {
    const entry = (state.labels [dimension] || {}) [code];
    return entry ? entry [state.lang] : t (code);
}

//  =====================================================================
//  The API

class ApiError extends Error {
    constructor (status, message) {
        super (message);
        this.status = status;
    }
}

async function api (path, options = {}) {
    const headers = {};
    if (state.token)
        headers.Authorization = "Bearer " + state.token;
    if (options.body)
        headers ["Content-Type"] = "application/json";
    const response = await fetch (path, {method: options.method || "GET", headers,
                                         body: options.body, cache: "no-store"});
    const body = await response.json ();
    if (!response.ok) {
        if (response.status === 401 && path !== "/api/v1/login")
            logout ();
        throw new ApiError (response.status, body.error || response.statusText);
    }
    return body;
}

//  The labels of every code, from the catalogues the server embeds.
async function loadLabels () {
    const first = await (await fetch ("/dashboard/catalogue-v1.json")).json ();
    const revision = await (await fetch ("/dashboard/catalogue-v2.json")).json ();
    for (const [dimension, codes] of Object.entries (first.dimensions)) {
        state.labels [dimension] = {};
        for (const code of codes)
            state.labels [dimension] [code.code] = {sq: code.sq, en: code.en};
    }
    for (const change of revision.changes || [])
        if (change.op === "add")
            state.labels [change.dimension] [change.code] = {sq: change.sq, en: change.en};
    const csv = await (await fetch ("/dashboard/municipalities.csv")).text ();
    state.places = csv.trim ().split ("\n").slice (1).map ((line) => {
        const [code, name, county] = line.split (",");
        return {code, name, county};
    });
}

//  =====================================================================
//  Logging in and out

async function login (event) {
    event.preventDefault ();
    $("login-error").textContent = "";
    try {
        const answer = await api ("/api/v1/login", {method: "POST", body: JSON.stringify (
            {name: $("name").value, password: $("password").value})});
        state.token = answer.token;
        sessionStorage.setItem ("cpsync-token", state.token);
        $("password").value = "";
        await start ();
    }
    catch (error) {
        $("login-error").textContent = error.status === 401 ? t ("wrong_login") : error.message;
    }
}

function logout () {
    if (state.token)
        fetch ("/api/v1/logout", {method: "POST",
                                   headers: {Authorization: "Bearer " + state.token}});
    state.token = null;
    state.me = null;
    sessionStorage.removeItem ("cpsync-token");
    $("report").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("who").textContent = "";
}

//  After a login (or a reload with a token): who, the choices, the report.
async function start () {
    state.me = await api ("/api/v1/me");
    $("who").textContent = state.me.name + " · " + state.me.role + " · " + state.me.scope;
    $("who").dataset.role = state.me.role;
    $("who").dataset.scope = state.me.scope;
    const byYear = state.me.role === "public";
    $("quarter-choice").hidden = byYear;
    if (byYear)
        $("quarter").value = "";
    $("trend-title").dataset.text = byYear ? "trend_years" : "trend";
    $("trend-title").textContent = t ($("trend-title").dataset.text);
    $("login").hidden = true;
    $("logout").hidden = false;
    $("report").hidden = false;
    fillChoices ();
    await show ();
}

//  =====================================================================
//  What may be chosen

function countyName (county) {
    const seat = state.places.find ((place) => place.code === county);
    return seat ? seat.name : county;
}

//  The scopes the account may see: the operator and the public every one,
//  a county itself and its municipalities, a municipality itself.
function scopesOf (me) {
    const scopes = [];
    const counties = [...new Set (state.places.map ((place) => place.county))];
    const add = (county) => {
        scopes.push ({value: "county:" + county, text: t ("county") + " " + countyName (county)});
        for (const place of state.places.filter ((each) => each.county === county))
            scopes.push ({value: "municipality:" + place.code, text: "  · " + place.name});
    };
    if (me.scope === "national") {
        scopes.push ({value: "national", text: t ("national")});
        counties.forEach (add);
    }
    else if (me.scope.startsWith ("county:"))
        add (me.scope.slice (7));
    else {
        const place = state.places.find ((each) => "municipality:" + each.code === me.scope);
        scopes.push ({value: me.scope, text: place ? place.name : me.scope});
    }
    return scopes;
}

function fillChoices () {
    const year = $("year");
    const chosen = year.value;
    year.replaceChildren ();
    const now = new Date ().getFullYear ();
    //  The public is given years that are over (the API refuses this one).
    const newest = state.me && state.me.role === "public" ? now - 1 : now;
    for (let each = newest; each >= 2015; each--)
        year.append (element ("option", {value: each, text: each}));
    year.value = chosen || String (now - 1);
    const scope = $("scope");
    const picked = scope.value;
    scope.replaceChildren ();
    for (const each of scopesOf (state.me))
        scope.append (element ("option", {value: each.value, text: each.text}));
    if (picked && [...scope.options].some ((option) => option.value === picked))
        scope.value = picked;
}

//  =====================================================================
//  Reading and drawing a period and scope

async function show (event) {
    if (event)
        event.preventDefault ();
    const year = $("year").value;
    const period = year + ($("quarter").value ? "-" + $("quarter").value : "");
    const scope = $("scope").value;
    const restricted = state.me.role !== "public";
    $("error").textContent = "";
    $("status").textContent = t ("loading");
    document.body.dataset.ready = "no";
    try {
        const query = "period=" + period + "&scope=" + encodeURIComponent (scope);
        const view = await api ("/api/v1/views?" + query);
        const trend = [];
        const periods = [];
        if (restricted)
            for (let each = Number (year) - TREND_YEARS + 1; each <= Number (year); each++)
                for (let quarter = 1; quarter <= 4; quarter++)
                    periods.push (each + "-Q" + quarter);
        else
            for (let each = Number (year) - TREND_YEARS_PUBLIC + 1; each <= Number (year); each++)
                periods.push (String (each));
        for (const each of periods)
            trend.push (await api ("/api/v1/views?period=" + each +
                                   "&scope=" + encodeURIComponent (scope)));
        let quality = null, workforce = null, directives = null;
        if (restricted) {
            quality = await api ("/api/v1/quality?" + query);
            workforce = await api ("/api/v1/workforce?" + query);
            directives = await api ("/api/v1/directives?scope=" + encodeURIComponent (scope));
        }
        state.shown = {period, scope, view, trend, quality, workforce, directives};
        draw ();
        $("status").textContent = "";
    }
    catch (error) {
        $("status").textContent = "";
        $("error").textContent = error.message;
    }
    document.body.dataset.ready = "yes";
}

function draw () {
    const shown = state.shown;
    if (!shown)
        return;
    $("shown").textContent = "· " + shown.period + " · " +
        ($("scope").selectedOptions [0] || {}).textContent;
    $("shown").dataset.period = shown.view.period;
    $("shown").dataset.scope = shown.view.scope;
    $("public-note").hidden = state.me.role !== "public";
    drawSummary (shown.view);
    drawCharts (shown.view);
    drawTrend (shown.trend);
    $("municipalities-section").hidden = !shown.quality;
    $("directives-section").hidden = !shown.directives;
    if (shown.quality)
        drawMunicipalities (shown.quality, shown.workforce);
    if (shown.directives)
        drawDirectives (shown.directives);
}

function drawSummary (view) {
    const table = $("summary");
    table.replaceChildren ();
    for (const key of SUMMARY)
        table.append (element ("tr", {},
            element ("th", {text: t (key)}),
            element ("td", {"data-figure": key, "data-value": view [key],
                            text: number (view [key])})));
}

//  A horizontal bar chart of one breakdown: a bar, its label and figure
//  per code.  A hidden cell ("c") has no bar.
function barChart (key, dimension, figures) {
    const codes = Object.keys (figures);
    const largest = Math.max (1, ...codes.map ((code) => Number (figures [code]) || 0));
    const row = 22, labelWidth = 290, barWidth = 200;
    const chart = svg ("svg", {viewBox: `0 0 ${labelWidth + barWidth + 70} ${codes.length * row}`,
                               role: "img", "aria-label": t (key)});
    codes.forEach ((code, index) => {
        const value = figures [code];
        const width = typeof value === "number" ? value / largest * barWidth : 0;
        const y = index * row;
        //  A long label is cut to fit beside its bar; the whole of it is its title.
        const name = label (dimension, code);
        chart.append (
            svg ("text", {x: labelWidth - 6, y: y + 15, "text-anchor": "end", class: "label",
                          text: name.length > 46 ? name.slice (0, 45) + "…" : name},
                 svg ("title", {text: name})),
            svg ("rect", {x: labelWidth, y: y + 4, width: Math.max (width, 0), height: row - 8,
                          class: "bar"}),
            svg ("text", {x: labelWidth + width + 6, y: y + 15, class: "value",
                          "data-figure": key + "." + code, "data-value": value,
                          text: number (value)}));
    });
    return chart;
}

function drawCharts (view) {
    const charts = $("charts");
    charts.replaceChildren ();
    for (const [key, dimension] of BREAKDOWNS)
        if (view [key])
            charts.append (element ("figure", {class: "panel"},
                element ("figcaption", {text: t (key)}), barChart (key, dimension, view [key])));
}

//  The trend: new, managed and closed cases per quarter (per year for the
//  public), as lines.
function drawTrend (views) {
    const width = 760, height = 240, left = 50, bottom = 30, top = 10;
    const largest = Math.max (1, ...views.flatMap ((view) =>
        TREND.map ((key) => Number (view [key]) || 0)));
    const x = (index) => left + index * (width - left - 40) / Math.max (1, views.length - 1);
    const y = (value) => top + (height - top - bottom) * (1 - value / largest);
    const chart = svg ("svg", {viewBox: `0 0 ${width} ${height + 20}`, role: "img",
                               "aria-label": t ("trend")});
    chart.append (svg ("line", {x1: left, y1: y (0), x2: width - 10, y2: y (0), class: "axis"}));
    chart.append (svg ("text", {x: left - 6, y: y (largest) + 4, "text-anchor": "end",
                                class: "label", text: number (largest)}));
    views.forEach ((view, index) =>
        chart.append (svg ("text", {x: x (index), y: height - 10, "text-anchor": "middle",
                                    class: "label", text: view.period.replace ("-", " ")})));
    TREND.forEach ((key, series) => {
        //  A line through each run of periods with a figure; a hidden
        //  cell ("c") breaks it and is shown as "c" on the axis.
        let run = [];
        const flush = () => {
            if (run.length)
                chart.append (svg ("polyline", {points: run.join (" "),
                                                class: "line series" + series}));
            run = [];
        };
        views.forEach ((view, index) => {
            const value = view [key];
            const figure = {"data-figure": "trend." + view.period + "." + key,
                            "data-value": value};
            const title = svg ("title", {text: t (key) + " " + view.period + ": " + number (value)});
            if (typeof value === "number") {
                run.push (x (index) + "," + y (value));
                chart.append (svg ("circle", {cx: x (index), cy: y (value), r: 3,
                                              class: "series" + series, ...figure}, title));
            }
            else {
                flush ();
                chart.append (svg ("text", {x: x (index), y: y (0) - 4 - 10 * series,
                                            "text-anchor": "middle",
                                            class: "legend series" + series, text: String (value),
                                            ...figure}, title));
            }
        });
        flush ();
        chart.append (svg ("text", {x: left + 10 + series * 190, y: height + 15,
                                    class: "legend series" + series, text: "● " + t (key)}));
    });
    $("trend").replaceChildren (chart);
}

//  A lag in seconds as a person reads it.
function lag (seconds) {
    if (seconds === null || seconds === undefined)
        return t ("never");
    if (seconds < 120)
        return seconds + " s";
    if (seconds < 7200)
        return Math.round (seconds / 60) + " min";
    if (seconds < 172800)
        return Math.round (seconds / 3600) + " h";
    return Math.round (seconds / 86400) + " d";
}

//  One cell of a municipality's or county's row: shown text, the value a
//  test reads, and whether it falls short.
function cell (field, value, text, short) {
    return element ("td", {"data-field": field, "data-value": value === null ? "null" : value,
                           class: short ? "short" : null, text});
}

function drawMunicipalities (quality, workforce) {
    const table = $("municipalities");
    table.replaceChildren (element ("tr", {},
        ...["municipality", "sync", "lag", "timeliness", "reconciliation", "per_worker"]
            .map ((key) => element ("th", {text: t (key)}))));
    const staffing = {}, counties = {};
    for (const county of workforce.counties) {
        counties [county.county] = county;
        for (const place of county.municipalities)
            staffing [place.code] = place;
    }
    for (const county of quality.counties) {
        const force = counties [county.county] || {};
        table.append (element ("tr", {class: "county", "data-county": county.county},
            element ("th", {text: t ("county") + " " + county.name}),
            element ("td", {colspan: 2}),
            cell ("completeness", county.rate.completeness,
                  t ("completeness") + " " + Math.round (county.rate.completeness * 100) + "%",
                  county.rate.late + county.rate.missing > 0),
            element ("td"),
            cell ("children_per_worker", force.children_per_worker ?? null,
                  force.children_per_worker != null ? number (force.children_per_worker) : "–",
                  force.above_target === true)));
        for (const place of county.municipalities) {
            const staff = staffing [place.code] || {};
            const perWorker = staff.children_per_worker ?? null;
            const above = staff.above_target === true;
            const row = element ("tr", {"data-municipality": place.code},
                element ("td", {text: place.name}),
                cell ("sync", place.caught_up ? "caught_up" : "lagging",
                      t (place.caught_up ? "caught_up" : "lagging") +
                      (place.backlog ? " (" + number (place.backlog) + ")" : ""), !place.caught_up),
                cell ("lag_seconds", place.lag_seconds, lag (place.lag_seconds), !place.caught_up),
                cell ("timeliness", place.timeliness, t (place.timeliness) +
                      (place.days_late ? " · " + place.days_late + " " + t ("days_late") : ""),
                      place.timeliness === "late" || place.timeliness === "missing"),
                cell ("reconciliation", place.reconciliation, t (place.reconciliation),
                      place.reconciliation === "diverged"),
                cell ("children_per_worker", perWorker,
                      staff.status === "no_report" ? t ("no_report")
                                                   : perWorker === null ? "–" : number (perWorker),
                      above));
            const shortfalls = [];
            if (!place.caught_up) shortfalls.push ("lagging");
            if (place.timeliness === "late" || place.timeliness === "missing")
                shortfalls.push (place.timeliness);
            if (place.reconciliation === "diverged") shortfalls.push ("diverged");
            if (above) shortfalls.push ("above_target");
            row.dataset.short = shortfalls.join (" ");
            table.append (row);
        }
    }
}

function drawDirectives (list) {
    const table = $("directives");
    table.replaceChildren ();
    if (list.length === 0) {
        table.append (element ("tr", {}, element ("td", {text: t ("no_directives")})));
        return;
    }
    const states = ["sent", "delivered", "acknowledged", "done", "overdue"];
    table.append (element ("tr", {},
        ...["kind", "to", "due", "issued", "text", ...states].map ((key) =>
            element ("th", {text: t (key)}))));
    for (const item of list) {
        const counts = item.counts || {};
        table.append (element ("tr", {"data-directive": item.seq,
                                      class: counts.overdue ? "short" : null},
            element ("td", {text: item.kind ? t (item.kind) : item.error || "?"}),
            element ("td", {text: item.to || "–"}),
            element ("td", {text: item.due || "–"}),
            element ("td", {text: (item.issued || "–").replace ("T", " ").replace ("Z", "")}),
            element ("td", {class: "text", text: item.text || ""}),
            ...states.map ((name) => cell ("counts." + name, counts [name] ?? 0,
                                           number (counts [name] ?? 0),
                                           name === "overdue" && counts [name] > 0))));
    }
}

//  =====================================================================
//  Language and start

function setLanguage (lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    localStorage.setItem ("cpsync-lang", lang);
    $("lang-sq").setAttribute ("aria-pressed", lang === "sq");
    $("lang-en").setAttribute ("aria-pressed", lang === "en");
    for (const each of document.querySelectorAll ("[data-text]"))
        each.textContent = t (each.dataset.text);
    document.title = "cpsync — " + t ("title");
    if (state.me)
        fillChoices ();
    draw ();
}

document.addEventListener ("DOMContentLoaded", async () => {
    $("login").addEventListener ("submit", login);
    $("choice").addEventListener ("submit", show);
    $("logout").addEventListener ("click", logout);
    $("lang-sq").addEventListener ("click", () => setLanguage ("sq"));
    $("lang-en").addEventListener ("click", () => setLanguage ("en"));
    await loadLabels ();
    setLanguage (localStorage.getItem ("cpsync-lang") === "en" ? "en" : "sq");
    if (state.token)
        start ().catch (() => logout ());
    document.body.dataset.loaded = "yes";
});
