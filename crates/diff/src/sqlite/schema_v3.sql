-- Version 3: the last failure of a label.
--
-- * labels.failure: why the last run that tried the label failed ("render: …", "push: …",
--   "overtaken: …"), and failed_at when (Unix seconds). A label that failed stays pending;
--   the failure is cleared when a later run settles the label (its picture unchanged,
--   pixel-identical, or pushed and acknowledged). So `failure IS NOT NULL` lists the labels
--   an operator must look at, with the reason.
ALTER TABLE labels ADD COLUMN failure TEXT;
ALTER TABLE labels ADD COLUMN failed_at INTEGER;
