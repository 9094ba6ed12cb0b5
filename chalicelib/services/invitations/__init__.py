"""Invitations, one module per side: `inviter` (create, resend, revoke, read), `invitee` (the link: read,
accept, decline, activate) and `expiry` (on the spot and the sweep every 15 minutes). Each state change is one
transaction with its named conditions; an invitation's target (an account or a partner's staff) decides
which membership accepting it writes.
"""
