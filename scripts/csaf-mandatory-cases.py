#!/usr/bin/env python3
"""Writes the CSAF 2.0 test documents isx ships: the mandatory tests'
(crates/formats/testdata/csaf-mandatory), and the optional and informative
tests' (crates/formats/testdata/csaf-optional, each a change to a base that
passes every test): for each test of §6.1, documents
that fail it (`6.1.N-fail-K.json`) and documents that pass it
(`6.1.N-pass-K.json`), each a small change to one valid base document,
written from the specification's wording. The Rust tests
(`isx_formats::csaf::mandatory`) and the official validator library
(scripts/csaf-validator.mjs, in CI) both judge every one of them.

Run it again after changing a case: python3 scripts/csaf-mandatory-cases.py
"""
import copy
import json
import os
import shutil

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "formats", "testdata", "csaf-mandatory")

XSS = "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"

BASE = {
    "document": {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "lang": "en",
        "publisher": {"category": "vendor", "name": "Example Vendor", "namespace": "https://vendor.example"},
        "title": "Cross-site scripting in Example Widget",
        "distribution": {"tlp": {"label": "WHITE"}},
        "notes": [{"category": "summary", "text": "A cross-site scripting flaw in Example Widget 1.0."}],
        "references": [{"category": "external", "summary": "Vendor page", "url": "https://vendor.example/advisories/1"}],
        "tracking": {
            "current_release_date": "2026-11-02T10:00:00.000Z",
            "id": "EXV-2026-0001",
            "initial_release_date": "2026-11-01T10:00:00.000Z",
            "revision_history": [
                {"date": "2026-11-01T10:00:00.000Z", "number": "1", "summary": "Initial version."},
                {"date": "2026-11-02T10:00:00.000Z", "number": "2", "summary": "Fixed version named."},
            ],
            "status": "final",
            "version": "2",
        },
    },
    "product_tree": {
        "branches": [{
            "category": "vendor", "name": "Example Vendor",
            "branches": [{
                "category": "product_name", "name": "Example Widget",
                "branches": [
                    {"category": "product_version", "name": "1.0",
                     "product": {"name": "Example Widget 1.0", "product_id": "CSAFPID-0001",
                                 "product_identification_helper": {"purl": "pkg:generic/example-widget@1.0"}}},
                    {"category": "product_version", "name": "1.1",
                     "product": {"name": "Example Widget 1.1", "product_id": "CSAFPID-0002"}},
                ],
            }],
        }],
        "product_groups": [{"group_id": "CSAFGID-0001", "product_ids": ["CSAFPID-0001", "CSAFPID-0002"]}],
    },
    "vulnerabilities": [{
        "cve": "CVE-2026-0001",
        "cwe": {"id": "CWE-79", "name": XSS},
        "notes": [{"category": "description", "text": "Input is echoed into the page unescaped."}],
        "product_status": {"known_affected": ["CSAFPID-0001"], "fixed": ["CSAFPID-0002"]},
        "remediations": [{"category": "vendor_fix", "details": "Update to 1.1.", "product_ids": ["CSAFPID-0001"]}],
        "scores": [{"cvss_v3": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                                "baseScore": 6.1, "baseSeverity": "MEDIUM"},
                    "products": ["CSAFPID-0001"]}],
        "threats": [{"category": "impact", "details": "Script runs in the victim's session.", "product_ids": ["CSAFPID-0001"]}],
    }],
}


def vex(d):
    d["document"]["category"] = "csaf_vex"
    v = d["vulnerabilities"][0]
    v["product_status"] = {"known_affected": ["CSAFPID-0001"], "known_not_affected": ["CSAFPID-0002"]}
    v["flags"] = [{"label": "vulnerable_code_not_present", "product_ids": ["CSAFPID-0002"]}]
    return d


def informational(d):
    d["document"]["category"] = "csaf_informational_advisory"
    del d["vulnerabilities"]
    return d


def v(d):
    return d["vulnerabilities"][0]


def tree(d):
    return d["product_tree"]


def revs(d, numbers, version, status="final"):
    t = d["document"]["tracking"]
    t["revision_history"] = [
        {"date": f"2026-11-{i + 1:02d}T10:00:00.000Z", "number": n, "summary": f"Revision {n}."}
        for i, n in enumerate(numbers)
    ]
    t["version"] = version
    t["status"] = status
    t["current_release_date"] = t["revision_history"][-1]["date"]
    return d


