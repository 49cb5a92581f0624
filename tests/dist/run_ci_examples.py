#!/usr/bin/python3
# Runs the shell steps of examples/ci/*.yml on this build, as their CI would, minus package set-up and the
# hosted actions (checkout, cache, artifacts, JUnit publishing), which are emulated by copying files:
#   1. a push to main: cases, predictions, scores; the scores are kept as the main branch's;
#   2. a pull request / merge request with the same model: compare passes (exit 0), the Markdown summary says
#      "no regression" and the JUnit file has no failure;
#   3. the same with a main branch that scored higher: the compare step fails the job, and the JUnit file
#      carries the failed gate.
# Every step runs once in full; 2 and 3 start from a copy of 1's workspace (the same seeded cases and the
# same model give the same predictions) and run the steps after scoring, to keep the test short.
# GitLab's artifact download is served by a local HTTP server standing in for GitLab's API.
#   /usr/bin/python3 tests/dist/run_ci_examples.py SOURCE_DIR BUILD_DIR
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
import zipfile

import yaml

src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
os.makedirs(os.path.join(build, "test-tmp"), exist_ok=True)
tmp = tempfile.mkdtemp(prefix="ci-examples.", dir=os.path.join(build, "test-tmp"))
SETUP = ("apt-get", "scripts/setup.sh")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def workspace(name):
    ws = os.path.join(tmp, name)
    os.makedirs(ws)
    os.symlink(build, os.path.join(ws, "build"))  # the examples call build/cli/lesionbench, as setup.sh builds it
    return ws


def sh(ws, script, env):
    r = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=ws, env={**os.environ, **env},
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def junit_failures(path):
    root = ET.parse(path).getroot()
    return int(root.get("failures")), [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]


def raise_main_scores(path):
    """The main branch 'scored higher': every case's DSC and NSD up by 0.1 (at most 1)."""
    doc = json.load(open(path))
    for c in doc["cases"]:
        c["dsc"], c["nsd"] = min(1.0, c["dsc"] + 0.1), min(1.0, c["nsd"] + 0.1)
    json.dump(doc, open(path, "w"))


# GitHub Actions
gh = yaml.safe_load(open(os.path.join(src, "examples/ci/github-actions.yml")))
steps = next(iter(gh["jobs"].values()))["steps"]


def github(ws, event, after_scoring=False):
    """Runs the job's shell steps for `event` (only those after the score step with after_scoring); returns
    (exit code of the first failing step or 0, its log)."""
    env = {"GITHUB_EVENT_NAME": event, "GITHUB_STEP_SUMMARY": os.path.join(ws, "summary.md")}
    first = next(i for i, st in enumerate(steps) if "lesionbench score" in st.get("run", "")) + 1 if after_scoring else 0
    for step in steps[first:]:
        cond = step.get("if", "")
        if "run" not in step or any(s in step["run"] for s in SETUP):
            continue
        if ("pull_request" in cond and event != "pull_request") or ("'push'" in cond and event != "push"):
            continue
        rc, log = sh(ws, step["run"], env)
        if rc != 0:
            return rc, f"step '{step.get('name')}': {log}"
    return 0, ""


main = workspace("github-main")
rc, log = github(main, "push")
if rc != 0 or not os.path.isfile(os.path.join(main, "main-scores.json")):
    fail(f"github push to main: exit {rc}, no main-scores.json: {log}")
def copy_workspace(src_ws, name, keep):
    ws = workspace(name)
    for f in keep:
        (shutil.copytree if os.path.isdir(os.path.join(src_ws, f)) else shutil.copy)(os.path.join(src_ws, f),
                                                                                     os.path.join(ws, f))
    return ws


produced = ["cases", "preds", "scores.json", "flare24.csv"]
pr = copy_workspace(main, "github-pr", produced + ["main-scores.json"])  # main-scores: actions/cache/restore
rc, log = github(pr, "pull_request", after_scoring=True)
if rc != 0:
    fail(f"github pull request with the same model failed: {log}")
if "no regression" not in open(os.path.join(pr, "summary.md")).read():
    fail("github: the job summary does not say 'no regression'")
if junit_failures(os.path.join(pr, "compare-junit.xml"))[0] != 0:
    fail("github: JUnit failures on an unchanged model")
worse = copy_workspace(main, "github-pr-regressed", produced + ["main-scores.json"])
raise_main_scores(os.path.join(worse, "main-scores.json"))
rc, log = github(worse, "pull_request", after_scoring=True)
if rc != 1 or "compare with main" not in log:
    fail(f"github: a regression did not fail the compare step (exit {rc}): {log[:500]}")
n, names = junit_failures(os.path.join(worse, "compare-junit.xml"))
if "mean DSC drop" not in names:
    fail(f"github: the JUnit file lacks the failed DSC gate: {names}")
print(f"github-actions.yml: push ok, pull request ok, regression fails the job ({n} JUnit failures: {names})")

# GitLab CI
gl = yaml.safe_load(open(os.path.join(src, "examples/ci/gitlab-ci.yml")))
job_name, job = next((k, v) for k, v in gl.items() if isinstance(v, dict) and "script" in v)
script = "\n".join(job["script"])
if not all("lesionbench" in line for line in job["script"][:3]):
    fail("gitlab-ci.yml: the first three script lines are not synth, predict and score")
api = os.path.join(tmp, "gitlab-api")
artifact = os.path.join(api, "projects/7/jobs/artifacts/main/download")
os.makedirs(os.path.dirname(artifact))
class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


handler = functools.partial(QuietHandler, directory=api)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
genv = {"CI_DEFAULT_BRANCH": "main", "CI_JOB_NAME": job_name, "CI_JOB_TOKEN": "test", "CI_PROJECT_ID": "7",
        "CI_API_V4_URL": f"http://127.0.0.1:{server.server_address[1]}"}

main = workspace("gitlab-main")
rc, log = sh(main, script, {**genv, "CI_COMMIT_BRANCH": "main"})
if rc != 0:
    fail(f"gitlab main branch: exit {rc}: {log}")
for ws_name, raise_scores, want in (("gitlab-mr", False, 0), ("gitlab-mr-regressed", True, 1)):
    with zipfile.ZipFile(artifact, "w") as z:  # the artifacts of main's job, as GitLab's API serves them
        z.write(os.path.join(main, "scores.json"), "scores.json")
    if raise_scores:
        scores = os.path.join(tmp, "raised.json")
        shutil.copy(os.path.join(main, "scores.json"), scores)
        raise_main_scores(scores)
        with zipfile.ZipFile(artifact, "w") as z:
            z.write(scores, "scores.json")
    ws = copy_workspace(main, ws_name, produced)
    rc, log = sh(ws, "\n".join(job["script"][3:]), {**genv, "CI_COMMIT_BRANCH": "feature"})
    if rc != want:
        fail(f"gitlab {ws_name}: exit {rc}, expected {want}: {log[:800]}")
    n, names = junit_failures(os.path.join(ws, job["artifacts"]["reports"]["junit"]))
    if (n == 0) != (want == 0) or not os.path.isfile(os.path.join(ws, "compare.md")):
        fail(f"gitlab {ws_name}: JUnit failures {names}, or no compare.md")
server.shutdown()
print("gitlab-ci.yml: main ok, merge request ok, regression fails the job")
shutil.rmtree(tmp, ignore_errors=True)
