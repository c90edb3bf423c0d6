"""The paper channel (Vietnam Post interviews): rounds (`rounds`), the sampling frame
(`frames`, `uploads`), the draw (`sample`), fieldwork (`fieldwork`), form serials
(`serials`), batches (`batches`), double keying and adjudication (`double_keying`,
`keying_form`), keyer statistics (`operators`) and the purge of personal data (`purge`)."""
