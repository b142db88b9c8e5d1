"""Pure readers, one module per input format: parsed JSON in, frames and skips out."""
