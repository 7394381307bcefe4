"""Run the main playbook once per bad-input case, a few at a time, and summarise.

Usage: run_cases.py CASES_JSON WORK_DIR INVENTORY PLAYBOOK [PARALLEL]

CASES_JSON holds a list of {name, vars}. Each run gets the scenario's inventory
plus the case's vars as extra variables, and the json callback. Prints a JSON
list, one entry per case: name, rc, plays (names of the plays that started),
changed (sum over hosts) and messages (every failure message). The scenario
asserts on that summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _messages(result: dict) -> list[str]:
    found = []
    if result.get("failed") and result.get("msg"):
        found.append(str(result["msg"]))
    for item in result.get("results", []) or []:
        if isinstance(item, dict) and item.get("failed") and item.get("msg"):
            found.append(str(item["msg"]))
    return found


def run(case: dict, work: Path, inventory: str, playbook: str) -> dict:
    extra = work / f"case-{case['name']}.json"
    extra.write_text(json.dumps(case["vars"]))
    env = dict(os.environ)
    env.update(
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run(
        [str(ansible_playbook), "-i", inventory, "-e", f"@{extra}", playbook],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    summary = {"name": case["name"], "rc": done.returncode, "plays": [], "changed": -1}
    try:
        out = json.loads(done.stdout)
    except ValueError:
        summary["messages"] = [f"no JSON output: {done.stdout[-2000:]} {done.stderr[-2000:]}"]
        return summary
    summary["plays"] = [play["play"]["name"] for play in out.get("plays", [])]
    summary["changed"] = sum(host.get("changed", 0) for host in out.get("stats", {}).values())
    summary["messages"] = [
        message
        for play in out.get("plays", [])
        for task in play.get("tasks", [])
        for result in task.get("hosts", {}).values()
        for message in _messages(result)
    ]
    return summary


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    work, inventory, playbook = Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    parallel = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = list(pool.map(lambda case: run(case, work, inventory, playbook), cases))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
