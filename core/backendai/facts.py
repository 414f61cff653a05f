"""Statuses of the Backend.AI manager database and the sets that decide what may be pruned.

The values are the platform's own (stored as the enum *value*, upper case for sessions and
kernels, lower case elsewhere; see the facts sheet). Each set below is named after what the
pack does with it, and says where it agrees with the platform and where it is stricter.
"""

from __future__ import annotations

# The models a declaration can be written for. "modelled" is our own reference schema
# (core.reference_schema), used by the fast test tiers and the demo.
MODELLED = "modelled"
R26_8 = "26.8"
R26_9 = "26.9"

# --------------------------------------------------------------------------- sessions, kernels
# TERMINATED and CANCELLED: nothing will ever act on the session again (the platform's
# DEAD_SESSION_STATUSES). ERROR is terminal for the platform's retention sweep too, but it is
# retriable, so it is pruned by its own entity (`sessions_errored`) with its own cutoff.
SESSION_DEAD = ("TERMINATED", "CANCELLED")
SESSION_ERRORED = ("ERROR",)
SESSION_TERMINAL = SESSION_DEAD + SESSION_ERRORED  # the platform's terminal_statuses()

# A kernel in one of these does not hold its session (it holds no resources any more).
KERNEL_DEAD = ("TERMINATED", "CANCELLED", "ERROR")

# A session or kernel that still *uses* a vfolder, for the vfolder guards: anything but
# TERMINATED / CANCELLED, exactly as the platform's purge guard (an ERROR session may be retried
# and then mounts the folder again).
MOUNT_RELEASED = ("TERMINATED", "CANCELLED")

# --------------------------------------------------------------------------- vfolders
# Only delete-complete: storage confirmed the data is gone. delete-error is refused (storage may
# still hold data; the platform's purge refuses it too), delete-pending is the trash (restorable),
# delete-ongoing is being worked on by a storage proxy.
VFOLDER_PURGED = ("delete-complete",)

# --------------------------------------------------------------------------- deployments
ENDPOINT_DESTROYED = "destroyed"
ROUTING_TERMINAL = ("terminated", "failed_to_start")
REPLICA_GROUP_TERMINAL = ("drained", "failed")

# --------------------------------------------------------------------------- login, RBAC
LOGIN_SESSION_CLOSED = ("invalidated", "revoked")
ROLE_DELETED = ("deleted",)
SHARE_TERMINAL = ("canceled", "rejected", "revoked")  # 26.9 entity_shares
INVITATION_DECLINED = ("rejected", "canceled")  # 26.8 role_invitations / vfolder_invitations

# --------------------------------------------------------------------------- RBAC type names
# 26.8 association_scopes_entities / object_permissions / permissions name an entity by these
RBAC8_TYPES = {"sessions": "session", "kernels": "kernel", "vfolders": "vfolder",
               "endpoints": "model_deployment", "routings": "routing",
               "endpoint_tokens": "deployment:token"}
# 26.9 virtual_entities.entity_type of the tables that have a node
NODE_TYPES = {"sessions": "session", "vfolders": "vfolder", "endpoints": "deployment",
              "session_groups": "session_group", "roles": "role",
              "entity_shares": "entity_share"}
