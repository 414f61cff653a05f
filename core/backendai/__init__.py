"""The Backend.AI pack's knowledge of the platform: which manager schema a database holds and
what its rows mean.

    facts       statuses and the sets the platform treats as terminal, live or dead (per model)
    schema      lightweight `sa.Table`s of the real 26.8 / 26.9 manager schemas: only the columns
                a declaration needs, with the platform's key columns and types
    rbac        the RBAC rows of each model, as the Links a declaration adds (both directions)
    variants    one declaration per model: what each needs from the catalog (`requires`)
    retention   the platform's own sweep (`retention_policies`): periods, flags, cutoffs

The declarations themselves live in `core.entities` (one module per entity). Everything here is
library code: it imports only `core.repository`, `core.db`, `core.errors`, `core.settings` and
the modelled schema.
"""
