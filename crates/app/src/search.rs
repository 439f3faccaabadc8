//! Search for staff: cases and documents by what people type, within what each may see.
