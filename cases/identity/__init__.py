"""Who each entity is: registry identifiers, judgements, merges."""