def relationship(d, pid, ref, to):
    tree(d).setdefault("relationships", []).append({
        "category": "installed_on", "product_reference": ref, "relates_to_product_reference": to,
        "full_product_name": {"name": f"Product {pid}", "product_id": pid}})
    return d


def score(d, version, vector, base, severity, products=("CSAFPID-0001",)):
    v(d)["scores"].append({"cvss_v3": {"version": version, "vectorString": vector, "baseScore": base,
                                       "baseSeverity": severity}, "products": list(products)})
    return d


V30 = "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"

CASES = {
    "6.1.1": {
        "fail": [
            lambda d: v(d)["product_status"]["known_affected"].append("CSAFPID-9080700"),
            lambda d: v(d)["remediations"][0]["product_ids"].append("CSAFPID-9080701"),
            lambda d: tree(d)["product_groups"][0]["product_ids"].append("CSAFPID-9080702"),
            lambda d: relationship(d, "CSAFPID-0003", "CSAFPID-0001", "CSAFPID-9080703"),
        ],
        "pass": [lambda d: relationship(d, "CSAFPID-0003", "CSAFPID-0001", "CSAFPID-0002")],
    },
    "6.1.2": {
        "fail": [
            lambda d: tree(d).setdefault("full_product_names", []).append({"name": "Again", "product_id": "CSAFPID-0001"}),
            lambda d: relationship(d, "CSAFPID-0002", "CSAFPID-0001", "CSAFPID-0001"),
        ],
        "pass": [lambda d: tree(d).setdefault("full_product_names", []).append({"name": "Other", "product_id": "CSAFPID-0003"})],
    },
    "6.1.3": {
        "fail": [
            lambda d: relationship(d, "CSAFPID-0003", "CSAFPID-0003", "CSAFPID-0001"),
            lambda d: relationship(relationship(d, "CSAFPID-0003", "CSAFPID-0004", "CSAFPID-0001"),
                                   "CSAFPID-0004", "CSAFPID-0003", "CSAFPID-0002"),
        ],
        "pass": [lambda d: relationship(relationship(d, "CSAFPID-0003", "CSAFPID-0001", "CSAFPID-0002"),
                                        "CSAFPID-0004", "CSAFPID-0003", "CSAFPID-0002")],
    },
    "6.1.4": {
        "fail": [lambda d: v(d)["threats"][0].update({"group_ids": ["CSAFGID-1020300"]})],
        "pass": [lambda d: v(d)["threats"][0].update({"group_ids": ["CSAFGID-0001"]})],
    },
    "6.1.5": {
        "fail": [lambda d: tree(d)["product_groups"].append({"group_id": "CSAFGID-0001", "product_ids": ["CSAFPID-0001", "CSAFPID-0002"]})],
        "pass": [lambda d: tree(d)["product_groups"].append({"group_id": "CSAFGID-0002", "product_ids": ["CSAFPID-0001", "CSAFPID-0002"]})],
    },
    "6.1.6": {
        "fail": [
            lambda d: v(d)["product_status"].update({"known_not_affected": ["CSAFPID-0001"]}),
            lambda d: v(d)["product_status"].update({"last_affected": ["CSAFPID-0002"]}),
        ],
        "pass": [lambda d: v(d)["product_status"].update({"first_affected": ["CSAFPID-0001"]})],
    },
    "6.1.7": {
        "fail": [lambda d: score(d, "3.1", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", 4.4, "MEDIUM")],
        "pass": [lambda d: score(d, "3.0", V30, 6.1, "MEDIUM")],
    },
    "6.1.8": {
        "fail": [lambda d: v(d)["scores"][0]["cvss_v3"].pop("baseSeverity")],
        "pass": [lambda d: v(d)["scores"][0]["cvss_v3"].update({"attackVector": "NETWORK"})],
    },
    "6.1.9": {
        "fail": [
            lambda d: v(d)["scores"][0]["cvss_v3"].update({"baseScore": 9.8}),
            lambda d: v(d)["scores"][0]["cvss_v3"].update({"baseSeverity": "HIGH"}),
            lambda d: v(d)["scores"][0]["cvss_v3"].update({"vectorString": V31 + "/E:P/RL:O/RC:C", "temporalScore": 6.1}),
            lambda d: v(d)["scores"][0]["cvss_v3"].update({"vectorString": V31 + "/CR:H/MAV:L", "environmentalScore": 6.1,
                                                             "environmentalSeverity": "MEDIUM"}),
        ],
        "pass": [lambda d: v(d)["scores"][0]["cvss_v3"].update({"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                                                                  "baseScore": 9.8, "baseSeverity": "CRITICAL"}),
                 lambda d: v(d)["scores"][0]["cvss_v3"].update({"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:L/MS:C",
                                                                  "baseScore": 9.8, "baseSeverity": "CRITICAL",
                                                                  "temporalScore": 8.8, "temporalSeverity": "HIGH",
                                                                  "environmentalScore": 8.4, "environmentalSeverity": "HIGH"})],
    },
    "6.1.10": {
        "fail": [
            lambda d: v(d)["scores"][0]["cvss_v3"].update({"attackVector": "LOCAL"}),
            lambda d: v(d)["scores"][0]["cvss_v3"].update({"scope": "UNCHANGED"}),
        ],
        "pass": [lambda d: v(d)["scores"][0]["cvss_v3"].update({"attackVector": "NETWORK", "scope": "CHANGED",
                                                                  "exploitCodeMaturity": "NOT_DEFINED"})],
    },
    "6.1.11": {
        "fail": [
            lambda d: v(d)["cwe"].update({"name": "Cross-site Scripting"}),
            lambda d: v(d).update({"cwe": {"id": "CWE-999999", "name": "No such weakness"}}),
        ],
        "pass": [lambda d: v(d).update({"cwe": {"id": "CWE-89", "name": "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"}})],
    },
    "6.1.12": {
        "fail": [
            lambda d: d["document"].update({"lang": "EZ"}),
            lambda d: d["document"].update({"lang": "en-UK"}),
            lambda d: d["document"].update({"lang": "en-yue"}),
            lambda d: d["document"].update({"lang": "de-DE-1901-1901"}),
            lambda d: d["document"].update({"lang": "en-a-xx"}),
            lambda d: d["document"].update({"lang": "de", "source_lang": "en-Abcd"}),
        ],
        "pass": [lambda d: d["document"].update({"lang": "de-CH-1996"}),
                 lambda d: d["document"].update({"lang": "zh-yue-HK"}),
                 lambda d: d["document"].update({"lang": "i-default"})],
    },
    "6.1.13": {
        "fail": [lambda d: tree(d)["branches"][0]["branches"][0]["branches"][0]["product"]["product_identification_helper"].update({"purl": "pkg:generic/example-widget@1.0?1type=jar"}),
                 lambda d: tree(d)["branches"][0]["branches"][0]["branches"][0]["product"]["product_identification_helper"].update({"purl": "pkg:maven/org.example/widget@1.0?type=jar&2x=y"})],
        "pass": [lambda d: tree(d)["branches"][0]["branches"][0]["branches"][0]["product"]["product_identification_helper"].update({"purl": "pkg:maven/org.example/widget@1.0?type=jar"})],
    },
    "6.1.14": {
        "fail": [lambda d: d["document"]["tracking"]["revision_history"][1].update({"date": "2026-10-30T10:00:00.000Z"})],
        "pass": [lambda d: d["document"]["tracking"]["revision_history"].reverse()],
    },
    "6.1.15": {
        "fail": [lambda d: d["document"]["publisher"].update({"category": "translator"})],
        "pass": [lambda d: (d["document"]["publisher"].update({"category": "translator"}), d["document"].update({"lang": "de", "source_lang": "en"}))],
    },
    "6.1.16": {
        "fail": [lambda d: d["document"]["tracking"].update({"version": "1"})],
        "pass": [lambda d: revs(d, ["1.0.0", "1.1.0"], "1.1.0+build.3")],
    },
    "6.1.17": {
        "fail": [lambda d: revs(d, ["0"], "0", "interim")],
        "pass": [lambda d: revs(d, ["0"], "0", "draft")],
    },
    "6.1.18": {
        "fail": [lambda d: revs(d, ["0", "1"], "1", "final")],
        "pass": [lambda d: revs(d, ["0.9.0", "1.0.0"], "1.0.0-rc.1", "draft")],
    },
    "6.1.19": {
        "fail": [lambda d: revs(d, ["1.0.0-rc.1", "1.0.0"], "1.0.0", "final")],
        "pass": [lambda d: revs(d, ["1.0.0", "1.0.1"], "1.0.1", "final")],
    },
    "6.1.20": {
        "fail": [lambda d: revs(d, ["1.0.0"], "1.0.0-alpha", "interim")],
        "pass": [lambda d: revs(d, ["1.0.0"], "1.0.0-alpha", "draft")],
    },
    "6.1.21": {
        "fail": [lambda d: revs(d, ["1", "3"], "3"), lambda d: revs(d, ["2", "3"], "3")],
        "pass": [lambda d: revs(d, ["1.0.0", "1.1.0", "2.0.0"], "2.0.0")],
    },
    "6.1.22": {
        "fail": [lambda d: revs(d, ["1", "1"], "1")],
        "pass": [lambda d: revs(d, ["1", "2", "3"], "3")],
    },
    "6.1.23": {
        "fail": [lambda d: d["vulnerabilities"].append(copy.deepcopy(d["vulnerabilities"][0]))],
        "pass": [lambda d: d["vulnerabilities"].append({**copy.deepcopy(d["vulnerabilities"][0]), "cve": "CVE-2026-0002"})],
    },
    "6.1.24": {
        "fail": [lambda d: v(d).update({"involvements": [
            {"date": "2026-10-01T10:00:00.000Z", "party": "vendor", "status": "in_progress"},
            {"date": "2026-10-01T10:00:00.000Z", "party": "vendor", "status": "completed"}]})],
        "pass": [lambda d: v(d).update({"involvements": [
            {"date": "2026-10-01T10:00:00.000Z", "party": "vendor", "status": "in_progress"},
            {"date": "2026-10-02T10:00:00.000Z", "party": "vendor", "status": "completed"}]})],
    },
    "6.1.25": {
        "fail": [lambda d: tree(d)["branches"][0]["branches"][0]["branches"][1]["product"].update({"product_identification_helper": {"hashes": [
            {"filename": "widget.bin", "file_hashes": [
                {"algorithm": "sha256", "value": "a" * 64}, {"algorithm": "sha256", "value": "b" * 64}]}]}})],
        "pass": [lambda d: tree(d)["branches"][0]["branches"][0]["branches"][1]["product"].update({"product_identification_helper": {"hashes": [
            {"filename": "widget.bin", "file_hashes": [
                {"algorithm": "sha256", "value": "a" * 64}, {"algorithm": "sha512", "value": "b" * 128}]}]}})],
    },
    "6.1.26": {
        "fail": [lambda d: d["document"].update({"category": "Security_Advisory"}),
                 lambda d: d["document"].update({"category": "csaf_vex_draft"})],
        "pass": [lambda d: d["document"].update({"category": "Example Company Security Notice"})],
    },
    "6.1.27.1": {
        "fail": [lambda d: (informational(d), d["document"].update({"notes": [{"category": "legal_disclaimer", "text": "As is."}]}))],
        "pass": [informational],
    },
    "6.1.27.2": {
        "fail": [lambda d: (informational(d), d["document"]["references"][0].update({"category": "self"}))],
        "pass": [informational],
    },
    "6.1.27.3": {"fail": [lambda d: d["document"].update({"category": "csaf_informational_advisory"})], "pass": [informational]},
    "6.1.27.4": {"fail": [lambda d: (d.pop("product_tree"), d.pop("vulnerabilities"))], "pass": []},
    "6.1.27.5": {"fail": [lambda d: v(d).pop("notes")], "pass": []},
    "6.1.27.6": {"fail": [lambda d: v(d).pop("product_status")], "pass": []},
    "6.1.27.7": {"fail": [lambda d: (vex(d), v(d).update({"product_status": {"first_affected": ["CSAFPID-0001"]}}),
                                     v(d).pop("flags"))], "pass": [vex]},
    "6.1.27.8": {"fail": [lambda d: (vex(d), v(d).pop("cve"))],
                 "pass": [lambda d: (vex(d), v(d).pop("cve"), v(d).update({"ids": [{"system_name": "Example Tracker", "text": "EX-1"}]}))]},
    "6.1.27.9": {"fail": [lambda d: (vex(d), v(d).pop("flags"))],
                 "pass": [lambda d: (vex(d), v(d).pop("flags"), v(d)["threats"].append({"category": "impact", "details": "Not reachable.", "group_ids": ["CSAFGID-0001"]}))]},
    "6.1.27.10": {"fail": [lambda d: (vex(d), v(d).pop("remediations"))],
                  "pass": [lambda d: (vex(d), v(d)["remediations"][0].update({"product_ids": [], "group_ids": ["CSAFGID-0001"]}), v(d)["remediations"][0].pop("product_ids"))]},
    "6.1.27.11": {"fail": [lambda d: d.pop("vulnerabilities")], "pass": []},
    "6.1.28": {
        "fail": [lambda d: d["document"].update({"lang": "en", "source_lang": "en"})],
        "pass": [lambda d: d["document"].update({"lang": "de", "source_lang": "en"})],
    },
    "6.1.29": {
        "fail": [lambda d: v(d)["remediations"].append({"category": "workaround", "details": "Block the page."})],
        "pass": [lambda d: v(d)["remediations"].append({"category": "workaround", "details": "Block the page.", "group_ids": ["CSAFGID-0001"]})],
    },
    "6.1.30": {
        "fail": [lambda d: revs(d, ["1", "2.0.0"], "2.0.0")],
        "pass": [lambda d: revs(d, ["1.0.0", "2.0.0"], "2.0.0")],
    },
    "6.1.31": {
        "fail": [lambda d: tree(d)["branches"][0]["branches"][0]["branches"][0].update({"name": "<=1.0"}),
                 lambda d: tree(d)["branches"][0]["branches"][0]["branches"][0].update({"name": "1.0 and all later versions"})],
        "pass": [lambda d: tree(d)["branches"][0]["branches"][0]["branches"][0].update({"category": "product_version_range", "name": "vers:generic/<=1.0"})],
    },
    "6.1.32": {
        "fail": [lambda d: (vex(d), v(d)["flags"].append({"label": "component_not_present"}))],
        "pass": [vex],
    },
    "6.1.33": {
        "fail": [lambda d: (vex(d), v(d)["flags"].append({"label": "component_not_present", "group_ids": ["CSAFGID-0001"]}))],
        "pass": [lambda d: (vex(d), v(d)["flags"].append({"label": "component_not_present", "product_ids": ["CSAFPID-0001"]}))],
    },
}


OPT_OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "formats", "testdata", "csaf-optional")
PIH = {"purl": "pkg:generic/example-widget@1.1"}
MD5 = "0cc175b9c0f1b6a831c399e269772661"
SHA1 = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
SHA256 = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def opt_base(d):
    """The optional tests' base: BASE with what a good document also has."""
    d["product_tree"]["branches"][0]["branches"][0]["branches"][1]["product"]["product_identification_helper"] = PIH
    return d


def product3(d, pih=True):
    p = {"name": "Example Widget 2.0", "product_id": "CSAFPID-0003"}
    if pih:
        p["product_identification_helper"] = {"purl": "pkg:generic/example-widget@2.0"}
    tree(d).setdefault("full_product_names", []).append(p)
    return d


def hashes(d, *algs):
    values = {"md5": MD5, "sha1": SHA1, "sha256": SHA256}
    p = d["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
    p["product_identification_helper"]["hashes"] = [
        {"filename": "widget-1.0.zip", "file_hashes": [{"algorithm": a, "value": values[a]} for a in algs]}]
    return d


def version_range(d, name):
    d["product_tree"]["branches"][0]["branches"][0]["branches"].append(
        {"category": "product_version_range", "name": name,
         "product": {"name": f"Example Widget {name}", "product_id": "CSAFPID-0003",
                     "product_identification_helper": {"purl": "pkg:generic/example-widget"}}})
    v(d)["product_status"]["known_affected"].append("CSAFPID-0003")
    v(d)["remediations"][0]["product_ids"].append("CSAFPID-0003")
    v(d)["scores"][0]["products"].append("CSAFPID-0003")
    return d


def setv(d, key, value):
    v(d)[key] = value
    return d


def seti(d, path, value):
    o = d
    for k in path[:-1]:
        o = o[k]
    if value is None:
        del o[path[-1]]
    else:
        o[path[-1]] = value
    return d


OPTIONAL_CASES = {
    "6.2.1": {
        "fail": [lambda d: product3(d)],
        "pass": [lambda d: (product3(d), v(d)["product_status"]["fixed"].append("CSAFPID-0003"))],
    },
    "6.2.2": {
        "fail": [lambda d: (product3(d), v(d)["product_status"].setdefault("under_investigation", []).append("CSAFPID-0003"))],
        "pass": [lambda d: (product3(d), v(d)["product_status"].setdefault("under_investigation", []).append("CSAFPID-0003"),
                            v(d)["remediations"].append({"category": "mitigation", "details": "Disable the widget.", "product_ids": ["CSAFPID-0003"]}))],
    },
    "6.2.3": {
        "fail": [lambda d: (product3(d), v(d)["product_status"]["known_affected"].append("CSAFPID-0003"),
                            v(d)["remediations"][0]["product_ids"].append("CSAFPID-0003"))],
        "pass": [lambda d: (product3(d), v(d)["product_status"]["known_affected"].append("CSAFPID-0003"),
                            v(d)["remediations"][0]["product_ids"].append("CSAFPID-0003"),
                            v(d)["scores"][0]["products"].append("CSAFPID-0003"))],
    },
    "6.2.4": {
        "fail": [lambda d: revs(d, ["1.0.0", "1.0.1+build.7"], "1.0.1+build.7")],
        "pass": [lambda d: revs(d, ["1.0.0", "1.0.1"], "1.0.1")],
    },
    "6.2.5": {
        "fail": [lambda d: seti(d, ["document", "tracking", "initial_release_date"], "2026-10-30T10:00:00.000Z")],
        "pass": [lambda d: seti(d, ["document", "tracking", "initial_release_date"], "2026-11-01T10:00:00.000Z")],
    },
    "6.2.6": {
        "fail": [lambda d: seti(d, ["document", "tracking", "current_release_date"], "2026-11-01T12:00:00.000Z")],
        "pass": [lambda d: seti(d, ["document", "tracking", "current_release_date"], "2026-11-03T10:00:00.000Z")],
    },
    "6.2.7": {
        "fail": [lambda d: setv(d, "involvements", [{"party": "vendor", "status": "completed"}])],
        "pass": [lambda d: setv(d, "involvements", [{"party": "vendor", "status": "completed", "date": "2026-11-01T09:00:00.000Z"}])],
    },
    "6.2.8": {"fail": [lambda d: hashes(d, "md5")], "pass": [lambda d: hashes(d, "md5", "sha256")]},
    "6.2.9": {"fail": [lambda d: hashes(d, "sha1")], "pass": [lambda d: hashes(d, "sha1", "sha256")]},
    "6.2.10": {
        "fail": [lambda d: seti(d, ["document", "distribution"], {"text": "Share freely."})],
        "pass": [lambda d: seti(d, ["document", "distribution"], {"text": "Share freely.", "tlp": {"label": "WHITE"}})],
    },
    "6.2.11": {
        "fail": [lambda d: d["document"].__setitem__("x-no-canonical", True)],
        "pass": [lambda d: d],
    },
    "6.2.12": {"fail": [lambda d: seti(d, ["document", "lang"], None)], "pass": [lambda d: d]},
    "6.2.14": {
        "fail": [lambda d: seti(d, ["document", "lang"], "qaa"), lambda d: seti(d, ["document", "lang"], "en-QM")],
        "pass": [lambda d: seti(d, ["document", "lang"], "en-GB"), lambda d: seti(d, ["document", "lang"], "en-x-isx")],
    },
    "6.2.15": {"fail": [lambda d: seti(d, ["document", "lang"], "i-default")], "pass": [lambda d: d]},
    "6.2.16": {
        "fail": [lambda d: seti(d, ["product_tree", "branches", 0, "branches", 0, "branches", 0, "product", "product_identification_helper"], None)],
        "pass": [lambda d: d],
    },
    "6.2.17": {
        "fail": [lambda d: setv(d, "ids", [{"system_name": "CVE", "text": "CVE-2026-0001"}])],
        "pass": [lambda d: setv(d, "ids", [{"system_name": "GitHub", "text": "GHSA-2x4f-8m3q-9v7c"}])],
    },
    "6.2.18": {"fail": [lambda d: version_range(d, "<=1.1")], "pass": [lambda d: version_range(d, "vers:generic/<=1.1")]},
    "6.2.19": {
        "fail": [lambda d: v(d)["scores"][0]["products"].append("CSAFPID-0002")],
        "pass": [lambda d: d],
    },
    "6.3.1": {
        "fail": [lambda d: setv(d, "scores", [{"cvss_v2": {"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:N", "baseScore": 6.4},
                                              "products": ["CSAFPID-0001"]}])],
        "pass": [lambda d: d],
    },
    "6.3.2": {
        "fail": [lambda d: setv(d, "scores", [{"cvss_v3": {"version": "3.0", "vectorString": V30, "baseScore": 6.1, "baseSeverity": "MEDIUM"},
                                              "products": ["CSAFPID-0001"]}])],
        "pass": [lambda d: d],
    },
    "6.3.3": {
        "fail": [lambda d: (v(d).pop("cve"), setv(d, "ids", [{"system_name": "Example Vendor", "text": "EXV-VULN-1"}]))],
        "pass": [lambda d: d],
    },
    "6.3.4": {"fail": [lambda d: v(d).pop("cwe")], "pass": [lambda d: d]},
    "6.3.5": {
        "fail": [lambda d: (hashes(d, "sha256"), d["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
                            ["product_identification_helper"]["hashes"][0]["file_hashes"][0].__setitem__("value", SHA1))],
        "pass": [lambda d: hashes(d, "sha256")],
    },
    "6.3.10": {"fail": [lambda d: version_range(d, "vers:generic/<=1.1")], "pass": [lambda d: d]},
    "6.3.11": {
        "fail": [lambda d: seti(d, ["product_tree", "branches", 0, "branches", 0, "branches", 0, "name"], "v1.0")],
        "pass": [lambda d: d],
    },
}


def file_name(tracking_id):
    import re
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def write_optional():
    shutil.rmtree(OPT_OUT, ignore_errors=True)
    os.makedirs(OPT_OUT)
    n = 0
    docs = [("base", None, None, lambda d: d)]
    for test, cases in OPTIONAL_CASES.items():
        for kind in ("fail", "pass"):
            for k, change in enumerate(cases[kind], 1):
                docs.append((test, kind, k, change))
    for test, kind, k, change in docs:
        d = opt_base(copy.deepcopy(BASE))
        change(d)
        name = "base" if kind is None else f"{test}-{kind}-{k:02d}"
        t = d["document"]["tracking"]
        t["id"] = "ISX-TEST-OPTIONAL" if kind is None else f"ISX-TEST-{test}-{kind}-{k:02d}"
        d["document"]["title"] = "CSAF 2.0 optional tests: base" if kind is None else f"CSAF 2.0 test {test}: {'fails' if kind == 'fail' else 'passes'} ({k})"
        if d["document"].pop("x-no-canonical", None) is None:
            d["document"]["references"].insert(0, {"category": "self", "summary": "Canonical URL",
                                                   "url": f"https://vendor.example/.well-known/csaf/white/2026/{file_name(t['id'])}"})
        with open(os.path.join(OPT_OUT, f"{name}.json"), "w") as f:
            json.dump(d, f, indent=2)
            f.write("\n")
        n += 1
    print(f"{n} documents in {os.path.normpath(OPT_OUT)}")


def main():
    write_optional()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with open(os.path.join(OUT, "base.json"), "w") as f:
        json.dump(BASE, f, indent=2)
        f.write("\n")
    n = 0
    for test, cases in CASES.items():
        for kind in ("fail", "pass"):
            for k, change in enumerate(cases[kind], 1):
                d = copy.deepcopy(BASE)
                change(d)
                d["document"]["tracking"]["id"] = f"ISX-TEST-{test}-{kind}-{k:02d}"
                d["document"]["title"] = f"CSAF 2.0 test {test}: {'fails' if kind == 'fail' else 'passes'} ({k})"
                with open(os.path.join(OUT, f"{test}-{kind}-{k:02d}.json"), "w") as f:
                    json.dump(d, f, indent=2)
                    f.write("\n")
                n += 1
    print(f"{n} documents in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
