"""Real logs into unlabeled samples: a plan of LogQL queries, Loki paging, grouping, noise, dedupe, masking."""
