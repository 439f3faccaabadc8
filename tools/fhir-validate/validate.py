#!/usr/bin/env python3
"""Validates every *.json file of a folder as FHIR R4 (4.0.1).

Three layers, each catching what the others miss:

1. The fhir.resources 6.5.0 models (pydantic): every element known, cardinalities, choice
   types ([x]) used once, primitive formats, nested resources of a Bundle.
2. The invariants of the R4 specification that concern the resources exported here (ele-1,
   bdl-*, que-*, qrs-1, ppc-*, cmp-*, cpl-3, sev-1), which neither the models nor the JSON
   schema evaluate.
3. Every QuestionnaireResponse against its Questionnaire when that is in the folder too (as
   the HL7 validator does): each linkId known at its place, answer types per item type,
   codes among the answer options, repeats, and required items of a completed response.

Exit status 0 when every file passes. Usage: validate.py <folder>
"""

import json
import os
import sys

from fhir.resources import construct_fhir_element

ANSWER_TYPE = {
    "boolean": "valueBoolean",
    "decimal": "valueDecimal",
    "integer": "valueInteger",
    "date": "valueDate",
    "dateTime": "valueDateTime",
    "time": "valueTime",
    "string": "valueString",
    "text": "valueString",
    "url": "valueUri",
    "choice": "valueCoding",
    "open-choice": "valueCoding",
    "attachment": "valueAttachment",
    "reference": "valueReference",
    "quantity": "valueQuantity",
}


def walk_empty(value, path, errors):
    """ele-1 and the JSON rules: no nulls, no empty objects, arrays or strings."""
    if value is None:
        errors.append(f"{path}: null is not allowed")
    elif isinstance(value, dict):
        if not value:
            errors.append(f"{path}: empty object (ele-1)")
        for k, v in value.items():
            walk_empty(v, f"{path}.{k}", errors)
    elif isinstance(value, list):
        if not value:
            errors.append(f"{path}: empty array")
        for i, v in enumerate(value):
            walk_empty(v, f"{path}[{i}]", errors)
    elif isinstance(value, str) and value.strip() == "":
        errors.append(f"{path}: empty or blank string")


def check_questionnaire(q, errors):
    seen = set()

    def items(list_, path):
        for i, it in enumerate(list_ or []):
            p = f"{path}.item[{i}]"
            link = it.get("linkId")
            if link in seen:
                errors.append(f"{p}: linkId {link} is not unique (que-2)")
            seen.add(link)
            t = it.get("type")
            if t == "group" and not it.get("item"):
                errors.append(f"{p}: a group needs nested items (que-1)")
            if t == "display":
                if it.get("item"):
                    errors.append(f"{p}: a display item cannot have nested items (que-1)")
                if it.get("code"):
                    errors.append(f"{p}: a display item cannot have a code (que-3)")
                if "required" in it or "repeats" in it:
                    errors.append(f"{p}: required/repeats not allowed on display (que-6)")
                if "readOnly" in it:
                    errors.append(f"{p}: readOnly not allowed on display (que-9)")
            if it.get("answerOption") and it.get("answerValueSet"):
                errors.append(f"{p}: answerOption and answerValueSet together (que-4)")
            if (it.get("answerOption") or it.get("answerValueSet")) and t not in (
                "choice", "open-choice", "decimal", "integer", "date", "dateTime",
                "time", "string", "quantity",
            ):
                errors.append(f"{p}: answer options on a {t} item (que-5)")
            if "maxLength" in it and t not in (
                "boolean", "decimal", "integer", "string", "text", "url", "open-choice",
            ):
                errors.append(f"{p}: maxLength on a {t} item (que-10)")
            for j, opt in enumerate(it.get("answerOption") or []):
                c = opt.get("valueCoding")
                if c is not None and not (c.get("system") and c.get("code")):
                    errors.append(f"{p}.answerOption[{j}]: coding needs system and code")
            items(it.get("item"), p)

    items(q.get("item"), "Questionnaire")


def check_response_shape(r, errors):
    def items(list_, path):
        for i, it in enumerate(list_ or []):
            p = f"{path}.item[{i}]"
            if it.get("answer") and it.get("item"):
                errors.append(f"{p}: nested items belong in answer.item (qrs-1)")
            for j, a in enumerate(it.get("answer") or []):
                items(a.get("item"), f"{p}.answer[{j}]")
            items(it.get("item"), p)

    items(r.get("item"), "QuestionnaireResponse")


