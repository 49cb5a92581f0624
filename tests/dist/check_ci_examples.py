#!/usr/bin/python3
# Checks examples/ci/github-actions.yml and examples/ci/gitlab-ci.yml: valid YAML of the right shape (a
# debian:12 container, a JUnit report published, compare gating the job), and every lesionbench /
# lesionbench-baseline command they run exists with every flag they pass, by asking this build's --help.
#   /usr/bin/python3 tests/dist/check_ci_examples.py SOURCE_DIR BUILD_DIR
import os
import re
import shlex
import subprocess
import sys

import yaml  # python3-yaml from Debian

src, build = sys.argv[1], sys.argv[2]
programs = {"lesionbench": os.path.join(build, "cli", "lesionbench"),
            "lesionbench-baseline": os.path.join(build, "baseline", "lesionbench-baseline")}
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def commands(script):
    """Yields the token lists of each lesionbench command in a shell script (continuation lines joined)."""
    text = script.replace("\\\n", " ")
    for line in text.splitlines():
        for part in re.split(r"&&|\|\||;|\|", line):
            try:
                tokens = shlex.split(part, comments=True)
            except ValueError:
                continue
            for i, tok in enumerate(tokens):
                if os.path.basename(tok) in programs:
                    yield tok, tokens[i + 1:]
                    break


def check_command(where, prog, args):
    name = os.path.basename(prog)
    check(prog == os.path.join("build", "cli" if name == "lesionbench" else "baseline", name),
          f"{where}: {prog} is not where scripts/setup.sh builds {name}")
    check(args and not args[0].startswith("-"), f"{where}: {name} without a subcommand")
    if not args:
        return
    sub = args[0]
    if not check(os.access(programs[name], os.X_OK), f"{where}: {programs[name]} is not built"):
        return sub
    r = subprocess.run([programs[name], sub, "--help"], capture_output=True, text=True)
    if not check(r.returncode == 0, f"{where}: `{name} {sub} --help` exited {r.returncode}: {r.stderr.strip()}"):
        return
    for a in args[1:]:
        if a.startswith("--"):
            flag = a.split("=", 1)[0]
            check(re.search(re.escape(flag) + r"\b", r.stdout) is not None,
                  f"{where}: `{name} {sub}` has no flag {flag}")
    return sub


def check_scripts(where, scripts):
    subs = []
    for s in scripts:
        for prog, args in commands(s):
            subs.append(check_command(where, prog, args))
        if "scripts/" in s:
            for path in re.findall(r"scripts/[\w.-]+", s):
                check(os.path.exists(os.path.join(src, path)), f"{where}: {path} does not exist")
    for needed in ("score", "compare"):
        check(needed in subs, f"{where}: runs no `lesionbench {needed}`")
    gate = [s for s in scripts if "lesionbench compare" in s]
    check(any("--junit" in s for s in gate), f"{where}: compare writes no JUnit")
    check(any("--markdown" in s for s in gate), f"{where}: compare writes no Markdown summary")
    # The job must fail on a regression: compare's exit code may not be swallowed.
    for s in gate:
        check(not re.search(r"lesionbench compare[^\n]*(\|\| *true|; *true)", s.replace("\\\n", " ")),
              f"{where}: compare's exit code is ignored")


# GitHub Actions
path = os.path.join(src, "examples/ci/github-actions.yml")
gh = yaml.safe_load(open(path))
where = "github-actions.yml"
check(isinstance(gh, dict), f"{where}: not a mapping")
triggers = gh.get("on", gh.get(True))  # YAML 1.1 reads the key `on` as true
check(isinstance(triggers, dict) and "pull_request" in triggers, f"{where}: not run on pull requests")
jobs = gh.get("jobs", {})
check(len(jobs) >= 1, f"{where}: no job")
scripts = []
for jname, job in jobs.items():
    check(job.get("container") in ("debian:12", {"image": "debian:12"}), f"{where}: job {jname} is not in debian:12")
    for i, step in enumerate(job.get("steps", [])):
        check(("run" in step) != ("uses" in step), f"{where}: step {i} needs exactly one of run/uses")
        if "uses" in step:
            check(re.fullmatch(r"[\w.-]+(/[\w.-]+)+@v\d+", step["uses"]) is not None,
                  f"{where}: step {i} uses {step['uses']} without a pinned major version")
        else:
            scripts.append(step["run"])
    uses = [s.get("uses", "") for s in job.get("steps", [])]
    check(any("junit" in u for u in uses), f"{where}: no JUnit report published")
check_scripts(where, scripts)
check(any("GITHUB_STEP_SUMMARY" in s for s in scripts if "compare" in s), f"{where}: no job summary")

# GitLab CI
path = os.path.join(src, "examples/ci/gitlab-ci.yml")
gl = yaml.safe_load(open(path))
where = "gitlab-ci.yml"
jobs = {k: v for k, v in gl.items() if isinstance(v, dict) and "script" in v}
check(len(jobs) >= 1, f"{where}: no job")
for jname, job in jobs.items():
    check(job.get("image") in ("debian:12", {"name": "debian:12"}), f"{where}: job {jname} is not in debian:12")
    check(job.get("artifacts", {}).get("reports", {}).get("junit") == "compare-junit.xml",
          f"{where}: job {jname} publishes no JUnit report")
    check(job.get("artifacts", {}).get("when") == "always", f"{where}: artifacts not kept on failure")
    scripts = [s for key in ("before_script", "script") for s in job.get(key, [])]
    check(all(isinstance(s, str) for s in scripts), f"{where}: a script line is not a string")
    check_scripts(where, scripts)

for e in errors:
    print("FAIL:", e)
print(f"checked {len(gh.get('jobs', {}))} GitHub job(s) and {len(jobs)} GitLab job(s): "
      f"{'ok' if not errors else str(len(errors)) + ' problem(s)'}")
sys.exit(1 if errors else 0)
