"""Who each entity is: registry identifiers proposed by resolvers (resolvers/), judged by
a person or confirmed automatically when two registries agree (services), the candidates
and queue to judge (selectors), and duplicates merged with undo (merging, duplicates)."""