def check_against_questionnaire(r, q, errors):
    """What the HL7 validator checks of a response against its questionnaire."""
    completed = r.get("status") == "completed"

    def match(q_items, r_items, path):
        by_link = {it["linkId"]: it for it in q_items or []}
        answered = {}
        for i, it in enumerate(r_items or []):
            p = f"{path}.item[{i}]"
            qi = by_link.get(it.get("linkId"))
            if qi is None:
                errors.append(f"{p}: linkId {it.get('linkId')} is not an item here")
                continue
            answered[qi["linkId"]] = answered.get(qi["linkId"], 0) + 1
            if answered[qi["linkId"]] > 1 and not (qi.get("type") == "group" and qi.get("repeats")):
                errors.append(f"{p}: {qi['linkId']} appears more than once and does not repeat")
            t = qi.get("type")
            if t == "display":
                errors.append(f"{p}: display items take no answer")
                continue
            if t == "group":
                if it.get("answer"):
                    errors.append(f"{p}: a group takes no answer")
                match(qi.get("item"), it.get("item"), p)
                continue
            answers = it.get("answer") or []
            if len(answers) > 1 and not qi.get("repeats"):
                errors.append(f"{p}: several answers to an item that does not repeat")
            want = ANSWER_TYPE.get(t)
            codes = {
                (o["valueCoding"].get("system"), o["valueCoding"].get("code"))
                for o in qi.get("answerOption") or []
                if "valueCoding" in o
            }
            for j, a in enumerate(answers):
                values = [k for k in a if k.startswith("value")]
                if values != [want]:
                    errors.append(f"{p}.answer[{j}]: {values} where {t} needs {want}")
                    continue
                if t == "choice" and (a[want].get("system"), a[want].get("code")) not in codes:
                    errors.append(f"{p}.answer[{j}]: {a[want]} is not an answer option")
                if t in ("string", "text") and "maxLength" in qi and len(a[want]) > qi["maxLength"]:
                    errors.append(f"{p}.answer[{j}]: longer than maxLength {qi['maxLength']}")
                if a.get("item"):
                    errors.append(f"{p}.answer[{j}]: nested items not defined by the questionnaire")
        if completed:
            for link, qi in by_link.items():
                if qi.get("required") and link not in answered:
                    errors.append(f"{path}: required item {link} has no answer in a completed response")

    match(q.get("item"), r.get("item"), "QuestionnaireResponse")


def check_bundle(b, errors):
    t = b.get("type")
    entries = b.get("entry") or []
    urls = [e.get("fullUrl") for e in entries if e.get("fullUrl")]
    if len(urls) != len(set(urls)):
        errors.append("Bundle: fullUrl values are not unique (bdl-7)")
    if "total" in b and t not in ("searchset", "history"):
        errors.append("Bundle: total only in a searchset or history (bdl-1)")
    for i, e in enumerate(entries):
        if "search" in e and t != "searchset":
            errors.append(f"Bundle.entry[{i}]: search only in a searchset (bdl-2)")
        if "request" in e and t not in ("batch", "transaction", "history"):
            errors.append(f"Bundle.entry[{i}]: request not allowed here (bdl-3)")
        if "response" in e and t not in ("batch-response", "transaction-response", "history"):
            errors.append(f"Bundle.entry[{i}]: response not allowed here (bdl-4)")
        if "resource" not in e and "request" not in e and "response" not in e:
            errors.append(f"Bundle.entry[{i}]: needs a resource (bdl-5)")
    if t == "document":
        ident = b.get("identifier") or {}
        if not (ident.get("system") and ident.get("value")):
            errors.append("Bundle: a document needs identifier.system and .value (bdl-9)")
        if not b.get("timestamp"):
            errors.append("Bundle: a document needs a timestamp (bdl-10)")
        first = (entries[0].get("resource") or {}) if entries else {}
        if first.get("resourceType") != "Composition":
            errors.append("Bundle: a document starts with a Composition (bdl-11)")
        # Every reference of the composition resolves inside the document.
        known = set(urls)
        for e in entries:
            res = e.get("resource") or {}
            if res.get("id"):
                known.add(f"{res['resourceType']}/{res['id']}")
        refs = []
        collect_references(first, refs)
        for ref in refs:
            if ref not in known:
                errors.append(f"Bundle: the Composition refers to {ref}, not in the document")
    for i, e in enumerate(entries):
        res = e.get("resource")
        if isinstance(res, dict):
            check_resource(res, errors, f"Bundle.entry[{i}].resource")


