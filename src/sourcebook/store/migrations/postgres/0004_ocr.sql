-- Text read by OCR: the mean word confidence (0-100); NULL when the body came as text.
ALTER TABLE documents ADD COLUMN ocr_confidence DOUBLE PRECISION;
