#!/usr/bin/python3
"""Opens the central's dashboard in headless Chromium, as a person would,
and writes down what it shows: tests/test_dashboard.sh, standard library
only (chromedriver's W3C WebDriver protocol over HTTP).

    dashboard_driver.py BASE NAME PASSWORD PERIOD SCOPE OUT.json SHOT.png

Logs in as NAME, picks PERIOD (YYYY or YYYY-Qn) and SCOPE when the page
offers them, waits until the page has drawn, and writes OUT.json:
{"who", "shown", "error", "scopes" (the choices offered), "figures"
({data-figure: data-value}), "municipalities" ({code: {field: value}}),
"counties" ({code: {field: value}}), "directives" ({seq: {field: value}}),
"picked" (whether SCOPE was offered), "quarter_hidden" (no quarter to
pick), "trend_title", "language" (lang and heading first, then after the
English switch)}, and a screenshot to SHOT.png.
Exits 1, saying why, when chromedriver or the page fails."""
import base64, json, os, shutil, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.request

base, name, password, period, scope, out, shot = sys.argv [1:8]


def free_port ():
    with socket.socket () as probe:
        probe.bind (("127.0.0.1", 0))
        return probe.getsockname () [1]


def call (method, path, body=None):
    """One WebDriver command; its value, or an exception naming the error."""
    data = json.dumps (body).encode () if body is not None else None
    request = urllib.request.Request (driver + path, data=data, method=method,
                                      headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen (request, timeout=60) as response:
            return json.load (response) ["value"]
    except urllib.error.HTTPError as error:
        raise RuntimeError ("%s %s: %s" % (method, path, error.read ().decode () [:400]))


def script (code, *args):
    return call ("POST", session + "/execute/sync", {"script": code, "args": list (args)})


def wait (condition, seconds=60):
    deadline = time.time () + seconds
    while time.time () < deadline:
        if script ("return " + condition):
            return
        time.sleep (0.1)
    raise RuntimeError ("the page never showed " + condition + "; its error: " +
                        str (script ("return (document.getElementById ('error') || {}).textContent "
                                     "+ ' ' + (document.getElementById ('login-error') || {})"
                                     ".textContent")))


if not shutil.which ("chromedriver") or not shutil.which ("chromium"):
    sys.exit ("dashboard_driver: chromium and chromedriver are needed (scripts/setup.sh)")
port = free_port ()
driver = "http://127.0.0.1:%d" % port
profile = tempfile.mkdtemp (prefix="dashboard-chromium.")
process = subprocess.Popen (["chromedriver", "--port=%d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
session = None
try:
    for _ in range (100):
        try:
            urllib.request.urlopen (driver + "/status", timeout=1)
            break
        except OSError:
            time.sleep (0.1)
    #  --no-sandbox: the tests run as root, where Chromium's sandbox will not start.
    capabilities = {"browserName": "chrome", "goog:chromeOptions": {
        "binary": shutil.which ("chromium"),
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--user-data-dir=" + profile, "--lang=sq"]}}
    session = "/session/" + call ("POST", "/session",
                                  {"capabilities": {"alwaysMatch": capabilities}}) ["sessionId"]
    call ("POST", session + "/url", {"url": base + "/"})
    wait ("document.body.dataset.loaded === 'yes'")
    script ("document.getElementById ('name').value = arguments [0];"
            "document.getElementById ('password').value = arguments [1];"
            "document.getElementById ('login').requestSubmit ();", name, password)
    wait ("document.body.dataset.ready === 'yes'")
    #  The period and scope, as a person picks them; a scope not offered is
    #  not picked (the account's own stays).
    picked = script ("""
        const [period, scope] = arguments;
        const [year, quarter] = period.split ('-');
        document.getElementById ('year').value = year;
        document.getElementById ('quarter').value = quarter || '';
        const choice = document.getElementById ('scope');
        const offered = [...choice.options].some ((option) => option.value === scope);
        if (offered)
            choice.value = scope;
        document.getElementById ('choice').requestSubmit ();
        return offered;""", period, scope)
    wait ("document.body.dataset.ready === 'yes'")
    seen = script ("""
        const cells = (row) => Object.fromEntries ([...row.querySelectorAll ('[data-field]')]
            .map ((cell) => [cell.dataset.field, cell.dataset.value]));
        const rows = (selector, key) => Object.fromEntries ([...document.querySelectorAll (selector)]
            .map ((row) => [row.dataset [key], Object.assign (cells (row),
                                                              {short: row.dataset.short})]));
        const shown = document.getElementById ('shown').dataset;
        return {
            who: document.getElementById ('who').dataset.role,
            shown: {period: shown.period, scope: shown.scope},
            error: document.getElementById ('error').textContent,
            scopes: [...document.getElementById ('scope').options].map ((o) => o.value),
            figures: Object.fromEntries ([...document.querySelectorAll ('[data-figure]')]
                .map ((each) => [each.dataset.figure, each.dataset.value])),
            municipalities: rows ('#municipalities [data-municipality]', 'municipality'),
            counties: rows ('#municipalities [data-county]', 'county'),
            directives: rows ('#directives [data-directive]', 'directive'),
            sections: {municipalities: !document.getElementById ('municipalities-section').hidden,
                       directives: !document.getElementById ('directives-section').hidden},
            quarter_hidden: document.getElementById ('quarter-choice').hidden,
            trend_title: document.getElementById ('trend-title').textContent,
        };""")
    seen ["picked"] = picked
    #  The language: Albanian first, English at the switch.
    seen ["language"] = {"first": script ("return [document.documentElement.lang, "
                                          "document.querySelector ('h1').textContent]")}
    script ("document.getElementById ('lang-en').click ()")
    seen ["language"] ["switched"] = script ("return [document.documentElement.lang, "
                                             "document.querySelector ('h1').textContent, "
                                             "document.querySelector ('#summary th').textContent]")
    script ("document.getElementById ('lang-sq').click ()")
    #  The whole page in the picture: the window as tall as the document.
    height = script ("return document.documentElement.scrollHeight")
    call ("POST", session + "/window/rect", {"width": 1280, "height": min (height + 100, 8000)})
    png = call ("GET", session + "/screenshot")
    open (shot, "wb").write (base64.b64decode (png))
    json.dump (seen, open (out, "w"), indent=1, ensure_ascii=False)
except (RuntimeError, OSError, KeyError) as error:
    sys.exit ("dashboard_driver: %s" % error)
finally:
    if session:
        try:
            call ("DELETE", session)
        except (RuntimeError, OSError):
            pass
    process.terminate ()
    process.wait ()
    shutil.rmtree (profile, ignore_errors=True)
