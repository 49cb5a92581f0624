#!/usr/bin/python3
# Reads a JUnit XML file with Python's own XML parser (independent of how lesionbench writes it) and prints a
# JSON summary the C++ tests assert on: the suite counts and, per test case, its outcome, message and text.
import json
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
out = {"suites": len(suites), "cases": []}
for key in ("tests", "failures", "errors", "skipped"):
    out[key] = int(root.get(key))
for suite in suites:
    for case in suite.findall("testcase"):
        entry = {"name": case.get("name"), "classname": case.get("classname"), "outcome": "passed",
                 "message": "", "text": ""}
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                entry.update(outcome=tag, message=el.get("message", ""), text=el.text or "")
        out["cases"].append(entry)
    so = suite.find("system-out")
    out["system_out"] = so.text if so is not None else ""
print(json.dumps(out))