def collect_references(value, out):
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            out.append(ref)
        for v in value.values():
            collect_references(v, out)
    elif isinstance(value, list):
        for v in value:
            collect_references(v, out)


def check_resource(res, errors, where=""):
    sub = []
    t = res.get("resourceType")
    if t == "Questionnaire":
        check_questionnaire(res, sub)
    elif t == "QuestionnaireResponse":
        check_response_shape(res, sub)
    elif t == "Bundle":
        check_bundle(res, sub)
    elif t == "Consent":
        if not (res.get("policy") or res.get("policyRule")):
            sub.append("Consent: needs policy or policyRule (ppc-1)")
        scopes = [c.get("code") for c in (res.get("scope") or {}).get("coding") or []]
        if set(scopes) & {"patient-privacy", "research", "adr", "treatment"} and not res.get("patient"):
            sub.append("Consent: this scope needs a patient (ppc-2..5)")
    elif t == "Composition":
        def sections(list_, path):
            for i, s in enumerate(list_ or []):
                p = f"{path}.section[{i}]"
                if not (s.get("text") or s.get("entry") or s.get("section")):
                    sub.append(f"{p}: needs text, entries or sections (cmp-1)")
                if s.get("emptyReason") and s.get("entry"):
                    sub.append(f"{p}: emptyReason only when empty (cmp-2)")
                sections(s.get("section"), p)

        sections(res.get("section"), "Composition")
    elif t == "CarePlan":
        for i, a in enumerate(res.get("activity") or []):
            if a.get("reference") and a.get("detail"):
                sub.append(f"CarePlan.activity[{i}]: reference or detail, not both (cpl-3)")
    elif t == "AuditEvent":
        for i, e in enumerate(res.get("entity") or []):
            if e.get("name") and e.get("query"):
                sub.append(f"AuditEvent.entity[{i}]: name or query, not both (sev-1)")
    errors.extend(f"{where}{' ' if where else ''}{m}" for m in sub)


def main():
    if len(sys.argv) != 2:
        print("usage: validate.py <folder of FHIR JSON files>", file=sys.stderr)
        return 2
    folder = sys.argv[1]
    files = sorted(f for f in os.listdir(folder) if f.endswith(".json"))
    loaded = {}
    failed = 0
    for f in files:
        try:
            with open(os.path.join(folder, f), encoding="utf-8") as fh:
                loaded[f] = json.load(fh)
        except ValueError as e:
            print(f"{f}: not JSON: {e}")
            failed += 1
    questionnaires = {}
    for data in loaded.values():
        if data.get("resourceType") == "Questionnaire":
            questionnaires[f"{data.get('url')}|{data.get('version')}"] = data
    for f, data in loaded.items():
        errors = []
        walk_empty(data, data.get("resourceType", "?"), errors)
        try:
            construct_fhir_element(data.get("resourceType"), data)
        except Exception as e:  # noqa: BLE001 - every model error is a finding
            errors.append(f"model: {e}")
        check_resource(data, errors)
        responses = [data] if data.get("resourceType") == "QuestionnaireResponse" else [
            (e.get("resource") or {})
            for e in data.get("entry") or []
            if (e.get("resource") or {}).get("resourceType") == "QuestionnaireResponse"
        ]
        for r in responses:
            q = questionnaires.get(r.get("questionnaire", ""))
            if q is not None:
                check_against_questionnaire(r, q, errors)
        if errors:
            failed += 1
            print(f"{f}: {len(errors)} error(s)")
            for e in errors[:30]:
                print(f"  {e}")
    print(f"fhir.resources R4 + invariants: {len(files)} file(s) checked, {failed} with errors")
    return 0 if failed == 0 and files else 1


if __name__ == "__main__":
    sys.exit(main())
