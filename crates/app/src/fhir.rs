//! FHIR R4 reads and writes, through the same use cases and access policy as the JSON API.
