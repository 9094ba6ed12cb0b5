"""Latchkey: invitations, memberships and access for shared financial accounts."""
